"""Independent reference computation of the contracted KPI marts.

Written from the project's definitions (``docs/metrics.md``) without reading the dbt models, so that comparing the two proves something. Pure Python:
no DuckDB, no dbt. Quoted definition lines sit in the docstrings of the functions implementing them.

Generic inputs (lists of dicts; one source or several):

``deals``
    ``source``, ``source_deal_id`` (str), ``deal_name``, ``pipeline_id``, ``stage_id`` (latest
    loaded stage; used only when a deal has no stage history), ``amount`` (str/number/None, in the
    deal's currency), ``currency_code``, ``created_at``, ``close_date`` (the CRM's close date,
    datetime/date/None), ``owner_id``, ``archived`` (true for archived, hard-deleted and
    merged-away deals).
``contacts``
    ``source``, ``source_contact_id`` (str), ``created_at``, ``channel`` (raw value, e.g. HubSpot's
    ``hs_analytics_source``), ``archived`` (as for deals).
``stage_history``
    ``source``, ``source_deal_id``, ``seq`` (int, the entry's place in the API's order counted
    from the oldest: a larger ``seq`` is newer; only breaks timestamp ties), ``stage_id``,
    ``changed_at``, optionally ``pipeline_id``.
``deal_contacts``
    ``source``, ``source_deal_id``, ``source_contact_id``.
``mapping``
    the ``funnel_stage_mapping`` seed rows: ``source``, ``pipeline_id``, ``stage_id``,
    ``funnel_step``, ``funnel_step_order`` (empty for lost).
``rates``
    the currency-rates seed rows: ``rate_date``, ``currency_code``, ``reporting_currency``,
    ``rate`` (amount x rate = reporting amount).

Timestamps may be naive-UTC or aware ``datetime``, ISO strings or epoch milliseconds; outputs are
naive UTC ``datetime``.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

Row = dict[str, Any]

MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "fct_deal_stage_history": (
        "deal_id",
        "source",
        "source_deal_id",
        "pipeline_id",
        "stage_id",
        "funnel_step",
        "funnel_step_order",
        "visit_number",
        "entered_at",
        "exited_at",
        "is_current",
        "dwell_days",
        "is_regression",
        "is_skip",
    ),
    "fct_deals": (
        "deal_id",
        "source",
        "source_deal_id",
        "deal_name",
        "pipeline_id",
        "current_stage_id",
        "current_funnel_step",
        "outcome",
        "amount",
        "currency_code",
        "amount_reporting",
        "created_at",
        "closed_at",
        "cycle_days",
        "expected_close_date",
        "owner_id",
        "primary_contact_id",
        "max_funnel_step_order",
        "reopen_count",
        "regression_count",
        "skip_count",
    ),
    "mart_lead_volume_daily": ("lead_date", "source", "channel", "new_leads"),
    "mart_stage_conversion_monthly": (
        "cohort_month",
        "source",
        "funnel_step",
        "funnel_step_order",
        "entered_count",
        "advanced_count",
        "conversion_rate",
    ),
    "mart_deal_outcomes_monthly": (
        "close_month",
        "source",
        "won_count",
        "lost_count",
        "win_rate",
        "won_amount_reporting",
        "avg_won_deal_value",
        "median_won_deal_value",
        "avg_cycle_days_won",
        "median_cycle_days_won",
    ),
}

# The key each mart is unique on (used by the comparison test).
MART_KEYS: dict[str, tuple[str, ...]] = {
    "fct_deal_stage_history": ("deal_id", "visit_number"),
    "fct_deals": ("deal_id",),
    "mart_lead_volume_daily": ("lead_date", "source", "channel"),
    "mart_stage_conversion_monthly": ("cohort_month", "source", "funnel_step_order"),
    "mart_deal_outcomes_monthly": ("close_month", "source"),
}

STEP_NAMES = {1: "lead", 2: "qualification", 3: "presentation", 4: "negotiation", 5: "won"}
WON_ORDER = 5
CLOSED_STEPS = ("won", "lost")


class ReferenceError(ValueError):
    """Input the contract makes a blocking-check failure (unmapped stage, missing rate, ...)."""


# ---------------------------------------------------------------- small helpers


def as_of_instant(as_of_date: date) -> datetime:
    """ "`as_of` is the end of the day `as_of_date` ..., i.e. the next midnight UTC, exclusive.\""""
    return datetime(as_of_date.year, as_of_date.month, as_of_date.day) + timedelta(days=1)


