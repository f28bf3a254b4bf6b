"""The incremental `fct_pipeline_snapshot_daily` equals a full refresh of it.

On a copy of the demo warehouse (real dbt, real DuckDB): build the snapshot as of 45 days
before the sandbox's end, restate history that lies before that day (archive a deal that had
rows, drop another deal's whole amount history, backdate an amount change of a third), then
build incrementally as of the end date, and compare with a full refresh; then move `as_of_date`
back and compare again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
MODEL = "fct_pipeline_snapshot_daily"


def dbt(warehouse: Path, target: Path, as_of, *args: str) -> None:
    env = {**os.environ, "DBT_DUCKDB_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [
        str(Path(sys.executable).parent / "dbt"),
        "run",
        "--project-dir",
        str(ROOT / "dbt_project"),
        "--profiles-dir",
        str(ROOT / "dbt_project"),
        "--target-path",
        str(target),
        "--vars",
        json.dumps({"as_of_date": as_of.isoformat()}),
        *args,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select * from marts.{MODEL} order by deal_id, snapshot_date").fetchall()


def test_incremental_build_equals_full_refresh(demo_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse, warehouse)
    target = tmp_path / "dbt_target"
    end = demo_warehouse.as_of_date
    early = end - timedelta(days=45)
    dbt(warehouse, target, early, "--select", f"+{MODEL}", "--full-refresh")
    before = rows(warehouse)
    assert before and max(r[0] for r in before) == early

    with duckdb.connect(str(warehouse)) as con:
        picked = con.execute(
            f"""
            select source_deal_id, max(snapshot_date) from marts.{MODEL}
            where snapshot_date < date '{early}' - 10 and amount_basis = 'history'
            group by source_deal_id having count(*) > 5 order by source_deal_id limit 3
            """
        ).fetchall()
        (archived, _), (no_amount_history, _), (backdated, backdated_day) = picked
        con.execute("update raw_hubspot.deals set archived = true where id = ?", [archived])
        con.execute(
            "delete from raw_hubspot.deal_property_history where deal_id = ? and property = 'amount'",
            [no_amount_history],
        )
        con.execute(
            """
            insert into raw_hubspot.deal_property_history
            select * replace (
                '123456' as value,
                strftime(cast(? as date), '%Y-%m-%dT23:59:59.999Z') as timestamp,
                -1 as history_index
            )
            from raw_hubspot.deal_property_history
            where deal_id = ? and property = 'amount'
            limit 1
            """,
            [backdated_day, backdated],
        )

    dbt(warehouse, target, end, "--select", f"+{MODEL}")
    incremental = rows(warehouse)
    ids = {r[1] for r in incremental}
    assert f"hubspot:{archived}" not in ids, "an archived deal's rows must be removed"
    assert any(r[1] == f"hubspot:{no_amount_history}" and r[11] == "latest" for r in incremental)
    assert any(r[1] == f"hubspot:{backdated}" and r[0] == backdated_day and r[8] == 123456.0 for r in incremental)
    assert max(r[0] for r in incremental) == end

    dbt(warehouse, target, end, "--select", MODEL, "--full-refresh")
    assert rows(warehouse) == incremental, "incremental and full-refresh builds differ"

    # as_of_date moved back: rows after it go, the rest equals a full refresh
    back = end - timedelta(days=60)
    dbt(warehouse, target, back, "--select", f"+{MODEL}")
    moved_back = rows(warehouse)
    dbt(warehouse, target, back, "--select", MODEL, "--full-refresh")
    assert rows(warehouse) == moved_back and max(r[0] for r in moved_back) == back
