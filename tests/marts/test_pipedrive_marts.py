"""Pipedrive end to end: the emulator over HTTP -> connector -> raw -> dbt -> marts, compared row by
row with the independent reference (``tests/reference/pipedrive.py``, and
``tests/reference/pipedrive_pipeline.py`` for the pipeline-over-time and forecast marts) computed
from the ground truth: every row of every contracted mart, counts exact, figures to 1e-6. Once through `python -m cli.main run` (what `make run` calls) with only the Pipedrive
variables set and a fifth of the requests failing; once with both CRMs configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from tests.conftest import CANARY_TOKEN, ROOT, ad_resources, hubspot_resource
from tests.marts.compare import compare_rows, read_mart
from tests.reference import pipeline
from tests.reference.analyst import LEAD_COLUMNS, analyst_marts, pipedrive_deal_lead_rows
from tests.reference.forecast import FORECAST_COLUMNS, FORECAST_KEYS, forecast_marts_from_truth
from tests.reference.funnel import MART_COLUMNS, marts_from_truth
from tests.reference.marketing import marketing_marts_from_truth
from tests.reference.pipedrive import pipedrive_marts_from_truth
from tests.reference.pipedrive_pipeline import pipedrive_forecast_marts_from_truth, pipedrive_pipeline_marts_from_truth

pytestmark = pytest.mark.slow

PD_TOKEN = "pd-e2e-canary-token-91c07d2e5b"
MARTS = sorted(MART_COLUMNS) + sorted(pipeline.MART_COLUMNS)
FORECAST_MARTS = sorted(FORECAST_COLUMNS)


def compare_source(warehouse: Path, expected: dict[str, list[dict]], source: str) -> list[str]:
    problems = []
    for mart in MARTS:
        columns, rows = read_mart(warehouse, mart)
        mine = [r for r in rows if r["source"] == source]
        assert expected[mart], f"the reference computed no {source} rows for {mart}"
        diff = compare_rows(mart, mine, expected[mart], columns)
        if diff:
            problems.append(diff.report())
    for mart in FORECAST_MARTS:
        columns, rows = read_mart(warehouse, mart)
        mine = [r for r in rows if r["source"] == source]
        assert expected[mart], f"the reference computed no {source} rows for {mart}"
        diff = compare_rows(
            mart, mine, expected[mart], columns, columns=FORECAST_COLUMNS[mart], keys=FORECAST_KEYS[mart]
        )
        if diff:
            problems.append(diff.report())
    return problems


def all_references(funnel: dict, pipeline_marts: dict, forecast: dict) -> dict[str, list[dict]]:
    return {**funnel, **pipeline_marts, **forecast}


@pytest.fixture(scope="module")
def sandbox_truth(sandbox_db):
    """The demo sandbox's ground truth and end date: what these runs need of the shared run's setup,
    without building the shared warehouse (so they can run beside it, on another xdist worker)."""
    from emulators.truth.generator import end_date_of
    from emulators.truth.ground_truth import GroundTruth

    return SimpleNamespace(truth=GroundTruth(sandbox_db), as_of_date=end_date_of(sandbox_db))


@pytest.fixture(scope="module")
def pd_reference(sandbox_db, sandbox_truth):
    as_of, seeds = sandbox_truth.as_of_date, ROOT / "dbt_project" / "seeds"
    pipeline_marts = pipedrive_pipeline_marts_from_truth(sandbox_db, as_of_date=as_of, seeds_dir=seeds)
    return all_references(
        pipedrive_marts_from_truth(sandbox_db, as_of_date=as_of, seeds_dir=seeds),
        pipeline_marts,
        pipedrive_forecast_marts_from_truth(sandbox_db, as_of_date=as_of, seeds_dir=seeds, pipeline=pipeline_marts),
    )


def test_make_run_with_only_pipedrive_and_failing_requests_matches_the_reference(
    tmp_path, sandbox_db, sandbox_truth, pd_reference
):
    from emulators.pipedrive import PipedriveServer

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "PIPEDRIVE_"))}
    with PipedriveServer(sandbox_db, token=PD_TOKEN, fail_rate=0.2, fail_seed=9) as server:
        env.update(
            PIPEDRIVE_API_TOKEN=PD_TOKEN,
            PIPEDRIVE_BASE_URL=server.base_url,
            PIPEDRIVE_BACKOFF_BASE_S="0.01",
            PIPEDRIVE_RATE_LIMIT_PER_2S="off",
            WAREHOUSE_PATH=str(tmp_path / "warehouse.duckdb"),
            DAGSTER_HOME=str(tmp_path / "dagster_home"),
            AS_OF_DATE=sandbox_truth.as_of_date.isoformat(),
        )
        (tmp_path / "dagster_home").mkdir()
        proc = subprocess.run(
            [sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        stats = server.stats()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "Sources configured: pipedrive;" in output
    assert "hubspot is not configured" in output  # the other CRM is skipped cleanly
    failed = sum(n for code, n in stats["by_status"].items() if code != 200)
    assert failed >= 0.15 * stats["requests"], stats
    assert PD_TOKEN not in output
    problems = compare_source(tmp_path / "warehouse.duckdb", pd_reference, "pipedrive")
    assert not problems, "\n".join(problems)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_deals where source <> 'pipedrive'").fetchone()[0] == 0
        text = " ".join(str(r) for r in con.execute("select * from raw_pipedrive._sync_log").fetchall())
        assert PD_TOKEN not in text


def test_both_crms_configured_the_marts_hold_both(
    tmp_path, sandbox_db, sandbox_url, ad_servers, sandbox_truth, pd_reference
):
    from dagster import DagsterInstance, materialize

    from emulators.pipedrive import PipedriveServer
    from orchestration.definitions import all_assets, build_resources
    from orchestration.resources import PipedriveResource

    saved = os.environ.get("AS_OF_DATE")
    os.environ["AS_OF_DATE"] = sandbox_truth.as_of_date.isoformat()
    try:
        with PipedriveServer(sandbox_db, token=PD_TOKEN) as server:
            pipedrive = PipedriveResource(
                api_token=PD_TOKEN, base_url=server.base_url, backoff_base_s=0.01, rate_limit_per_2s=None
            )
            resources = build_resources(
                str(tmp_path / "warehouse.duckdb"),
                hubspot=hubspot_resource(sandbox_url),
                pipedrive=pipedrive,
                **ad_resources(ad_servers),
            )
            (tmp_path / "home").mkdir()
            with DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
                result = materialize(all_assets, resources=resources, instance=instance, raise_on_error=False)
                assert result.success
                messages = " ".join(e.user_message for e in instance.all_logs(result.run_id) if e.user_message)
    finally:
        if saved is None:
            os.environ.pop("AS_OF_DATE", None)
        else:
            os.environ["AS_OF_DATE"] = saved
    assert PD_TOKEN not in messages and CANARY_TOKEN not in messages
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart in MARTS + FORECAST_MARTS:
            sources = {r[0] for r in con.execute(f"select distinct source from marts.{mart}").fetchall()}
            assert sources == {"hubspot", "pipedrive"}, mart
    truth, as_of, seeds = sandbox_truth.truth, sandbox_truth.as_of_date, ROOT / "dbt_project" / "seeds"
    hubspot_reference = all_references(
        marts_from_truth(truth, as_of_date=as_of, seeds_dir=seeds),
        pipeline.pipeline_marts_from_truth(truth, as_of_date=as_of, seeds_dir=seeds),
        forecast_marts_from_truth(truth, as_of_date=as_of, seeds_dir=seeds),
    )
    problems = compare_source(warehouse, pd_reference, "pipedrive") + compare_source(
        warehouse, hubspot_reference, "hubspot"
    )
    assert not problems, "\n".join(problems)
    assert_roi_and_lead_columns_hold_both_crms(warehouse, sandbox_db, sandbox_truth)


def assert_roi_and_lead_columns_hold_both_crms(warehouse: Path, sandbox_db: Path, sandbox_truth) -> None:
    """Every row of `mart_marketing_roi_monthly` (leads of both CRMs, Pipedrive labels mapped onto
    the spend channels, Pipedrive deals counted by `source_lead_id`) and `fct_deals.lead_id` /
    `lead_channel` of every deal equal the reference computed from the ground truth."""
    seeds = ROOT / "dbt_project" / "seeds"
    as_of = sandbox_truth.as_of_date
    both = marketing_marts_from_truth(
        sandbox_truth.truth, sandbox_db, as_of_date=as_of, seeds_dir=seeds, with_pipedrive=True
    )["mart_marketing_roi_monthly"]
    columns, rows = read_mart(warehouse, "mart_marketing_roi_monthly")
    diff = compare_rows("mart_marketing_roi_monthly", rows, both, columns)
    assert not diff, diff.report()
    hubspot_only = marketing_marts_from_truth(sandbox_truth.truth, sandbox_db, as_of_date=as_of, seeds_dir=seeds)

    def paid(rows: list[dict], column: str) -> int:
        return sum(r[column] for r in rows if r["channel"] == "paid_search")

    for column in ("leads", "deals_created", "new_customers"):  # Pipedrive's paid leads meet the spend
        assert paid(both, column) > paid(hubspot_only["mart_marketing_roi_monthly"], column), column
    assert not {r["channel"] for r in both} & {"paid search", "paid social"}

    lead_rows = analyst_marts(sandbox_truth.truth, as_of_date=as_of, seeds_dir=seeds)["fct_deals"]
    expected = [{c: r[c] for c in LEAD_COLUMNS} for r in lead_rows]
    expected += pipedrive_deal_lead_rows(sandbox_db, as_of_date=as_of, seeds_dir=seeds)
    columns, rows = read_mart(warehouse, "fct_deals")
    diff = compare_rows("fct_deals", rows, expected, columns, columns=LEAD_COLUMNS, keys=("deal_id",))
    assert not diff, diff.report()
    pd_rows = [r for r in expected if r["deal_id"].startswith("pipedrive:")]
    assert any(r["lead_id"] for r in pd_rows) and any(r["lead_id"] is None and r["lead_channel"] for r in pd_rows)
