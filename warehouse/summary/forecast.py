"""Summary block: next month's forecast per method with its back-tested accuracy (docs/forecast.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.db import fetch_one


def forecast_summary(marts_db: Path) -> list[dict[str, object]]:
    """Next month's forecast per source and method (the live origin's horizon 0) beside the
    method's back-tested WAPE, bias and skill at that horizon; [] when the marts are absent."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        present = fetch_one(
            con,
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name in ('mart_forecast_monthly', 'mart_forecast_accuracy')",
        )[0]
        if present < 2:
            return []
        rows = con.execute(
            """
            select f.source, f.method, f.origin_date, f.target_month, f.forecast_amount_reporting,
                a.wape, a.bias, a.skill_vs_naive, a.n_origins
            from marts.mart_forecast_monthly as f
            left join marts.mart_forecast_accuracy as a
                on a.source = f.source and a.method = f.method and a.horizon_months = f.horizon_months
            where not f.is_backtest and f.horizon_months = 0
            order by f.source, f.method
            """
        ).fetchall()
    keys = (
        "source",
        "method",
        "origin_date",
        "target_month",
        "forecast",
        "wape",
        "bias",
        "skill_vs_naive",
        "n_origins",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


def forecast_lines(marts_db: Path, currency: str = "USD") -> list[str]:
    rows = forecast_summary(marts_db)
    if not rows:
        return []
    first = rows[0]
    lines = [
        f"forecast for {first['target_month']:%B %Y} (as of {first['origin_date']}; back-tested WAPE, lower is better):"
    ]
    for r in rows:
        value = (
            f"{r['forecast']:>12,.0f} {currency}" if r["forecast"] is not None else f"{'n/a':>12} {' ' * len(currency)}"
        )
        wape = f"WAPE {r['wape']:6.1%} over {r['n_origins']} months" if r["wape"] is not None else "not back-tested yet"
        source = f"{r['source']} " if len({x["source"] for x in rows}) > 1 else ""
        lines.append(f"  {source}{r['method']:<13} {value}   {wape}")
    return lines
