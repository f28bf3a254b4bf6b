"""Quarantine end to end (docs/metrics.md, "Quarantine"): a demo-size sandbox with corrupted
stage histories (the `corrupted_timestamps` scenario: 15 deals with an entry before their
creation, 10 with one years after the sandbox's end), served over HTTP to both CRMs' connectors,
then two full Dagster runs with the `quarantined_records` check.

- the runs succeed and publish: the quarantine never blocks;
- `marts.quarantined_records` lists exactly the corrupted deals, with the right rule, and the
  second run does not duplicate a row;
- the ERROR check fails and names them;
- every contracted mart equals the independent reference (tests/reference/, which leaves those
  deals out by the contract's rule), for both CRMs.

The second run is `python -m cli.main run` (what `make run` calls): it exits 0 and says how many
records were quarantined and where to look.

Cost: one demo-size sandbox (about 5 s) and two Dagster runs over HubSpot and Pipedrive without
the ad platforms (figures in the quarantine entry of docs/decisions.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CANARY_TOKEN, DEMO_CONTACTS, DEMO_DEALS, DEMO_SEED, ROOT, hubspot_resource
from tests.marts.test_pipedrive_marts import FORECAST_MARTS, MARTS, all_references, compare_source
from tests.reference import pipeline
from tests.reference.forecast import forecast_marts_from_truth
from tests.reference.funnel import _records, marts_from_truth
from tests.reference.pipedrive import pipedrive_marts_from_truth
from tests.reference.pipedrive_pipeline import pipedrive_forecast_marts_from_truth, pipedrive_pipeline_marts_from_truth
from tests.reference.quarantine import AFTER_LOAD, BEFORE_CREATION, quarantine_rows

pytestmark = pytest.mark.slow

PD_TOKEN = "pd-quarantine-canary-4e1f0b"
KEY = ("source", "entity", "source_record_id", "deal_id", "rule")


def _raw_inputs(truth, sandbox: Path) -> tuple[list[dict], dict[str, list]]:
    """Every deal of both CRMs and every stage-history entry time as the CRMs send them,
    before the quarantine drops anything (the reference's own readers)."""
    import sqlite3

    from emulators.truth import pipedrive as pd
    from tests.reference.pipedrive import SOURCE, _sec

    times: dict[str, list] = {}
    # HubSpot: the truth's stage history is what the API lists
    deals = [
        {
            "source": "hubspot",
            "source_deal_id": d["id"],
            "created_at": int(d["createdate_ms"]),
            "archived": bool(d["archived"]),
            "merged_into": d["merged_into"],
        }
        for d in _records(truth.deals())
    ]
    for h in _records(truth.stage_history()):
        times.setdefault(f"hubspot:{h['deal_id']}", []).append(int(h["timestamp_ms"]))
    conn = sqlite3.connect(f"{sandbox.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        for row in conn.execute("SELECT * FROM deals ORDER BY id").fetchall():
            changes, status, _held, _pipe = pd.deal_flow(conn, row["id"])
            deals.append(
                {
                    "source": SOURCE,
                    "source_deal_id": str(row["id"]),
                    "created_at": _sec(row["createdate"]),
                    "archived": status == "deleted" or bool(row["archived"]),
                }
            )
            times[f"{SOURCE}:{row['id']}"] = [_sec(c.ts_ms) for c in changes if c.field_key in ("stage_id", "status")]
    finally:
        conn.close()
    return deals, times


def corrupt_pipedrive_flows(db: Path, n: int = 3) -> list[str]:
    """The scenario's faults reach Pipedrive's flow only partly (a repeated stage starts no flow
    change): give ``n`` more deals two stage changes dated before their creation, which both CRMs
    show (HubSpot as `dealstage` entries, Pipedrive as a `stage_id` change before `add_time`)."""
    import sqlite3

    from core.epoch import DAY_MS
    from evaluation.scenarios.deals import live_deal_ids, load_deal, save_deal

    conn = sqlite3.connect(db)
    try:
        picked = []
        for did in live_deal_ids(conn, "pipeline = 'default'"):
            deal = load_deal(conn, did)
            first = deal.stages[0]
            if first[0] != "appointmentscheduled" or first[1] != deal.row["createdate"] or len(deal.stages) < 2:
                continue
            if any(s[1] < deal.row["createdate"] or s[1] > deal.row["hs_lastmodifieddate"] for s in deal.stages):
                continue  # already corrupted by the scenario
            created = deal.row["createdate"]
            deal.stages[0:0] = [
                ["qualifiedtobuy", created - 2 * DAY_MS, "IMPORT", None, None],
                ["presentationscheduled", created - DAY_MS, "IMPORT", None, None],
            ]
            save_deal(conn, deal)
            picked.append(str(did))
            if len(picked) == n:
                break
        conn.commit()
    finally:
        conn.close()
    return picked


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
    from dagster import DagsterInstance, materialize

    from emulators.hubspot.server import SandboxServer
    from emulators.pipedrive import PipedriveServer
    from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of
    from emulators.truth.ground_truth import GroundTruth
    from evaluation.scenarios.specs import read_injection
    from orchestration.definitions import all_assets, build_resources
    from orchestration.quarantine_check import quarantined_records
    from orchestration.resources import PipedriveResource

    base = tmp_path_factory.mktemp("quarantine")
    db = base / "crm.sqlite"
    config = SandboxConfig(
        seed=DEMO_SEED, n_contacts=DEMO_CONTACTS, n_deals=DEMO_DEALS, scenario="corrupted_timestamps"
    )
    build_sandbox(config, db)
    extra_before = corrupt_pipedrive_flows(db)
    as_of = end_date_of(db)
    warehouse = base / "warehouse.duckdb"
    saved = {k: os.environ.get(k) for k in ("AS_OF_DATE",)}
    os.environ["AS_OF_DATE"] = as_of.isoformat()
    runs, counts = [], []
    try:
        hub = SandboxServer(db, token=CANARY_TOKEN)
        url = hub.start()
        try:
            with PipedriveServer(db, token=PD_TOKEN) as pd_server:
                pipedrive = PipedriveResource(
                    api_token=PD_TOKEN, base_url=pd_server.base_url, backoff_base_s=0.01, rate_limit_per_2s=None
                )
                resources = build_resources(str(warehouse), hubspot=hubspot_resource(url), pipedrive=pipedrive)
                (base / "home").mkdir()
                with DagsterInstance.local_temp(str(base / "home")) as instance:
                    result = materialize(
                        [*all_assets, quarantined_records], resources=resources, instance=instance, raise_on_error=False
                    )
                runs.append(result)
                counts.append(_count(warehouse))
                # the re-run is what `make run` does, on the same warehouse and instance
                cli = _cli_run(base, warehouse, url, pd_server.base_url, as_of.isoformat())
                counts.append(_count(warehouse))
        finally:
            hub.stop()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {
        "db": db,
        "truth": GroundTruth(db),
        "as_of": as_of,
        "warehouse": warehouse,
        "runs": runs,
        "counts": counts,
        "injection": read_injection(db),
        "extra_before": extra_before,
        "cli": cli,
    }


def _count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from marts.quarantined_records").fetchone()[0]


def _cli_run(base: Path, warehouse: Path, hubspot_url: str, pipedrive_url: str, as_of: str):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "PIPEDRIVE_", "GOOGLE_ADS_", "META_"))}
    env.update(
        HUBSPOT_ACCESS_TOKEN=CANARY_TOKEN,
        HUBSPOT_BASE_URL=hubspot_url,
        HUBSPOT_BACKOFF_BASE_S="0.01",
        HUBSPOT_RATE_LIMIT_PER_10S="off",
        HUBSPOT_SEARCH_RATE_PER_S="off",
        PIPEDRIVE_API_TOKEN=PD_TOKEN,
        PIPEDRIVE_BASE_URL=pipedrive_url,
        PIPEDRIVE_BACKOFF_BASE_S="0.01",
        PIPEDRIVE_RATE_LIMIT_PER_2S="off",
        WAREHOUSE_PATH=str(warehouse),
        DAGSTER_HOME=str(base / "home"),
        AS_OF_DATE=as_of,
    )
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500
    )


