"""An incremental build of the per-deal chain gives the same marts as a full refresh.

On a copy of the demo warehouse (real dbt, real DuckDB), about 1% of the deals change in raw the
ways a sync changes them (docs/decisions.md, "Incremental by deal"): a new stage entry and a
newer version of the deal (a new `_loaded_at`), a whole property history dropped, an archive,
a hard delete flagged by the full sweep (`_is_deleted`, `_loaded_at` untouched). `dbt run`
rebuilds incrementally; every mart is then compared with a `--full-refresh` build: row counts
exact, floats to 1e-9. Then the mapping and rates seeds change in the warehouse and the same
comparison runs again (a seed change must rebuild the deals it affects). Last, `AS_OF_DATE`
moves 20 days back (history after it exists: the as-of models must drop it) and then forward
again: no stored deal is rebuilt either time (the chain does not depend on `AS_OF_DATE`), and
the marts equal a full refresh as of each day.
"""

from __future__ import annotations

import math
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.marts.compare import compare_rows, read_mart
from tests.marts.conftest import dbt
from tests.reference.funnel import MART_COLUMNS, marts_from_truth

pytestmark = pytest.mark.slow
CHAIN = "int_deal_stage_visits_collapsed"


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of schema `marts`, rows sorted (`mart_build_info` describes the build itself)."""
    out: dict[str, list[tuple]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        for name in names:
            if name != "mart_build_info":
                out[name] = con.execute(f"select * from marts.{name} order by all").fetchall()
    return out


def same_value(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_same_marts(incremental: dict[str, list[tuple]], full: dict[str, list[tuple]]) -> None:
    assert incremental.keys() == full.keys()
    for name, rows in full.items():
        got = incremental[name]
        assert len(got) == len(rows), f"{name}: {len(got)} rows incrementally, {len(rows)} on a full refresh"
        for i, (left, right) in enumerate(zip(got, rows, strict=True)):
            assert all(same_value(x, y) for x, y in zip(left, right, strict=True)), (
                f"{name} row {i} differs:\n incremental {left}\n full        {right}"
            )


def stored_fingerprints(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(f"select distinct deal_id, deal_build_fingerprint from intermediate.{CHAIN}").fetchall()
        )


def test_incremental_chain_equals_full_refresh(demo_warehouse, chain_start):
    # the state a daily run starts from (incremental tables exist): a copy of the demo warehouse
    # rebuilt by `chain_start` (tests/marts/conftest.py), whose build also ran the dbt unit tests
    assert chain_start.returncode == 0, chain_start.output
    warehouse, target, end = chain_start.warehouse, chain_start.target, demo_warehouse.as_of_date
    before = stored_fingerprints(warehouse)

    with duckdb.connect(str(warehouse)) as con:
        ids = [
            r[0]
            for r in con.execute(
                "select distinct deal_id from raw_hubspot.deal_property_history "
                "where property = 'amount' and not _is_deleted order by deal_id"
            ).fetchall()
        ]
        assert len(ids) >= 40
        moved, reloaded, no_amount, archived, swept = ids[3], ids[7], ids[11], ids[17], ids[23]
        newer = "(select max(_loaded_at) + interval 1 hour from raw_hubspot.deals)"
        # a new stage entry (the oldest stage again: a regression or reopen), loaded later
        con.execute(
            f"""
            insert into raw_hubspot.deal_property_history
            select * replace (
                history_index - 1 as history_index,
                strftime(date '{end.isoformat()}' - 2, '%Y-%m-%dT10:00:00.000Z') as timestamp,
                {newer} as _loaded_at
            )
            from raw_hubspot.deal_property_history
            where deal_id = ? and property = 'dealstage'
            order by history_index desc
            limit 1
            """,
            [moved],
        )
        # a newer version of a deal with a new amount (the loader appends or replaces the row)
        con.execute(
            f"update raw_hubspot.deals set amount = '777', _loaded_at = {newer} where id = ?",
            [reloaded],
        )
        con.execute(
            "delete from raw_hubspot.deal_property_history where deal_id = ? and property = 'amount'", [no_amount]
        )
        con.execute(f"update raw_hubspot.deals set archived = true, _loaded_at = {newer} where id = ?", [archived])
        # the full sweep flags a hard delete without a new load stamp
        con.execute("update raw_hubspot.deals set _is_deleted = true where id = ?", [swept])
        con.execute("update raw_hubspot.deal_property_history set _is_deleted = true where deal_id = ?", [swept])

    dbt(warehouse, target, end)
    after = stored_fingerprints(warehouse)
    rebuilt = {d for d in after if before.get(d) != after[d]}
    assert f"hubspot:{moved}" in rebuilt and f"hubspot:{no_amount}" in rebuilt
    assert f"hubspot:{archived}" not in after and f"hubspot:{swept}" not in after, "gone deals must drop out"
    assert len(rebuilt) <= 3, f"only the changed deals are rebuilt, not {len(rebuilt)}"
    incremental = marts(warehouse)
    assert f"hubspot:{archived}" not in {r[0] for r in incremental["fct_deals"]}
    dbt(warehouse, target, end, "--full-refresh")
    assert_same_marts(incremental, marts(warehouse))

    # the mapping seed moves a stage to another step, and a rate changes: rebuild what they feed
    with duckdb.connect(str(warehouse)) as con:
        stage = con.execute(
            "select stage_id from seeds.funnel_stage_mapping where source = 'hubspot' and funnel_step = 'presentation' "
            "order by stage_id limit 1"
        ).fetchone()[0]
        con.execute(
            "update seeds.funnel_stage_mapping set funnel_step = 'negotiation', funnel_step_order = 4 "
            "where source = 'hubspot' and stage_id = ?",
            [stage],
        )
        con.execute("update seeds.currency_rates set rate = rate * 1.25 where currency_code <> reporting_currency")
    dbt(warehouse, target, end)
    incremental = marts(warehouse)
    dbt(warehouse, target, end, "--full-refresh")
    full_at_end = marts(warehouse)
    assert_same_marts(incremental, full_at_end)

    # a new AS_OF_DATE rebuilds no deal: 20 days back (later history must be dropped), then forward
    at_end = stored_fingerprints(warehouse)
    earlier = end - timedelta(days=20)
    dbt(warehouse, target, earlier)
    at_earlier = stored_fingerprints(warehouse)
    assert 0 < len(at_earlier) < len(at_end), "deals created after the earlier day must drop out"
    assert all(at_end[d] == f for d, f in at_earlier.items()), "moving AS_OF_DATE back rebuilt deals"
    incremental = marts(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        later_visits = con.execute(
            f"select count(*) from intermediate.{CHAIN} where entered_at >= date '{earlier.isoformat()}' + 1"
        ).fetchone()[0]
    assert later_visits > 0, "the stored visits must include history after AS_OF_DATE for this to test anything"
    dbt(warehouse, target, earlier, "--full-refresh")
    assert_same_marts(incremental, marts(warehouse))
    at_earlier = stored_fingerprints(warehouse)
    dbt(warehouse, target, end)  # the next days arrive: only the deals created since are built
    assert stored_fingerprints(warehouse) == at_end
    assert all(at_end[d] == f for d, f in at_earlier.items())
    assert_same_marts(marts(warehouse), full_at_end)


def test_earlier_as_of_without_rebuild_matches_reference(demo_warehouse, tmp_path):
    """The as-of models, not a rebuild, make a past `AS_OF_DATE` right: from the demo's
    incremental state (built as of the sandbox's end) `dbt run` as of 20 days earlier rebuilds no
    deal, and every funnel mart equals the plain-Python reference as of that day (history after it
    is in the stored chain and must be left out, open visits end at `as_of`)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse, warehouse)
    earlier = demo_warehouse.as_of_date - timedelta(days=20)
    before = stored_fingerprints(warehouse)
    dbt(warehouse, tmp_path / "dbt_target", earlier)
    after = stored_fingerprints(warehouse)
    assert after and all(before[d] == f for d, f in after.items()), "a new AS_OF_DATE rebuilt deals"
    expected = marts_from_truth(demo_warehouse.truth, as_of_date=earlier, seeds_dir=demo_warehouse.seeds_dir)
    for mart in sorted(MART_COLUMNS):
        columns, rows = read_mart(warehouse, mart)
        assert expected[mart], f"the reference computed no rows for {mart}"
        diff = compare_rows(mart, rows, expected[mart], columns)
        assert not diff, diff.report()
