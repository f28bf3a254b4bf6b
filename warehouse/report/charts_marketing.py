"""Chart of the marketing mart: spend and return per channel."""

from __future__ import annotations

import duckdb
import plotly.graph_objects as go

from warehouse.report import data, data_marts
from warehouse.report.figure import Chart, Table, layout


def marketing_roi(con: duckdb.DuckDBPyConnection) -> Chart | None:
    if not data.has_table(con, "mart_marketing_roi_monthly"):
        return None
    channels = data_marts.marketing_roi_by_channel(con)
    x = [c["channel"] for c in channels]
    fig = go.Figure()
    fig.add_bar(name="spend", x=x, y=[c["spend"] for c in channels], marker_color="#E45756")
    fig.add_bar(name="won revenue", x=x, y=[c["revenue"] for c in channels], marker_color="#54A24B")
    fig.add_scatter(
        name="ROAS (revenue ÷ spend)",
        x=x,
        y=[c["roas"] for c in channels],
        mode="markers",
        marker={"size": 12, "symbol": "diamond", "color": "#1f2a44"},
        yaxis="y2",
    )
    layout(
        fig,
        barmode="group",
        yaxis={"title": "amount"},
        yaxis2={"title": "ROAS", "overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
        xaxis_title="channel",
    )
    rows = [
        [c["channel"], c["spend"], c["leads"], c["cost_per_lead"], c["customers"], c["cac"], c["revenue"], c["roas"]]
        for c in channels
    ]
    return Chart(
        key="marketing_roi",
        title="Spend and return by channel",
        note=(
            "All months together (marts.mart_marketing_roi_monthly): ad spend, leads of the channel, the "
            "customers those leads became and the revenue won from them; cost per lead, CAC and ROAS from "
            "the totals (n/a without spend). Recent cohorts are still maturing."
        ),
        figure=fig,
        table=Table(
            ["channel", "spend", "leads", "cost per lead", "customers", "CAC", "won revenue", "ROAS"],
            rows,
            {
                "spend": "money",
                "leads": "int",
                "cost per lead": "money",
                "customers": "int",
                "CAC": "money",
                "won revenue": "money",
                "ROAS": "ratio",
            },
        ),
    )
