"""`make run` (as a real subprocess) with HubSpot, Google Ads and Meta pointing at the emulators,
20 % of requests failing: both marketing marts equal the reference; after the platforms rename a
campaign, restate a recent day and delete a campaign, the next run's marts equal the new
reference; no secret appears in any output, file or the warehouse."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from emulators.hubspot.server import Fault, SandboxServer
from emulators.truth import ads
from emulators.truth.generator import end_date_of
from emulators.truth.ground_truth import GroundTruth
from tests.conftest import ADS_CANARIES, CANARY_TOKEN, META_CANARY, ROOT, ads_env, start_ad_servers
from tests.marts.compare import compare_rows, read_mart
from tests.reference.marketing import MART_COLUMNS, marketing_marts_from_truth

pytestmark = pytest.mark.slow
FAIL_RATE = 0.2
SECRETS = [CANARY_TOKEN, META_CANARY, *(v for k, v in ADS_CANARIES.items() if k != "client_id")]


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


def _run(tmp: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "PIPEDRIVE_", "GOOGLE_ADS_", "META_"))}
    env.update(
        {"WAREHOUSE_PATH": str(tmp / "w.duckdb"), "DAGSTER_HOME": str(tmp / "dagster_home"), "PYTHONPATH": str(ROOT)}
    )
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "run"], cwd=tmp, env=env, capture_output=True, text=True, timeout=900
    )


def _compare(tmp: Path, db: Path, as_of) -> dict[str, list[dict]]:
    reference = marketing_marts_from_truth(
        GroundTruth(db), db, as_of_date=as_of, seeds_dir=ROOT / "dbt_project" / "seeds"
    )
    marts = {}
    for mart in MART_COLUMNS:
        columns, rows = read_mart(tmp / "w.duckdb", mart)
        diff = compare_rows(mart, rows, reference[mart], columns)
        assert not diff, diff.report()
        marts[mart] = rows
    return marts


def test_run_with_failures_matches_reference_before_and_after_restatements(tmp_path, sandbox_db):
    db = tmp_path / "crm.sqlite"
    shutil.copy(sandbox_db, db)
    as_of = end_date_of(db)
    hubspot = FlakyHubSpot(db, token=CANARY_TOKEN, fail_rate=FAIL_RATE)
    servers = start_ad_servers(db, fail_rate=FAIL_RATE, fail_seed=5)
    hub_url = hubspot.start()
    env = {
        **ads_env(servers),
        "HUBSPOT_ACCESS_TOKEN": CANARY_TOKEN,
        "HUBSPOT_BASE_URL": hub_url,
        "HUBSPOT_BACKOFF_BASE_S": "0.01",
        "AS_OF_DATE": as_of.isoformat(),
    }
    try:
        first = _run(tmp_path, env)
        output = first.stdout + first.stderr
        assert first.returncode == 0, output[-4000:]
        before = _compare(tmp_path, db, as_of)

        restated = {  # a recent day of each (inside the 30-day re-read window)
            c: max(
                s["day"]
                for s in ads.stats(db, p, until=(as_of - timedelta(days=2)).isoformat())
                if s["campaign_id"] == c
            )
            for p, c in (("meta", "120210000000000003"), ("google_ads", "20000000211"))
        }
        ads.rename_campaign(db, "google_ads", "20000000111", "Brand – Search (renamed)")
        ads.restate_day(db, "meta", "120210000000000003", restated["120210000000000003"], 1.5)  # the EUR account
        ads.restate_day(db, "google_ads", "20000000211", restated["20000000211"], 0.5)
        ads.remove_campaign(db, "meta", "120210000000000004")
        second = _run(tmp_path, env)
        output += second.stdout + second.stderr
        assert second.returncode == 0, output[-4000:]
        after = _compare(tmp_path, db, as_of)
        failures = {
            name: sum(n for status, n in server.stats()["by_status"].items() if status >= 400)
            for name, server in (("google_ads", servers.google_ads), ("meta", servers.meta))
        }
        failures["hubspot"] = sum(n for status, n in hubspot.stats()["by_status"].items() if status >= 400)
    finally:
        hubspot.stop()
        servers.google_ads.stop()
        servers.meta.stop()

    assert all(n > 0 for n in failures.values()), failures  # the runs really met failures
    old = [r for r in before["fct_ad_spend_daily"] if r["campaign_id"] == "20000000111"]
    new = [r for r in after["fct_ad_spend_daily"] if r["campaign_id"] == "20000000111"]
    assert {r["campaign_name"] for r in old} == {"Brand – Search"}
    assert {r["campaign_name"] for r in new} == {"Brand – Search (renamed)"}  # months-old days too
    assert min(r["spend_date"] for r in new) < as_of - timedelta(days=60)

    def spend_on(rows, campaign):
        day = restated[campaign]
        return next(r["spend"] for r in rows if r["campaign_id"] == campaign and r["spend_date"].isoformat() == day)

    for campaign in restated:  # the re-read window picked the restatements up
        assert spend_on(after["fct_ad_spend_daily"], campaign) != spend_on(before["fct_ad_spend_daily"], campaign)
    assert len(after["fct_ad_spend_daily"]) == len(before["fct_ad_spend_daily"])  # re-read, not duplicated

    # no secret anywhere: outputs, Dagster's files, the warehouse, the published marts, dbt's target
    for secret in SECRETS:
        assert secret not in output
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "crm.sqlite"]
    files += [p for p in (ROOT / "dbt_project" / "target").rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"a secret leaked into {path}"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            text = str(con.execute(f'select * from "{schema}"."{table}"').fetchall())
            assert not any(s in text for s in SECRETS), f"a secret is stored in {schema}.{table}"
