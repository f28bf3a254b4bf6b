"""`lead_volume_anomaly`: new leads per channel over the last 7 days against the week the account's
trend and each channel's share of it predict, on exact negative-binomial tails
(docs/checks.md#lead_volume_anomaly).

The expected week of channel c is its share of the other channels' leads over the 26 baseline
weeks times the others' expected week 0, a Poisson log-linear fit of their last 12 weeks (slope
shrunk by its own precision): a yearly wave's descent or a trend moves every channel alike, so
it moves the expectation and not the test, and the channel's dispersion is measured on its share
(what a shared swing leaves over), not around a flat mean. The other channels exclude c, so a
collapse of c never moves its own expectation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from warehouse.anomaly import exact
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.thresholds import (
    ALPHA,
    LEAD_BASELINE_WEEKS,
    LEAD_DROP_ALPHA,
    LEAD_TREND_WEEKS,
    LEAD_WINDOW_DAYS,
)

LEADS_RELATION = "marts.mart_lead_volume_daily"
WEEKS = 1 + max(LEAD_BASELINE_WEEKS, LEAD_TREND_WEEKS)
_MAX_SLOPE = 1.0
"""The fitted log slope is kept within ±1 a week (×e): leads that stopped or started inside the
trend weeks must not send the fit to infinity."""
_PRIOR = 0.5
"""A half-lead prior on a channel's baseline: a channel never seen before does not make its
first lead infinitely surprising."""


def weekly_counts(con: duckdb.DuckDBPyConnection, as_of_date: date) -> dict[str, list[float]]:
    """{channel: [leads in week 0 (the last 7 days), week 1, …]} over WEEKS weeks."""
    return weekly_and_as_of_weekday(con, as_of_date)[0]


def weekly_and_as_of_weekday(
    con: duckdb.DuckDBPyConnection, as_of_date: date
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """({channel: leads per week, week 0 first}, {channel: leads on the as-of day's weekday of each
    week, i.e. on as_of_date − 7k for week k}) over WEEKS weeks."""
    first = as_of_date - timedelta(days=LEAD_WINDOW_DAYS * WEEKS - 1)
    rows = con.execute(
        f"select channel, lead_date, sum(new_leads) from {LEADS_RELATION} where lead_date >= ? and lead_date <= ? "
        "group by channel, lead_date",
        [first, as_of_date],
    ).fetchall()
    weeks: dict[str, list[float]] = {}
    days: dict[str, list[float]] = {}
    for channel, day, n in rows:
        week, offset = divmod((as_of_date - day).days, LEAD_WINDOW_DAYS)
        weeks.setdefault(str(channel), [0.0] * WEEKS)[week] += float(n)
        days.setdefault(str(channel), [0.0] * WEEKS)
        if offset == 0:
            days[str(channel)][week] += float(n)
    return weeks, days


# ------------------------------------------------------------------ pure statistics


@dataclass(frozen=True)
class Drift:
    """The expected count of the week after a series of weekly counts (a Poisson log-linear fit)."""

    expected: float
    """The fitted count of week 0."""
    log_var: float
    """Variance of log(expected): the level's (φ/total) plus the (shrunk) slope's extrapolation."""
    slope_var: float
    """The slope's part of ``log_var``."""
    total: float
    """The counts fitted."""
    slope: float
    """Change of log count per week, shrunk: slope × max(0, 1 − se²/slope²)."""
    raw_slope: float
    dispersion: float
    """Quasi-Poisson φ of the weeks around the fitted line (floored at 1)."""


