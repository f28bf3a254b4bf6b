"""The one shared `make run`: `python -m cli.main run` (what `make run` calls) as a real subprocess,
HubSpot, Google Ads and Meta pointing at their emulators with a fifth of the requests failing.

Session-scoped: `test_cli.py` asserts the CLI's contract (exit code, message, published file,
the run recorded through the code location) on the first run, captured before anything else
happens in its folder; `test_marketing_run.py` compares the marts with the reference, then
restates the platforms' data and runs again in the same folder. One subprocess run instead of
one per file (each costs a Dagster start, a sync and a full dbt build)."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from emulators.hubspot.server import Fault, SandboxServer
from tests.conftest import CANARY_TOKEN, ROOT, AdServers, ads_env, start_ad_servers

FAIL_RATE = 0.2


class FlakyHubSpot(SandboxServer):
    """The HubSpot emulator with a seeded share of 503s (its own fault hook, nothing mocked)."""

    def __init__(self, *args, fail_rate: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rng = random.Random(11)
        self._rate = fail_rate

    def _take_fault(self, method: str, path: str) -> Fault | None:
        if self._rng.random() < self._rate:
            return Fault(status=503)
        return super()._take_fault(method, path)


def make_run(tmp: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m cli.main run` in ``tmp`` (warehouse, Dagster home and published files there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "PIPEDRIVE_", "GOOGLE_ADS_", "META_"))}
    env.update(
        {"WAREHOUSE_PATH": str(tmp / "w.duckdb"), "DAGSTER_HOME": str(tmp / "dagster_home"), "PYTHONPATH": str(ROOT)}
    )
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "run"], cwd=tmp, env=env, capture_output=True, text=True, timeout=900
    )


@dataclass
class RecordedRun:
    """What the Dagster instance recorded of one run."""

    job_name: str
    status: str
    location_name: str | None  # from the run's remote job origin (None: not launched from a code location)
    code_location_tag: str | None


@dataclass
class FlakyMakeRun:
    tmp: Path  # cwd of the runs: w.duckdb, dagster_home/, published/
    db: Path  # the sandbox the emulators serve (a copy: tests may restate it)
    as_of: date
    env: dict[str, str]
    hubspot: FlakyHubSpot
    servers: AdServers
    first: subprocess.CompletedProcess
    first_runs: list[RecordedRun]  # the instance's runs right after the first `make run`
    first_published_deals: int | None  # rows of the published fct_deals after it (None: no file)


def _recorded_runs(home: Path) -> list[RecordedRun]:
    from dagster import DagsterInstance

    if not home.exists():
        return []
    with DagsterInstance.local_temp(str(home)) as instance:
        return [
            RecordedRun(
                job_name=run.job_name,
                status=run.status.value,
                location_name=run.remote_job_origin.location_name if run.remote_job_origin else None,
                code_location_tag=run.tags.get("dagster/code_location"),
            )
            for run in instance.get_runs()
        ]


def _published_deals(tmp: Path) -> int | None:
    path = tmp / "published" / "sales_marts.duckdb"
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*) from marts.fct_deals").fetchone()[0]


@pytest.fixture(scope="session")
def flaky_make_run(tmp_path_factory: pytest.TempPathFactory, sandbox_db: Path) -> Iterator[FlakyMakeRun]:
    from emulators.truth.generator import end_date_of

    tmp = tmp_path_factory.mktemp("make_run")
    db = tmp / "crm.sqlite"
    shutil.copy(sandbox_db, db)
    as_of = end_date_of(db)
    hubspot = FlakyHubSpot(db, token=CANARY_TOKEN, fail_rate=FAIL_RATE)
    servers = start_ad_servers(db, fail_rate=FAIL_RATE, fail_seed=5)
    try:
        env = {
            **ads_env(servers),
            "HUBSPOT_ACCESS_TOKEN": CANARY_TOKEN,
            "HUBSPOT_BASE_URL": hubspot.start(),
            "HUBSPOT_BACKOFF_BASE_S": "0.01",
            "AS_OF_DATE": as_of.isoformat(),
        }
        first = make_run(tmp, env)
        yield FlakyMakeRun(
            tmp=tmp,
            db=db,
            as_of=as_of,
            env=env,
            hubspot=hubspot,
            servers=servers,
            first=first,
            first_runs=_recorded_runs(tmp / "dagster_home"),
            first_published_deals=_published_deals(tmp),
        )
    finally:
        hubspot.stop()
        servers.google_ads.stop()
        servers.meta.stop()
