"""`lead_volume_anomaly`: new leads per channel over the last 7 days vs the 12 weeks before, on
exact negative-binomial tails (docs/checks.md#lead_volume_anomaly)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import duckdb

from warehouse.anomaly import exact
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.thresholds import ALPHA, LEAD_BASELINE_WEEKS, LEAD_DROP_ALPHA, LEAD_WINDOW_DAYS

LEADS_RELATION = "marts.mart_lead_volume_daily"


def weekly_counts(con: duckdb.DuckDBPyConnection, as_of_date: date) -> dict[str, list[float]]:
    """{channel: [leads in week 0 (the last 7 days), week 1, …]} over 1 + LEAD_BASELINE_WEEKS weeks."""
    first = as_of_date - timedelta(days=LEAD_WINDOW_DAYS * (LEAD_BASELINE_WEEKS + 1) - 1)
    rows = con.execute(
        f"select channel, lead_date, sum(new_leads) from {LEADS_RELATION} where lead_date >= ? and lead_date <= ? "
        "group by channel, lead_date",
        [first, as_of_date],
    ).fetchall()
    out: dict[str, list[float]] = {}
    for channel, day, n in rows:
        week = (as_of_date - day).days // LEAD_WINDOW_DAYS
        out.setdefault(str(channel), [0.0] * (LEAD_BASELINE_WEEKS + 1))[week] += float(n)
    return out


def pooled_dispersion(weeks: dict[str, list[float]]) -> float:
    """Quasi-Poisson φ of the baseline weeks pooled over channels (each around its own mean),
    floored at 1: one estimate from every channel is far steadier than one per channel."""
    chi2 = df = 0.0
    for counts in weeks.values():
        c2, d = _pearson(counts[1:])
        chi2, df = chi2 + c2, df + d
    return max(1.0, chi2 / df) if df else 1.0


def channel_dispersion(baseline: list[float], pooled: float) -> float:
    """One channel's φ: its own Pearson χ² shrunk toward the pooled φ with as much weight as its
    own degrees of freedom (empirical Bayes in the quasi-likelihood sense), floored at 1. Channels
    differ (organic search swings more than a paid channel); one overdispersed channel must not
    blunt the test of every other, and 11 degrees of freedom alone are too noisy."""
    chi2, df = _pearson(baseline)
    if not df:
        return max(1.0, pooled)
    return max(1.0, (chi2 + df * pooled) / (2.0 * df))


def _pearson(base: list[float]) -> tuple[float, float]:
    m = sum(base) / len(base) if base else 0.0
    if m <= 0:
        return 0.0, 0.0
    return sum((c - m) ** 2 for c in base) / m, float(len(base) - 1)


def channel_tests(observed: float, baseline: list[float], phi: float) -> dict[str, dict[str, Any]]:
    """Drop and spike tails of this week's count: negative binomial of mean the baseline weeks'
    mean and variance φ·μ·(1 + 1/K) (the uncertainty of the mean included; a half-lead prior keeps
    a channel never seen before from making its first lead infinitely surprising). Pure."""
    k = len(baseline)
    mu = (sum(baseline) + 0.5) / k
    inflation = phi * (1.0 + 1.0 / k)
    size = math.inf if inflation <= 1 else max(mu, 1e-9) / (inflation - 1.0)
    common = {"value": observed, "baseline": mu, "n": max(mu, observed), "dispersion": phi, "nb_size": size}

    def cdf(k: float) -> float:
        return exact.negbin_cdf(k, mu, size)

    def sf(k: float) -> float:
        return exact.negbin_sf(k, mu, size)

    start = math.ceil(mu)
    return {
        "drop": {
            **common,
            "p": cdf(observed),
            "min_p": cdf(0),
            "attainable": lambda t: exact.attainable_cdf(cdf, t),
        },
        "spike": {
            **common,
            "p": sf(observed),
            "min_p": sf(3 * mu + 10),
            "attainable": lambda t: exact.attainable_sf(sf, t, start),
        },
    }


def lead_volume_anomaly(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    weeks = weekly_counts(con, as_of_date)
    phi = pooled_dispersion(weeks)
    window = {
        "window_start": (as_of_date - timedelta(days=LEAD_WINDOW_DAYS - 1)).isoformat(),
        "window_end": as_of_date.isoformat(),
    }
    families: dict[str, dict[str, dict[str, Any]]] = {"drop": {}, "spike": {}}
    for channel in sorted(weeks):
        counts = weeks[channel]
        phi_c = channel_dispersion(counts[1:], phi)
        for direction, res in channel_tests(counts[0], counts[1:], phi_c).items():
            families[direction][channel if direction == "drop" else f"{channel} (spike)"] = {
                "segment": channel,
                "direction": direction,
                **window,
                **res,
                "baseline_weekly": counts[1:],
                "pooled_dispersion": phi,
            }
    flagged = decide_family(families["drop"], LEAD_DROP_ALPHA) + decide_family(families["spike"], ALPHA)
    findings = {**families["drop"], **families["spike"]}
    headline = "; ".join(
        f"{findings[c]['segment']}: {findings[c]['value']:.0f} leads in the last {LEAD_WINDOW_DAYS} days vs "
        f"{findings[c]['baseline']:.1f} a week over the previous {LEAD_BASELINE_WEEKS} weeks "
        f"({findings[c]['direction']}, p={findings[c]['p']:.1e}, Holm p={findings[c]['p_adjusted']:.1e})"
        for c in flagged
    )
    out = exact_outcome(SPEC, findings, flagged, headline, ALPHA)
    out.metadata["alpha_drop"] = LEAD_DROP_ALPHA
    return out


SPEC = CheckSpec(
    "lead_volume_anomaly",
    "mart_lead_volume_daily",
    "WARN",
    f"New leads per channel in the last {LEAD_WINDOW_DAYS} days vs the weekly totals of the previous "
    f"{LEAD_BASELINE_WEEKS} weeks (exact negative-binomial tails with the quasi-Poisson dispersion pooled over "
    f"channels; Holm across channels, alpha {LEAD_DROP_ALPHA} for drops, {ALPHA} for spikes).",
    lead_volume_anomaly,
)
