"""The short KPI summary `make demo` prints, read from the published marts: one module per
section (CRM funnel per source, pipeline over time, forecast, paid channels)."""

from __future__ import annotations

from pathlib import Path

from warehouse.summary.crm import STEP_LABELS, kpi_summary, sources, summary_lines
from warehouse.summary.forecast import forecast_lines, forecast_summary
from warehouse.summary.marketing import paid_channel_lines, paid_channel_summary
from warehouse.summary.pipeline import pipeline_summary, pipeline_summary_lines


def all_summary_lines(marts_db: Path, currency: str = "USD") -> list[str]:
    """The whole summary: one CRM block per source (and all together when there are several),
    then the pipeline over time, the forecast and the paid channels."""
    names = sources(marts_db)
    lines: list[str] = []
    blocks = [(name, name) for name in names] + ([("all sources", None)] if len(names) > 1 else [])
    for title, source in blocks:
        if len(names) > 1:
            lines.append(f"-- {title}")
        lines.extend(summary_lines(marts_db, currency, source))
    return (
        lines
        + pipeline_summary_lines(marts_db, currency)
        + forecast_lines(marts_db, currency)
        + paid_channel_lines(marts_db, currency)
    )


def print_summary(marts_db: Path, currency: str = "USD") -> None:
    for line in all_summary_lines(marts_db, currency):
        print("    " + line)


__all__ = [
    "STEP_LABELS",
    "all_summary_lines",
    "forecast_lines",
    "forecast_summary",
    "kpi_summary",
    "paid_channel_lines",
    "paid_channel_summary",
    "pipeline_summary",
    "pipeline_summary_lines",
    "print_summary",
    "sources",
    "summary_lines",
]
