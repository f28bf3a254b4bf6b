"""SQLite layout of a sandbox CRM and its static reference data (the HubSpot property catalogue
over these columns is emulators/hubspot/catalog.py).

Table layout (all timestamps are INTEGER epoch milliseconds, UTC; ids are INTEGER):

``meta(key TEXT PK, value TEXT)``
    ``config`` (JSON of the SandboxConfig), ``end_date`` (ISO date), ``schema_version``,
    ``mutations`` (number of ``mutate()`` calls applied), ``contact_id_hwm`` / ``deal_id_hwm``
    (highest ids handed out by ``mutate()``, so hard-deleted ids are never reused).
``owners(id PK, email, first_name, last_name, user_id, teams TEXT(JSON), created_at,
updated_at, archived, archived_at)``
``pipelines(id TEXT PK, label, display_order, created_at, updated_at, archived)``
``stages(id TEXT PK, pipeline_id, label, display_order, is_closed, probability TEXT,
is_won, created_at, updated_at, archived)``  -- ``is_won`` is ground truth only; not served.
``contacts(id PK, createdate, lastmodifieddate, email, firstname, lastname, lifecyclestage,
hs_lead_status, hs_analytics_source, hs_analytics_source_data_1, hs_analytics_source_data_2,
hs_google_click_id, hubspot_owner_id, hs_merged_object_ids, hs_v2_date_entered_{lead,
marketingqualifiedlead,salesqualifiedlead,opportunity,customer}, archived, archived_at,
merged_into)``
``deals(id PK, dealname, dealtype, createdate, hs_lastmodifieddate, pipeline, dealstage,
amount TEXT, deal_currency_code, closedate, hubspot_owner_id, hs_is_closed TEXT,
hs_is_closed_won TEXT, hs_merged_object_ids, archived, archived_at, merged_into)``
    Column names equal HubSpot property names, so the catalogue maps 1:1.
``deal_history(deal_id, property, seq, value TEXT, timestamp, source_type, source_id,
updated_by_user_id)`` PK ``(deal_id, property, seq)``; ``seq`` 0 = oldest.  Properties with
history: dealstage, pipeline, amount, closedate (value = ISO string), deal_currency_code.
``deal_contacts(deal_id, contact_id)`` PK both; index on ``contact_id``.

``archived`` is 0/1; ``merged_into`` is the winner's id for a merged (archived) loser.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

# The epoch/ISO conversions live in core.epoch; re-exported for the generator and mutations.
from core.epoch import date_to_ms as date_to_ms
from core.epoch import iso_to_ms as iso_to_ms
from core.epoch import ms_to_iso as ms_to_iso

# Bumped whenever generated content changes, so a cached sandbox file is rebuilt.
SCHEMA_VERSION = "4"  # 3: amount / close-date / currency histories (histories.py); 4: seasons.py

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE owners (
  id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, user_id INTEGER,
  teams TEXT, created_at INTEGER, updated_at INTEGER, archived INTEGER NOT NULL DEFAULT 0,
  archived_at INTEGER);
CREATE TABLE pipelines (
  id TEXT PRIMARY KEY, label TEXT, display_order INTEGER, created_at INTEGER,
  updated_at INTEGER, archived INTEGER NOT NULL DEFAULT 0);
CREATE TABLE stages (
  id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, label TEXT, display_order INTEGER,
  is_closed INTEGER NOT NULL, probability TEXT NOT NULL, is_won INTEGER NOT NULL,
  created_at INTEGER, updated_at INTEGER, archived INTEGER NOT NULL DEFAULT 0);
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY, createdate INTEGER NOT NULL, lastmodifieddate INTEGER NOT NULL,
  email TEXT, firstname TEXT, lastname TEXT, lifecyclestage TEXT, hs_lead_status TEXT,
  hs_analytics_source TEXT, hs_analytics_source_data_1 TEXT, hs_analytics_source_data_2 TEXT,
  hs_google_click_id TEXT, hubspot_owner_id INTEGER, hs_merged_object_ids TEXT,
  hs_v2_date_entered_lead INTEGER, hs_v2_date_entered_marketingqualifiedlead INTEGER,
  hs_v2_date_entered_salesqualifiedlead INTEGER, hs_v2_date_entered_opportunity INTEGER,
  hs_v2_date_entered_customer INTEGER,
  archived INTEGER NOT NULL DEFAULT 0, archived_at INTEGER, merged_into INTEGER);
CREATE TABLE deals (
  id INTEGER PRIMARY KEY, dealname TEXT, dealtype TEXT, createdate INTEGER NOT NULL,
  hs_lastmodifieddate INTEGER NOT NULL, pipeline TEXT NOT NULL, dealstage TEXT NOT NULL,
  amount TEXT, deal_currency_code TEXT, closedate INTEGER, hubspot_owner_id INTEGER,
  hs_is_closed TEXT NOT NULL, hs_is_closed_won TEXT NOT NULL, hs_merged_object_ids TEXT,
  archived INTEGER NOT NULL DEFAULT 0, archived_at INTEGER, merged_into INTEGER);
CREATE TABLE deal_history (
  deal_id INTEGER NOT NULL, property TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT,
  timestamp INTEGER NOT NULL, source_type TEXT, source_id TEXT, updated_by_user_id INTEGER,
  PRIMARY KEY (deal_id, property, seq)) WITHOUT ROWID;
CREATE TABLE deal_contacts (
  deal_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
  PRIMARY KEY (deal_id, contact_id)) WITHOUT ROWID;
"""