def loglinear_drift(weeks_back: Sequence[float]) -> Drift | None:
    """Fit log E[count] = a + b·t by Poisson maximum likelihood (Newton) to weekly counts,
    ``weeks_back[i]`` being the week i + 1 before week 0 (t = −(i + 1)), and extrapolate to week 0
    (t = 0). The slope is shrunk by its own precision (the positive-part James–Stein factor
    1 − se²/b²), so a slope the data cannot tell from zero extrapolates nothing and costs almost no
    variance, and a clear one (a yearly wave's descent at thousands of leads) is followed. None
    without counts or with fewer than three weeks. Pure."""
    k = len(weeks_back)
    total = float(sum(weeks_back))
    if k < 3 or total <= 0:
        return None
    ts = [-(i + 1.0) for i in range(k)]
    t_mean = sum(ts) / k
    tc = [t - t_mean for t in ts]
    a, b = math.log(total / k), 0.0
    for _ in range(50):
        mu = [math.exp(min(a + b * t, 700.0)) for t in tc]
        ua = sum(c - m for c, m in zip(weeks_back, mu, strict=True))
        ub = sum(t * (c - m) for t, c, m in zip(tc, weeks_back, mu, strict=True))
        iaa, iab = sum(mu), sum(t * m for t, m in zip(tc, mu, strict=True))
        ibb = sum(t * t * m for t, m in zip(tc, mu, strict=True))
        det = iaa * ibb - iab * iab
        if det <= 0:
            break
        da, db = (ibb * ua - iab * ub) / det, (iaa * ub - iab * ua) / det
        db = max(-0.5, min(0.5, db))  # a damped step: all-zero stretches must not overshoot
        a, b = a + da, max(-_MAX_SLOPE, min(_MAX_SLOPE, b + db))
        if abs(da) < 1e-12 and abs(db) < 1e-12:
            break
    mu = [math.exp(min(a + b * t, 700.0)) for t in tc]
    chi2 = sum((c - m) ** 2 / m for c, m in zip(weeks_back, mu, strict=True) if m > 0)
    phi = max(1.0, chi2 / (k - 2)) if k > 2 else 1.0
    iaa, iab = sum(mu), sum(t * m for t, m in zip(tc, mu, strict=True))
    ibb = sum(t * t * m for t, m in zip(tc, mu, strict=True))
    slope_info = ibb - iab * iab / iaa if iaa > 0 else 0.0
    se2 = phi / slope_info if slope_info > 0 else math.inf
    keep = max(0.0, 1.0 - se2 / (b * b)) if b else 0.0
    slope = b * keep
    # the intercept refitted for the shrunk slope (Poisson: fitted total = observed total)
    expected = total / sum(math.exp(slope * t) for t in ts)
    t_weighted = sum(t * math.exp(slope * t) for t in ts) / sum(math.exp(slope * t) for t in ts)
    slope_var = keep * keep * se2 * t_weighted * t_weighted if keep > 0 else 0.0
    return Drift(expected, phi / total + slope_var, slope_var, total, slope, b, phi)


@dataclass(frozen=True)
class Expectation:
    """A channel's expected count in week 0 and the uncertainty of that expectation."""

    mean: float
    level_count: float
    """The channel's baseline leads (+ the prior): its own share of the uncertainty is φ/level_count."""
    other_log_var: float
    """Variance of log(mean) from the account's side (its baseline total and its drift)."""
    share: float | None
    """Leads of the channel per lead of the other channels over the baseline (None: no others)."""
    drift: Drift | None


