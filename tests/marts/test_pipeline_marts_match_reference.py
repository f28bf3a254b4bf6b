"""Every row of the four pipeline-over-time marts (docs/metrics.md) equals the reference.

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


@pytest.mark.slow
def test_demo_summary_reports_the_reference_pipeline(demo_warehouse, reference_pipeline_marts):
    from warehouse.summary import pipeline_summary

    got = pipeline_summary(demo_warehouse.warehouse.parent / "published" / "sales_marts.duckdb")
    by_stage = [
        r
        for r in reference_pipeline_marts["mart_pipeline_by_stage_daily"]
        if r["snapshot_date"] == demo_warehouse.as_of_date
    ]
    want: dict[str, list[float]] = {}
    for r in by_stage:
        cell = want.setdefault(r["funnel_step"], [0, 0.0, 0.0])
        cell[0] += r["open_deal_count"]
        cell[1] += r["open_amount_reporting"]
        cell[2] += r["weighted_amount_reporting"]
    assert {s["step"]: s["deals"] for s in got["open_by_step"]} == {k: v[0] for k, v in want.items()}
    for s in got["open_by_step"]:
        assert s["amount"] == pytest.approx(want[s["step"]][1], rel=1e-9)
        assert s["weighted"] == pytest.approx(want[s["step"]][2], rel=1e-9)
    last = max(reference_pipeline_marts["mart_pipeline_velocity_monthly"], key=lambda r: r["month"])
    assert got["velocity_per_day"] == pytest.approx(last["velocity_per_day"], rel=1e-9)
    month = [r for r in reference_pipeline_marts["mart_funnel_bottlenecks_monthly"] if r["month"] == last["month"]]
    conversion = [r["funnel_step"] for r in month if r["is_conversion_bottleneck"]]
    value = [r["funnel_step"] for r in month if r["is_value_bottleneck"]]
    assert (got["conversion_bottleneck"] or (None,))[0] == (conversion or [None])[0]
    assert (got["value_bottleneck"] or (None,))[0] == (value or [None])[0]
