"""Months that differ: the sandbox's sales calendar, so forecasting it is a real task.

Two hooks in :mod:`emulators.truth.generator`, neither of which draws a random number (the main
stream, and so the rest of a sandbox, keeps its order):

- :func:`deal_creation_weight` scales how many deals are created on a day: a **slow quarter**
  (calendar Q1: budgets not yet released, −30 %), a holiday dip in August and December, and a
  busier autumn;
- :func:`dwell_pace` stretches or shortens the time a deal spends in a stage, by the month the
  stay starts in: deals move 1.5× slower in the slow quarter and 0.75× faster in the last month
  of every quarter, when reps push to close (so won amounts bunch in March, June, September and
  December).

With the close-date slips of :mod:`emulators.truth.histories` and the stage probabilities of the
pipelines (stated 60 % for "Presentation Scheduled" where about a quarter of such deals are won), the
CRM-weighted forecast is biased the way real ones are, and a method that learns conversion from
past pipeline snapshots can beat it (docs/forecast.md).

Contacts (leads) keep the generator's own gentle wave: the funnel anomaly checks watch lead
volume, and a seasonal swing there would be a false alarm.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

SLOW_QUARTER = (1, 2, 3)
SLOW_QUARTER_CREATION = 0.7
SLOW_QUARTER_PACE = 1.5
QUARTER_END_MONTHS = (3, 6, 9, 12)
QUARTER_END_PACE = 0.75
MONTH_CREATION = {8: 0.85, 9: 1.1, 10: 1.1, 11: 1.05, 12: 0.8}


def deal_creation_weight(day: date) -> float:
    """Relative number of deals created on ``day`` (1.0 = an ordinary month)."""
    weight = MONTH_CREATION.get(day.month, 1.0)
    if day.month in SLOW_QUARTER:
        weight *= SLOW_QUARTER_CREATION
    return weight


def dwell_pace(at_ms: int) -> float:
    """Factor on the dwell time of a stage entered at ``at_ms`` (epoch ms, UTC)."""
    month = datetime.fromtimestamp(at_ms / 1000, tz=UTC).month
    pace = 1.0
    if month in SLOW_QUARTER:
        pace *= SLOW_QUARTER_PACE
    if month in QUARTER_END_MONTHS:
        pace *= QUARTER_END_PACE
    return pace
