"""Generator: determinism, rebuild rules and the statistical invariants downstream relies on."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from emulators import (
    SANDBOX_END_DATE,
    GroundTruth,
    SandboxConfig,
    build_sandbox,
    end_date_of,
)
from emulators.truth.store import date_to_ms

OPEN = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent"]
END_MS = date_to_ms(SANDBOX_END_DATE + timedelta(days=1))


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def truth(demo_db: Path) -> GroundTruth:
    return GroundTruth(demo_db)


@pytest.fixture(scope="module")
def sequences(truth: GroundTruth) -> dict[str, list[str]]:
    sh = truth.stage_history()
    return {k: list(g["stage_id"]) for k, g in sh.groupby("deal_id", sort=False)}


def test_same_seed_same_rows_and_bytes(tmp_path: Path) -> None:
    cfg = SandboxConfig(seed=3, n_contacts=300, n_deals=100)
    a = build_sandbox(cfg, tmp_path / "a.sqlite")
    b = build_sandbox(cfg, tmp_path / "b.sqlite")
    assert _dump(a) == _dump(b)
    assert a.read_bytes() == b.read_bytes()
    c = build_sandbox(SandboxConfig(seed=4, n_contacts=300, n_deals=100), tmp_path / "c.sqlite")
    assert _dump(a) != _dump(c)


def test_rebuild_only_when_config_changes(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    cfg = SandboxConfig(seed=5, n_contacts=200, n_deals=50)
    build_sandbox(cfg, path)
    mtime = path.stat().st_mtime_ns
    build_sandbox(cfg, path)
    assert path.stat().st_mtime_ns == mtime
    build_sandbox(SandboxConfig(seed=5, n_contacts=200, n_deals=60), path)
    assert GroundTruth(path).counts()["deals"] == 60
    assert end_date_of(path) == SANDBOX_END_DATE


def test_counts_and_anchor(truth: GroundTruth) -> None:
    c = truth.counts()
    assert c["deals"] == 600 and c["contacts"] == 2000
    assert truth.end_date == date(2026, 10, 31)
    assert len(truth.owners()) == 8 and truth.owners()["archived"].sum() == 1


def test_no_timestamp_after_end_date(truth: GroundTruth) -> None:
    deals, contacts = truth.deals(), truth.contacts()
    for df, cols in (
        (deals, ["createdate_ms", "hs_lastmodifieddate_ms", "archived_at_ms"]),
        (contacts, ["createdate_ms", "lastmodifieddate_ms", "archived_at_ms"]),
    ):
        for col in cols:
            assert df[col].dropna().max() < END_MS, col
    for prop in ("dealstage", "amount", "closedate", "pipeline", "deal_currency_code"):
        assert truth.property_history(prop)["timestamp_ms"].max() < END_MS
    start = date_to_ms(date(2025, 11, 1))
    assert contacts["createdate_ms"].min() >= start and deals["createdate_ms"].min() >= start


def test_history_consistent_with_deal_rows(truth: GroundTruth) -> None:
    deals = truth.deals().set_index("id")
    sh = truth.stage_history()
    first = sh[sh["seq"] == 0].set_index("deal_id")
    assert (first["timestamp_ms"] == deals.loc[first.index, "createdate_ms"]).all()
    assert set(first.index) == set(deals.index)
    last = sh.groupby("deal_id").tail(1).set_index("deal_id")
    assert (last["stage_id"] == deals.loc[last.index, "dealstage"]).all()
    assert sh.groupby("deal_id")["timestamp_ms"].apply(lambda s: s.is_monotonic_increasing).all()
    max_ts = pd.concat([truth.property_history(p) for p in ("dealstage", "amount", "closedate")]).groupby("deal_id")[
        "timestamp_ms"
    ]
    assert (deals.loc[max_ts.max().index, "hs_lastmodifieddate_ms"] >= max_ts.max()).all()
    # closedate column == newest closedate history value; closed deals have one
    ch = truth.property_history("closedate").groupby("deal_id").tail(1).set_index("deal_id")
    assert (ch["value"] == deals.loc[ch.index, "closedate"]).all()
    assert deals.loc[deals["is_closed"], "closedate"].notna().all()
    # amount column == newest amount history value
    ah = truth.property_history("amount").groupby("deal_id").tail(1).set_index("deal_id")
    assert (ah["value"] == deals.loc[ah.index, "amount"]).all()


def test_stage_process_has_every_real_world_shape(sequences: dict[str, list[str]], truth: GroundTruth) -> None:
    order = {s: i for i, s in enumerate(OPEN)}
    n = len(sequences)
    regress = skip = reopen = repeat = 0
    for seq in sequences.values():
        pairs = list(pairwise(seq))
        regress += any(a in order and b in order and order[b] < order[a] for a, b in pairs)
        skip += any(a in order and b in order and order[b] - order[a] >= 2 for a, b in pairs)
        reopen += any(a in ("closedwon", "closedlost") and b in order for a, b in pairs)
        repeat += any(a == b for a, b in pairs)
    assert 0.02 * n <= regress <= 0.12 * n
    assert 0.02 * n <= skip <= 0.15 * n
    assert 0.01 * n <= reopen <= 0.08 * n
    assert 0.02 * n <= repeat <= 0.10 * n
    starts = {seq[0] for seq in sequences.values()}
    assert {"appointmentscheduled", "qualifiedtobuy"} <= starts
    deals = truth.deals()
    assert deals["pipeline"].nunique() == 2
    open_share = (~deals["is_closed"]).mean()
    assert 0.05 < open_share < 0.4
    win = deals["is_won"].sum() / deals["is_closed"].sum()
    assert 0.12 < win < 0.45
    stages = truth.stages()
    assert stages["archived"].any()  # an archived stage still appears in some history
    assert set(truth.stage_history()["stage_id"]) >= set(stages.loc[stages["archived"], "stage_id"])


def test_amounts_currencies_archive_merge(truth: GroundTruth) -> None:
    deals, contacts = truth.deals(), truth.contacts()
    missing = deals["amount"].isna().mean()
    assert 0.03 < missing < 0.15
    cur = deals["currency"].value_counts(normalize=True)
    assert set(cur.index) == {"USD", "EUR", "GBP", "CAD"} and 0.6 < cur["USD"] < 0.8
    amounts = deals["amount"].dropna().astype(float)
    assert 4000 < amounts.median() < 16000
    assert truth.property_history("amount").groupby("deal_id").size().max() > 1
    assert 0.005 < deals["archived"].mean() < 0.05
    assert 0.005 < contacts["archived"].mean() < 0.06
    losers = contacts[contacts["merged_into"].notna()]
    assert len(losers) > 0 and losers["archived"].all()
    winners = contacts.set_index("id").loc[losers["merged_into"]]
    assert (winners["hs_merged_object_ids"].values == losers["id"].values).all()
    assert (contacts["lastmodifieddate_ms"] >= contacts["createdate_ms"]).all()


def test_channels_and_weekly_seasonality(truth: GroundTruth) -> None:
    contacts = truth.contacts()
    ch = contacts["channel"]
    empty = (ch.isna() | (ch == "")).mean()
    assert 0.01 < empty < 0.06
    shares = ch[ch.notna() & (ch != "")].value_counts(normalize=True)
    assert len(shares) == 9 and shares.max() > 2 * shares.min()
    paid = contacts[ch.isin(["PAID_SEARCH", "PAID_SOCIAL"])]
    assert paid["source_data_2"].notna().all()
    days = pd.to_datetime(contacts["createdate_ms"], unit="ms", utc=True).dt.floor("D")
    per_day = days.value_counts()
    full = pd.date_range(days.min(), days.max(), freq="D", tz="UTC")
    per_day = per_day.reindex(full, fill_value=0)
    weekend = per_day.index.day_of_week >= 5
    ratio = per_day[~weekend].mean() / per_day[weekend].mean()
    assert 3.5 < ratio < 6.0, ratio


def test_deals_link_earlier_contacts(truth: GroundTruth) -> None:
    dc = truth.deal_contacts()
    deals = truth.deals().set_index("id")
    contacts = truth.contacts().set_index("id")
    per_deal = dc.groupby("deal_id").size()
    assert per_deal.min() >= 1 and per_deal.max() <= 3 and len(per_deal) == len(deals)
    created_deal = deals.loc[dc["deal_id"], "createdate_ms"].values
    created_contact = contacts.loc[dc["contact_id"], "createdate_ms"].values
    assert (created_contact < created_deal).all()


def test_ids_are_numeric_and_disjoint(truth: GroundTruth) -> None:
    deal_ids = truth.deals()["id"].astype(int)
    contact_ids = truth.contacts()["id"].astype(int)
    owner_ids = truth.owners()["id"].astype(int)
    assert deal_ids.is_monotonic_increasing and contact_ids.is_monotonic_increasing
    assert deal_ids.min() > owner_ids.max() > contact_ids.max()
    # ids change digit count: lexicographic sorting of ids would be wrong
    assert truth.deals()["id"].str.len().nunique() == 2
