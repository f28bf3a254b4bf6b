"""The sandbox's sales calendar (emulators/truth/seasons.py): months that differ."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from emulators import GroundTruth
from emulators.truth import seasons, store


def test_slow_quarter_and_quarter_end_push():
    assert seasons.deal_creation_weight(date(2026, 2, 10)) == pytest.approx(0.7)
    assert seasons.deal_creation_weight(date(2026, 5, 10)) == 1.0
    assert seasons.deal_creation_weight(date(2026, 12, 10)) == pytest.approx(0.8)
    assert seasons.dwell_pace(store.date_to_ms(date(2026, 2, 1))) == pytest.approx(1.5)
    assert seasons.dwell_pace(store.date_to_ms(date(2026, 6, 30))) == pytest.approx(0.75)
    assert seasons.dwell_pace(store.date_to_ms(date(2026, 5, 1))) == 1.0


def test_the_demo_sandbox_has_a_slow_quarter(demo_db):
    """Deals created per day in Jan-Mar are clearly below April-June (weekday trend included)."""
    deals = GroundTruth(demo_db).deals()
    days = Counter(datetime.fromtimestamp(int(ms) / 1000, tz=UTC).month for ms in deals["createdate_ms"])
    slow = sum(days[m] for m in (1, 2, 3)) / 90
    normal = sum(days[m] for m in (4, 5, 6)) / 91
    assert slow < 0.85 * normal, (slow, normal)