@pytest.fixture(scope="module")
def expected_quarantine(corrupted) -> list[dict]:
    deals, times = _raw_inputs(corrupted["truth"], corrupted["db"])
    return quarantine_rows(deals, times, as_of_date=corrupted["as_of"])


def _rows(warehouse: Path, table: str = "marts.quarantined_records") -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sorted(con.execute(f"select {', '.join(KEY)} from {table}").fetchall())


def test_runs_succeed_and_publish_despite_the_quarantine(corrupted, expected_quarantine):
    (run,) = corrupted["runs"]
    assert run.success
    published = {str(e.asset_key.path) for e in run.get_asset_materialization_events()}
    assert any("published" in key for key in published), published
    cli = corrupted["cli"]
    output = cli.stdout + cli.stderr
    assert cli.returncode == 0, output[-4000:]  # `make run` exits 0 with records quarantined
    n = len({r["deal_id"] for r in expected_quarantine})
    assert f"Quarantined: {n} record(s) quarantined" in cli.stdout, cli.stdout[-2000:]
    assert "marts.quarantined_records" in cli.stdout and "`quarantined_records`" in cli.stdout
    assert CANARY_TOKEN not in output and PD_TOKEN not in output
    marts = corrupted["warehouse"].parent / "published" / "sales_marts.duckdb"
    assert _rows(marts) == _rows(corrupted["warehouse"])  # the list travels with the marts