def to_utc(value: Any) -> datetime | None:
    """A timestamp (datetime, ISO string or epoch ms) as a naive UTC ``datetime``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float):
        return datetime(1970, 1, 1) + timedelta(milliseconds=int(value))
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return to_utc(datetime.fromisoformat(text))


def to_date(value: Any) -> date | None:
    """A date (``date``, ISO string, or the UTC day of a timestamp)."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    return to_utc(value).date()


def month_of(moment: datetime | date) -> date:
    """ "months are the first day of the month (`date`, UTC)\""""
    return date(moment.year, moment.month, 1)


def days_between(start: datetime, end: datetime) -> float:
    """ "Durations in days are fractional: seconds / 86400.\""""
    return (end - start).total_seconds() / 86400


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: list[float]) -> float | None:
    """ "Medians of an even count are the mean of the two middle values.\""""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def id_sort_key(source_id: str) -> tuple:
    """ "ties: the lowest id, compared as numbers where ids are numeric" ("9" < "10")."""
    text = str(source_id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def parse_amount(raw: Any) -> float | None:
    """A CRM amount (a string in HubSpot, possibly missing or empty) as a float or None."""
    if raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def is_live(record: Mapping[str, Any]) -> bool:
    """ "Archived, deleted and merged records are excluded from every mart.\""""
    return not (record.get("archived") or record.get("deleted") or record.get("merged_into"))


def deal_key(source: str, source_deal_id: Any) -> str:
    """ "`deal_id` is `'<source>:<id in the source>'`\""""
    return f"{source}:{source_deal_id}"


# ---------------------------------------------------------------- configuration inputs


@dataclass(frozen=True)
class Step:
    funnel_step: str
    order: int | None

    @property
    def is_closed(self) -> bool:
        return self.funnel_step in CLOSED_STEPS


class StageMap:
    """The ``funnel_stage_mapping`` seed: "one row per (source, pipeline_id, stage_id)"."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]):
        self._steps: dict[tuple[str, str, str], Step] = {}
        self._pipelines: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in rows:
            order = r.get("funnel_step_order")
            order = None if order in (None, "") else int(order)
            key = (str(r["source"]), str(r["pipeline_id"]), str(r["stage_id"]))
            self._steps[key] = Step(str(r["funnel_step"]), order)
            self._pipelines[key[0], key[2]].add(key[1])

    def pipeline_of(self, source: str, stage_id: str, default: str | None) -> str | None:
        """ "A visit's `pipeline_id` is the pipeline that owns its stage.\""""
        owners = self._pipelines.get((source, stage_id), set())
        if len(owners) == 1:
            return next(iter(owners))
        return default

    def step(self, source: str, pipeline_id: str | None, stage_id: str) -> Step:
        """ "A stage that no row maps fails a blocking check that names the stage and the seed."

        Status-based CRMs (Pipedrive) may use the pseudo-stages ``won``/``lost``.
        """
        found = self._steps.get((source, str(pipeline_id), stage_id))
        if found is not None:
            return found
        if stage_id == "won":
            return Step("won", WON_ORDER)
        if stage_id == "lost":
            return Step("lost", None)
        raise ReferenceError(f"stage {source}:{pipeline_id}:{stage_id} is not mapped in funnel_stage_mapping")


class RateTable:
    """The rates seed: "the latest rate dated on or before the day" (amount x rate)."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]):
        series: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
        for r in rows:
            series[str(r["currency_code"]), str(r["reporting_currency"])].append(
                (to_date(r["rate_date"]), float(r["rate"]))
            )
        self._dates = {k: [d for d, _ in sorted(v)] for k, v in series.items()}
        self._rates = {k: [x for _, x in sorted(v)] for k, v in series.items()}

    def rate(self, currency: str, reporting: str, day: date) -> float | None:
        dates = self._dates.get((currency, reporting), [])
        i = bisect.bisect_right(dates, day)
        return self._rates[currency, reporting][i - 1] if i else None

    def convert(
        self, amount: float | None, currency: str | None, reporting: str, day: date, deal_id: str
    ) -> float | None:
        """ "a deal whose currency has no such rate fails a blocking check" (raised here; the
        seed carries an identity row for the reporting currency itself)."""
        if amount is None:
            return None
        rate = self.rate(currency, reporting, day) if currency else None
        if rate is None:
            raise ReferenceError(f"{deal_id}: no {currency}->{reporting} rate on or before {day}")
        return amount * rate


# ---------------------------------------------------------------- stage visits


def ordered_entries(
    deal: Mapping[str, Any], entries: list[Mapping[str, Any]], as_of: datetime
) -> list[Mapping[str, Any]]:
    """The deal's stage-history entries oldest first, those at or after ``as_of`` dropped.

    "History entries with equal timestamps keep the API's order (HubSpot lists newest first)":
    ``seq`` counts from the oldest, so (timestamp, seq) ascending is time order.
    "A history entry earlier than `created_at` is a structural fault in that record, never
    silently moved: the deal is quarantined" (:func:`without_quarantined` drops such deals from
    the inputs; raised here should one get through).
    """
    created = to_utc(deal["created_at"])
    out = sorted(entries, key=lambda e: (to_utc(e["changed_at"]), int(e["seq"])))
    for e in out:
        if to_utc(e["changed_at"]) < created:
            raise ReferenceError(
                f"{deal_key(deal['source'], deal['source_deal_id'])}: stage history entry before created_at"
            )
    kept = [e for e in out if to_utc(e["changed_at"]) < as_of]
    return kept or out[:1]  # the first visit still needs "the stage of the oldest entry"


def build_visits(
    deal: Mapping[str, Any], entries: list[Mapping[str, Any]], stages: StageMap, as_of: datetime
) -> list[Row]:
    """``fct_deal_stage_history`` rows of one deal.

    "A visit starts when a deal enters a stage different from the one it is in; repeats of the
    same stage collapse. The first visit starts at the deal's `created_at`, in the stage of the
    oldest history entry."
    """
    source, sid = deal["source"], str(deal["source_deal_id"])
    ordered = ordered_entries(deal, entries, as_of)
    if ordered:
        first_stage = str(ordered[0]["stage_id"])
        first_pipe = ordered[0].get("pipeline_id")
    else:
        first_stage, first_pipe = str(deal["stage_id"]), None
    starts = [(first_stage, first_pipe, to_utc(deal["created_at"]))]
    for e in ordered[1:]:
        if str(e["stage_id"]) != starts[-1][0]:
            starts.append((str(e["stage_id"]), e.get("pipeline_id"), to_utc(e["changed_at"])))

    visits: list[Row] = []
    for n, (stage_id, pipe, entered) in enumerate(starts, start=1):
        pipeline_id = pipe or stages.pipeline_of(source, stage_id, deal.get("pipeline_id"))
        step = stages.step(source, pipeline_id, stage_id)
        exited = starts[n][2] if n < len(starts) else None
        visits.append(
            {
                "deal_id": deal_key(source, sid),
                "source": source,
                "source_deal_id": sid,
                "pipeline_id": None if pipeline_id is None else str(pipeline_id),
                "stage_id": stage_id,
                "funnel_step": step.funnel_step,
                "funnel_step_order": step.order,
                "visit_number": n,
                "entered_at": entered,
                "exited_at": exited,
                "is_current": exited is None,
                # "`dwell_days` (`(exited_at or as_of) - entered_at`)"
                "dwell_days": days_between(entered, exited or as_of),
            }
        )
    flag_regressions_and_skips(visits)
    return visits


def flag_regressions_and_skips(visits: list[Row]) -> None:
    """ "`is_regression` (its step order is lower than the highest step order reached before it
    ...), `is_skip` (its step order is more than one above the previous visit with a step order).
    Both are false, never null, on a deal's first visit and on lost visits."
    """
    highest: int | None = None
    previous: int | None = None
    for k, v in enumerate(visits):
        order = v["funnel_step_order"]
        v["is_regression"] = v["is_skip"] = False
        if order is None:  # lost visit
            continue
        if k > 0:
            v["is_regression"] = highest is not None and order < highest
            v["is_skip"] = previous is not None and order > previous + 1
        highest = order if highest is None else max(highest, order)
        previous = order


def reopen_count(visits: list[Row]) -> int:
    """ "`reopen_count` (times it left a closed stage for an open one)\""""
    return sum(
        1 for a, b in pairwise(visits) if a["funnel_step"] in CLOSED_STEPS and b["funnel_step"] not in CLOSED_STEPS
    )


