"""Google Ads streams: ``campaigns`` (every campaign and the customer, per customer) and
``campaign_stats`` (campaign × day metrics: a first backfill from the start date, then a
trailing re-read window; see :mod:`connectors.daily_window`). Yields loader batches only.

One batch per customer (campaigns) or per customer × date chunk (stats); each stats batch
replaces the chunk's days whole for that customer (``customer_day``), so a campaign-day the API
no longer reports disappears, and its cursor records how far the customer was read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from connectors import daily_window as window
from connectors.common import Batch, ConnectorError, ProgressFn, TableWrite
from connectors.google_ads import defaults
from connectors.google_ads.client import GoogleAdsClient
from connectors.google_ads.parse import campaign_row, customer_row, stats_row
from connectors.google_ads.parse import customer_ids as parse_customer_ids
from connectors.google_ads.schema import CAMPAIGNS_QUERY, CUSTOMER_QUERY, stats_query

SOURCE = "google_ads"


class GoogleAdsSource:
    STREAMS = ("campaigns", "campaign_stats")

    def __init__(
        self,
        client: GoogleAdsClient,
        customer_ids: list[str],
        *,
        start_date: date,
        reread_days: int = defaults.REREAD_DAYS,
        chunk_days: int = defaults.CHUNK_DAYS,
        progress: ProgressFn | None = None,
    ) -> None:
        if not customer_ids:
            raise ConnectorError("GOOGLE_ADS_CUSTOMER_IDS is empty: list the 10-digit ids of the accounts to read.")
        self.client = client
        self.customer_ids = parse_customer_ids(customer_ids)
        self.start_date = start_date
        self.reread_days = reread_days
        self.chunk_days = chunk_days
        self.progress: ProgressFn = progress or client.progress

    def sync(self, stream: str, state: dict[str, Any] | None, *, now: datetime) -> Iterator[Batch]:
        if stream == "campaigns":
            yield from self._campaigns(now)
        elif stream == "campaign_stats":
            yield from self._stats(state, now.date())
        else:
            raise ConnectorError(f"Unknown Google Ads stream {stream!r}; known: {self.STREAMS}")

    def api_total(self, stream: str) -> int | None:  # noqa: ARG002
        """Google Ads has no count of campaign-days; nothing to compare."""
        return None

    def _campaigns(self, now: datetime) -> Iterator[Batch]:
        for cid in self.customer_ids:
            customers = [customer_row(r) for r in self.client.search_stream(cid, CUSTOMER_QUERY)]
            campaigns = [campaign_row(r) for r in self.client.search_stream(cid, CAMPAIGNS_QUERY)]
            self.progress(
                f"google_ads customers/{cid}: {len(campaigns)} campaigns",
                {"customer_id": cid, "records": len(campaigns)},
            )
            yield Batch(
                stream="campaigns",
                writes=[
                    TableWrite("campaigns", campaigns, replace_column="customer_id", replace_ids=[cid]),
                    TableWrite("customers", customers),
                ],
                cursor={"version": 1, "last_sync_at": now.isoformat()},
                stats={"mode": "full", "records": len(campaigns)},
            )

    def _stats(self, state: dict[str, Any] | None, today: date) -> Iterator[Batch]:
        st = window.load_state(state, SOURCE, "campaign_stats")
        for cid in self.customer_ids:
            account = st["accounts"].get(cid)
            first, last = window.read_range(
                account, today=today, start_date=self.start_date, reread_days=self.reread_days
            )
            mode = "re-read window" if account else "backfill"
            for since, until in window.chunks(first, last, self.chunk_days):
                rows = [
                    stats_row(r)
                    for r in self.client.search_stream(cid, stats_query(since.isoformat(), until.isoformat()))
                ]
                wrong = {r["customer_id"] for r in rows} - {cid}
                if wrong:
                    raise ConnectorError(
                        f"Google Ads returned rows of customer(s) {sorted(wrong)} for customers/{cid}."
                    )
                account = window.advance(account, until, [r["date"] for r in rows])
                st["accounts"][cid] = account
                self.progress(
                    f"google_ads customers/{cid} {since}..{until}: {len(rows)} campaign-days ({mode})",
                    {"customer_id": cid, "records": len(rows)},
                )
                yield Batch(
                    stream="campaign_stats",
                    writes=[
                        TableWrite(
                            "campaign_stats",
                            rows,
                            replace_column="customer_day",
                            replace_ids=[f"{cid}:{d}" for d in window.days_of(since, until)],
                        )
                    ],
                    cursor={
                        "version": window.CURSOR_VERSION,
                        "accounts": {k: dict(v) for k, v in st["accounts"].items()},
                    },
                    stats={"mode": mode, "records": len(rows)},
                )
