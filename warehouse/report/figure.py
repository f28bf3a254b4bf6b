"""What a chart is: a Plotly figure plus the figures it plots as a table (see ``charts.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import plotly.graph_objects as go

STEP_COLORS = {1: "#4C78A8", 2: "#F58518", 3: "#54A24B", 4: "#B279A2"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    """Raw values; the page formats them and keeps the raw value in `data-value`."""
    formats: dict[str, str] = field(default_factory=dict)
    """column -> `int`, `pct`, `money`, `days`, `ratio` or `text` (default)."""


@dataclass
class Chart:
    key: str
    title: str
    note: str
    figure: go.Figure
    table: Table
    table_open: bool = False
    """Show the table unfolded (when the table is the point, as for forecast accuracy)."""


ChartFn = Callable[[duckdb.DuckDBPyConnection], Chart | None]


def layout(fig: go.Figure, **kwargs: Any) -> go.Figure:
    defaults: dict[str, Any] = {
        "template": "plotly_white",
        "height": 380,
        "margin": {"l": 60, "r": 30, "t": 30, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
    }
    fig.update_layout(**(defaults | kwargs))
    return fig
