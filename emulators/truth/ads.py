"""Ad accounts, campaigns and daily campaign spend, drawn from the same story as the CRM.

The generator calls :func:`generate` once the contacts exist. Each campaign buys the paid
contacts whose UTM campaign (``hs_analytics_source_data_2``) is its own: a campaign's daily
spend is its cost per lead × the paid leads it brought that day (with noise), plus a small
always-on base, so a campaign whose spend rises brings more ``paid_search`` / ``paid_social``
contacts, and the two sides of the ROI mart come from one story.

Built in two currencies (USD, EUR) and two time zones per platform; days are the account's own
days. Edge cases on purpose: a removed campaign with history, a launch campaign that spends in
the month before the first lead (spend without leads), impressions-only days (spend 0),
and spend on the two days after ``end_date`` (after ``as_of``, left out of the marts).

Drawn from its own ``random.Random``, so the CRM rows are byte-for-byte what they were.
Test mutations (:func:`rename_campaign`, :func:`restate_day`, :func:`remove_campaign`) change
the truth the way platforms do between two syncs.
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

VERSION = "2"
"""Bumped when the ad data changes shape; part of the sandbox config (rebuilds cached files)."""

DDL = """
CREATE TABLE ad_accounts (
  platform TEXT NOT NULL, account_id TEXT NOT NULL, name TEXT NOT NULL, currency TEXT NOT NULL,
  time_zone TEXT NOT NULL, manager_id TEXT, PRIMARY KEY (platform, account_id));
CREATE TABLE ad_campaigns (
  platform TEXT NOT NULL, account_id TEXT NOT NULL, campaign_id TEXT NOT NULL, name TEXT NOT NULL,
  status TEXT NOT NULL, objective TEXT, utm_campaign TEXT, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL, PRIMARY KEY (platform, campaign_id));
CREATE TABLE ad_stats (
  platform TEXT NOT NULL, account_id TEXT NOT NULL, campaign_id TEXT NOT NULL, day TEXT NOT NULL,
  spend_micros INTEGER NOT NULL, impressions INTEGER NOT NULL, clicks INTEGER NOT NULL,
  conversions REAL NOT NULL, lead_actions INTEGER NOT NULL,
  PRIMARY KEY (platform, campaign_id, day)) WITHOUT ROWID;
