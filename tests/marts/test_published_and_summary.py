"""BI-facing outputs: the published copy of the marts and the KPI summary `make demo` prints."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from tests.reference.funnel import marts_from_truth
from warehouse.summary import kpi_summary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(demo_warehouse):
    return demo_warehouse.warehouse.parent / "published"


def test_published_copy_equals_the_marts_and_reads_while_the_warehouse_is_locked(demo_warehouse, published):
    db = published / "sales_marts.duckdb"
    assert db.exists() and not list(published.glob(".*")), "temporary files must be renamed away"
    # A writer holds the warehouse (as a run does); BI still reads the published copy.
    with duckdb.connect(str(demo_warehouse.warehouse)) as writer:
        marts = [
            r[0]
            for r in writer.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        assert {"fct_deals", "fct_deal_stage_history", "mart_lead_volume_daily"} <= set(marts)
        # Another process (a BI tool) can open the published copy while the warehouse is locked.
        probe = (
            "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print(json.dumps(c.execute('select count(*) from marts.fct_deals').fetchone()[0]))"
        )
        other = subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True, text=True, timeout=120)
        assert other.returncode == 0, other.stderr
        assert json.loads(other.stdout) == writer.execute("select count(*) from marts.fct_deals").fetchone()[0]
        with duckdb.connect(str(db), read_only=True) as reader:
            for table in marts:
                expected = writer.execute(f"select * from marts.{table} order by all").fetchall()
                assert reader.execute(f"select * from marts.{table} order by all").fetchall() == expected, table
                parquet = pd.read_parquet(published / "parquet" / f"{table}.parquet")
                assert len(parquet) == len(expected), table


def test_kpi_summary_matches_the_reference_computation(demo_warehouse, published):
    reference = marts_from_truth(
        demo_warehouse.truth, as_of_date=demo_warehouse.as_of_date, seeds_dir=demo_warehouse.seeds_dir
    )
    deals = reference["fct_deals"]
    won = [d for d in deals if d["outcome"] == "won"]
    lost = [d for d in deals if d["outcome"] == "lost"]
    amounts = [d["amount_reporting"] for d in won if d["amount_reporting"] is not None]
    kpis = kpi_summary(published / "sales_marts.duckdb")
    assert kpis["leads"] == sum(r["new_leads"] for r in reference["mart_lead_volume_daily"])
    assert kpis["won"] == len(won) and kpis["lost"] == len(lost)
    assert kpis["open_deals"] == sum(1 for d in deals if d["outcome"] == "open")
    assert kpis["win_rate"] == pytest.approx(len(won) / (len(won) + len(lost)), abs=1e-9)
    assert kpis["avg_won_deal_value"] == pytest.approx(statistics.mean(amounts), rel=1e-9)
    assert kpis["median_cycle_days_won"] == pytest.approx(statistics.median(d["cycle_days"] for d in won), rel=1e-9)
    for order, (entered, advanced) in kpis["conversion"].items():
        rows = [r for r in reference["mart_stage_conversion_monthly"] if r["funnel_step_order"] == order]
        assert (entered, advanced) == (sum(r["entered_count"] for r in rows), sum(r["advanced_count"] for r in rows))