def expected_week(
    baseline: Sequence[float], others: Sequence[float], others_as_of_day: Sequence[float] | None = None
) -> Expectation:
    """The channel's expected week 0 from its ``baseline`` weeks (1 … LEAD_BASELINE_WEEKS back) and
    the other channels' weeks ``others`` (0 … back, same length + 1; week 0 is not used):
    (its leads / theirs over the baseline) × their drift's expected week 0. Without other channels
    (or none in the trend weeks) the channel's own flat weekly mean. The account's side of the
    uncertainty: the trend weeks are part of the baseline, so log(their total) − log(the baseline's
    total) has the Poisson variance 1/trend total − 1/baseline total (times the drift's φ), plus the
    slope's extrapolation.

    With ``others_as_of_day`` (the other channels' leads on the as-of day's weekday of each week,
    week 0 first) the as-of day is expected from what the others actually got that day, and only
    the six days before it from their drift (the drift's week × the share of the others' baseline
    weeks that fell on that weekday taken out): the as-of day of a run made during that day is
    partial for every channel alike, and a partial day must not read as a drop. Pure."""
    level = float(sum(baseline)) + _PRIOR
    drift = loglinear_drift(others[1 : 1 + LEAD_TREND_WEEKS])
    other_total = float(sum(others[1 : 1 + len(baseline)]))
    if drift is None or other_total <= 0:
        return Expectation(level / len(baseline), level, 0.0, None, None)
    share = level / (other_total + _PRIOR)
    if other_total >= drift.total:  # the trend weeks are part of the baseline
        level_var = drift.dispersion * (1.0 / drift.total - 1.0 / other_total)
    else:  # a baseline shorter than the trend weeks
        level_var = 1.0 / other_total + drift.dispersion / drift.total
    model_var = level_var + drift.slope_var
    if others_as_of_day is None:
        return Expectation(share * drift.expected, level, model_var, share, drift)
    day_share = float(sum(others_as_of_day[1 : 1 + len(baseline)])) / other_total
    modelled, seen = drift.expected * (1.0 - day_share), float(others_as_of_day[0])
    total = modelled + seen
    if total <= 0:
        return Expectation(share * drift.expected, level, model_var, share, drift)
    # log-variance of the sum: the modelled part's, weighted by its share of it, and the seen
    # day's own Poisson noise as an estimate of its mean (var seen = seen · φ)
    w = modelled / total
    log_var = w * w * model_var + drift.dispersion * seen / (total * total)
    return Expectation(share * total, level, log_var, share, drift)


def share_pearson(baseline: Sequence[float], others: Sequence[float]) -> tuple[float, float]:
    """(Pearson χ², degrees of freedom) of the channel's weekly share of the account's leads,
    binomial given each week's total (so an account-wide swing cancels); with no other channel,
    of its weekly counts around their mean. (0, 0) without leads. Pure."""
    n = [c + o for c, o in zip(baseline, others, strict=True)]
    s, total = float(sum(baseline)), float(sum(n))
    if s <= 0:
        return 0.0, 0.0
    if total <= s:  # the only channel
        m = s / len(baseline)
        return sum((c - m) ** 2 for c in baseline) / m, float(len(baseline) - 1)
    p = s / total
    weeks = [(c, nw) for c, nw in zip(baseline, n, strict=True) if nw > 0]
    chi2 = sum((c - nw * p) ** 2 / (nw * p * (1.0 - p)) for c, nw in weeks)
    return chi2, float(len(weeks) - 1)


def shrunk_dispersion(chi2: float, df: float, pooled: float) -> float:
    """One channel's φ: its own Pearson χ² shrunk toward the pooled φ with as much weight as its
    own degrees of freedom (empirical Bayes in the quasi-likelihood sense), floored at 1. Channels
    differ (organic search swings more than a paid channel); one overdispersed channel must not
    blunt the test of every other, and a channel's own degrees of freedom alone are too noisy."""
    if not df:
        return max(1.0, pooled)
    return max(1.0, (chi2 + df * pooled) / (2.0 * df))


def channel_tests(observed: float, mean: float, phi: float, log_var: float) -> dict[str, dict[str, Any]]:
    """Drop and spike tails of this week's count: negative binomial of mean ``mean`` and variance
    φ·μ + μ²·``log_var`` (the count's own dispersion plus the uncertainty of the expectation,
    ``log_var`` the variance of log μ). Pure."""
    mu = max(mean, 1e-9)
    excess = phi - 1.0 + mu * log_var
    size = math.inf if excess <= 0 else mu / excess
    common = {"value": observed, "baseline": mean, "n": max(mean, observed), "dispersion": phi, "nb_size": size}

    def cdf(k: float) -> float:
        return exact.negbin_cdf(k, mu, size)

    def sf(k: float) -> float:
        return exact.negbin_sf(k, mu, size)

    start = math.ceil(mu)
    return {
        "drop": {**common, "p": cdf(observed), "min_p": cdf(0), "attainable": lambda t: exact.attainable_cdf(cdf, t)},
        "spike": {
            **common,
            "p": sf(observed),
            "min_p": sf(3 * mu + 10),
            "attainable": lambda t: exact.attainable_sf(sf, t, start),
        },
    }


