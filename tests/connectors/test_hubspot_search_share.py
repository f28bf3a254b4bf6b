"""How the split backfills share the search limit: the stream further behind goes first."""

from __future__ import annotations

from connectors.hubspot.backfill import _Meet
from connectors.hubspot.search_share import SPARE_SEARCH_SLOTS, SearchShare


def meet(lo: int, hi: int, list_max: int, search_min: int) -> _Meet:
    return _Meet(list_max=list_max, search_min=search_min, lo=lo, hi=hi)


def test_remaining_is_the_unread_share_of_the_runs_range():
    assert meet(100, 300, 149, 250).remaining() == 0.505
    assert meet(100, 300, 260, 250).remaining() == 0.0  # the parts have met
    assert _Meet().remaining() == 1.0  # nothing read yet


def test_deals_wait_for_spare_search_slots_only_while_contacts_are_further_behind():
    free = [0, 1, SPARE_SEARCH_SLOTS]
    slept: list[float] = []
    share = SearchShare(lambda: free.pop(0), sleep=slept.append)
    with share.searching("contacts", meet(0, 100, 10, 90)), share.searching("deals", meet(0, 100, 40, 60)):
        assert share.contacts_behind()
        share.before_search("contacts")  # contacts never wait
        assert slept == []
        share.before_search("deals")  # waits until two slots are free
        assert len(slept) == 2 and free == []
    with share.searching("contacts", meet(0, 100, 45, 55)), share.searching("deals", meet(0, 100, 10, 90)):
        assert not share.contacts_behind()
        share.before_search("deals")  # deals further behind: no wait (free_slots not even asked)
    with share.searching("deals", meet(0, 100, 10, 90)):
        assert not share.contacts_behind()  # no contacts search part running