def reached_at(visits: list[Row], k: int) -> datetime | None:
    """ "a deal reaches step k at the first entry into any stage whose step order is >= k\""""
    times = [v["entered_at"] for v in visits if v["funnel_step_order"] is not None and v["funnel_step_order"] >= k]
    return min(times) if times else None


def max_order(visits: list[Row]) -> int | None:
    orders = [v["funnel_step_order"] for v in visits if v["funnel_step_order"] is not None]
    return max(orders) if orders else None


# ---------------------------------------------------------------- fct_deals


def primary_contact(contact_ids: Iterable[str], contacts: Mapping[tuple[str, str], Row], source: str) -> str | None:
    """ "`primary_contact_id` (the source's id of the earliest-created live associated contact;
    ties: the lowest id, compared as numbers where ids are numeric)"

    Reading chosen: associations are "their latest loaded values", so a live contact counts
    whatever its creation time.
    """
    live = [contacts[source, c] for c in contact_ids if (source, c) in contacts]
    if not live:
        return None
    best = min(live, key=lambda c: (to_utc(c["created_at"]), id_sort_key(c["source_contact_id"])))
    return str(best["source_contact_id"])


def deal_row(
    deal: Mapping[str, Any],
    visits: list[Row],
    primary_contact_id: str | None,
    rates: RateTable,
    reporting_currency: str,
    as_of_date: date,
) -> Row:
    """One ``fct_deals`` row from the deal's attributes and its visits."""
    current = visits[-1]
    created = to_utc(deal["created_at"])
    outcome = current["funnel_step"] if current["funnel_step"] in CLOSED_STEPS else "open"
    # "`closed_at` (when the deal entered its current closed stage; null while open)"
    closed_at = current["entered_at"] if outcome != "open" else None
    amount = parse_amount(deal.get("amount"))
    currency = deal.get("currency_code") or None
    # "the latest rate dated on or before the day of `closed_at`, or of `as_of` for open deals"
    rate_day = closed_at.date() if closed_at else as_of_date
    return {
        "deal_id": current["deal_id"],
        "source": deal["source"],
        "source_deal_id": str(deal["source_deal_id"]),
        "deal_name": deal.get("deal_name"),
        "pipeline_id": current["pipeline_id"],
        "current_stage_id": current["stage_id"],
        "current_funnel_step": current["funnel_step"],
        "outcome": outcome,
        "amount": amount,
        "currency_code": currency,
        "amount_reporting": rates.convert(amount, currency, reporting_currency, rate_day, current["deal_id"]),
        "created_at": created,
        "closed_at": closed_at,
        # "`cycle_days` (`closed_at - created_at` in days, fractional; null while open)"
        "cycle_days": days_between(created, closed_at) if closed_at else None,
        # "`expected_close_date` (date: the CRM's close date for open deals)"
        "expected_close_date": to_date(deal.get("close_date")) if outcome == "open" else None,
        "owner_id": None if deal.get("owner_id") in (None, "") else str(deal["owner_id"]),
        "primary_contact_id": primary_contact_id,
        "max_funnel_step_order": max_order(visits),
        "reopen_count": reopen_count(visits),
        "regression_count": sum(v["is_regression"] for v in visits),
        "skip_count": sum(v["is_skip"] for v in visits),
    }


