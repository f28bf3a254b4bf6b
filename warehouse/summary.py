"""The short KPI summary `make demo` prints, read from the published marts."""

from __future__ import annotations

from pathlib import Path

import duckdb

STEP_LABELS = {
    1: "lead → deal",
    2: "qualification → presentation",
    3: "presentation → negotiation",
    4: "negotiation → won",
}


def kpi_summary(marts_db: Path) -> dict[str, object]:
    """Headline KPIs over all time up to as_of_date, in the reporting currency."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        leads = con.execute("select coalesce(sum(new_leads), 0) from marts.mart_lead_volume_daily").fetchone()[0]
        steps = con.execute(
            """
            select funnel_step_order, sum(entered_count), sum(advanced_count)
            from marts.mart_stage_conversion_monthly
            group by funnel_step_order order by funnel_step_order
            """
        ).fetchall()
        won, lost = con.execute(
            "select coalesce(sum(won_count), 0), coalesce(sum(lost_count), 0) from marts.mart_deal_outcomes_monthly"
        ).fetchone()
        avg_value, median_cycle, open_deals = con.execute(
            """
            select
                avg(amount_reporting) filter (where outcome = 'won'),
                median(cycle_days) filter (where outcome = 'won'),
                count(*) filter (where outcome = 'open')
            from marts.fct_deals
            """
        ).fetchone()
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


def summary_lines(marts_db: Path, currency: str = "USD") -> list[str]:
    k = kpi_summary(marts_db)
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


def print_summary(marts_db: Path, currency: str = "USD") -> None:
    for line in summary_lines(marts_db, currency) + paid_channel_lines(marts_db, currency):
        print("    " + line)


# ---------------------------------------------------------------- paid channels (contract §8)


def paid_channel_summary(marts_db: Path) -> dict[str, dict[str, float | int | None]]:
    """Per channel with spend, over every month up to as_of_date: spend, leads, cost per lead,
    new customers, CAC, won revenue and ROAS (reporting currency; ratios null at 0)."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if "mart_marketing_roi_monthly" not in tables:
            return {}
        rows = con.execute(
            """
            select channel, sum(spend_reporting), sum(leads), sum(new_customers), sum(won_revenue_reporting)
            from marts.mart_marketing_roi_monthly
            group by channel
            having sum(spend_reporting) > 0
            order by sum(spend_reporting) desc, channel
            """
        ).fetchall()
    out: dict[str, dict[str, float | int | None]] = {}
    for channel, spend, leads, customers, revenue in rows:
        out[channel] = {
            "spend": spend,
            "leads": int(leads),
            "cost_per_lead": spend / leads if leads else None,
            "new_customers": int(customers),
            "cac": spend / customers if customers else None,
            "won_revenue": revenue,
            "roas": revenue / spend if spend else None,
        }
    return out


def paid_channel_lines(marts_db: Path, currency: str = "USD") -> list[str]:
    def money(x: float | None) -> str:
        return f"{x:,.0f} {currency}" if x is not None else "n/a"

    lines = []
    for channel, k in paid_channel_summary(marts_db).items():
        roas = f"{k['roas']:.2f}" if k["roas"] is not None else "n/a"
        lines.append(
            f"{channel + ':':<22} spend {money(k['spend'])}, {k['leads']:,} leads, cost per lead "
            f"{money(k['cost_per_lead'])}, CAC {money(k['cac'])}, ROAS {roas}"
        )
    return (["paid channels (cohort-aligned, spend to as_of_date):", *("  " + line for line in lines)]) if lines else []
