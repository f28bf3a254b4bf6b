"""End to end on PostgreSQL and Spark: `make run` (`python -m cli.main run`, a real subprocess
launching the `refresh_all` job: HubSpot and ad emulators → raw → dbt build → checks → publish)
with WAREHOUSE_TARGET=postgres / spark on the shared demo sandbox, compared with the DuckDB run
of the same sandbox (tests/conftest.py `demo_warehouse`: the comparison basis is built once).

Asserted: every mart equals DuckDB's (tests/engines/compare.py); the published Parquet files
equal the engine's tables; neither the API token nor PGPASSWORD appears in the engine's tables,
the published files, the run's output, the Dagster log or dbt's target/ and logs/.

Markers: `engines` plus `postgres` (in `make test`: a throwaway server, ~4 min of one worker) or
`spark` (`make test-spark`, its own CI step).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CANARY_TOKEN, ROOT, ads_env
from tests.engines.compare import connection_differences, merge_ignored
from tests.engines.mirror import IGNORED_COLUMNS

pytestmark = pytest.mark.engines

PG_CANARY = "pg-canary-5ecret-0b1e-4c6f"
# Two separate syncs of the same sandbox: only the load time may differ.
SEPARATE_SYNC_COLUMNS = {"mart_build_info": frozenset({"last_loaded_at"})}


@dataclass
class EngineRun:
    target: str
    work: Path
    publish_dir: Path
    output: str  # stdout + stderr of `make run`
    log_messages: list[str]  # every message of the run's Dagster event log
    env: dict[str, str]


def _dagster_messages(home: Path) -> list[str]:
    from dagster import DagsterInstance

    with DagsterInstance.local_temp(str(home)) as instance:
        return [e.user_message for r in instance.get_runs() for e in instance.all_logs(r.run_id) if e.user_message]


def _make_run(target: str, work: Path, engine_env: dict[str, str], sandbox_url: str, ad_servers, as_of) -> EngineRun:
    """`python -m cli.main run` (what `make run` calls) in ``work`` against the emulators."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "PIPEDRIVE_", "GOOGLE_ADS_", "META_"))}
    engine = {**engine_env, "WAREHOUSE_TARGET": target}
    env.update(
        {
            **ads_env(ad_servers),
            **engine,
            "HUBSPOT_ACCESS_TOKEN": CANARY_TOKEN,
            "HUBSPOT_BASE_URL": sandbox_url,
            "HUBSPOT_BACKOFF_BASE_S": "0.01",
            "HUBSPOT_RATE_LIMIT_PER_10S": "off",  # as the DuckDB run of the same sandbox
            "HUBSPOT_SEARCH_RATE_PER_S": "off",
            "AS_OF_DATE": as_of.isoformat(),
            "WAREHOUSE_PATH": str(work / "landing.duckdb"),
            "WAREHOUSE_PUBLISH_DIR": str(work / "published"),
            "DAGSTER_HOME": str(work / "dagster_home"),
            "PYTHONPATH": str(ROOT),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "run"], cwd=work, env=env, capture_output=True, text=True, timeout=1800
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"make run on {target} exited {proc.returncode}:\n{output[-6000:]}"
    messages = _dagster_messages(work / "dagster_home")
    return EngineRun(target, work, work / "published", output, messages, engine)


@pytest.fixture(scope="module")
def postgres_run(postgres_server, sandbox_url, ad_servers, demo_warehouse, tmp_path_factory) -> EngineRun:
    env = {**postgres_server.env(), "PGPASSWORD": PG_CANARY}  # trust auth: accepted, never needed
    work = tmp_path_factory.mktemp("pg-run")
    return _make_run("postgres", work, env, sandbox_url, ad_servers, demo_warehouse.as_of_date)


@pytest.fixture(scope="module")
def spark_run(sandbox_url, ad_servers, demo_warehouse, tmp_path_factory) -> EngineRun:
    pytest.importorskip("pyspark", reason="Spark extras missing: run `make setup-spark`")
    work = tmp_path_factory.mktemp("spark-run")
    env = {"SPARK_WAREHOUSE_DIR": str(work / "spark-warehouse")}
    return _make_run("spark", work, env, sandbox_url, ad_servers, demo_warehouse.as_of_date)


ENGINES = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def engine_run(request: pytest.FixtureRequest, demo_warehouse) -> Iterator[EngineRun]:  # noqa: ARG001
    # demo_warehouse: the engine runs compare with it, so they join its xdist group (one worker).
    run = request.getfixturevalue(f"{request.param}_run")
    saved = dict(os.environ)
    os.environ.update(run.env)
    try:
        yield run
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _engine_copy(run: EngineRun, schemas: list[str] | None = None):
    """The engine's tables (``schemas``; default all) in an in-memory DuckDB, as the checks read them."""
    from warehouse.engines import analytics_connection

    return analytics_connection(run.work / "landing.duckdb", run.target, schemas)


@pytest.mark.slow
def test_marts_equal_duckdb(engine_run: EngineRun, demo_warehouse):
    with (
        duckdb.connect(str(demo_warehouse.warehouse), read_only=True) as expected,
        _engine_copy(engine_run, ["marts"]) as got,
    ):
        ignore = merge_ignored(IGNORED_COLUMNS, SEPARATE_SYNC_COLUMNS)
        problems = connection_differences(expected, got, "marts", ignore=ignore)
        assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_published_parquet_equals_engine_tables(engine_run: EngineRun):
    parquet = engine_run.publish_dir / "parquet"
    with _engine_copy(engine_run, ["marts"]) as got, duckdb.connect() as pub:
        marts = [
            r[0]
            for r in got.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        assert marts and sorted(p.stem for p in parquet.glob("*.parquet")) == sorted(marts)
        pub.execute("create schema marts")
        for mart in marts:
            pub.execute(f"create table marts.{mart} as select * from read_parquet('{parquet / (mart + '.parquet')}')")
            engine_types = got.execute(f"describe marts.{mart}").fetchall()
            assert pub.execute(f"describe marts.{mart}").fetchall() == engine_types, mart
        problems = connection_differences(got, pub, "marts")  # the same build: nothing ignored
        assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_no_secret_reaches_the_engine_or_its_files(engine_run: EngineRun):
    secrets = [CANARY_TOKEN, PG_CANARY]
    assert engine_run.log_messages and "succeeded" in engine_run.output
    assert not [s for s in secrets if s in engine_run.output]
    assert not [m for m in engine_run.log_messages if any(s in m for s in secrets)]
    with _engine_copy(engine_run) as got:
        tables = got.execute("select table_schema, table_name from information_schema.tables").fetchall()
        assert {s for s, _ in tables} >= {"raw_hubspot", "marts"}
        for schema, table in tables:
            text = str(got.execute(f'select * from "{schema}"."{table}"').fetchall())
            assert not any(s in text for s in secrets), f"{schema}.{table}"
    folders = [engine_run.work, ROOT / "dbt_project" / "target", ROOT / "dbt_project" / "logs"]
    for folder in folders:
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file() and path.stat().st_size < 50_000_000:
                data = path.read_bytes()
                assert not any(s.encode() in data for s in secrets), path
