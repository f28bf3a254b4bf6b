"""Every row of the two forecast marts (docs/metrics.md) equals the reference computation.

The reference (``tests/reference/forecast.py``, over the funnel and pipeline references) reads
the sandbox CRM's ground truth and the seeds, never the warehouse. Rows are matched by key;
counts exact, figures to 1e-6 (1e-9 relative), dates exactly.
"""

from __future__ import annotations

import pytest

from tests.marts.compare import read_mart, same
from tests.reference.forecast import FORECAST_COLUMNS, FORECAST_KEYS, forecast_marts_from_truth

COUNTS = ("horizon_months", "open_deal_count", "n_origins")


@pytest.fixture(scope="module")
def reference_forecast(demo_warehouse) -> dict[str, list[dict]]:
    return forecast_marts_from_truth(
        demo_warehouse.truth, as_of_date=demo_warehouse.as_of_date, seeds_dir=demo_warehouse.seeds_dir
    )


def _mismatches(mart: str, got_rows: list[dict], want_rows: list[dict]) -> list[str]:
    keys, cols = FORECAST_KEYS[mart], FORECAST_COLUMNS[mart]
    got = {tuple(r[k] for k in keys): r for r in got_rows}
    want = {tuple(r[k] for k in keys): r for r in want_rows}
    out = [f"missing from the warehouse: {k}" for k in sorted(set(want) - set(got), key=repr)]
    out += [f"only in the warehouse: {k}" for k in sorted(set(got) - set(want), key=repr)]
    if len(got) != len(got_rows):
        out.append(f"duplicate keys: {len(got_rows) - len(got)}")
    for k in sorted(set(got) & set(want), key=repr):
        for c in cols:
            g, w = got[k][c], want[k][c]
            ok = g == w if c in COUNTS else same(c, g, w)
            if not ok:
                out.append(f"{k} {c}: warehouse={g!r} reference={w!r}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("mart", sorted(FORECAST_COLUMNS))
def test_forecast_mart_matches_reference(demo_warehouse, reference_forecast, mart):
    columns, rows = read_mart(demo_warehouse.warehouse, mart)
    assert not [c for c in FORECAST_COLUMNS[mart] if c not in columns], "contract columns missing"
    expected = reference_forecast[mart]
    assert expected, f"the reference computed no rows for {mart}"
    bad = _mismatches(mart, rows, expected)
    assert not bad, f"marts.{mart}: {len(bad)} mismatches of {len(expected)} rows\n" + "\n".join(bad[:10])


@pytest.mark.slow
def test_demo_data_exercises_every_forecast_rule(reference_forecast):
    """The demo account must contain the cases the rules are about, or the comparison proves little."""
    rows = reference_forecast["mart_forecast_monthly"]
    for method in ("empirical", "naive"):
        values = [r["forecast_amount_reporting"] for r in rows if r["method"] == method]
        assert None in values and any(v for v in values), f"{method}: needs both null and computed forecasts"
    assert any(r["actual_won_amount_reporting"] is None for r in rows)
    assert any(r["actual_won_amount_reporting"] for r in rows)
    assert any(not r["is_backtest"] for r in rows)
    accuracy = reference_forecast["mart_forecast_accuracy"]
    assert all(r["n_origins"] >= 3 for r in accuracy), "every method and horizon is scored on 3+ origins"
    assert any(r["skill_vs_naive"] is not None and r["method"] != "naive" for r in accuracy)


def _live(reference: dict[str, list[dict]]) -> dict[tuple, float | None]:
    return {
        (r["method"], r["horizon_months"]): r["forecast_amount_reporting"]
        for r in reference["mart_forecast_monthly"]
        if not r["is_backtest"]
    }


@pytest.mark.slow
def test_kpi_summary_prints_next_months_forecast_and_its_wape(demo_warehouse, reference_forecast):
    from warehouse.summary import forecast_lines, forecast_summary

    published = demo_warehouse.warehouse.parent / "published" / "sales_marts.duckdb"
    rows = forecast_summary(published)
    live = _live(reference_forecast)
    accuracy = {(r["method"], r["horizon_months"]): r for r in reference_forecast["mart_forecast_accuracy"]}
    assert sorted(r["method"] for r in rows) == ["crm_weighted", "empirical", "naive"]
    for r in rows:
        assert same("forecast", r["forecast"], live[(r["method"], 0)])
        assert same("wape", r["wape"], accuracy[(r["method"], 0)]["wape"])
    lines = forecast_lines(published)
    assert lines[0].startswith("forecast for ") and len(lines) == 4
    assert all("WAPE" in line for line in lines[1:])


@pytest.mark.slow
def test_dagster_materializations_carry_the_forecast_and_accuracy(demo_warehouse, reference_forecast):
    from dagster import AssetKey

    events = {
        e.asset_key: e.materialization.metadata for e in demo_warehouse.second_run.get_asset_materialization_events()
    }
    monthly = events[AssetKey(["marts", "mart_forecast_monthly"])]
    for (method, h), value in _live(reference_forecast).items():
        name = f"hubspot.{method}_h{h}"
        if value is None:
            assert name not in monthly
        else:
            assert same("forecast", monthly[name].value, value), name
    accuracy = events[AssetKey(["marts", "mart_forecast_accuracy"])]
    for r in reference_forecast["mart_forecast_accuracy"]:
        for measure in ("wape", "skill_vs_naive"):
            name = f"{r['source']}.{r['method']}_h{r['horizon_months']}_{measure}"
            if r[measure] is not None:
                assert same(measure, accuracy[name].value, r[measure]), name
