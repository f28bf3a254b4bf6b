"""The lead pieces of the evaluation: the collapse injection removes exactly the share its name
says, and the account variation thins each day's leads at the calendar's rate whatever share of
them already has a deal (pure functions, no sandbox)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from emulators.truth.variation import lead_keep_rates
from evaluation.fast.inject import lead_volume_collapse

AS_OF = date(2026, 10, 31)


def _leads() -> list[dict]:
    rows = []
    for back in range(21):
        day = AS_OF - timedelta(days=back)
        for channel, n in (("paid_search", 3), ("paid_social", 2), ("organic_search", 5)):
            rows.append({"lead_date": day, "source": "hubspot", "channel": channel, "new_leads": n})
    return rows


def _week(rows: list[dict], channel: str) -> int:
    first = AS_OF - timedelta(days=6)
    return sum(r["new_leads"] for r in rows if r["channel"] == channel and first <= r["lead_date"] <= AS_OF)


def test_lead_collapse_removes_the_named_share_in_every_seed() -> None:
    rows = _leads()
    for seed in range(40):
        for drop, kept in ((0.95, 1), (0.80, 4)):  # 21 leads of paid search in the week
            out = lead_volume_collapse([dict(r) for r in rows], AS_OF, drop, random.Random(seed))
            assert _week(out, "paid_search") == kept == round(21 * (1 - drop))
            assert _week(out, "paid_social") == 14 and _week(out, "organic_search") == 35
            older = [r for r in out if r["lead_date"] < AS_OF - timedelta(days=6)]
            assert older == [r for r in rows if r["lead_date"] < AS_OF - timedelta(days=6)]
            assert all(r["new_leads"] > 0 for r in out)


def test_lead_collapse_picks_the_days_at_random() -> None:
    days = {
        next(
            r["lead_date"]
            for r in lead_volume_collapse(_leads(), AS_OF, 0.95, random.Random(s))
            if r["channel"] == "paid_search" and r["lead_date"] > AS_OF - timedelta(days=7)
        )
        for s in range(40)
    }
    assert len(days) > 3


def test_keep_rates_make_each_day_keep_its_weight_of_all_its_leads() -> None:
    old, new, weekend = date(2026, 9, 1), date(2026, 10, 30), date(2026, 10, 31)
    weights = {old: 0.6, new: 0.6, weekend: 0.1}
    leads = [(old, k >= 40) for k in range(100)] + [(new, True)] * 100 + [(weekend, k >= 30) for k in range(100)]
    rates = lead_keep_rates(weights, 1.0, leads)
    # 40 of the old day's 100 leads have a deal: the 60 others keep (60 - 40) / 60 so the day keeps 60
    assert abs(40 + 60 * rates[old] - 60) < 1e-9
    assert abs(rates[new] - 0.6) < 1e-9  # the newest leads have no deal yet: the same 60 kept
    assert rates[weekend] == 0.0  # its 30 fixed leads already exceed 10: every removable one goes
    assert lead_keep_rates(weights, 1.0, [(old, False)] * 5) == {old: 1.0}
