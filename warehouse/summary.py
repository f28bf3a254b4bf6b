"""The short KPI summary `make demo` prints, read from the published marts."""

from __future__ import annotations

from pathlib import Path

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


def kpi_summary(marts_db: Path, source: str | None = None) -> dict[str, object]:
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


def print_summary(marts_db: Path, currency: str = "USD") -> None:
    for line in all_summary_lines(marts_db, currency):
        print("    " + line)


def all_summary_lines(marts_db: Path, currency: str = "USD") -> list[str]:
    """The whole summary of `make demo`: one CRM block per source (and all together when there are
    several), then the pipeline over time and the forecast."""
    names = sources(marts_db)
    lines: list[str] = []
    blocks = [(name, name) for name in names] + ([("all sources", None)] if len(names) > 1 else [])
    for title, source in blocks:
        if len(names) > 1:
            lines.append(f"-- {title}")
        lines.extend(summary_lines(marts_db, currency, source))
    return lines + pipeline_summary_lines(marts_db, currency) + forecast_lines(marts_db, currency)


# ---------------------------------------------------------------- forecast (docs/forecast.md)


def forecast_summary(marts_db: Path) -> list[dict[str, object]]:
    """Next month's forecast per source and method (the live origin's horizon 0) beside the
    method's back-tested WAPE, bias and skill at that horizon; [] when the marts are absent."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        present = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name in ('mart_forecast_monthly', 'mart_forecast_accuracy')"
        ).fetchone()[0]
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


# ---------------------------------------------------------------- pipeline over time (contract §7)


def pipeline_summary(marts_db: Path) -> dict[str, object]:
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
