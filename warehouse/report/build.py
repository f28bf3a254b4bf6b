"""Assemble the report page: header (as of when, built when, last loads), KPI tiles, charts.

One HTML file with plotly.js inlined once in the head: it opens offline, from disk, anywhere.
Every figure the page shows is also printed as text with its raw value in `data-value`, so a
reader (and the browser test) can check it against the marts.
"""

from __future__ import annotations

import html
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from plotly.offline import get_plotlyjs

from warehouse.report import data
from warehouse.report.charts import CHARTS
from warehouse.report.figure import Chart

MARTS_FILE = "sales_marts.duckdb"
REPORT_FILE = "report.html"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #f6f7f9; }
header { background: #1f2a44; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 6px 0; font-size: 22px; }
header p { margin: 2px 0; font-size: 13px; opacity: .85; }
main { padding: 16px 32px 40px; max-width: 1200px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px; }
.tile { background: #fff; border-radius: 8px; padding: 10px 16px; min-width: 150px; box-shadow: 0 1px 2px #0002; }
.tile .label { font-size: 12px; color: #666; }
.tile .value { font-size: 22px; font-weight: 600; }
section.chart { background: #fff; border-radius: 8px; padding: 12px 18px; margin: 14px 0; box-shadow: 0 1px 2px #0002; }
section.chart h2 { font-size: 17px; margin: 4px 0; }
section.chart p.note { font-size: 12px; color: #555; margin: 0 0 6px; }
details { font-size: 12px; }
table.figures { border-collapse: collapse; margin: 6px 0; }
table.figures td, table.figures th { border-bottom: 1px solid #eee; padding: 2px 10px; text-align: right; }
table.figures td:first-child, table.figures th:first-child { text-align: left; }
footer { font-size: 11px; color: #777; padding: 0 32px 24px; }
"""


def fmt(value: Any, kind: str = "text", currency: str = "") -> str:
    if value is None:
        return "n/a"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{float(value):.1%}"
    if kind == "money":
        return f"{float(value):,.0f} {currency}".strip()
    if kind == "ratio":
        return f"{float(value):.2f}×"
    if kind == "days":
        return f"{float(value):.1f} d"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return repr(float(value)) if isinstance(value, float) else str(value)


def _cell(tag: str, value: Any, kind: str, currency: str = "") -> str:
    return f'<{tag} data-value="{html.escape(raw(value))}">{html.escape(fmt(value, kind, currency))}</{tag}>'


def tiles_html(k: dict[str, Any], currency: str) -> str:
    tiles = [
        ("leads", "Leads", "int"),
        ("won_deals", "Won deals", "int"),
        ("win_rate", "Win rate", "pct"),
        ("won_amount_reporting", f"Won value ({currency})", "money"),
        ("avg_won_deal_value", f"Average won deal ({currency})", "money"),
        ("median_cycle_days_won", "Median sales cycle", "days"),
        ("open_deals", "Open deals", "int"),
        ("won_without_amount", "Won without amount", "int"),
    ]
    out = []
    for key, label, kind in tiles:
        value = _cell("div", k.get(key), kind).replace("<div ", '<div class="value" data-kpi="' + key + '" ', 1)
        out.append(f'<div class="tile"><div class="label">{html.escape(label)}</div>{value}</div>')
    return '<div class="tiles">' + "".join(out) + "</div>"


def chart_html(chart: Chart, first_index: int) -> str:
    div_id = f"chart-{chart.key}"
    figure = chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})
    head = "".join(f"<th>{html.escape(c)}</th>" for c in chart.table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            _cell("td", value, chart.table.formats.get(col, "text"))
            for col, value in zip(chart.table.columns, row, strict=True)
        )
        + "</tr>"
        for row in chart.table.rows
    )
    return (
        f'<section class="chart" data-chart="{chart.key}" id="section-{first_index}">'
        f"<h2>{html.escape(chart.title)}</h2><p class='note'>{html.escape(chart.note)}</p>{figure}"
        f"<details{' open' if chart.table_open else ''}><summary>figures</summary>"
        f'<table class="figures" data-chart="{chart.key}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details></section>"
    )


def header_html(info: list[dict[str, Any]]) -> str:
    if not info:
        return "<p>Build information: not published (no marts.mart_build_info).</p>"
    first = info[0]
    loads = "; ".join(f"{r['source']}: {fmt(r['last_loaded_at'])}" for r in info)
    return (
        f'<p>As of <b data-value="{raw(first["as_of_date"])}" id="as-of-date">{fmt(first["as_of_date"])}</b> '
        f"(end of day, UTC) · built {fmt(first['built_at'])} · money in {html.escape(first['reporting_currency'])}</p>"
        f"<p>Last loads: {html.escape(loads)}</p>"
    )


def render(marts_db: Path) -> str:
    with duckdb.connect(str(marts_db), read_only=True) as con:
        info = data.build_info(con)
        currency = info[0]["reporting_currency"] if info else ""
        kpis = data.headline(con)
        charts = [c for c in (fn(con) for fn in CHARTS) if c is not None]
    sections = "".join(chart_html(c, i) for i, c in enumerate(charts))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Sales pipeline report</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<header><h1>Sales pipeline report</h1>{header_html(info)}</header><main>"
        f"{tiles_html(kpis, currency)}{sections}</main>"
        f"<footer>From {html.escape(marts_db.name)} (the published marts). "
        f"{len(charts)} charts. Self-contained: works offline.</footer></body></html>"
    )


def write_report(marts_db: Path, out: Path | None = None) -> Path:
    """Write the report next to the marts (or to `out`) atomically; return its path."""
    target = out or marts_db.parent / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(render(marts_db), encoding="utf-8")
    os.replace(tmp, target)
    return target