"""

GOOGLE, META = "google_ads", "meta"
CHANNEL_OF = {GOOGLE: "PAID_SEARCH", META: "PAID_SOCIAL"}
MANAGER_ID = "1112223333"
DAYS_AFTER_END = 2


@dataclass(frozen=True)
class AccountDef:
    platform: str
    account_id: str
    name: str
    currency: str
    time_zone: str
    manager_id: str | None


@dataclass(frozen=True)
class CampaignDef:
    platform: str
    account_id: str
    campaign_id: str
    name: str
    utm: str | None
    cpl: float  # cost per lead, account currency
    base: float  # always-on daily spend, account currency
    status: str = "ENABLED"
    first_month: int = 0  # months after the ads' first month
    last_month: int | None = None  # inclusive; None = to the end
    objective: str | None = None


ACCOUNTS = (
    AccountDef(GOOGLE, "1234567890", "Sandbox Search US", "USD", "America/New_York", MANAGER_ID),
    AccountDef(GOOGLE, "9876543210", "Sandbox Search DACH", "EUR", "Europe/Berlin", MANAGER_ID),
    AccountDef(META, "101000000000001", "Sandbox Social US", "USD", "America/Los_Angeles", None),
    AccountDef(META, "101000000000002", "Sandbox Social EU", "EUR", "Europe/Berlin", None),
)

LEADS, AWARENESS = "OUTCOME_LEADS", "OUTCOME_AWARENESS"
US, DACH = "1234567890", "9876543210"
META_US, META_EU = "101000000000001", "101000000000002"

# (platform, account, id, name, UTM campaign, cost per lead, base/day, status, first month, last month)
CAMPAIGNS = (
    CampaignDef(GOOGLE, US, "20000000111", "Brand – Search", "brand_search", 38.0, 1.5),
    CampaignDef(GOOGLE, US, "20000000112", "Generic CRM software", "generic_crm_software", 71.0, 2.5),
    # spends only in the month before the first lead: a month with spend and no leads
    CampaignDef(GOOGLE, US, "20000000113", "Launch teaser", None, 0.0, 55.0, last_month=0),
    CampaignDef(GOOGLE, DACH, "20000000211", "Wettbewerber Begriffe", "competitor_terms", 64.0, 2.0),
    CampaignDef(GOOGLE, DACH, "20000000212", "Retargeting Suche", "retargeting_search", 29.0, 1.0),
    # removed half-way: history stays, nothing after
    CampaignDef(GOOGLE, DACH, "20000000213", "Old display test", None, 0.0, 21.0, "REMOVED", 1, last_month=5),
    CampaignDef(
        META,
        META_US,
        "120210000000000001",
        "Prospecting lookalike",
        "prospecting_lookalike",
        45.0,
        1.5,
        objective=LEADS,
    ),
    CampaignDef(META, META_US, "120210000000000002", "Retargeting Q", "retargeting_q", 33.0, 1.0, objective=LEADS),
    CampaignDef(META, META_EU, "120210000000000003", "Webinar promo EU", "webinar_promo", 52.0, 1.5, objective=LEADS),
    CampaignDef(
        META, META_EU, "120210000000000004", "E-book pipeline guide", "ebook_pipeline_guide", 40.0, 1.0, objective=LEADS
    ),
    # paused after eight months; the channel seed moves it to `display` (spend, no leads)
    CampaignDef(
        META,
        META_EU,
        "120210000000000005",
        "Brand awareness (paused)",
        None,
        0.0,
        12.0,
        "PAUSED",
        2,
        last_month=7,
        objective=AWARENESS,
    ),
)


def _month_index(first: date, day: date) -> int:
    return (day.year - first.year) * 12 + day.month - first.month


def _cents_micros(amount: float) -> int:
    """An amount in major units as micros, rounded to the cent (both APIs bill in cents)."""
    return max(0, round(amount * 100)) * 10_000


def generate(conn: sqlite3.Connection, *, seed: int, start: date, end_date: date) -> None:
    """Write accounts, campaigns and daily stats into ``conn`` (the sandbox file being built).

    Ads run from the first day of the month before ``start`` (the CRM period's first day)
    through ``end_date`` + 2 days.
    """
    conn.executescript(DDL)
    rng = random.Random(f"ads-{seed}")
    first = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
    last = end_date + timedelta(days=DAYS_AFTER_END)
    leads: dict[tuple[str, str, date], int] = defaultdict(int)
    for channel, utm, created in conn.execute(
        "SELECT hs_analytics_source, hs_analytics_source_data_2, createdate FROM contacts "
        "WHERE hs_analytics_source IN ('PAID_SEARCH', 'PAID_SOCIAL')"
    ):
        leads[(channel, utm, datetime.fromtimestamp(created / 1000, UTC).date())] += 1
    for a in ACCOUNTS:
        conn.execute("INSERT INTO ad_accounts VALUES (?,?,?,?,?,?)", (*_astuple(a),))
    created_ms = int(datetime(first.year, first.month, 1, tzinfo=UTC).timestamp() * 1000) - 86_400_000 * 20
    rows = []
    for c in CAMPAIGNS:
        conn.execute(
            "INSERT INTO ad_campaigns VALUES (?,?,?,?,?,?,?,?,?)",
            (c.platform, c.account_id, c.campaign_id, c.name, c.status, c.objective, c.utm, created_ms, created_ms),
        )
        day = first
        while day <= last:
            m = _month_index(first, day)
            if m >= c.first_month and (c.last_month is None or m <= c.last_month):
                row = _day_row(rng, c, day, leads.get((CHANNEL_OF[c.platform], c.utm, day), 0) if c.utm else 0)
                if row is not None:
                    rows.append(row)
            day += timedelta(days=1)
    conn.executemany("INSERT INTO ad_stats VALUES (?,?,?,?,?,?,?,?,?)", rows)


def _astuple(a: AccountDef) -> tuple:
    return (a.platform, a.account_id, a.name, a.currency, a.time_zone, a.manager_id)


def _day_row(rng: random.Random, c: CampaignDef, day: date, n_leads: int) -> tuple | None:
    weekday = day.weekday() < 5
    r = rng.random()
    if n_leads == 0 and r < (0.12 if weekday else 0.3):
        return None  # no delivery: the APIs return no row
    wave = 1.0 + 0.25 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365.0)
    spend = c.cpl * n_leads * rng.lognormvariate(0.0, 0.2) + c.base * wave * rng.lognormvariate(0.0, 0.25)
    if n_leads == 0 and rng.random() < 0.04:
        spend = 0.0  # impressions only (spend 0): still a row
    micros = _cents_micros(spend)
    cpm = rng.uniform(6.0, 14.0)
    impressions = max(1, int(spend / cpm * 1000)) if micros else rng.randint(3, 40)
    clicks = int(impressions * rng.uniform(0.01, 0.05)) if micros else 0
    conversions = round(n_leads * rng.uniform(0.6, 1.2) * 2) / 2  # Google: a double (halves)
    lead_actions = max(0, n_leads + rng.randint(-1, 1)) if n_leads else 0
    return (
        c.platform,
        c.account_id,
        c.campaign_id,
        day.isoformat(),
        micros,
        impressions,
        clicks,
        conversions,
        lead_actions,
    )


# ---------------------------------------------------------------- reading (emulators, tests)


def _rows(path_or_conn: Path | str | sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    own = not isinstance(path_or_conn, sqlite3.Connection)
    conn = sqlite3.connect(f"file:{path_or_conn}?mode=ro", uri=True) if own else path_or_conn
    try:
        cur = conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        if own:
            conn.close()


def accounts(db: Path | str | sqlite3.Connection, platform: str | None = None) -> list[dict[str, Any]]:
    """Ad accounts: platform, account_id, name, currency, time_zone, manager_id."""
    sql = "SELECT * FROM ad_accounts" + (" WHERE platform = ?" if platform else "") + " ORDER BY 1, 2"
    return _rows(db, sql, (platform,) if platform else ())


def campaigns(db: Path | str | sqlite3.Connection, platform: str | None = None) -> list[dict[str, Any]]:
    """Campaigns with their current name and status."""
    sql = "SELECT * FROM ad_campaigns" + (" WHERE platform = ?" if platform else "") + " ORDER BY 1, 3"
    return _rows(db, sql, (platform,) if platform else ())


def stats(
    db: Path | str | sqlite3.Connection,
    platform: str | None = None,
    account_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Daily campaign stats (rows with activity only), ordered by day then campaign id."""
    where, params = [], []
    for cond, value in (
        ("platform = ?", platform),
        ("account_id = ?", account_id),
        ("day >= ?", since),
        ("day <= ?", until),
    ):
        if value is not None:
            where.append(cond)
            params.append(value)
    sql = "SELECT * FROM ad_stats" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY day, campaign_id"
    return _rows(db, sql, tuple(params))


def has_ads(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ad_stats'").fetchone())


# ---------------------------------------------------------------- mutations (tests)


def _write(db: Path | str, sql: str, params: tuple) -> int:
    conn = sqlite3.connect(str(db))
    try:
        n = conn.execute(sql, params).rowcount
        conn.commit()
        return n
    finally:
        conn.close()


def rename_campaign(db: Path | str, platform: str, campaign_id: str, name: str) -> None:
    """The advertiser renames a campaign: every row the API returns now carries the new name."""
    if not _write(
        db, "UPDATE ad_campaigns SET name = ? WHERE platform = ? AND campaign_id = ?", (name, platform, campaign_id)
    ):
        raise KeyError(campaign_id)


def remove_campaign(db: Path | str, platform: str, campaign_id: str) -> None:
    """The advertiser removes (Google) / deletes (Meta) a campaign; its history stays."""
    status = "REMOVED" if platform == GOOGLE else "DELETED"
    _write(
        db, "UPDATE ad_campaigns SET status = ? WHERE platform = ? AND campaign_id = ?", (status, platform, campaign_id)
    )


def restate_day(db: Path | str, platform: str, campaign_id: str, day: str, factor: float) -> None:
    """The platform restates a recent day (cost settles, late conversions): spend × ``factor``."""
    conn = sqlite3.connect(str(db))
    try:
        row = conn.execute(
            "SELECT spend_micros, conversions FROM ad_stats WHERE platform = ? AND campaign_id = ? AND day = ?",
            (platform, campaign_id, day),
        ).fetchone()
        if row is None:
            raise KeyError((campaign_id, day))
        conn.execute(
            "UPDATE ad_stats SET spend_micros = ?, conversions = conversions + 1, lead_actions = lead_actions + 1 "
            "WHERE platform = ? AND campaign_id = ? AND day = ?",
            (_cents_micros(row[0] / 1e6 * factor), platform, campaign_id, day),
        )
        conn.commit()
    finally:
        conn.close()
