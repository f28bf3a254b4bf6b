"""Meta streams: ``campaigns`` (the ad account and every campaign, per account) and ``insights``
(``level=campaign``, ``time_increment=1``: a first backfill from the start date, then a trailing
re-read window; see :mod:`connectors.daily_window`). Yields loader batches only.

One batch per account (campaigns) or per account × date chunk (insights); each insights batch
replaces the chunk's days whole for that account (``account_day``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from connectors import daily_window as window
from connectors.common import Batch, ConnectorError, ProgressFn, TableWrite
from connectors.meta import defaults
from connectors.meta.client import MetaClient
from connectors.meta.parse import account_ids as parse_account_ids
from connectors.meta.parse import account_row, campaign_row, insight_row
from connectors.meta.schema import ACCOUNT_FIELDS, CAMPAIGN_FIELDS, INSIGHT_FIELDS

SOURCE = "meta"


class MetaSource:
    STREAMS = ("campaigns", "insights")

    def __init__(
        self,
        client: MetaClient,
        account_ids: list[str],
        *,
        start_date: date,
        reread_days: int = defaults.REREAD_DAYS,
        chunk_days: int = defaults.CHUNK_DAYS,
        page_limit: int = defaults.PAGE_LIMIT,
        progress: ProgressFn | None = None,
    ) -> None:
        if not account_ids:
            raise ConnectorError("META_AD_ACCOUNT_IDS is empty: list the act_<digits> ids of the ad accounts to read.")
        self.client = client
        self.account_ids = parse_account_ids(account_ids)
        self.start_date = start_date
        self.reread_days = reread_days
        self.chunk_days = chunk_days
        self.page_limit = page_limit
        self.progress: ProgressFn = progress or client.progress

    def sync(self, stream: str, state: dict[str, Any] | None, *, now: datetime) -> Iterator[Batch]:
        if stream == "campaigns":
            yield from self._campaigns(now)
        elif stream == "insights":
            yield from self._insights(state, now.date())
        else:
            raise ConnectorError(f"Unknown Meta stream {stream!r}; known: {self.STREAMS}")

    def api_total(self, stream: str) -> int | None:  # noqa: ARG002
        return None

    def _campaigns(self, now: datetime) -> Iterator[Batch]:
        for aid in self.account_ids:
            account = account_row(aid, self.client.get(f"act_{aid}", {"fields": ",".join(ACCOUNT_FIELDS)}))
            rows: list[dict[str, Any]] = []
            params = {"fields": ",".join(CAMPAIGN_FIELDS), "limit": self.page_limit}
            for page in self.client.iter_pages(f"act_{aid}/campaigns", params):
                rows.extend(campaign_row(aid, item) for item in page.get("data") or [])
            self.progress(f"meta act_{aid}: {len(rows)} campaigns", {"account_id": aid, "records": len(rows)})
            yield Batch(
                stream="campaigns",
                writes=[
                    TableWrite("campaigns", rows, replace_column="account_id", replace_ids=[aid]),
                    TableWrite("ad_accounts", [account]),
                ],
                cursor={"version": 1, "last_sync_at": now.isoformat()},
                stats={"mode": "full", "records": len(rows)},
            )

    def _insights(self, state: dict[str, Any] | None, today: date) -> Iterator[Batch]:
        st = window.load_state(state, SOURCE, "insights")
        for aid in self.account_ids:
            account = st["accounts"].get(aid)
            first, last = window.read_range(
                account, today=today, start_date=self.start_date, reread_days=self.reread_days
            )
            mode = "re-read window" if account else "backfill"
            for since, until in window.chunks(first, last, self.chunk_days):
                params = {
                    "level": "campaign",
                    "time_increment": "1",
                    "fields": ",".join(INSIGHT_FIELDS),
                    "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
                    "limit": self.page_limit,
                }
                rows: list[dict[str, Any]] = []
                pages = 0
                for page in self.client.iter_pages(f"act_{aid}/insights", params):
                    pages += 1
                    rows.extend(insight_row(aid, item) for item in page.get("data") or [])
                account = window.advance(account, until, [r["date_start"] for r in rows])
                st["accounts"][aid] = account
                self.progress(
                    f"meta act_{aid} {since}..{until}: {len(rows)} campaign-days in {pages} pages ({mode})",
                    {"account_id": aid, "records": len(rows), "pages": pages},
                )
                yield Batch(
                    stream="insights",
                    writes=[
                        TableWrite(
                            "campaign_insights",
                            rows,
                            replace_column="account_day",
                            replace_ids=[f"{aid}:{d}" for d in window.days_of(since, until)],
                        )
                    ],
                    cursor={
                        "version": window.CURSOR_VERSION,
                        "accounts": {k: dict(v) for k, v in st["accounts"].items()},
                    },
                    stats={"mode": mode, "records": len(rows), "pages": pages},
                )
