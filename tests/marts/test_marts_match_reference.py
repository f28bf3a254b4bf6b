"""Every row of every contracted mart equals the independent reference computation.

The reference (``tests/reference/funnel.py``) reads the sandbox CRM's ground truth and the seeds,
never the warehouse or the dbt models. Rows are matched by each mart's key; counts must be
equal, other figures agree to 1e-6, timestamps and dates exactly.
"""

from __future__ import annotations

import pytest

from tests.marts.compare import compare_rows, read_mart
from tests.reference.funnel import MART_COLUMNS, marts_from_truth

MARTS = sorted(MART_COLUMNS)


@pytest.fixture(scope="module")
def reference_marts(demo_warehouse) -> dict[str, list[dict]]:
    return marts_from_truth(
        demo_warehouse.truth, as_of_date=demo_warehouse.as_of_date, seeds_dir=demo_warehouse.seeds_dir
    )


@pytest.mark.slow
@pytest.mark.parametrize("mart", MARTS)
def test_mart_matches_reference(demo_warehouse, reference_marts, mart):
    columns, rows = read_mart(demo_warehouse.warehouse, mart)
    expected = reference_marts[mart]
    assert expected, f"the reference computed no rows for {mart}: the demo data is too thin"
    diff = compare_rows(mart, rows, expected, columns)
    assert not diff, diff.report()