# ---------------------------------------------------------------- the three KPI marts


def channel_of(raw: Any) -> str:
    """ "its channel is the current `hs_analytics_source`, lower-cased as it is (null or empty →
    `unknown`)\""""
    return "unknown" if raw is None or raw == "" else str(raw).lower()


def lead_volume_rows(leads: list[Row]) -> list[Row]:
    """``mart_lead_volume_daily``: "one row per day x source x channel with leads";
    "A HubSpot lead is a live contact, dated by its `createdate` property"."""
    counts: dict[tuple[date, str, str], int] = defaultdict(int)
    for c in leads:
        counts[to_utc(c["created_at"]).date(), c["source"], channel_of(c.get("channel"))] += 1
    return [{"lead_date": d, "source": s, "channel": ch, "new_leads": n} for (d, s, ch), n in sorted(counts.items())]


def conversion_row(month: date, source: str, k: int, entered: int, advanced: int) -> Row:
    """ "`conversion_rate` (`advanced_count / entered_count`, null when 0)\""""
    return {
        "cohort_month": month,
        "source": source,
        "funnel_step": STEP_NAMES[k],
        "funnel_step_order": k,
        "entered_count": entered,
        "advanced_count": advanced,
        "conversion_rate": advanced / entered if entered else None,
    }


