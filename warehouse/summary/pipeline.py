"""Summary block: open pipeline by step, velocity and bottlenecks (README, pipeline over time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def pipeline_summary(marts_db: Path) -> dict[str, Any]:
    """Open pipeline by step on the latest snapshot day, velocity and bottlenecks of its month."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        steps = con.execute(
            """
            select funnel_step_order, funnel_step, sum(open_deal_count), sum(open_amount_reporting),
                   sum(weighted_amount_reporting)
            from marts.mart_pipeline_by_stage_daily
            where snapshot_date = (select max(snapshot_date) from marts.mart_pipeline_by_stage_daily)
            group by funnel_step_order, funnel_step order by funnel_step_order
            """
        ).fetchall()
        velocity = con.execute(
            "select month, sum(velocity_per_day) from marts.mart_pipeline_velocity_monthly "
            "where month = (select max(month) from marts.mart_pipeline_velocity_monthly) group by month"
        ).fetchone()
        bottlenecks = con.execute(
            """
            select funnel_step, is_conversion_bottleneck, is_value_bottleneck, advance_rate,
                   lost_amount_reporting + stuck_amount_reporting
            from marts.mart_funnel_bottlenecks_monthly
            where month = (select max(month) from marts.mart_funnel_bottlenecks_monthly)
                and (is_conversion_bottleneck or is_value_bottleneck)
            order by funnel_step_order
            """
        ).fetchall()
    return {
        "open_by_step": [
            {"step": step, "deals": int(n), "amount": float(amount), "weighted": float(weighted)}
            for _, step, n, amount, weighted in steps
        ],
        "velocity_month": velocity[0] if velocity else None,
        "velocity_per_day": velocity[1] if velocity else None,
        "conversion_bottleneck": next(((s, rate) for s, conv, _, rate, _ in bottlenecks if conv), None),
        "value_bottleneck": next(((s, leak) for s, _, val, _, leak in bottlenecks if val), None),
    }


def pipeline_summary_lines(marts_db: Path, currency: str = "USD") -> list[str]:
    p = pipeline_summary(marts_db)
    lines = []
    for s in p["open_by_step"]:
        lines.append(
            f"open {s['step']:<17} {s['deals']:>5,} deals  {s['amount']:>12,.0f} {currency}"
            f"  (weighted {s['weighted']:,.0f})"
        )
    if p["velocity_per_day"] is not None:
        lines.append(
            f"pipeline velocity:     {p['velocity_per_day']:,.0f} {currency}/day ({p['velocity_month']:%B %Y})"
        )
    if p["conversion_bottleneck"]:
        step, rate = p["conversion_bottleneck"]
        lines.append(f"conversion bottleneck: {step} ({rate:.0%} of exits advance)")
    if p["value_bottleneck"]:
        step, leak = p["value_bottleneck"]
        lines.append(f"value bottleneck:      {step} ({leak:,.0f} {currency} lost or stuck this month)")
    return lines
