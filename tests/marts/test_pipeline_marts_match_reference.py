"""Every row of the four pipeline-over-time marts (contract §7) equals the reference.

The reference (``tests/reference/pipeline.py``, ``tests/reference/bottlenecks.py``) reads the
sandbox CRM's ground truth (stage and property histories, stage probabilities) and the seeds,
never the warehouse. The demo warehouse was built twice, so the snapshot fact compared here is
the incremental build's. Counts exact, figures to 1e-6, dates exactly.
"""

from __future__ import annotations

import pytest

from tests.marts.compare import compare_rows, read_mart
from tests.reference.pipeline import MART_COLUMNS, pipeline_marts_from_truth

MARTS = sorted(MART_COLUMNS)


@pytest.fixture(scope="module")
def reference_pipeline_marts(demo_warehouse) -> dict[str, list[dict]]:
    return pipeline_marts_from_truth(
        demo_warehouse.truth, as_of_date=demo_warehouse.as_of_date, seeds_dir=demo_warehouse.seeds_dir
    )


@pytest.mark.slow
@pytest.mark.parametrize("mart", MARTS)
def test_pipeline_mart_matches_reference(demo_warehouse, reference_pipeline_marts, mart):
    columns, rows = read_mart(demo_warehouse.warehouse, mart)
    expected = reference_pipeline_marts[mart]
    assert expected, f"the reference computed no rows for {mart}: the demo data is too thin"
    diff = compare_rows(mart, rows, expected, columns)
    assert not diff, diff.report()


@pytest.mark.slow
def test_demo_data_exercises_every_snapshot_rule(reference_pipeline_marts):
    """The sandbox must contain the cases the rules are about, or the comparison proves little."""
    rows = reference_pipeline_marts["fct_pipeline_snapshot_daily"]
    assert any(r["amount"] is None and r["amount_basis"] == "history" for r in rows), "amount not yet set"
    assert any(r["amount_basis"] == "latest" for r in rows), "deal without amount history"
    assert any(r["is_overdue"] for r in rows) and any(not r["is_overdue"] for r in rows)
    assert len({r["currency_code"] for r in rows}) > 1
    per_deal: dict[str, set] = {}
    for r in rows:
        per_deal.setdefault(r["deal_id"], set()).add((r["amount"], r["currency_code"], r["expected_close_date"]))
    assert sum(len(v) > 1 for v in per_deal.values()) > 50, "few deals change amount/currency/close date"
    bottlenecks = reference_pipeline_marts["mart_funnel_bottlenecks_monthly"]
    assert any(r["regressed_count"] for r in bottlenecks) and any(r["stuck_count"] for r in bottlenecks)
    assert any(r["is_conversion_bottleneck"] for r in bottlenecks)
