"""Amount, close-date and currency histories of the sandbox, and the ground truth's as-of view."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from emulators.truth import store
from emulators.truth.as_of import end_of_day_ms, value_at
from emulators.truth.ground_truth import GroundTruth

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def truth(demo_db: Path) -> GroundTruth:
    return GroundTruth(demo_db)


def test_histories_end_in_the_current_values_within_the_deals_lifetime(truth: GroundTruth) -> None:
    deals = truth.deals().set_index("id")
    end_ms = store.date_to_ms(truth.end_date + timedelta(days=1))
    for prop, col in (("amount", "amount"), ("deal_currency_code", "currency"), ("closedate", "closedate")):
        h = truth.property_history(prop)
        last = h.groupby("deal_id").tail(1).set_index("deal_id")
        assert (last["value"].fillna("") == deals.loc[last.index, col].fillna("")).all(), prop
        created = deals.loc[h["deal_id"], "createdate_ms"].to_numpy()
        assert (h["timestamp_ms"].to_numpy() >= created).all() and (h["timestamp_ms"] < end_ms).all(), prop
        newest = h.groupby("deal_id")["timestamp_ms"].max()
        assert (deals.loc[newest.index, "hs_lastmodifieddate_ms"] >= newest).all(), prop


def test_histories_have_the_real_world_shapes(truth: GroundTruth) -> None:
    deals = truth.deals().set_index("id")
    amounts = truth.property_history("amount")
    first = amounts.groupby("deal_id").head(1).set_index("deal_id")
    late = first[first["timestamp_ms"] - deals.loc[first.index, "createdate_ms"] > DAY_MS]
    assert len(late) > 30, "amounts entered days after creation"
    assert (first["value"] == "").sum() > 5, "deals created with an empty amount"
    per_day = amounts.assign(day=amounts["timestamp_ms"] // DAY_MS).groupby(["deal_id", "day"]).size()
    assert (per_day > 1).sum() > 5, "two amount changes on one day"
    closes = truth.property_history("closedate")
    closes = closes.assign(value_ms=closes["value"].map(store.iso_to_ms))
    previous = closes.groupby("deal_id")["value_ms"].shift()
    slipped = closes[(closes["timestamp_ms"] > previous) & (closes["value_ms"] > closes["timestamp_ms"])]
    assert len(slipped) > 30, "close dates that passed while open and were pushed out"
    currencies = truth.property_history("deal_currency_code").groupby("deal_id").size()
    assert (currencies > 1).sum() > 5, "currency corrected after creation"


def test_value_at_rules() -> None:
    entries = [(100, 0, ""), (200, 1, "5"), (200, 2, "6"), (300, 3, "7")]
    assert value_at(entries, 100) == (None, "history")  # none before: not set yet
    assert value_at(entries, 150) == (None, "history")  # empty string: no value
    assert value_at(entries, 250) == ("6", "history")  # equal times: the larger seq is newer
    assert value_at([], 250, "9") == ("9", "latest")
    assert end_of_day_ms(date(2026, 1, 1)) == store.date_to_ms(date(2026, 1, 2))


def test_deal_on_a_day_before_and_after_its_amount_was_entered(truth: GroundTruth) -> None:
    deals = truth.deals().set_index("id")
    amounts = truth.property_history("amount")
    first = amounts.groupby("deal_id").head(1).set_index("deal_id")
    gap = first["timestamp_ms"] - deals.loc[first.index, "createdate_ms"]
    did = gap[gap > 2 * DAY_MS].index[0]
    created_day = pd.Timestamp(int(deals.loc[did, "createdate_ms"]), unit="ms").date()
    entered_at = int(first.loc[did, "timestamp_ms"])
    entered_day = pd.Timestamp(entered_at, unit="ms").date()
    before = truth.deal_on(did, created_day)
    assert before["amount"] is None and before["amount_basis"] == "history"
    after = truth.deal_on(did, entered_day)
    mine = amounts[(amounts["deal_id"] == did) & (amounts["timestamp_ms"] < end_of_day_ms(entered_day))]
    assert after["amount"] == (mine.iloc[-1]["value"] or None)
    assert truth.deal_on(did, created_day - timedelta(days=1)) is None
    assert after["stage_id"] in store.STAGE_INDEX and after["probability"] is not None
