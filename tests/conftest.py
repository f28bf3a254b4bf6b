"""Shared fixtures: one sandbox CRM, one sandbox API server and one materialized warehouse.

The end-to-end fixture is session-scoped: every test that only reads the warehouse shares one
Dagster + dbt run (the slow part), as the test budget requires.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

# A token that must appear nowhere after the run (logs, event log, dbt target/, warehouse).
CANARY_TOKEN = "pat-na1-canary-7f3e9b1c-d00d-4bad-beef-5ec12e7a0001"
DEMO_SEED, DEMO_CONTACTS, DEMO_DEALS = 7, 2000, 600
ROOT = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session: pytest.Session) -> None:  # noqa: ARG001
    """The Dagster code reads dbt's manifest at import: make sure it matches the dbt files."""
    from orchestration.instance import prepare_dbt_manifest

    prepare_dbt_manifest()


@dataclass
class DemoWarehouse:
    warehouse: Path
    truth: object  # emulators.truth.ground_truth.GroundTruth
    as_of_date: date
    seeds_dir: Path
    sandbox_db: Path
    dagster_home: Path
    first_run: object  # ExecuteInProcessResult
    snapshots: dict  # {"staging_first": {table: rows}, "raw_second": ...}
    second_run: object = None
    log_messages: list = None  # every message of both runs' Dagster event logs


@pytest.fixture(scope="session")
def sandbox_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from emulators.truth.generator import SandboxConfig, build_sandbox

    path = tmp_path_factory.mktemp("sandbox") / "crm.sqlite"
    build_sandbox(SandboxConfig(seed=DEMO_SEED, n_contacts=DEMO_CONTACTS, n_deals=DEMO_DEALS), path)
    return path


@pytest.fixture(scope="session")
def sandbox_url(sandbox_db: Path) -> Iterator[str]:
    from emulators.hubspot.server import SandboxServer

    server = SandboxServer(sandbox_db, token=CANARY_TOKEN)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def hubspot_resource(url: str, token: str = CANARY_TOKEN):
    from orchestration.resources import HubSpotResource

    return HubSpotResource(
        access_token=token, base_url=url, backoff_base_s=0.01, rate_limit_per_10s=None, search_rate_per_s=None
    )


def snapshot_tables(path: Path, schema: str, exclude_columns: tuple[str, ...] = ()) -> dict[str, list]:
    import duckdb

    out: dict[str, list] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
            ).fetchall()
        ]
        for table in tables:
            cols = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if r[0] not in exclude_columns
            ]
            col_sql = ", ".join(f'"{c}"' for c in cols)
            out[table] = con.execute(f'select {col_sql} from "{schema}"."{table}" order by all').fetchall()
    return out


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory, sandbox_db: Path, sandbox_url: str) -> DemoWarehouse:
    from dagster import DagsterInstance, materialize

    from emulators.truth.generator import end_date_of
    from emulators.truth.ground_truth import GroundTruth
    from orchestration.definitions import all_assets, build_resources

    base = tmp_path_factory.mktemp("e2e")
    warehouse = base / "warehouse.duckdb"
    home = base / "dagster_home"
    home.mkdir()
    as_of = end_date_of(sandbox_db)
    saved = os.environ.get("AS_OF_DATE")
    os.environ["AS_OF_DATE"] = as_of.isoformat()
    try:
        resources = build_resources(str(warehouse), hubspot=hubspot_resource(sandbox_url))
        with DagsterInstance.local_temp(str(home)) as instance:
            first = materialize(all_assets, resources=resources, instance=instance, raise_on_error=False)
            assert first.success, "the first end-to-end run failed; see the captured log"
            snapshots = {
                "staging_first": snapshot_tables(warehouse, "staging", ("loaded_at",)),
                "raw_first": snapshot_tables(warehouse, "raw_hubspot", ("_loaded_at", "_sync_id")),
            }
            second = materialize(all_assets, resources=resources, instance=instance, raise_on_error=False)
            assert second.success, "the second end-to-end run failed"
            log_messages = [
                entry.user_message
                for run in (first, second)
                for entry in instance.all_logs(run.run_id)
                if entry.user_message
            ]
            snapshots["staging_second"] = snapshot_tables(warehouse, "staging", ("loaded_at",))
            snapshots["raw_second"] = snapshot_tables(warehouse, "raw_hubspot", ("_loaded_at", "_sync_id"))
    finally:
        if saved is None:
            os.environ.pop("AS_OF_DATE", None)
        else:
            os.environ["AS_OF_DATE"] = saved
    return DemoWarehouse(
        warehouse=warehouse,
        truth=GroundTruth(sandbox_db),
        as_of_date=as_of,
        seeds_dir=ROOT / "dbt_project" / "seeds",
        sandbox_db=sandbox_db,
        dagster_home=home,
        first_run=first,
        second_run=second,
        snapshots=snapshots,
        log_messages=log_messages,
    )
