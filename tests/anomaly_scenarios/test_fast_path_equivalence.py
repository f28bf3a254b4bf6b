"""The eval's fast path (evaluation/fast) feeds the checks exactly what a dbt build would: on the
shared end-to-end warehouse (real HTTP load, real dbt build), the relations the exposure-based
checks read equal the fast path's rows, and every one of those checks returns the same outcome
on the dbt warehouse and on the fast path's in-memory connection."""

from __future__ import annotations

import duckdb
import pytest

from evaluation.fast.power import FAST_CHECKS
from evaluation.fast.relations import connection
from tests.reference.funnel import marts_from_truth
from warehouse.anomaly.checks import run_all

COLUMNS = {
    "marts.fct_deal_stage_history": "deal_id, funnel_step, visit_number, entered_at, exited_at",
    "marts.mart_lead_volume_daily": "lead_date, source, channel, new_leads",
    "marts.fct_deals": "deal_id, owner_id",
}


@pytest.mark.slow
def test_fast_path_relations_and_outcomes_equal_the_dbt_build(demo_warehouse):
    marts = marts_from_truth(
        demo_warehouse.truth, as_of_date=demo_warehouse.as_of_date, seeds_dir=demo_warehouse.seeds_dir
    )
    fast = connection(marts["fct_deal_stage_history"], marts["mart_lead_volume_daily"], deals=marts["fct_deals"])
    with duckdb.connect(str(demo_warehouse.warehouse), read_only=True) as built:
        for relation, cols in COLUMNS.items():
            query = f"select {cols} from {relation} order by {cols}"
            assert fast.execute(query).fetchall() == built.execute(query).fetchall(), relation
        from_dbt = run_all(built, demo_warehouse.as_of_date, FAST_CHECKS)
    from_fast = run_all(fast, demo_warehouse.as_of_date, FAST_CHECKS)
    assert [o.metadata.get("error") for o in from_dbt] == [None] * len(FAST_CHECKS)
    assert [(o.name, o.passed, o.description, o.metadata) for o in from_fast] == [
        (o.name, o.passed, o.description, o.metadata) for o in from_dbt
    ]
