"""Summary block: leads, conversion per step, win rate, deal value and cycle, per CRM source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import fetch_one

STEP_LABELS = {
    1: "lead → deal",
    2: "qualification → presentation",
    3: "presentation → negotiation",
    4: "negotiation → won",
}


def sources(marts_db: Path) -> list[str]:
    """The CRM sources with deals or leads in the marts, in name order."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "select source from marts.fct_deals union select source from marts.mart_lead_volume_daily order by 1"
            ).fetchall()
        ]


def kpi_summary(marts_db: Path, source: str | None = None) -> dict[str, Any]:
    """Headline KPIs over all time up to as_of_date, in the reporting currency (one source, or all)."""
    where, args = ("where source = ?", [source]) if source else ("", [])
    with duckdb.connect(str(marts_db), read_only=True) as con:
        leads = fetch_one(con, f"select coalesce(sum(new_leads), 0) from marts.mart_lead_volume_daily {where}", args)[0]
        steps = con.execute(
            f"""
            select funnel_step_order, sum(entered_count), sum(advanced_count)
            from marts.mart_stage_conversion_monthly {where}
            group by funnel_step_order order by funnel_step_order
            """,
            args,
        ).fetchall()
        won, lost = fetch_one(
            con,
            "select coalesce(sum(won_count), 0), coalesce(sum(lost_count), 0) "
            f"from marts.mart_deal_outcomes_monthly {where}",
            args,
        )
        avg_value, median_cycle, open_deals = fetch_one(
            con,
            f"""
            select
                avg(amount_reporting) filter (where outcome = 'won'),
                median(cycle_days) filter (where outcome = 'won'),
                count(*) filter (where outcome = 'open')
            from marts.fct_deals {where}
            """,
            args,
        )
    return {
        "leads": int(leads),
        "conversion": {int(order): (int(entered), int(advanced)) for order, entered, advanced in steps},
        "won": int(won),
        "lost": int(lost),
        "win_rate": won / (won + lost) if won + lost else None,
        "avg_won_deal_value": avg_value,
        "median_cycle_days_won": median_cycle,
        "open_deals": int(open_deals),
    }


def summary_lines(marts_db: Path, currency: str = "USD", source: str | None = None) -> list[str]:
    k = kpi_summary(marts_db, source)
    lines = [f"leads:                 {k['leads']:,}"]
    for order, (entered, advanced) in sorted(k["conversion"].items()):
        rate = f"{advanced / entered:6.1%}" if entered else "   n/a"
        lines.append(f"conversion {STEP_LABELS.get(order, order):<30} {rate}  ({advanced:,} of {entered:,})")
    win_rate = f"{k['win_rate']:.1%}" if k["win_rate"] is not None else "n/a"
    lines.append(f"win rate:              {win_rate}  ({k['won']:,} won, {k['lost']:,} lost, {k['open_deals']:,} open)")
    if k["avg_won_deal_value"] is not None:
        lines.append(f"average won deal:      {k['avg_won_deal_value']:,.0f} {currency}")
    if k["median_cycle_days_won"] is not None:
        lines.append(f"median sales cycle:    {k['median_cycle_days_won']:.1f} days (won deals)")
    return lines
