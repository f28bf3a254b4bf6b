"""KeyRanges: the ranges always cover every value added (checked against the set of values)."""

from __future__ import annotations

import random

from warehouse.key_ranges import KeyRanges, Ranges, key_order


def test_ranges_cover_every_added_value_and_rule_out_far_ones():
    rng = random.Random(7)
    for _ in range(200):
        ranges = Ranges(max_ranges=rng.choice([1, 2, 4, 16]))
        stored: set[str] = set()
        for _ in range(rng.randint(1, 30)):
            a, b = sorted(str(rng.randint(1000, 9999)) for _ in range(2))
            ranges.add(b, a) if rng.random() < 0.2 else ranges.add(a, b)
            stored.update(str(v) for v in range(int(a), int(b) + 1))
            assert all(ranges.may_contain(v) for v in stored)
            assert ranges.lows == sorted(ranges.lows) and len(ranges.lows) <= ranges.max_ranges
            assert all(lo <= hi for lo, hi in zip(ranges.lows, ranges.highs, strict=True))
            assert all(hi < lo for hi, lo in zip(ranges.highs, ranges.lows[1:], strict=False))
        assert not ranges.may_contain("0999") and not ranges.may_contain("99999")


def test_two_growing_ends_stay_apart_so_the_gap_is_ruled_out():
    ranges = Ranges(max_ranges=2)
    for k in range(50):  # a list reading up from the bottom, a search down from the top
        ranges.add(f"1{k * 10:05d}", f"1{k * 10 + 9:05d}")
        ranges.add(f"1{99990 - k * 10:05d}", f"1{99999 - k * 10:05d}")
    assert len(ranges.lows) == 2
    assert ranges.may_contain("100499") and ranges.may_contain("199500")
    assert not ranges.may_contain("150000")


def test_key_ranges_seed_from_the_table_and_forget():
    seeds: list[tuple[str, str]] = []

    def seed(table: str, column: str) -> tuple[str, str] | None:
        seeds.append((table, column))
        return ("100", "200") if table == "t" else None

    keys = KeyRanges()
    assert keys.maybe_stored("t", "id", ["050", "150", "250"], seed) == ["150"]
    assert keys.maybe_stored("empty", "id", ["1"], seed) == []
    keys.stored("empty", "id", "1", "3", seed)
    assert keys.maybe_stored("empty", "id", ["2", "4"], seed) == ["2"]
    keys.emptied("empty")
    assert keys.maybe_stored("empty", "id", ["2"], seed) == []
    keys.forget()
    assert keys.maybe_stored("t", "id", ["150"], seed) == ["150"]
    assert seeds == [("t", "id"), ("empty", "id"), ("t", "id")]


def test_digit_ids_that_grow_a_digit_are_ruled_out_in_numeric_order():
    ranges = Ranges(max_ranges=16)
    for start in range(10_000, 120_000, 2_000):  # a list reading ids up across 99999 -> 100000
        batch = [str(i) for i in range(start, start + 2_000)]
        assert not any(ranges.may_contain(v) for v in batch)  # new ids: no delete needed
        ranges.add(min(batch, key=key_order), max(batch, key=key_order))
    assert len(ranges.lows) <= 16
    assert all(ranges.may_contain(str(i)) for i in (10_000, 99_999, 100_000, 119_999))
    assert not ranges.may_contain("120000") and not ranges.may_contain("9999") and not ranges.may_contain("9")
