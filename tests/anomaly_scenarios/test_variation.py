"""The opt-in account variation (emulators/truth/variation.py): seeds differ the way accounts do,
the CRM stays consistent, and a plain sandbox is untouched by the option's existence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from emulators import SandboxConfig, build_sandbox


def _build(tmp: Path, name: str, **kw) -> sqlite3.Connection:
    return sqlite3.connect(
        build_sandbox(SandboxConfig(seed=kw.pop("seed", 3), n_deals=600, n_contacts=1600, **kw), tmp / name)
    )


def test_variation_is_opt_in_and_changes_the_account(tmp_path: Path) -> None:
    plain, varied = _build(tmp_path, "p.sqlite"), _build(tmp_path, "v.sqlite", variation=True)
    assert "variation" not in dict(plain.execute("select key, value from meta"))
    assert "variation" not in json.loads(dict(plain.execute("select key, value from meta"))["config"])
    meta = json.loads(dict(varied.execute("select key, value from meta"))["variation"])
    assert meta["removed_leads"] > 0 and meta["imported_deals"] > 0
    # the CSV import: that many deals created within a minute of one another, each with one stage entry
    (same_day,) = varied.execute(
        "select max(c) from (select createdate / 86400000 as d, count(*) as c from deals where dealname like "
        "'% (import)' group by d)"
    ).fetchone()
    assert same_day == meta["imported_deals"]
    orphans = varied.execute(
        "select count(*) from deals d where not exists (select 1 from deal_history h where h.deal_id = d.id "
        "and h.property = 'dealstage')"
    ).fetchone()[0]
    assert orphans == 0
    dangling = varied.execute(
        "select count(*) from deal_contacts a where not exists (select 1 from contacts c where c.id = a.contact_id) "
        "or not exists (select 1 from deals d where d.id = a.deal_id)"
    ).fetchone()[0]
    assert dangling == 0
    assert varied.execute("select label from pipelines where id = 'default'").fetchone()[0].endswith("(renamed)")


def test_two_seeds_get_different_accounts(tmp_path: Path) -> None:
    a = json.loads(
        dict(_build(tmp_path, "a.sqlite", seed=1, variation=True).execute("select key, value from meta"))["variation"]
    )
    b = json.loads(
        dict(_build(tmp_path, "b.sqlite", seed=2, variation=True).execute("select key, value from meta"))["variation"]
    )
    assert a["trend"] != b["trend"] and a["channel_multipliers"] != b["channel_multipliers"]
