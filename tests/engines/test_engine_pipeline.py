"""End to end on PostgreSQL and Spark: the Dagster job (HubSpot emulator → raw → dbt build →
checks → publish) with WAREHOUSE_TARGET=postgres / spark on the shared demo sandbox, compared
with the DuckDB run of the same sandbox (tests/conftest.py `demo_warehouse`).

Asserted: every mart equals DuckDB's (tests/engines/same_marts.py); the published Parquet files
equal the engine's tables; neither the API token nor PGPASSWORD appears in the engine's raw
tables, the published files, the Dagster log or dbt's target/ and logs/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CANARY_TOKEN, ROOT, ad_resources, hubspot_resource
from tests.engines.same_marts import differences

pytestmark = pytest.mark.engines  # make test-engines (Spark extras, minutes per engine)

PG_CANARY = "pg-canary-5ecret-0b1e-4c6f"


@dataclass
class EngineRun:
    target: str
    work: Path
    publish_dir: Path
    log_messages: list[str]
    env: dict[str, str]


def _run_pipeline(target: str, work: Path, env: dict[str, str], sandbox_url: str, ad_servers, as_of) -> EngineRun:
    from dagster import DagsterInstance, materialize

    from orchestration.definitions import all_assets, build_resources

    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    os.environ.update({**env, "WAREHOUSE_TARGET": target, "AS_OF_DATE": as_of.isoformat()})
    os.environ["WAREHOUSE_PUBLISH_DIR"] = str(work / "published")
    try:
        resources = build_resources(
            str(work / "landing.duckdb"), hubspot=hubspot_resource(sandbox_url), **ad_resources(ad_servers)
        )
        with DagsterInstance.local_temp(str(work / "dagster_home")) as instance:
            result = materialize(all_assets, resources=resources, instance=instance, raise_on_error=False)
            messages = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
            assert result.success, f"the {target} run failed:\n" + "\n".join(messages[-40:])
        return EngineRun(target, work, work / "published", messages, {**env, "WAREHOUSE_TARGET": target})
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def postgres_run(postgres_server, sandbox_url, ad_servers, demo_warehouse, tmp_path_factory) -> EngineRun:
    env = {**postgres_server.env(), "PGPASSWORD": PG_CANARY}  # trust auth: accepted, never needed
    return _run_pipeline(
        "postgres", tmp_path_factory.mktemp("pg-run"), env, sandbox_url, ad_servers, demo_warehouse.as_of_date
    )


@pytest.fixture(scope="module")
def spark_run(sandbox_url, ad_servers, demo_warehouse, tmp_path_factory) -> EngineRun:
    pytest.importorskip("pyspark", reason="Spark extras missing: run `make setup-spark`")
    work = tmp_path_factory.mktemp("spark-run")
    env = {"SPARK_WAREHOUSE_DIR": str(work / "spark-warehouse")}
    return _run_pipeline("spark", work, env, sandbox_url, ad_servers, demo_warehouse.as_of_date)


@pytest.fixture(params=["postgres", "spark"])
def engine_run(request: pytest.FixtureRequest) -> Iterator[EngineRun]:
    run = request.getfixturevalue(f"{request.param}_run")
    saved = dict(os.environ)
    os.environ.update(run.env)
    try:
        yield run
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _engine_copy(run: EngineRun):
    from warehouse.engines import analytics_connection

    return analytics_connection(run.work / "landing.duckdb", run.target)


@pytest.mark.slow
def test_marts_equal_duckdb(engine_run: EngineRun, demo_warehouse):
    with duckdb.connect(str(demo_warehouse.warehouse), read_only=True) as expected, _engine_copy(engine_run) as got:
        # Two separate syncs of the same sandbox: only the load time may differ.
        assert differences(expected, got, "marts", {"mart_build_info": frozenset({"last_loaded_at"})}) == []


@pytest.mark.slow
def test_published_parquet_equals_engine_tables(engine_run: EngineRun):
    parquet = engine_run.publish_dir / "parquet"
    with _engine_copy(engine_run) as got, duckdb.connect() as pub:
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
        assert differences(got, pub, "marts") == []


@pytest.mark.slow
def test_no_secret_reaches_the_engine_or_its_files(engine_run: EngineRun):
    secrets = [CANARY_TOKEN, PG_CANARY]
    assert not [m for m in engine_run.log_messages if any(s in m for s in secrets)]
    with _engine_copy(engine_run) as got:
        for schema, table in got.execute("select table_schema, table_name from information_schema.tables").fetchall():
            text = str(got.execute(f'select * from "{schema}"."{table}"').fetchall())
            assert not any(s in text for s in secrets), f"{schema}.{table}"
    folders = [engine_run.work, ROOT / "dbt_project" / "target", ROOT / "dbt_project" / "logs"]
    for folder in folders:
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file() and path.stat().st_size < 50_000_000:
                data = path.read_bytes()
                assert not any(s.encode() in data for s in secrets), path