def test_quarantine_lists_exactly_the_corrupted_deals_with_their_rule(corrupted, expected_quarantine):
    inj = corrupted["injection"]
    before = {f"hubspot:{d}" for d in [*inj.details["before_creation"], *corrupted["extra_before"]]}
    future = {f"hubspot:{d}" for d in inj.details["future"]}
    rows = _rows(corrupted["warehouse"])
    hubspot = {(r[3], r[4]) for r in rows if r[0] == "hubspot"}
    # the injected faults, independently of the reference: HubSpot lists every history entry
    assert hubspot == {(d, BEFORE_CREATION) for d in before} | {(d, AFTER_LOAD) for d in future}
    pipedrive = {(r[3], r[4]) for r in rows if r[0] == "pipedrive"}
    assert {(f"pipedrive:{d}", BEFORE_CREATION) for d in corrupted["extra_before"]} <= pipedrive
    assert len(corrupted["extra_before"]) == 3
    want = sorted(tuple(r[k] for k in KEY) for r in expected_quarantine)
    assert rows == want
    assert corrupted["counts"] == [len(want), len(want)]  # a re-run does not duplicate
    with duckdb.connect(str(corrupted["warehouse"]), read_only=True) as con:
        details = con.execute("select rule, detail from marts.quarantined_records").fetchall()
        for table in ("fct_deals", "fct_deal_stage_history", "fct_pipeline_snapshot_daily"):
            leaked = con.execute(
                f"select count(*) from marts.{table} where deal_id in (select deal_id from marts.quarantined_records)"
            ).fetchone()[0]
            assert leaked == 0, table
    for rule, detail in details:
        assert ("earlier than the deal's creation" if rule == BEFORE_CREATION else "later than its load") in detail


def test_error_check_fails_and_names_them(corrupted, expected_quarantine):
    from dagster import AssetCheckSeverity

    for run in corrupted["runs"]:  # the `make run` re-run's check is the same code path
        evaluations = {e.check_name: e for e in run.get_asset_check_evaluations()}
        check = evaluations["quarantined_records"]
        assert check.passed is False and check.severity == AssetCheckSeverity.ERROR
        meta = {k: v.value for k, v in check.metadata.items()}
        per_rule: dict[str, int] = {}
        for r in expected_quarantine:
            per_rule[r["rule"]] = per_rule.get(r["rule"], 0) + 1
        assert meta["count_per_rule"] == per_rule and meta["quarantined_records"] == len(expected_quarantine)
        named = meta["quarantined_ids"].split(", ")
        assert len(named) == 20 and set(named) <= {r["deal_id"] for r in expected_quarantine}


def test_marts_equal_the_reference_without_the_quarantined_deals(corrupted):
    truth, db, as_of, seeds = corrupted["truth"], corrupted["db"], corrupted["as_of"], ROOT / "dbt_project" / "seeds"
    pd_pipeline = pipedrive_pipeline_marts_from_truth(db, as_of_date=as_of, seeds_dir=seeds)
    pd_reference = all_references(
        pipedrive_marts_from_truth(db, as_of_date=as_of, seeds_dir=seeds),
        pd_pipeline,
        pipedrive_forecast_marts_from_truth(db, as_of_date=as_of, seeds_dir=seeds, pipeline=pd_pipeline),
    )
    hubspot_reference = all_references(
        marts_from_truth(truth, as_of_date=as_of, seeds_dir=seeds),
        pipeline.pipeline_marts_from_truth(truth, as_of_date=as_of, seeds_dir=seeds),
        forecast_marts_from_truth(truth, as_of_date=as_of, seeds_dir=seeds),
    )
    assert MARTS and FORECAST_MARTS
    problems = compare_source(corrupted["warehouse"], hubspot_reference, "hubspot") + compare_source(
        corrupted["warehouse"], pd_reference, "pipedrive"
    )
    assert not problems, "\n".join(problems)
