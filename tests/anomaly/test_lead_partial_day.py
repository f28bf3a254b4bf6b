"""`lead_volume_anomaly` and a partial as-of day: a run made during the day (AS_OF_DATE defaults
to today) sees only part of that day's leads, in every channel alike. The as-of day is expected
from what the other channels got that day, so a partial day is quiet and a collapse still is not."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pytest

from evaluation.fast.relations import connection
from warehouse.anomaly.checks import run_check
from warehouse.anomaly.checks.lead_volume import channel_tests, expected_week
from warehouse.anomaly.thresholds import LEAD_BASELINE_WEEKS

AS_OF = date(2026, 10, 31)
BIG = {"paid_search": 120.0, "organic_search": 1500.0, "referrals": 400.0, "direct_traffic": 600.0}
"""Weekly leads of a large account (a 10% shortfall of organic search is ~4 standard deviations)."""


def test_the_as_of_day_is_the_others_seen_day_and_the_rest_their_drift():
    others = [900.0] + [1000.0] * LEAD_BASELINE_WEEKS
    others_day = [20.0] + [200.0] * LEAD_BASELINE_WEEKS  # the as-of weekday holds a fifth of a week
    baseline = [100.0] * LEAD_BASELINE_WEEKS
    whole = expected_week(baseline, others)
    split = expected_week(baseline, others, others_day)
    assert whole.drift is not None and split.share == whole.share
    assert split.mean == pytest.approx(whole.share * (whole.drift.expected * 0.8 + 20.0))
    # a full as-of day (the others got their usual fifth) expects what the whole week did
    full = expected_week(baseline, others, [200.0, *others_day[1:]])
    assert full.mean == pytest.approx(whole.mean)
    # the seen day is known, so less of the expectation is extrapolated; its own noise is added
    assert full.other_log_var == pytest.approx(0.64 * whole.other_log_var + 200.0 / 1000.0**2, rel=1e-6)


def _leads(seed: int, as_of_share: float, collapse: str | None = None) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(280):
        day = AS_OF - timedelta(days=d)
        for ch, weekly in BIG.items():
            n = int(rng.poisson(weekly / 7))
            if d == 0:
                n = int(rng.binomial(n, as_of_share))
            if ch == collapse and d < 7:
                n = sum(random.Random(seed * 1000 + d).random() < 0.05 for _ in range(n))
            if n:
                rows.append({"lead_date": day, "source": "hubspot", "channel": ch, "new_leads": n})
    return rows


def test_a_partial_as_of_day_is_quiet_where_a_whole_week_expectation_would_warn():
    leads = _leads(5, 0.1)  # the run at ~02:00: a tenth of the day's leads are in
    outcome = run_check(connection([], leads), AS_OF, "lead_volume_anomaly")
    assert outcome.passed, outcome.description
    seg = outcome.metadata["segments"]["organic_search"]
    # the same week against the whole-week expectation: far below it
    weeks = [0.0] * (LEAD_BASELINE_WEEKS + 1)
    others = [0.0] * (LEAD_BASELINE_WEEKS + 1)
    for r in leads:
        k = (AS_OF - r["lead_date"]).days // 7
        if k <= LEAD_BASELINE_WEEKS:
            (weeks if r["channel"] == "organic_search" else others)[k] += r["new_leads"]
    whole = expected_week(weeks[1:], others)
    assert seg["value"] == weeks[0] and seg["baseline"] < 0.95 * whole.mean
    assert channel_tests(weeks[0], whole.mean, 1.0, whole.other_log_var)["drop"]["p"] < 1e-4


def test_a_collapse_on_a_partial_as_of_day_is_named():
    outcome = run_check(connection([], _leads(6, 0.1, collapse="paid_search")), AS_OF, "lead_volume_anomaly")
    assert outcome.metadata["flagged_segments"] == ["paid_search"]
