"""End to end on PostgreSQL and Spark: `make run` (`python -m cli.main run`, a real subprocess
launching the `refresh_all` job: HubSpot and ad emulators → raw → dbt build → checks → publish)
with WAREHOUSE_TARGET=postgres / spark on the shared demo sandbox, compared with the DuckDB run
of the same sandbox (tests/conftest.py `demo_warehouse`: the comparison basis is built once).

Asserted: every mart equals DuckDB's (tests/engines/compare.py); the published Parquet files
equal the engine's tables; neither the API token nor PGPASSWORD appears in the engine's tables,
the published files, the run's output, the Dagster log or dbt's target/ and logs/.

Markers: `engines` plus `postgres` (in `make test`: a throwaway server, ~4 min of one worker) or
`spark` (`make test-spark`, its own CI step): Spark twice, a local session and `spark_thrift`,
dbt through a Spark Thrift server the fixture starts and stops (SPARK_THRIFT_HOST); all the
selected engines' runs start together, at the first engine test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CANARY_TOKEN, ROOT, ads_env
from tests.engines.compare import IGNORED_COLUMNS, connection_differences, merge_ignored

# The runs compare with `demo_warehouse`, so they share its xdist group (one worker builds both).
pytestmark = [pytest.mark.engines, pytest.mark.xdist_group("demo_warehouse")]

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
    basis: Path | None = None  # the DuckDB warehouse of the same sandbox (demo_warehouse)


def _dagster_messages(home: Path) -> list[str]:
    from dagster import DagsterInstance

    with DagsterInstance.local_temp(str(home)) as instance:
        return [e.user_message for r in instance.get_runs() for e in instance.all_logs(r.run_id) if e.user_message]


@dataclass
class StartedRun:
    """`make run` started in the background: it syncs and builds beside the DuckDB run of the
    same sandbox (the comparison basis), instead of after it."""

    target: str
    work: Path
    env: dict[str, str]
    proc: subprocess.Popen
    timeout_s: int = 1800  # Spark: longer (its CI step has the budget, docs/decisions.md "Engine tests")

    def wait(self) -> EngineRun:
        code = self.proc.wait(timeout=self.timeout_s)
        output = (self.work / "make_run.out").read_text() + (self.work / "make_run.err").read_text()
        assert code == 0, f"make run on {self.target} exited {code}:\n{output[-6000:]}"
        messages = _dagster_messages(self.work / "dagster_home")
        return EngineRun(self.target, self.work, self.work / "published", output, messages, self.env)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _start_make_run(target: str, work: Path, engine_env: dict[str, str], sandbox_url: str, ad_servers, sandbox_db):
    """`python -m cli.main run` (what `make run` calls) in ``work`` against the emulators."""
    from emulators.truth.generator import end_date_of

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
            "AS_OF_DATE": end_date_of(sandbox_db).isoformat(),  # the DuckDB run's as_of_date
            "WAREHOUSE_PATH": str(work / "landing.duckdb"),
            "WAREHOUSE_PUBLISH_DIR": str(work / "published"),
            "DAGSTER_HOME": str(work / "dagster_home"),
            "PYTHONPATH": str(ROOT),
            # `make run` starts the job through the code server's gRPC API (60 s by default): on
            # a loaded 2-core machine, beside the DuckDB run, the start alone took longer
            "DAGSTER_GRPC_TIMEOUT_SECONDS": "600",
        }
    )
    with open(work / "make_run.out", "w") as out, open(work / "make_run.err", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=work, env=env, stdout=out, stderr=err)
    return StartedRun(target, work, engine, proc)


@pytest.fixture(scope="module")
def postgres_started(postgres_server, sandbox_url, ad_servers, sandbox_db, tmp_path_factory) -> Iterator[StartedRun]:
    env = {**postgres_server.env(), "PGPASSWORD": PG_CANARY}  # trust auth: accepted, never needed
    started = _start_make_run("postgres", tmp_path_factory.mktemp("pg-run"), env, sandbox_url, ad_servers, sandbox_db)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def spark_started(sandbox_url, ad_servers, sandbox_db, tmp_path_factory) -> Iterator[StartedRun]:
    pytest.importorskip("pyspark", reason="Spark extras missing: run `make setup-spark`")
    work = tmp_path_factory.mktemp("spark-run")
    env = {"SPARK_WAREHOUSE_DIR": str(work / "spark-warehouse")}
    started = replace(_start_make_run("spark", work, env, sandbox_url, ad_servers, sandbox_db), timeout_s=3600)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def spark_thrift_started(sandbox_url, ad_servers, sandbox_db, tmp_path_factory) -> Iterator[StartedRun]:
    """`make run` with SPARK_THRIFT_HOST: dbt connects to a Spark Thrift server this fixture
    starts (warehouse/engines/spark_thrift.py; its warehouse, metastore and logs under the run's
    folder, so the secret scan reads them too) and stops."""
    pytest.importorskip("pyhive", reason="Spark extras missing: run `make setup-spark`")
    from warehouse.engines.spark_thrift import thrift_server

    work = tmp_path_factory.mktemp("spark-thrift-run")
    with thrift_server(work / "thrift-server") as server:
        started = _start_make_run("spark", work, server.env(), sandbox_url, ad_servers, sandbox_db)
        started = replace(started, timeout_s=3600)
        yield started
        started.stop()


@pytest.fixture(scope="module")
def postgres_run(postgres_started: StartedRun) -> EngineRun:
    return postgres_started.wait()


@pytest.fixture(scope="module")
def spark_run(spark_started: StartedRun) -> EngineRun:
    return spark_started.wait()


@pytest.fixture(scope="module")
def spark_thrift_run(spark_thrift_started: StartedRun) -> EngineRun:
    return spark_thrift_started.wait()


ENGINES = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=pytest.mark.spark),
    pytest.param("spark_thrift", marks=pytest.mark.spark),
]


def _selected_engines(session: pytest.Session) -> list[str]:
    """The engines of the selected tests of this module, in ENGINES order."""
    ids = {i.callspec.params.get("engine_run") for i in session.items if hasattr(i, "callspec")}
    return [p.values[0] for p in ENGINES if p.values[0] in ids]


@pytest.fixture(params=ENGINES)
def engine_run(request: pytest.FixtureRequest) -> Iterator[EngineRun]:
    """The engine's run, started before the DuckDB basis is built (both then run side by side;
    tests/engines/conftest.py puts these tests first in the `demo_warehouse` group)."""
    for engine in _selected_engines(request.session):  # every selected engine's run starts now, side by side
        request.getfixturevalue(f"{engine}_started")
    basis = request.getfixturevalue("demo_warehouse").warehouse
    run = replace(request.getfixturevalue(f"{request.param}_run"), basis=basis)
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
def test_marts_equal_duckdb(engine_run: EngineRun):
    # no session fixture among the arguments: pytest would build it before the engine run starts
    with (
        duckdb.connect(str(engine_run.basis), read_only=True) as expected,
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
