"""End to end: sandbox API over HTTP → connector → raw → dbt staging, checked against the
generator's ground truth (never against the code under test)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import UTC, datetime

import duckdb
import pytest

from tests.conftest import ADS_CANARIES, CANARY_TOKEN, META_CANARY, ROOT

pytestmark = pytest.mark.slow

BOOKKEEPING = {"_cursors", "_sync_log"}


def query(demo, sql: str) -> list[tuple]:
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def ms_to_naive(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None)


def test_raw_tables_hold_every_object_live_and_archived(demo_warehouse):
    truth = demo_warehouse.truth
    counts = truth.counts()
    assert query(demo_warehouse, "select count(*), count(*) filter (where archived) from raw_hubspot.deals") == [
        (counts["deals"], counts["deals_archived"])
    ]
    assert query(demo_warehouse, "select count(*), count(*) filter (where archived) from raw_hubspot.contacts") == [
        (counts["contacts"], counts["contacts_archived"])
    ]
    assert counts["deals_archived"] > 0 and counts["contacts_archived"] > 0
    assert query(demo_warehouse, "select count(*) from raw_hubspot.deal_property_history") == [
        (counts["deal_history_rows"],)
    ]
    # HubSpot hides associations to archived records.
    archived_contacts = set(truth.contacts().query("archived")["id"])
    live_pairs = {(d, c) for d, c in truth.deal_contacts().itertuples(index=False) if c not in archived_contacts}
    assert live_pairs and len(live_pairs) < counts["deal_contacts"]
    assert set(query(demo_warehouse, "select deal_id, contact_id from raw_hubspot.deal_contact_associations")) == (
        live_pairs
    )
    assert query(demo_warehouse, "select count(*) from raw_hubspot.owners") == [(len(truth.owners()),)]
    assert query(demo_warehouse, "select count(*) from raw_hubspot.pipeline_stages") == [(len(truth.stages()),)]
    assert query(demo_warehouse, "select count(*) from raw_hubspot.deals where _is_deleted") == [(0,)]


def test_raw_values_are_the_api_strings(demo_warehouse):
    deals = demo_warehouse.truth.deals().set_index("id")
    rows = query(demo_warehouse, "select id, amount, deal_currency_code, dealstage, pipeline from raw_hubspot.deals")
    assert len(rows) == len(deals)
    for deal_id, amount, currency, stage, pipeline in rows:
        expected = deals.loc[deal_id]
        assert amount == expected["amount"], deal_id
        assert currency == expected["currency"]
        assert (stage, pipeline) == (expected["dealstage"], expected["pipeline"])


def test_staging_stage_changes_are_the_true_sequences_oldest_first(demo_warehouse):
    history = demo_warehouse.truth.stage_history()
    expected: dict[str, list] = defaultdict(list)
    for row in history.sort_values(["deal_id", "seq"]).itertuples():
        expected[row.deal_id].append((row.stage_id, ms_to_naive(int(row.timestamp_ms))))
    actual: dict[str, list] = defaultdict(list)
    for deal_id, stage, changed_at in query(
        demo_warehouse,
        "select deal_id, stage_id, changed_at from staging.stg_hubspot__deal_stage_changes "
        "order by deal_id, change_sequence",
    ):
        actual[deal_id].append((stage, changed_at))
    assert actual.keys() == expected.keys()
    mismatched = [d for d in expected if actual[d] != expected[d]]
    assert mismatched == [], f"{len(mismatched)} deals differ, e.g. {mismatched[:3]}"
    # The sandbox's realism reaches staging: repeated same-stage entries are kept as events.
    repeats = sum(1 for seq in expected.values() for a, b in itertools.pairwise(seq) if a[0] == b[0])
    assert repeats > 0


def test_staging_deals_are_typed_and_flag_archived(demo_warehouse):
    deals = demo_warehouse.truth.deals().set_index("id")
    rows = query(
        demo_warehouse,
        "select deal_id, amount, currency_code, created_at, is_archived, is_closed_won from staging.stg_hubspot__deals",
    )
    assert len(rows) == len(deals)
    currencies = Counter()
    for deal_id, amount, currency, created_at, archived, won in rows:
        t = deals.loc[deal_id]
        assert amount == (None if t["amount"] is None else pytest.approx(float(t["amount"])))
        assert created_at == ms_to_naive(int(t["createdate_ms"]))
        assert archived == bool(t["archived"])
        assert won == bool(t["is_won"] and t["is_closed"])
        currencies[currency] += 1
    assert len(currencies) >= 3
    assert sum(1 for r in rows if r[1] is None) > 0


def test_staging_contacts_channel_matches_truth(demo_warehouse):
    contacts = demo_warehouse.truth.contacts()
    expected = Counter(
        "unknown" if (c is None or str(c).strip() == "") else str(c).lower() for c in contacts["channel"]
    )
    actual = Counter(
        dict(query(demo_warehouse, "select channel, count(*) from staging.stg_hubspot__contacts group by 1"))
    )
    assert actual == expected
    assert expected["unknown"] > 0


def test_second_run_leaves_staging_and_raw_identical(demo_warehouse):
    snaps = demo_warehouse.snapshots
    assert snaps["staging_first"] == snaps["staging_second"]
    raw_first = {t: rows for t, rows in snaps["raw_first"].items() if t not in BOOKKEEPING}
    raw_second = {t: rows for t, rows in snaps["raw_second"].items() if t not in BOOKKEEPING}
    assert raw_first == raw_second
    assert sum(len(r) for r in raw_first.values()) > 5_000


def test_sync_reports_api_totals_matching_the_warehouse(demo_warehouse):
    for result in (demo_warehouse.first_run, demo_warehouse.second_run):
        by_key = {
            e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
        }
        for key in ("raw_hubspot/deals", "raw_hubspot/contacts"):
            meta = by_key[key]
            assert meta["totals_match"].value is True, key
            assert meta["api_live_total"].value == meta["warehouse_live_total"].value
    modes = {
        e.asset_key.to_user_string(): e.materialization.metadata["sync_modes"].value
        for e in demo_warehouse.first_run.get_asset_materialization_events()
        if "sync_modes" in e.materialization.metadata
    }
    assert "backfill" in modes["raw_hubspot/deals"]


def test_dbt_checks_ran_and_passed(demo_warehouse):
    evaluations = demo_warehouse.first_run.get_asset_check_evaluations()
    assert len(evaluations) >= 15
    failed = [e.check_name for e in evaluations if not e.passed]
    assert failed == []
    on_raw = [e for e in evaluations if e.asset_key.path[0] == "raw_hubspot"]
    assert on_raw, "dbt source tests should be checks on the raw assets"


def test_progress_reaches_the_dagster_log(demo_warehouse):
    text = "\n".join(demo_warehouse.log_messages)
    assert "deals: backfill page" in text and "records" in text
    assert "live in API" in text and "(match)" in text


# HubSpot's token and every ad-platform secret (the OAuth client id is not a secret)
CANARIES = (CANARY_TOKEN, META_CANARY, *(v for k, v in ADS_CANARIES.items() if k != "client_id"))


@pytest.mark.parametrize("canary", CANARIES)
def test_canary_token_appears_nowhere(demo_warehouse, canary):
    token = canary.encode()
    places = [demo_warehouse.dagster_home, ROOT / "dbt_project" / "target", demo_warehouse.warehouse.parent]
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                assert token not in path.read_bytes(), f"token leaked into {path}"
    assert all(canary not in m for m in demo_warehouse.log_messages)
    for result in (demo_warehouse.first_run, demo_warehouse.second_run):
        for event in result.all_events:
            assert canary not in str(event), "token leaked into a Dagster event"


def test_ad_sources_synced_and_reported_progress(demo_warehouse):
    text = "\n".join(demo_warehouse.log_messages)
    assert "google_ads customers/1234567890" in text and "campaign-days (backfill)" in text
    assert "meta act_101000000000002" in text and "(re-read window)" in text
    assert "OAuth access token refreshed" in text
