"""The HTML report renders in headless Chromium, offline, and shows the marts' numbers.

The report is written from the published marts of the shared end-to-end run, opened from disk
with every network request refused, and read back from the rendered page: each chart drew its
traces, and each tile and table value equals a query of the marts written here (not the
report's own queries). A full-page screenshot is kept under ``data/ci-artifacts/``.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from core.settings import publish_dir

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "data" / "ci-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART_KEYS = [
    "leads_by_channel",
    "funnel",
    "conversion_trend",
    "outcomes_by_month",
    "pipeline_value",
    "velocity",
    "bottlenecks",
    "forecast_vs_actuals",
    "forecast_accuracy",
    "marketing_roi",
]


@pytest.fixture(scope="module")
def report(demo_warehouse) -> tuple[Path, Path]:
    from warehouse.report.build import MARTS_FILE, write_report

    marts = publish_dir(demo_warehouse.warehouse) / MARTS_FILE
    return marts, write_report(marts, demo_warehouse.warehouse.parent / "report.html")


def _close(got: str, want: float | int | None) -> bool:
    if want is None:
        return got == ""
    return math.isclose(float(got), float(want), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.slow  # builds the shared end-to-end warehouse
def test_report_is_one_offline_file(report):
    _, page = report
    text = page.read_text(encoding="utf-8")
    assert "<script src=" not in text and "<link " not in text  # nothing to fetch: scripts and styles inline
    assert text.count("<script") >= 1 + len(CHART_KEYS)  # plotly.js once + one per chart


@pytest.mark.slow
def test_report_renders_every_chart_with_the_marts_numbers(report):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make browser` (make test does it).")
    marts, html_file = report
    with duckdb.connect(str(marts), read_only=True) as con:
        leads_total = con.execute("select sum(new_leads) from marts.mart_lead_volume_daily").fetchone()[0]
        won, lost, no_amount = con.execute(
            "select sum(won_count), sum(lost_count), sum(won_without_amount_count) from marts.mart_deal_outcomes_monthly"
        ).fetchone()
        won_value = con.execute("select sum(amount_reporting) from marts.fct_deals where outcome = 'won'").fetchone()[0]
        by_channel = dict(
            con.execute("select channel, sum(new_leads) from marts.mart_lead_volume_daily group by 1").fetchall()
        )
        steps = con.execute(
            "select funnel_step, sum(entered_count), sum(advanced_count) from marts.mart_stage_conversion_monthly "
            "group by 1"
        ).fetchall()
        monthly = con.execute(
            "select close_month::varchar, sum(won_count), sum(lost_count) from marts.mart_deal_outcomes_monthly "
            "group by 1"
        ).fetchall()
        immature = con.execute(
            "select count(distinct (cohort_month, funnel_step)) from marts.mart_stage_conversion_monthly "
            "where not is_mature"
        ).fetchone()[0]
        as_of = con.execute("select max(as_of_date)::varchar from marts.mart_build_info").fetchone()[0]
        marts_checks = _new_marts_expectations(con)

    blocked: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1280, "height": 900}
        )
        try:
            page = ctx.new_page()

            def refuse(route):
                if route.request.url.startswith("file:"):
                    return route.continue_()
                blocked.append(route.request.url)
                return route.abort()

            page.route("**/*", refuse)
            page.goto(html_file.as_uri())
            page.wait_for_function(
                "keys => keys.every(k => { const el = document.getElementById('chart-' + k);"
                " return el && el.querySelector('.main-svg') && el.data && el.data.length > 0; })",
                arg=CHART_KEYS,
                timeout=30_000,
            )
            traces = page.evaluate(
                "keys => Object.fromEntries(keys.map(k => [k, document.querySelectorAll("
                "'#chart-' + k + ' .trace, #chart-' + k + ' .funnel').length]))",
                CHART_KEYS,
            )
            tiles = page.evaluate(
                "() => Object.fromEntries([...document.querySelectorAll('[data-kpi]')]"
                ".map(e => [e.dataset.kpi, [e.dataset.value, e.textContent]]))"
            )
            tables = page.evaluate(
                "() => Object.fromEntries([...document.querySelectorAll('table.figures')].map(t => [t.dataset.chart,"
                " [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.dataset.value))]))"
            )
            columns = page.evaluate(
                "() => Object.fromEntries([...document.querySelectorAll('table.figures')].map(t => [t.dataset.chart,"
                " [...t.querySelectorAll('thead th')].map(c => c.textContent)]))"
            )
            page_as_of = page.get_attribute("#as-of-date", "data-value")
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            ctx.close()

    assert not blocked, f"the report tried to reach the network: {blocked[:3]}"
    assert all(traces[k] > 0 for k in CHART_KEYS), traces
    assert page_as_of == as_of
    assert _close(tiles["leads"][0], leads_total) and f"{leads_total:,}" in tiles["leads"][1]
    assert _close(tiles["won_deals"][0], won) and _close(tiles["win_rate"][0], won / (won + lost))
    assert _close(tiles["won_amount_reporting"][0], won_value)
    assert _close(tiles["won_without_amount"][0], no_amount)
    assert {r[0]: int(r[1]) for r in tables["leads_by_channel"]} == by_channel
    funnel = {r[0]: (int(r[1]), int(r[2])) for r in tables["funnel"]}
    assert funnel == {step: (int(e), int(a)) for step, e, a in steps}
    assert {r[0]: (int(r[1]), int(r[2])) for r in tables["outcomes_by_month"]} == {
        m: (int(w), int(x)) for m, w, x in monthly
    }
    assert immature > 0 and sum(1 for r in tables["conversion_trend"] if r[4] == "no") == immature
    _check_new_marts(tables, columns, marts_checks)


def _new_marts_expectations(con: duckdb.DuckDBPyConnection) -> dict:
    """What the pipeline, forecast and marketing charts must show, queried here from the marts
    (the actuals from `fct_deals`, the ROI ratios computed in Python from the summed columns)."""
    last_day = con.execute("select max(snapshot_date) from marts.mart_pipeline_by_stage_daily").fetchone()[0]
    open_last_day = dict(
        con.execute(
            "select funnel_step, sum(open_amount_reporting) from marts.mart_pipeline_by_stage_daily "
            "where snapshot_date = ? group by 1",
            [last_day],
        ).fetchall()
    )
    velocity = {
        (m, s): v
        for m, s, v in con.execute(
            "select month::varchar, source, velocity_per_day from marts.mart_pipeline_velocity_monthly"
        ).fetchall()
    }
    flagged = set(
        con.execute(
            "select month::varchar, source, funnel_step from marts.mart_funnel_bottlenecks_monthly "
            "where is_conversion_bottleneck or is_value_bottleneck"
        ).fetchall()
    )
    won_by_month = dict(
        con.execute(
            "select date_trunc('month', closed_at)::date::varchar, sum(coalesce(amount_reporting, 0)) "
            "from marts.fct_deals where outcome = 'won' group by 1"
        ).fetchall()
    )
    # Months already over: their horizon-0 forecast is the one made at the previous month's end.
    crm_weighted_h0 = dict(
        con.execute(
            "select target_month::varchar, sum(forecast_amount_reporting) from marts.mart_forecast_monthly "
            "where method = 'crm_weighted' and horizon_months = 0 and origin_date = target_month - 1 "
            "and actual_won_amount_reporting is not null group by 1"
        ).fetchall()
    )
    wape = {
        (s, m, str(h)): w
        for s, m, h, w in con.execute(
            "select source, method, horizon_months, wape from marts.mart_forecast_accuracy"
        ).fetchall()
    }
    roi = {}
    for channel, spend, leads, revenue in con.execute(
        "select channel, sum(spend_reporting), sum(leads), sum(won_revenue_reporting) "
        "from marts.mart_marketing_roi_monthly group by 1"
    ).fetchall():
        cost_per_lead = spend / leads if spend and leads else None  # null without spend or leads
        roi[channel] = (spend, int(leads), revenue / spend if spend else None, cost_per_lead)
    return {
        "last_day": last_day.isoformat(),
        "open_last_day": open_last_day,
        "velocity": velocity,
        "flagged": flagged,
        "won_by_month": won_by_month,
        "crm_weighted_h0": crm_weighted_h0,
        "wape": wape,
        "roi": roi,
    }


def _check_new_marts(tables: dict, columns: dict, want: dict) -> None:
    shown = {r[1]: r[3] for r in tables["pipeline_value"] if r[0] == want["last_day"]}
    assert shown.keys() == want["open_last_day"].keys() and shown, shown
    assert all(_close(shown[k], v) for k, v in want["open_last_day"].items())

    velocity = {(r[0], r[1]): r[6] for r in tables["velocity"]}
    assert velocity.keys() == want["velocity"].keys() and any(v for v in velocity.values())
    assert all(_close(velocity[k], v) for k, v in want["velocity"].items())

    assert want["flagged"] and {(r[0], r[1], r[2]) for r in tables["bottlenecks"]} == want["flagged"]

    actuals = [(r[0], r[1]) for r in tables["forecast_vs_actuals"] if r[1] != ""]
    assert actuals and all(_close(a, want["won_by_month"].get(m, 0.0)) for m, a in actuals)
    assert any(float(a) > 0 for _, a in actuals)
    method = columns["forecast_vs_actuals"].index("crm_weighted")
    shown_h0 = {r[0]: r[method] for r in tables["forecast_vs_actuals"] if r[1] != ""}
    assert want["crm_weighted_h0"] and shown_h0.keys() == want["crm_weighted_h0"].keys()
    assert all(_close(shown_h0[m], f) for m, f in want["crm_weighted_h0"].items())

    wape = {(r[0], r[1], r[2]): r[4] for r in tables["forecast_accuracy"]}
    assert wape.keys() == want["wape"].keys() and wape
    assert all(_close(wape[k], v) for k, v in want["wape"].items())

    roi = {r[0]: (r[1], r[2], r[7], r[3]) for r in tables["marketing_roi"]}
    assert roi.keys() == want["roi"].keys() and any(r[2] is not None for r in want["roi"].values())
    for channel, (spend, leads, roas, cost_per_lead) in want["roi"].items():
        assert _close(roi[channel][0], spend) and int(roi[channel][1]) == leads, channel
        assert _close(roi[channel][2], roas) and _close(roi[channel][3], cost_per_lead), channel
