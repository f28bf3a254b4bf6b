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


# `make test` runs on two xdist workers with `--dist loadgroup`. A session fixture is built once
# per worker, so the tests that share one expensive run (the end-to-end warehouse here, the `make
# run` subprocess in tests/e2e/conftest.py) join that fixture's group and run on one worker; the
# other tests are spread over both. Marked as each item is collected: xdist reads the marks in its
# own `pytest_collection_modifyitems`.
SHARED_RUN_FIXTURES = (
    "demo_warehouse",
    "corrupted",
    "flaky_make_run",
)  # corrupted: tests/marts/test_quarantine_marts.py; most expensive first (see _schedule_rank)


def pytest_itemcollected(item: pytest.Item) -> None:
    for name in SHARED_RUN_FIXTURES:
        if name in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(name))


def _schedule_rank(item: pytest.Item) -> int:
    """Where a test goes in the collection, which is the order `--dist loadgroup` hands work out
    in: the shared runs' groups first (most expensive first, SHARED_RUN_FIXTURES), then the other
    `slow` tests, then the fast ones. Longest first keeps the two workers' finishing times close:
    the last units handed out are seconds long, not a four-minute quarantine run that starts
    when the other worker is nearly done."""
    groups = {str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args}
    for rank, name in enumerate(SHARED_RUN_FIXTURES):
        if name in groups:
            return rank
    return len(SHARED_RUN_FIXTURES) + (0 if item.get_closest_marker("slow") else 1)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first (`_schedule_rank`, a stable sort: the engine pipeline tests, which
    tests/engines/conftest.py puts first, stay first), then the group suffix of the node id that
    `--dist loadgroup` schedules by. pytest-xdist 3.8 writes it to `item._nodeid`, which pytest 9 no
    longer reads (the id lives in `item._id`): set it there."""
    items.sort(key=_schedule_rank)
    if not getattr(config.option, "loadgroup", False):  # not an xdist worker under --dist loadgroup
        return
    from _pytest.nodes import coerce_node_id

    for item in items:
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        if groups and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")


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


# Ad-platform canaries: every Google Ads secret and the Meta token must also appear nowhere.
ADS_CANARIES = {
    "developer_token": "canary-devtoken-3c1d9e7a0b2f",
    "client_id": "canary-client-4471.apps.googleusercontent.com",
    "client_secret": "canary-client-secret-8e2b6d0f9a",
    "refresh_token": "1//canary-refresh-5f0a9c3e7b1d2a4c",
}
META_CANARY = "EAAcanarymetatoken7f3e9b1cd00d4bad"
ADS_LOGIN_CUSTOMER_ID = "111-222-3333"
GOOGLE_ADS_CUSTOMERS = "123-456-7890,9876543210"
META_ACCOUNTS = "act_101000000000001,101000000000002"
ADS_START_DATE = "2025-06-01"


@dataclass
class AdServers:
    google_ads: object  # emulators.google_ads.server.GoogleAdsServer
    meta: object  # emulators.meta.server.MetaServer


def start_ad_servers(db: Path, **kwargs: object) -> AdServers:
    from emulators.google_ads.server import GoogleAdsServer
    from emulators.meta.server import MetaServer

    g = GoogleAdsServer(db, credentials=ADS_CANARIES, retry_delay_s=0.01, batch_rows=200, **kwargs)
    m = MetaServer(db, token=META_CANARY, **kwargs)
    g.start()
    m.start()
    return AdServers(g, m)


@pytest.fixture(scope="session")
def ad_servers(sandbox_db: Path) -> Iterator[AdServers]:
    servers = start_ad_servers(sandbox_db)
    try:
        yield servers
    finally:
        servers.google_ads.stop()
        servers.meta.stop()


def ads_env(servers: AdServers) -> dict[str, str]:
    """The docs/metrics.md variables pointing at the ad emulators (canary secrets)."""
    g = servers.google_ads.base_url
    return {
        "GOOGLE_ADS_DEVELOPER_TOKEN": ADS_CANARIES["developer_token"],
        "GOOGLE_ADS_CLIENT_ID": ADS_CANARIES["client_id"],
        "GOOGLE_ADS_CLIENT_SECRET": ADS_CANARIES["client_secret"],
        "GOOGLE_ADS_REFRESH_TOKEN": ADS_CANARIES["refresh_token"],
        "GOOGLE_ADS_CUSTOMER_IDS": GOOGLE_ADS_CUSTOMERS,
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": ADS_LOGIN_CUSTOMER_ID,
        "GOOGLE_ADS_BASE_URL": g,
        "GOOGLE_ADS_TOKEN_URL": g + "/token",
        "GOOGLE_ADS_BACKOFF_BASE_S": "0.01",
        "META_ACCESS_TOKEN": META_CANARY,
        "META_AD_ACCOUNT_IDS": META_ACCOUNTS,
        "META_BASE_URL": servers.meta.base_url,
        "META_BACKOFF_BASE_S": "0.01",
        "META_PAGE_LIMIT": "100",
        "ADS_START_DATE": ADS_START_DATE,
    }


def ad_resources(servers: AdServers) -> dict[str, object]:
    from orchestration.resources import GoogleAdsResource, MetaResource

    g = servers.google_ads.base_url
    return {
        "google_ads": GoogleAdsResource(
            **ADS_CANARIES,
            customer_ids=GOOGLE_ADS_CUSTOMERS,
            login_customer_id=ADS_LOGIN_CUSTOMER_ID,
            base_url=g,
            token_url=g + "/token",
            start_date=ADS_START_DATE,
            backoff_base_s=0.01,
        ),
        "meta": MetaResource(
            access_token=META_CANARY,
            ad_account_ids=META_ACCOUNTS,
            base_url=servers.meta.base_url,
            start_date=ADS_START_DATE,
            page_limit=100,
            backoff_base_s=0.01,
        ),
    }


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
def demo_warehouse(
    tmp_path_factory: pytest.TempPathFactory, sandbox_db: Path, sandbox_url: str, ad_servers: AdServers
) -> DemoWarehouse:
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
        resources = build_resources(str(warehouse), hubspot=hubspot_resource(sandbox_url), **ad_resources(ad_servers))
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
