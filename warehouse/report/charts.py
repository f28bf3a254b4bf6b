"""The report's charts: one function per chart, registered in ``CHARTS`` (in page order).

Each function takes a read-only connection to the published marts and returns a :class:`Chart`,
or None when the mart it needs is not published (so a chart for a mart that another change
adds can land before or after that mart). A chart carries its Plotly figure and the figures it
plots as a small table, which the page prints under the chart (the browser test compares those
numbers with the marts).
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import plotly.graph_objects as go

from warehouse.report import data
from warehouse.report.charts_forecast import forecast_accuracy, forecast_vs_actuals
from warehouse.report.charts_marketing import marketing_roi
from warehouse.report.charts_pipeline import bottlenecks, pipeline_value, velocity
from warehouse.report.figure import STEP_COLORS, Chart, ChartFn, Table
from warehouse.report.figure import layout as _layout


def leads_by_channel(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_lead_volume_daily"):
        return None
    monthly = data.leads_by_month_and_channel(con)
    totals = data.leads_by_channel(con)
    fig = go.Figure()
    for channel in [t["channel"] for t in totals]:
        points = [r for r in monthly if r["channel"] == channel]
        fig.add_bar(name=channel, x=[r["month"] for r in points], y=[r["leads"] for r in points])
    _layout(fig, barmode="stack", yaxis_title="new leads", xaxis_title="month created")
    return Chart(
        key="leads_by_channel",
        title="Leads by channel",
        note="New leads per month, stacked by first-touch channel (marts.mart_lead_volume_daily).",
        figure=fig,
        table=Table(["channel", "leads"], [[t["channel"], t["leads"]] for t in totals], {"leads": "int"}),
    )


def funnel(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_stage_conversion_monthly"):
        return None
    steps = data.funnel_steps(con)
    labels = [s["funnel_step"] for s in steps] + (["won"] if steps else [])
    values = [s["entered"] for s in steps] + ([steps[-1]["advanced"]] if steps else [])
    text = [
        f"{s['entered']:,} entered · {s['advanced'] / s['entered']:.1%} advanced" if s["entered"] else "0"
        for s in steps
    ] + ([f"{steps[-1]['advanced']:,} won"] if steps else [])
    fig = go.Figure(go.Funnel(y=labels, x=values, text=text, textinfo="text"))
    _layout(fig)
    rows = [
        [s["funnel_step"], s["entered"], s["advanced"], s["advanced"] / s["entered"] if s["entered"] else None]
        for s in steps
    ]
    return Chart(
        key="funnel",
        title="Funnel: conversion per step",
        note=(
            "Entries per step over all cohorts and the share that advanced beyond it by the as-of day "
            "(marts.mart_stage_conversion_monthly; the last bar is deals won from negotiation)."
        ),
        figure=fig,
        table=Table(
            ["step", "entered", "advanced", "conversion"],
            rows,
            {"entered": "int", "advanced": "int", "conversion": "pct"},
        ),
    )


def conversion_trend(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_stage_conversion_monthly"):
        return None
    trend = data.conversion_trend(con)
    fig = go.Figure()
    immature_months = sorted({r["cohort_month"] for r in trend if not r["is_mature"]})
    if immature_months:
        fig.add_vrect(
            x0=immature_months[0] - timedelta(days=15),
            x1=immature_months[-1] + timedelta(days=15),
            fillcolor="#dddddd",
            opacity=0.4,
            line_width=0,
            annotation_text="immature cohorts",
            annotation_position="top left",
        )
    for order in sorted({r["funnel_step_order"] for r in trend}):
        points = [r for r in trend if r["funnel_step_order"] == order]
        fig.add_scatter(
            name=points[0]["funnel_step"],
            x=[r["cohort_month"] for r in points],
            y=[r["conversion_rate"] for r in points],
            mode="lines+markers",
            line={"color": STEP_COLORS.get(order)},
            marker={"symbol": ["circle" if r["is_mature"] else "circle-open" for r in points], "size": 9},
        )
    _layout(fig, yaxis_title="conversion", yaxis_tickformat=".0%", xaxis_title="cohort month")
    rows = [
        [r["cohort_month"], r["funnel_step"], r["entered"], r["conversion_rate"], "yes" if r["is_mature"] else "no"]
        for r in trend
    ]
    return Chart(
        key="conversion_trend",
        title="Conversion trend by cohort",
        note=(
            "Share of each month's entries that advanced beyond the step. Open markers and the grey "
            "band: immature cohorts (younger than the step's usual time to advance, `is_mature`); "
            "their rate will still rise."
        ),
        figure=fig,
        table=Table(
            ["cohort month", "step", "entered", "conversion", "mature"],
            rows,
            {"entered": "int", "conversion": "pct"},
        ),
    )


def outcomes_by_month(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_deal_outcomes_monthly"):
        return None
    months = data.outcomes_by_month(con)
    x = [m["close_month"] for m in months]
    fig = go.Figure()
    fig.add_bar(name="win rate", x=x, y=[m["win_rate"] for m in months], marker_color="#4C78A8")
    fig.add_scatter(
        name="median sales cycle (days, won deals)",
        x=x,
        y=[m["median_cycle_days"] for m in months],
        mode="lines+markers",
        yaxis="y2",
        line={"color": "#E45756"},
    )
    _layout(
        fig,
        yaxis={"title": "win rate", "tickformat": ".0%"},
        yaxis2={"title": "days", "overlaying": "y", "side": "right", "showgrid": False},
        xaxis_title="close month",
    )
    rows = [[m["close_month"], m["won"], m["lost"], m["win_rate"], m["median_cycle_days"]] for m in months]
    return Chart(
        key="outcomes_by_month",
        title="Win rate and sales cycle by month",
        note="Deals closed per month: won ÷ (won + lost), and the median days from creation to won.",
        figure=fig,
        table=Table(
            ["close month", "won", "lost", "win rate", "median cycle"],
            rows,
            {"won": "int", "lost": "int", "win rate": "pct", "median cycle": "days"},
        ),
    )


CHARTS: list[ChartFn] = [
    leads_by_channel,
    funnel,
    conversion_trend,
    outcomes_by_month,
    pipeline_value,
    velocity,
    bottlenecks,
    forecast_vs_actuals,
    forecast_accuracy,
    marketing_roi,
]
