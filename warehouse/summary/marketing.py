"""Summary block: spend, cost per lead, CAC and ROAS per paid channel (README, marketing)."""

from __future__ import annotations

from pathlib import Path

import duckdb


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
