"""Charts of the pipeline marts: open value by step over time, velocity, bottlenecks."""

from __future__ import annotations

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from warehouse.report import data, data_marts
from warehouse.report.figure import STEP_COLORS, Chart, Table, layout

SOURCE_COLORS = ["#4C78A8", "#E45756", "#54A24B", "#F58518", "#B279A2"]


def _month_ends(days: list) -> set:
    """The last snapshot day of each month (the table under the chart shows those only)."""
    last: dict = {}
    for d in days:
        key = (d.year, d.month)
        last[key] = max(last.get(key, d), d)
    return set(last.values())


def pipeline_value(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_pipeline_by_stage_daily"):
        return None
    daily = data_marts.pipeline_value_daily(con)
    fig = go.Figure()
    for order in sorted({r["funnel_step_order"] for r in daily}):
        points = [r for r in daily if r["funnel_step_order"] == order]
        color = STEP_COLORS.get(order)
        x = [r["snapshot_date"] for r in points]
        fig.add_scatter(
            name=f"{points[0]['funnel_step']} (open)",
            x=x,
            y=[r["open_amount"] for r in points],
            mode="lines",
            stackgroup="open",
            line={"color": color, "width": 0.5},
        )
        fig.add_scatter(
            name=f"{points[0]['funnel_step']} (weighted)",
            x=x,
            y=[r["weighted_amount"] for r in points],
            mode="lines",
            line={"color": color, "dash": "dot", "width": 2},
        )
    layout(fig, yaxis_title="open amount", xaxis_title="snapshot day")
    ends = _month_ends([r["snapshot_date"] for r in daily])
    rows = [
        [r["snapshot_date"], r["funnel_step"], r["open_deals"], r["open_amount"], r["weighted_amount"]]
        for r in sorted(daily, key=lambda r: (r["snapshot_date"], r["funnel_step_order"]))
        if r["snapshot_date"] in ends
    ]
    return Chart(
        key="pipeline_value",
        title="Open pipeline value by step",
        note=(
            "Amount of the deals open at the end of each day, stacked by funnel step (every source and "
            "pipeline summed); dotted: the same weighted by stage probability "
            "(marts.mart_pipeline_by_stage_daily). The table lists each month's last day."
        ),
        figure=fig,
        table=Table(
            ["day", "step", "open deals", "open amount", "weighted amount"],
            rows,
            {"open deals": "int", "open amount": "money", "weighted amount": "money"},
        ),
    )


def velocity(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_pipeline_velocity_monthly"):
        return None
    monthly = data_marts.velocity_monthly(con)
    fig = go.Figure()
    for i, source in enumerate(sorted({r["source"] for r in monthly})):
        points = [r for r in monthly if r["source"] == source]
        fig.add_scatter(
            name=source,
            x=[r["month"] for r in points],
            y=[r["velocity_per_day"] for r in points],
            mode="lines+markers",
            line={"color": SOURCE_COLORS[i % len(SOURCE_COLORS)]},
        )
    layout(fig, yaxis_title="money per day", xaxis_title="month")
    rows = [
        [
            r["month"],
            r["source"],
            r["open_deal_count"],
            r["win_rate"],
            r["avg_won_deal_value"],
            r["avg_cycle_days_won"],
            r["velocity_per_day"],
        ]
        for r in monthly
    ]
    return Chart(
        key="velocity",
        title="Pipeline velocity by month",
        note=(
            "Open deals × win rate × average won deal ÷ average cycle of won deals (money per day), at "
            "each month's end, win figures over the 180 days before it (marts.mart_pipeline_velocity_monthly)."
        ),
        figure=fig,
        table=Table(
            ["month", "source", "open deals", "win rate", "avg won deal", "avg cycle", "velocity / day"],
            rows,
            {
                "open deals": "int",
                "win rate": "pct",
                "avg won deal": "money",
                "avg cycle": "days",
                "velocity / day": "money",
            },
        ),
    )


def bottlenecks(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_funnel_bottlenecks_monthly"):
        return None
    monthly = data_marts.bottlenecks_monthly(con)
    lanes = sorted({(r["source"], r["funnel_step_order"], r["funnel_step"]) for r in monthly})
    months = sorted({r["month"] for r in monthly})
    by_key = {(r["source"], r["funnel_step_order"], r["month"]): r for r in monthly}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.55, 0.45])
    z, text = [], []
    for source, order, _ in lanes:
        cells = [by_key.get((source, order, m)) for m in months]
        z.append([c["advance_rate"] if c else None for c in cells])
        text.append(
            [
                ("C" if c and c["is_conversion_bottleneck"] else "") + ("V" if c and c["is_value_bottleneck"] else "")
                for c in cells
            ]
        )
    fig.add_heatmap(
        x=months,
        y=[f"{s} · {step}" for s, _, step in lanes],
        z=z,
        text=text,
        texttemplate="%{text}",
        colorscale="RdYlGn",
        zmin=0,
        zmax=1,
        colorbar={"title": "advance", "tickformat": ".0%", "len": 0.55, "y": 1, "yanchor": "top"},
        hovertemplate="%{y} %{x|%Y-%m}: advance rate %{z:.1%}<extra></extra>",
        row=1,
        col=1,
    )
    for order in sorted({r["funnel_step_order"] for r in monthly}):
        points = [r for r in monthly if r["funnel_step_order"] == order]
        leak: dict = {}
        for r in points:
            leak[r["month"]] = leak.get(r["month"], 0.0) + r["lost_amount_reporting"] + r["stuck_amount_reporting"]
        fig.add_bar(
            name=f"{points[0]['funnel_step']}: lost + stuck",
            x=sorted(leak),
            y=[leak[m] for m in sorted(leak)],
            marker_color=STEP_COLORS.get(order),
            row=2,
            col=1,
        )
    layout(fig, barmode="stack", height=560, legend={"orientation": "h", "y": -0.08})
    fig.update_yaxes(title_text="lost + stuck amount", row=2, col=1)
    flagged = [r for r in monthly if r["is_conversion_bottleneck"] or r["is_value_bottleneck"]]
    rows = [
        [
            r["month"],
            r["source"],
            r["funnel_step"],
            r["exits"],
            r["advance_rate"],
            r["lost_amount_reporting"],
            r["stuck_amount_reporting"],
            "yes" if r["is_conversion_bottleneck"] else "",
            "yes" if r["is_value_bottleneck"] else "",
        ]
        for r in sorted(flagged, key=lambda r: (r["month"], r["source"], r["funnel_step_order"]))
    ]
    return Chart(
        key="bottlenecks",
        title="Funnel bottlenecks by month",
        note=(
            "Top: share of each step's exits that advanced, per source and month; C marks the month's "
            "conversion bottleneck (lowest advance rate among steps with at least 20 exits), V its value "
            "bottleneck (most value lost or stuck). Bottom: amount lost from the step plus amount stuck in it "
            "(marts.mart_funnel_bottlenecks_monthly). The table lists the flagged steps."
        ),
        figure=fig,
        table=Table(
            ["month", "source", "step", "exits", "advance rate", "lost amount", "stuck amount", "conversion", "value"],
            rows,
            {"exits": "int", "advance rate": "pct", "lost amount": "money", "stuck amount": "money"},
        ),
    )