INDEXES = """
CREATE INDEX ix_deals_arch_id ON deals (archived, id);
CREATE INDEX ix_deals_lastmod ON deals (archived, hs_lastmodifieddate, id);
CREATE INDEX ix_deals_created ON deals (archived, createdate, id);
CREATE INDEX ix_contacts_arch_id ON contacts (archived, id);
CREATE INDEX ix_contacts_lastmod ON contacts (archived, lastmodifieddate, id);
CREATE INDEX ix_contacts_created ON contacts (archived, createdate, id);
CREATE INDEX ix_deal_contacts_contact ON deal_contacts (contact_id, deal_id);
"""

# ---------------------------------------------------------------- static reference data


@dataclass(frozen=True)
class StageDef:
    """One pipeline stage (metadata strings exactly as HubSpot serves them)."""

    id: str
    label: str
    display_order: int
    is_closed: bool
    probability: str
    is_won: bool = False
    archived: bool = False


@dataclass(frozen=True)
class PipelineDef:
    """A deal pipeline and its stages in display order."""

    id: str
    label: str
    display_order: int
    stages: tuple[StageDef, ...]

    @property
    def open_stages(self) -> list[str]:
        return [s.id for s in self.stages if not s.is_closed and not s.archived]

    @property
    def won_stage(self) -> str:
        return next(s.id for s in self.stages if s.is_won)

    @property
    def lost_stage(self) -> str:
        return next(s.id for s in self.stages if s.is_closed and not s.is_won)


DEFAULT_PIPELINE = PipelineDef(
    "default",
    "Sales Pipeline",
    0,
    (
        StageDef("appointmentscheduled", "Appointment Scheduled", 0, False, "0.2"),
        StageDef("qualifiedtobuy", "Qualified To Buy", 1, False, "0.4"),
        StageDef("presentationscheduled", "Presentation Scheduled", 2, False, "0.6"),
        StageDef("decisionmakerboughtin", "Decision Maker Bought-In", 3, False, "0.8"),
        StageDef("contractsent", "Contract Sent", 4, False, "0.9"),
        StageDef("closedwon", "Closed Won", 5, True, "1.0", is_won=True),
        StageDef("closedlost", "Closed Lost", 6, True, "0.0"),
    ),
)

RENEWALS_PIPELINE = PipelineDef(
    "1346739",
    "Renewals",
    1,
    (
        StageDef("3206386942", "Legacy Intake", 0, False, "0.1", archived=True),
        StageDef("3206386937", "Renewal Identified", 1, False, "0.3"),
        StageDef("3206386938", "Proposal Sent", 2, False, "0.6"),
        StageDef("3206386939", "Verbal Commit", 3, False, "0.9"),
        StageDef("3206386940", "Renewed (Won)", 4, True, "1.0", is_won=True),
        StageDef("3206386941", "Churned (Lost)", 5, True, "0.0"),
    ),
)

PIPELINES: tuple[PipelineDef, ...] = (DEFAULT_PIPELINE, RENEWALS_PIPELINE)
STAGE_INDEX: dict[str, tuple[PipelineDef, StageDef]] = {s.id: (p, s) for p in PIPELINES for s in p.stages}

HISTORY_PROPERTIES = ("dealstage", "pipeline", "amount", "closedate", "deal_currency_code")
LIFECYCLE_DATE_STAGES = (
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)

# ---------------------------------------------------------------- reference data

CHANNELS = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "PAID_SOCIAL",
    "SOCIAL_MEDIA",
    "EMAIL_MARKETING",
    "REFERRALS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "OTHER_CAMPAIGNS",
)
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
CURRENCIES = ("USD", "EUR", "GBP", "CAD")


# ---------------------------------------------------------------- helpers


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the sandbox file; ``readonly`` opens it with ``mode=ro`` (the server's way)."""
    if readonly:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The ``meta`` table as a dict."""
    return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}


def read_config_json(path: Path) -> dict | None:
    """The stored config of a sandbox file, or None when missing/unreadable."""
    if not Path(path).exists():
        return None
    try:
        conn = connect(path, readonly=True)
        try:
            meta = read_meta(conn)
        finally:
            conn.close()
        return json.loads(meta["config"])
    except (sqlite3.Error, KeyError, ValueError):
        return None


def counts(path: Path | str) -> dict[str, int]:
    """Row counts (total/live/archived per object type, history rows, associations)."""
    conn = connect(path, readonly=True)
    try:
        out: dict[str, int] = {}
        for t in ("contacts", "deals"):
            total, archived = conn.execute(f"SELECT count(*), coalesce(sum(archived), 0) FROM {t}").fetchone()
            out[t] = total
            out[f"{t}_live"] = total - archived
            out[f"{t}_archived"] = archived
        out["deal_history_rows"] = conn.execute("SELECT count(*) FROM deal_history").fetchone()[0]
        out["deal_contacts"] = conn.execute("SELECT count(*) FROM deal_contacts").fetchone()[0]
        return out
    finally:
        conn.close()
