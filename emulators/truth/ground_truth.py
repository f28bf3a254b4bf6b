"""Ground truth of a sandbox file, for tests that check what a pipeline computed.

Every method returns a pandas DataFrame read straight from the SQLite tables (layout in
:mod:`emulators.truth.store`). Conventions: ids are **strings** (as the API serves them);
timestamps come twice, as ISO strings with ms and ``Z`` (``createdate``) and as epoch ms
(``createdate_ms``); flags are bools. ``seq`` 0 is the oldest history entry.

``owners()``        id, email, first_name, last_name, user_id, archived, created_at
``contacts()``      id, createdate(_ms), lastmodifieddate(_ms), email, lifecyclestage,
                    hs_lead_status, channel (raw ``hs_analytics_source``: None/'' possible),
                    source_data_1, source_data_2, owner_id, archived, archived_at(_ms),
                    merged_into, hs_merged_object_ids
``deals()``         id, dealname, createdate(_ms), hs_lastmodifieddate(_ms), pipeline,
                    dealstage, amount (str|None), currency, closedate(_ms), owner_id,
                    is_closed, is_won, archived, archived_at(_ms), merged_into,
                    hs_merged_object_ids
``stage_history()`` deal_id, seq, stage_id, pipeline_id, timestamp(_ms), source_type
``property_history(prop)`` deal_id, seq, value, timestamp(_ms), source_type, source_id,
                    updated_by_user_id
``deal_contacts()`` deal_id, contact_id
``pipelines()`` / ``stages()`` the dimension rows (stages include archived ones).
``deal_on(deal_id, day)`` the deal at the end of ``day``: stage, amount, currency, close date
                    (:mod:`emulators.truth.as_of`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from emulators.truth import store


def _iso(series: pd.Series) -> pd.Series:
    return series.map(lambda v: None if pd.isna(v) else store.ms_to_iso(int(v)))


def _ids(series: pd.Series) -> pd.Series:
    return series.map(lambda v: None if pd.isna(v) else str(int(v)))


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns: object dtype with None for missing; ``*_ms`` columns: nullable Int64."""
    for c in df.columns:
        if c.endswith("_ms"):
            df[c] = df[c].astype("Int64")
        elif pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


class GroundTruth:
    """Read-only view of a sandbox file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        conn = store.connect(self.path, readonly=True)
        try:
            meta = store.read_meta(conn)
        finally:
            conn.close()
        self.config: dict = json.loads(meta["config"])
        self.end_date: date = date.fromisoformat(meta["end_date"])
        self.mutations = int(meta.get("mutations", "0"))

    def _sql(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        conn = store.connect(self.path, readonly=True)
        try:
            return pd.read_sql_query(sql, conn, params=params)
        finally:
            conn.close()

    def owners(self) -> pd.DataFrame:
        df = self._sql("SELECT id, email, first_name, last_name, user_id, archived, created_at FROM owners ORDER BY id")
        df["id"] = _ids(df["id"])
        df["archived"] = df["archived"].astype(bool)
        df["created_at"] = _iso(df["created_at"])
        return _finish(df)

    def contacts(self) -> pd.DataFrame:
        df = self._sql(
            "SELECT id, createdate AS createdate_ms, lastmodifieddate AS lastmodifieddate_ms, "
            "email, lifecyclestage, hs_lead_status, hs_analytics_source AS channel, "
            "hs_analytics_source_data_1 AS source_data_1, "
            "hs_analytics_source_data_2 AS source_data_2, hubspot_owner_id AS owner_id, "
            "archived, archived_at AS archived_at_ms, merged_into, hs_merged_object_ids "
            "FROM contacts ORDER BY id"
        )
        for c in ("id", "owner_id", "merged_into"):
            df[c] = _ids(df[c])
        for c in ("createdate", "lastmodifieddate", "archived_at"):
            df[c] = _iso(df[f"{c}_ms"])
        df["archived"] = df["archived"].astype(bool)
        return _finish(df)

    def deals(self) -> pd.DataFrame:
        df = self._sql(
            "SELECT d.id, d.dealname, d.createdate AS createdate_ms, "
            "d.hs_lastmodifieddate AS hs_lastmodifieddate_ms, d.pipeline, d.dealstage, "
            "d.amount, d.deal_currency_code AS currency, d.closedate AS closedate_ms, "
            "d.hubspot_owner_id AS owner_id, s.is_closed, s.is_won, d.archived, "
            "d.archived_at AS archived_at_ms, d.merged_into, d.hs_merged_object_ids "
            "FROM deals d JOIN stages s ON s.id = d.dealstage ORDER BY d.id"
        )
        for c in ("id", "owner_id", "merged_into"):
            df[c] = _ids(df[c])
        for c in ("createdate", "hs_lastmodifieddate", "closedate", "archived_at"):
            df[c] = _iso(df[f"{c}_ms"])
        for c in ("is_closed", "is_won", "archived"):
            df[c] = df[c].astype(bool)
        return _finish(df)

    def property_history(self, prop: str) -> pd.DataFrame:
        df = self._sql(
            "SELECT deal_id, seq, value, timestamp AS timestamp_ms, source_type, source_id, "
            "updated_by_user_id FROM deal_history WHERE property = ? ORDER BY deal_id, seq",
            (prop,),
        )
        df["deal_id"] = _ids(df["deal_id"])
        df["timestamp"] = _iso(df["timestamp_ms"])
        return _finish(df)

    def stage_history(self) -> pd.DataFrame:
        df = self._sql(
            "SELECT h.deal_id, h.seq, h.value AS stage_id, s.pipeline_id, "
            "h.timestamp AS timestamp_ms, h.source_type FROM deal_history h "
            "JOIN stages s ON s.id = h.value WHERE h.property = 'dealstage' "
            "ORDER BY h.deal_id, h.seq"
        )
        df["deal_id"] = _ids(df["deal_id"])
        df["timestamp"] = _iso(df["timestamp_ms"])
        return _finish(df)

    def deal_contacts(self) -> pd.DataFrame:
        df = self._sql("SELECT deal_id, contact_id FROM deal_contacts ORDER BY deal_id, contact_id")
        df["deal_id"] = _ids(df["deal_id"])
        df["contact_id"] = _ids(df["contact_id"])
        return _finish(df)

    def pipelines(self) -> pd.DataFrame:
        df = self._sql("SELECT id, label, display_order, archived FROM pipelines ORDER BY display_order")
        df["archived"] = df["archived"].astype(bool)
        return _finish(df)

    def stages(self) -> pd.DataFrame:
        df = self._sql(
            "SELECT id AS stage_id, pipeline_id, label, display_order, is_closed, "
            "probability, is_won, archived FROM stages "
            "ORDER BY pipeline_id, display_order"
        )
        for c in ("is_closed", "is_won", "archived"):
            df[c] = df[c].astype(bool)
        return _finish(df)

    def counts(self) -> dict[str, int]:
        """Row counts (live/archived) per object type."""
        return store.counts(self.path)

    def deal_on(self, deal_id: str, day: date) -> dict | None:
        """What the deal was at the end of ``day`` (None before its creation); see
        :func:`emulators.truth.as_of.deal_on`."""
        from emulators.truth.as_of import deal_on

        return deal_on(self, deal_id, day)