def stage_conversion_rows(
    leads: list[Row],
    converted_leads: set[tuple[str, str]],
    visits_by_deal: Mapping[str, list[Row]],
    source_of: Mapping[str, str],
) -> list[Row]:
    """``mart_stage_conversion_monthly``: "one row per cohort month x source x step 1-4 with
    entries".

    - "Step 1 (`lead`): leads created in the month; advanced = those associated (now) with at
      least one live deal created before `as_of`."
    - "Steps 2-4: ... the cohort is the month of that moment; advanced = the deal reached an order
      above k by `as_of` (won counts as order 5)."
    """
    cells: dict[tuple[date, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for c in leads:
        cell = cells[month_of(to_utc(c["created_at"])), c["source"], 1]
        cell[0] += 1
        cell[1] += (c["source"], str(c["source_contact_id"])) in converted_leads
    for did, visits in visits_by_deal.items():
        top = max_order(visits)
        for k in (2, 3, 4):
            moment = reached_at(visits, k)
            if moment is None:
                continue
            cell = cells[month_of(moment), source_of[did], k]
            cell[0] += 1
            cell[1] += top is not None and top > k
    return [conversion_row(m, s, k, e, a) for (m, s, k), (e, a) in sorted(cells.items())]


def deal_outcome_rows(deals: list[Row]) -> list[Row]:
    """``mart_deal_outcomes_monthly``: "one row per close month x source with closed deals".

    "`win_rate` (`won / (won + lost)`) ... (the amount figures use won deals with a non-null
    amount, zero included; `won_amount_reporting` is null when there is none)"
    """
    groups: dict[tuple[date, str], list[Row]] = defaultdict(list)
    for d in deals:
        if d["outcome"] in CLOSED_STEPS:
            groups[month_of(d["closed_at"]), d["source"]].append(d)
    rows = []
    for (month, source), closed in sorted(groups.items()):
        won = [d for d in closed if d["outcome"] == "won"]
        lost = len(closed) - len(won)
        values = [d["amount_reporting"] for d in won if d["amount_reporting"] is not None]
        cycles = [d["cycle_days"] for d in won]
        rows.append(
            {
                "close_month": month,
                "source": source,
                "won_count": len(won),
                "lost_count": lost,
                "win_rate": len(won) / len(closed),
                "won_amount_reporting": float(sum(values)) if values else None,
                "avg_won_deal_value": mean(values),
                "median_won_deal_value": median(values),
                "avg_cycle_days_won": mean(cycles),
                "median_cycle_days_won": median(cycles),
            }
        )
    return rows


# ---------------------------------------------------------------- entry points


def compute_marts(
    deals: list[Mapping[str, Any]],
    contacts: list[Mapping[str, Any]],
    stage_history: list[Mapping[str, Any]],
    deal_contacts: list[Mapping[str, Any]],
    mapping: list[Mapping[str, Any]],
    rates: list[Mapping[str, Any]],
    *,
    as_of_date: date,
    reporting_currency: str = "USD",
    leads: list[Mapping[str, Any]] | None = None,
    lead_links: list[Mapping[str, Any]] | None = None,
) -> dict[str, list[Row]]:
    """All five contracted marts, keyed by mart name, from generic inputs (module docstring).

    A CRM whose leads are not its contacts (Pipedrive) passes ``leads`` (rows shaped like
    ``contacts``) and ``lead_links`` (``source``, ``source_deal_id``, ``source_contact_id`` = the
    lead id) for step 1; ``contacts``/``deal_contacts`` then only choose the primary contact.

    "The marts show the funnel as it stood then: deals and leads created at or after `as_of`
    are left out, history entries at or after `as_of` are ignored; other attributes (amount,
    name, owner, associations) are their latest loaded values."
    """
    as_of = as_of_instant(as_of_date)
    stages, rate_table = StageMap(mapping), RateTable(rates)

    live_contacts = {(c["source"], str(c["source_contact_id"])): dict(c) for c in contacts if is_live(c)}
    lead_rows = live_contacts.values() if leads is None else [c for c in leads if is_live(c)]
    leads = [c for c in lead_rows if to_utc(c["created_at"]) < as_of]
    live_deals = [d for d in deals if is_live(d) and to_utc(d["created_at"]) < as_of]

    history: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for e in stage_history:
        history[deal_key(e["source"], e["source_deal_id"])].append(e)
    contacts_of: dict[str, list[str]] = defaultdict(list)
    for a in deal_contacts:
        contacts_of[deal_key(a["source"], a["source_deal_id"])].append(str(a["source_contact_id"]))

    visits_by_deal: dict[str, list[Row]] = {}
    deal_rows: list[Row] = []
    converted: set[tuple[str, str]] = set()
    for d in sorted(live_deals, key=lambda d: (d["source"], id_sort_key(d["source_deal_id"]))):
        did = deal_key(d["source"], d["source_deal_id"])
        visits = build_visits(d, history.get(did, []), stages, as_of)
        visits_by_deal[did] = visits
        pc = primary_contact(contacts_of.get(did, []), live_contacts, d["source"])
        deal_rows.append(deal_row(d, visits, pc, rate_table, reporting_currency, as_of_date))
        if lead_links is None:
            converted.update((d["source"], c) for c in contacts_of.get(did, []))
    for link in lead_links or []:
        if deal_key(link["source"], link["source_deal_id"]) in visits_by_deal:
            converted.add((link["source"], str(link["source_contact_id"])))

    source_of = {r["deal_id"]: r["source"] for r in deal_rows}
    return {
        "fct_deal_stage_history": [v for vs in visits_by_deal.values() for v in vs],
        "fct_deals": deal_rows,
        "mart_lead_volume_daily": lead_volume_rows(leads),
        "mart_stage_conversion_monthly": stage_conversion_rows(leads, converted, visits_by_deal, source_of),
        "mart_deal_outcomes_monthly": deal_outcome_rows(deal_rows),
    }


def read_seed(path: Path) -> list[Row]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _value(v: Any) -> Any:
    """pandas' missing values (None/NaN/NaT/NA) as None."""
    import pandas as pd

    return None if pd.api.types.is_scalar(v) and pd.isna(v) else v


def _records(frame: Any) -> list[Row]:
    return [{k: _value(v) for k, v in r.items()} for r in frame.to_dict("records")]


def hubspot_inputs(truth: Any) -> dict[str, list[Row]]:
    """The sandbox ground truth as generic inputs (HubSpot: ids are numeric strings, ``source``
    = 'hubspot'; archived and merged-away rows are flagged, hard-deleted rows are simply gone)."""
    src = "hubspot"
    deals = [
        {
            "source": src,
            "source_deal_id": d["id"],
            "deal_name": d["dealname"],
            "pipeline_id": d["pipeline"],
            "stage_id": d["dealstage"],
            "amount": d["amount"],
            "currency_code": d["currency"],
            "created_at": int(d["createdate_ms"]),
            "close_date": None if d["closedate_ms"] is None else int(d["closedate_ms"]),
            "owner_id": d["owner_id"],
            "archived": bool(d["archived"]),
            "merged_into": d["merged_into"],
        }
        for d in _records(truth.deals())
    ]
    contacts = [
        {
            "source": src,
            "source_contact_id": c["id"],
            "created_at": int(c["createdate_ms"]),
            "channel": c["channel"],
            "archived": bool(c["archived"]),
            "merged_into": c["merged_into"],
        }
        for c in _records(truth.contacts())
    ]
    history = [
        {
            "source": src,
            "source_deal_id": h["deal_id"],
            "seq": int(h["seq"]),
            "stage_id": h["stage_id"],
            "pipeline_id": h["pipeline_id"],
            "changed_at": int(h["timestamp_ms"]),
        }
        for h in _records(truth.stage_history())
    ]
    links = [
        {"source": src, "source_deal_id": a["deal_id"], "source_contact_id": a["contact_id"]}
        for a in _records(truth.deal_contacts())
    ]
    inputs = {"deals": deals, "contacts": contacts, "stage_history": history, "deal_contacts": links}
    return without_quarantined(inputs)


def without_quarantined(inputs: dict[str, list[Row]], loaded_by: datetime | None = None) -> dict[str, list[Row]]:
    """ "A fault in one record ... quarantines that record's deal: it is left out of every mart"
    (tests/reference/quarantine.py): the inputs without those deals, judged on every stage-history
    entry the CRM sent (``stage_history``, or ``stage_entry_times`` when the CRM's raw history
    has entries that start no visit)."""
    from tests.reference.quarantine import drop_quarantined, quarantine_rows

    times = inputs.get("stage_entry_times")
    if times is None:
        times = stage_entry_times(inputs["stage_history"])
    keys = {r["deal_id"] for r in quarantine_rows(inputs["deals"], times, loaded_by=loaded_by)}
    return drop_quarantined(inputs, keys)


def stage_entry_times(stage_history: Iterable[Row]) -> dict[str, list[Any]]:
    """Deal key -> every stage-history entry time the CRM sent for the deal (what the quarantine
    rules judge)."""
    times: dict[str, list[Any]] = defaultdict(list)
    for e in stage_history:
        if e.get("changed_at") is not None:
            times[deal_key(e["source"], e["source_deal_id"])].append(e["changed_at"])
    return dict(times)


def marts_of_inputs(
    inputs: dict[str, Any],
    *,
    as_of_date: date,
    seeds_dir: Path | str,
    reporting_currency: str = "USD",
    **extra: Any,
) -> dict[str, list[Row]]:
    """:func:`compute_marts` over one CRM's inputs (:func:`hubspot_inputs`,
    ``pipedrive_inputs``) and the seeds (``funnel_stage_mapping.csv``, ``currency_rates.csv``) in
    ``seeds_dir``; ``extra``: its further keyword arguments (Pipedrive's leads)."""
    seeds = Path(seeds_dir)
    return compute_marts(
        inputs["deals"],
        inputs["contacts"],
        inputs["stage_history"],
        inputs["deal_contacts"],
        read_seed(seeds / "funnel_stage_mapping.csv"),
        read_seed(seeds / "currency_rates.csv"),
        as_of_date=as_of_date,
        reporting_currency=reporting_currency,
        **extra,
    )


def marts_from_truth(
    truth: Any, *, as_of_date: date, seeds_dir: Path | str, reporting_currency: str = "USD"
) -> dict[str, list[Row]]:
    """:func:`marts_of_inputs` over the sandbox's :class:`emulators.truth.ground_truth.GroundTruth`."""
    return marts_of_inputs(
        hubspot_inputs(truth), as_of_date=as_of_date, seeds_dir=seeds_dir, reporting_currency=reporting_currency
    )
