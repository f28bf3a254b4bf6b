"""How the raw loader's cost grows with the raw tables: a backfill of N deals, no HTTP, no parsing.

Writes HubSpot-shaped batches (the deals stream: 500 deals, ~8 property-history rows and one
association per deal, history and associations replaced per deal, as the connector sends them)
through `warehouse.loader.RawLoader` into a fresh DuckDB file, then re-sends 1% of the deals
(an incremental sync). Only `write_batch`, the index build after the backfill and a final
checkpoint are timed (wall and CPU), so the figure is the loader's own cost; a loader linear in
what changed gives ~10x the time for 10x the deals.

    python -m benchmarks.loader_bench --deals 100000 --deals 1000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from connectors.common import Batch, TableWrite
from core.sources import HUBSPOT
from warehouse.loader import RawLoader

BATCH = 500
PROPERTIES = ("dealstage", "pipeline", "amount", "closedate", "deal_currency_code")
FIRST_ID = 10_000_000_000


def _deal_rows(ids: list[int], version: int) -> tuple[list[dict], list[dict], list[dict]]:
    deals, history, assoc = [], [], []
    for i in ids:
        did = str(i)
        deals.append(
            {
                "id": did,
                "dealname": f"Deal {did} v{version}",
                "pipeline": "default",
                "dealstage": "appointmentscheduled",
                "amount": str(1000 + i % 997),
                "createdate": "2026-01-01T00:00:00.000Z",
                "hs_lastmodifieddate": f"2026-02-{1 + version:02d}T00:00:00.000Z",
                "archived": False,
            }
        )
        for p, prop in enumerate(PROPERTIES):
            for h in range(2 if p < 3 else 1):
                history.append(
                    {
                        "deal_id": did,
                        "property": prop,
                        "history_index": h,
                        "value": f"{prop}-{h}-{version}",
                        "timestamp": "2026-01-01T00:00:00.000Z",
                        "source_type": "CRM_UI",
                    }
                )
        assoc.append({"deal_id": did, "contact_id": str(i + 7), "association_type": "deal_to_contact"})
    return deals, history, assoc


def _batches(ids: list[int], version: int) -> Iterator[Batch]:
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        deals, history, assoc = _deal_rows(chunk, version)
        keys = [str(i) for i in chunk]
        yield Batch(
            stream="deals",
            writes=[
                TableWrite("deals", deals),
                TableWrite("deal_property_history", history, replace_column="deal_id", replace_ids=keys),
                TableWrite("deal_contact_associations", assoc, replace_column="deal_id", replace_ids=keys),
            ],
            cursor={"after": chunk[-1], "version": version},
        )


def _timed_load(loader: RawLoader, batches: Iterator[Batch]) -> tuple[float, float, int]:
    wall = cpu = 0.0
    n = 0
    for batch in batches:
        w0, c0 = time.perf_counter(), time.process_time()
        loader.write_batch(batch, sync_id="bench")
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        n += 1
    return wall, cpu, n


def run(deals: int, work: Path) -> dict[str, float]:
    """Backfill ``deals`` deals, then re-send 1% of them; loader time only."""
    path = work / f"loader_{deals}.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("set threads = 2")
        loader = RawLoader(con, HUBSPOT.schema, HUBSPOT.tables.values())
        loader.ensure_tables()
        ids = list(range(FIRST_ID, FIRST_ID + deals))
        wall, cpu, n = _timed_load(loader, _batches(ids, 0))
        w0, c0 = time.perf_counter(), time.process_time()
        loader.build_indexes()  # the backfill went into empty tables: their indexes are built now
        con.execute("checkpoint")  # what the load left in the WAL is part of its cost
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        changed = ids[:: max(1, len(ids) // max(1, deals // 100))][: deals // 100]
        i_wall, i_cpu, _ = _timed_load(loader, _batches(changed, 1))
        rows = con.execute("select count(*) from raw_hubspot.deal_property_history").fetchone()
        assert rows is not None and rows[0] == deals * 8, rows
    return {"deals": deals, "batches": n, "wall_s": wall, "cpu_s": cpu, "incr_wall_s": i_wall, "incr_cpu_s": i_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, action="append", help="deal counts (repeatable)")
    args = parser.parse_args()
    counts = args.deals or [100_000, 1_000_000]
    import pandas  # noqa: F401  (DuckDB imports it on the first registered table: not the first size's cost)

    with tempfile.TemporaryDirectory() as tmp:
        results = [run(n, Path(tmp)) for n in counts]
    for r in results:
        print(
            f"{r['deals']:>9,} deals, {r['batches']:>5} batches: load {r['wall_s']:7.1f}s wall "
            f"{r['cpu_s']:7.1f}s CPU; 1% re-sync {r['incr_wall_s']:5.2f}s wall"
        )
    base = results[0]
    for r in results[1:]:
        print(
            f"ratio {r['deals']:,}/{base['deals']:,}: wall {r['wall_s'] / base['wall_s']:.1f}x, "
            f"CPU {r['cpu_s'] / base['cpu_s']:.1f}x, 1% re-sync {r['incr_wall_s'] / base['incr_wall_s']:.1f}x"
        )


if __name__ == "__main__":
    main()