# ------------------------------------------------------------------ the check


def lead_volume_anomaly(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    weeks, days = weekly_and_as_of_weekday(con, as_of_date)
    total = [sum(w[i] for w in weeks.values()) for i in range(WEEKS)]
    total_day = [sum(d[i] for d in days.values()) for i in range(WEEKS)]
    base = slice(1, 1 + LEAD_BASELINE_WEEKS)
    prepared: dict[str, tuple[list[float], Expectation, tuple[float, float]]] = {}
    for channel in sorted(weeks):
        counts = weeks[channel]
        others = [t - c for t, c in zip(total, counts, strict=True)]
        others_day = [t - c for t, c in zip(total_day, days[channel], strict=True)]
        prepared[channel] = (
            counts,
            expected_week(counts[base], others, others_day),
            share_pearson(counts[base], others[base]),
        )
    chi2 = sum(p[2][0] for p in prepared.values())
    df = sum(p[2][1] for p in prepared.values())
    pooled = max(1.0, chi2 / df) if df else 1.0
    window = {
        "window_start": (as_of_date - timedelta(days=LEAD_WINDOW_DAYS - 1)).isoformat(),
        "window_end": as_of_date.isoformat(),
    }
    families: dict[str, dict[str, dict[str, Any]]] = {"drop": {}, "spike": {}}
    for channel, (counts, exp, (c2, d)) in prepared.items():
        phi = shrunk_dispersion(c2, d, pooled)
        log_var = phi / exp.level_count + exp.other_log_var
        context = {
            "segment": channel,
            **window,
            "baseline_weekly": counts[1 : 1 + LEAD_TREND_WEEKS],
            "baseline_weekly_mean": exp.level_count / LEAD_BASELINE_WEEKS,
            "share_of_other_channels": exp.share,
            "other_channels_expected": exp.drift.expected if exp.drift else None,
            "account_trend_per_week": math.expm1(exp.drift.slope) if exp.drift else None,
            "pooled_dispersion": pooled,
        }
        for direction, res in channel_tests(counts[0], exp.mean, phi, log_var).items():
            key = channel if direction == "drop" else f"{channel} (spike)"
            families[direction][key] = {**context, "direction": direction, **res}
    flagged = decide_family(families["drop"], LEAD_DROP_ALPHA) + decide_family(families["spike"], ALPHA)
    findings = {**families["drop"], **families["spike"]}
    headline = "; ".join(
        f"{findings[c]['segment']}: {findings[c]['value']:.0f} leads in the last {LEAD_WINDOW_DAYS} days vs "
        f"{findings[c]['baseline']:.1f} expected ({findings[c]['direction']}, p={findings[c]['p']:.1e}, "
        f"Holm p={findings[c]['p_adjusted']:.1e})"
        for c in flagged
    )
    out = exact_outcome(SPEC, findings, flagged, headline, ALPHA)
    out.metadata["alpha_drop"] = LEAD_DROP_ALPHA
    return out


SPEC = CheckSpec(
    "lead_volume_anomaly",
    "mart_lead_volume_daily",
    "WARN",
    f"New leads per channel in the last {LEAD_WINDOW_DAYS} days vs the week expected from its share of the "
    f"other channels over {LEAD_BASELINE_WEEKS} weeks and their trend over {LEAD_TREND_WEEKS} (exact "
    f"negative-binomial tails, dispersion of the share pooled over channels; Holm across channels, alpha "
    f"{LEAD_DROP_ALPHA} for drops, {ALPHA} for spikes).",
    lead_volume_anomaly,
)
