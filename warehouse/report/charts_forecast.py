"""Charts of the forecast marts: horizon-0 forecasts against actuals, and their accuracy."""

from __future__ import annotations

import duckdb
import plotly.graph_objects as go

from warehouse.report import data, data_marts
from warehouse.report.figure import Chart, Table, layout

METHOD_COLORS = {"crm_weighted": "#4C78A8", "empirical": "#F58518", "naive": "#9D9D9D"}


def _methods(found: set[str]) -> list[str]:
    return [m for m in METHOD_COLORS if m in found] + sorted(found - set(METHOD_COLORS))


def forecast_vs_actuals(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_forecast_monthly"):
        return None
    monthly = data_marts.forecast_horizon0(con)
    months = sorted({r["target_month"] for r in monthly})
    methods = _methods({r["method"] for r in monthly})
    value = {(r["target_month"], r["method"]): r["forecast"] for r in monthly}
    actual = {r["target_month"]: r["actual"] for r in monthly}
    fig = go.Figure()
    fig.add_bar(name="actual won", x=months, y=[actual[m] for m in months], marker_color="#54A24B", opacity=0.6)
    for method in methods:
        fig.add_scatter(
            name=method,
            x=months,
            y=[value.get((m, method)) for m in months],
            mode="lines+markers",
            line={"color": METHOD_COLORS.get(method)},
        )
    layout(fig, yaxis_title="won amount", xaxis_title="target month")
    rows = [[m, actual[m], *[value.get((m, method)) for method in methods]] for m in months]
    return Chart(
        key="forecast_vs_actuals",
        title="Forecast against actuals",
        note=(
            "Won amount forecast for each month from the start of that month (horizon 0: the last "
            "month-end origin before it, or today's live forecast), per method, every source summed, "
            "against the amount actually won (bars; none yet for a month not over) "
            "(marts.mart_forecast_monthly)."
        ),
        figure=fig,
        table=Table(
            ["target month", "actual", *methods],
            rows,
            {"actual": "money", **{m: "money" for m in methods}},
        ),
    )


def forecast_accuracy(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_forecast_accuracy"):
        return None
    scores = data_marts.forecast_accuracy(con)
    methods = _methods({r["method"] for r in scores})
    fig = go.Figure()
    for method in methods:
        points = [r for r in scores if r["method"] == method]
        fig.add_bar(
            name=method,
            x=[f"{r['source']} · h{r['horizon_months']}" for r in points],
            y=[r["wape"] for r in points],
            marker_color=METHOD_COLORS.get(method),
        )
    layout(fig, barmode="group", yaxis_title="WAPE (lower is better)", yaxis_tickformat=".0%", height=320)
    rows = [
        [r["source"], r["method"], r["horizon_months"], r["n_origins"], r["wape"], r["bias"], r["skill_vs_naive"]]
        for r in scores
    ]
    return Chart(
        key="forecast_accuracy",
        title="Forecast accuracy by method and horizon",
        note=(
            "Back-test scores (marts.mart_forecast_accuracy): WAPE Σ|F − A| ÷ ΣA, bias Σ(F − A) ÷ ΣA "
            "(positive: over-forecast), skill 1 − WAPE ÷ the naive method's WAPE (above 0: better than "
            "naive); horizon h = months from the origin to the target month."
        ),
        figure=fig,
        table=Table(
            ["source", "method", "horizon", "origins", "WAPE", "bias", "skill vs naive"],
            rows,
            {"horizon": "int", "origins": "int", "WAPE": "pct", "bias": "pct", "skill vs naive": "pct"},
        ),
        table_open=True,
    )
