"""The GAQL subset the sandbox understands: SELECT fields FROM campaign|customer, an optional
``WHERE segments.date BETWEEN 'a' AND 'b'`` (or ``DURING LAST_N_DAYS``), ORDER BY / LIMIT ignored
except LIMIT. Anything else is rejected as Google does (``queryError``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

FIELDS = {
    "campaign": {
        "customer.id",
        "customer.descriptive_name",
        "customer.currency_code",
        "customer.time_zone",
        "campaign.id",
        "campaign.name",
        "campaign.status",
        "segments.date",
        "metrics.cost_micros",
        "metrics.clicks",
        "metrics.impressions",
        "metrics.conversions",
        "metrics.conversions_value",
    },
    "customer": {"customer.id", "customer.descriptive_name", "customer.currency_code", "customer.time_zone"},
}

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+.+?)?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BETWEEN = re.compile(r"^segments\.date\s+BETWEEN\s+'(\d{4}-\d{2}-\d{2})'\s+AND\s+'(\d{4}-\d{2}-\d{2})'$", re.I)
_DURING = re.compile(r"^segments\.date\s+DURING\s+LAST_(\d+)_DAYS$", re.I)


class QueryError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    resource: str
    since: date | None
    until: date | None
    limit: int | None


def parse(text: str, today: date) -> Query:
    m = _QUERY.match(text or "")
    if not m:
        raise QueryError("UNEXPECTED_END_OF_QUERY" if not text else "PROHIBITED_CLAUSE_IN_SELECT", "Error in query.")
    resource = m["resource"].lower()
    if resource not in FIELDS:
        raise QueryError("INVALID_RESOURCE_NAME", f"Unrecognized resource '{resource}' in the sandbox.")
    fields = tuple(f.strip() for f in m["fields"].split(","))
    bad = [f for f in fields if f not in FIELDS[resource]]
    if bad:
        raise QueryError("UNRECOGNIZED_FIELD", f"Unrecognized field in SELECT clause: '{bad[0]}'.")
    since = until = None
    where = (m["where"] or "").strip()
    if where:
        if b := _BETWEEN.match(where):
            since, until = date.fromisoformat(b[1]), date.fromisoformat(b[2])
            if since > until:
                raise QueryError("INVALID_VALUE_WITH_BETWEEN_OPERATOR", "BETWEEN start is after its end.")
        elif d := _DURING.match(where):
            until = today - timedelta(days=1)
            since = today - timedelta(days=int(d[1]))
        else:
            raise QueryError("BAD_VALUE_IN_WHERE_CLAUSE", "The sandbox supports only a segments.date filter.")
    if "segments.date" in fields and since is None:
        raise QueryError(
            "EXPECTED_FILTERS_ON_DATE_RANGE",
            "A finite date range filter on segments.date is required when segments.date is selected.",
        )
    return Query(fields, resource, since, until, int(m["limit"]) if m["limit"] else None)
