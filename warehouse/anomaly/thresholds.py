"""Every threshold of the funnel anomaly checks, in one place.

The horizons and bands the metric models compute with are dbt vars declared in
dbt_project/dbt_project.yml (`anomaly_*`) and read from there, so the SQL and the checks cannot
disagree; the rest only the Python decisions use, and they are defined here. Reasons:
docs/metrics.md#metric-history and docs/decisions.md.
"""

from __future__ import annotations

from datetime import timedelta

from core.dbt_vars import dbt_var

# ------------------------------------------------------------------ shared with the metric models

HISTORY_WEEKS = int(dbt_var("anomaly_history_weeks"))
"""Weeks of history the metric table keeps."""
CONVERSION_MATURITY_DAYS = int(dbt_var("anomaly_conversion_maturity_days"))
"""A cohort member converts when it reaches the next step within this many days."""
FLAP_CHANGES_PER_DAY = int(dbt_var("anomaly_flap_changes_per_day"))
"""Stage changes in one day that make a deal "flapping"."""
STUCK_P90_BAND = (float(dbt_var("anomaly_stuck_min_p90_multiple")), float(dbt_var("anomaly_stuck_max_p90_multiple")))
"""Stuck = still in the step 2-4 × its trailing p90 of completed visits after entering it; the
tested share is over the deals that entered the step that long ago. Open longer than 1 × p90 is a
third of the open deals in normal data, and the ancient tail (> 4 × p90) grows for months as
zombie deals pile up: both are normal and would swamp the signal, so the band in between is
compared with its own baseline."""

FRESHNESS_MAX_AGE = timedelta(hours=int(dbt_var("raw_freshness_warn_after_hours")))
"""A raw source whose newest load is older than this warns (the same threshold as the dbt source
freshness `warn_after` of the raw sources, so `dbt source freshness` agrees with the check)."""

# ------------------------------------------------------------------ decisions (Python only)

Z_THRESHOLD = 4.0
"""|z| at or beyond which a bucket may be flagged (one-sided p ≈ 3e-5 per test)."""
COUNT_Z_THRESHOLD = 5.0
"""Counts with a same-weekday baseline (lead volumes, daily transitions) use |z| ≥ 5: their z has
heavier tails than a normal (the dispersion is estimated from 8 weeks), so on 20 clean seeds × 10
channels a 4.4 happened once; a collapse like -90% of a channel scores 9 or more."""
MIN_RELATIVE_CHANGE = 0.30
"""...and the relative change it must also reach (30%)."""
MIN_N = 30
"""...on at least this many units (cohort members, transitions, expected leads, visits)."""
BASELINE_BUCKETS = 12
"""Trailing buckets (weeks or cohorts) a baseline uses, after excluding flagged ones."""
MIN_BASELINE_BUCKETS = 6
"""A baseline with fewer usable buckets is not trusted: the segment is reported, not tested."""
SAME_WEEKDAY_WEEKS = 8
"""Lead volumes and daily transitions: each day is compared with the same weekday of 8 weeks."""
MIN_SAME_WEEKDAY_WEEKS = 4
TEST_COHORTS = 2
"""Conversion: the latest 2 mature weekly cohorts are tested."""
RATE_WINDOW_WEEKS = 2
"""Dwell, skip, regression and won-amount checks test the last 14 days (2 weekly buckets)."""
FLAP_MIN_DEALS = 10
"""A day needs at least this many flapping deals (≥ 3 stage changes that day) to be a burst."""
AMOUNT_OUTLIER_Z = 4.0
"""A won deal whose log amount is ≥ 4 robust sd from the baseline median is an outlier."""
MIN_OUTLIERS = 3
SAMPLE_SIZE = 20
"""Deal or lead ids a flagged finding lists for a person to look at."""

# ------------------------------------------------------------------ exact tests (docs/checks.md)

ALPHA = 0.002
"""The false-alarm budget of one check per run: its segments' p-values are Holm-adjusted (the
discrete step-down Holm of `exact.discrete_holm`) and a
segment warns when its adjusted p is at most this. About five exposure-based checks share a run,
so a clean run warns with probability ≲ 1% (docs/checks.md#false-alarm-budget)."""
LEAD_DROP_ALPHA = 0.01
"""Lead-volume drops get a larger budget: a collapsing channel is the anomaly users miss most and
small channels have little power; its spikes keep ALPHA."""
CONVERSION_WINDOW_DAYS = 35
"""Conversion: advances and losses per deal-day at risk in the last 5 weeks..."""
EXPOSURE_BASELINE_DAYS = 182
"""...vs the 26 weeks before the window (also the dwell and stuck baselines)."""
DWELL_WINDOW_DAYS = 28
"""Dwell: exits per deal-day at risk, age by age, in the last 4 weeks (vs the baseline's rates)."""
STUCK_MULTIPLE = 5.0
"""Stuck: still in the step past 5 × its usual (median) dwell, with no upper bound."""
STUCK_WINDOW_DAYS = 56
"""Stuck: the open deals that crossed 5 × the usual dwell in the last 8 weeks are counted (vs the
number the same entries would leave open at the baseline's survival and their own pace)."""
LEAD_WINDOW_DAYS = 7
LEAD_BASELINE_WEEKS = 26
"""Lead volume: the last 7 days (a weekly total, so weekdays cancel) vs each channel's share of
the account's leads over the 26 weeks before (its level and its dispersion)..."""
LEAD_TREND_WEEKS = 12
"""...times the account's expected week, a log-linear fit of the other channels' last 12 weeks
(the trend and the yearly wave, locally)."""
BURST_BASELINE_WEEKS = 12
"""Bursts: each of the last 7 days vs the same weekday of the 12 weeks before."""
MIN_BURST_DEALS = 5
"""A flapping-deal day needs at least this many flapping deals (a practical floor, not a gate on
the statistic: one or two deals edited by hand are not a bulk edit)."""
NOT_ENOUGH_DATA = "not enough data"
