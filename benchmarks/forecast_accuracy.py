"""Which forecast method wins on a sandbox of a given size: `python -m benchmarks.forecast_accuracy`.

Builds (or reuses) the sandbox under ``data/bench/``, loads it without HTTP
(:mod:`evaluation.load`), runs one ``dbt build`` and prints ``marts.mart_forecast_accuracy``
as a Markdown table. Example: ``python -m benchmarks.forecast_accuracy --deals 20000``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from benchmarks.bench_args import BENCH_DATA_DIR
from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of
from evaluation.load import load_sandbox
from evaluation.pipeline import run_dbt_once

QUERY = """
select method, horizon_months, n_origins, wape, bias, mape, skill_vs_naive
from marts.mart_forecast_accuracy
order by horizon_months, method
"""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def accuracy_table(warehouse: Path) -> list[str]:
    """The accuracy mart as Markdown rows, best WAPE per horizon in bold."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(QUERY).fetchall()
    best = {}
    for method, h, _n, wape, *_ in rows:
        if wape is not None and (h not in best or wape < best[h][1]):
            best[h] = (method, wape)
    lines = ["| horizon | method | origins | WAPE | bias | MAPE | skill vs naive |", "|---|---|---|---|---|---|---|"]
    for method, h, n, wape, bias, mape, skill in rows:
        name = f"**{method}**" if best.get(h, (None,))[0] == method else method
        lines.append(f"| {h} | {name} | {n} | {_pct(wape)} | {_pct(bias)} | {_pct(mape)} | {_pct(skill)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=600)
    parser.add_argument("--contacts", type=int, default=None, help="default: 10/3 per deal, as the demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    contacts = args.contacts or round(args.deals * 10 / 3)
    work = BENCH_DATA_DIR / f"forecast-s{args.seed}-d{args.deals}-m{args.months}"
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    db = build_sandbox(
        SandboxConfig(seed=args.seed, n_contacts=contacts, n_deals=args.deals, months=args.months), work / "crm.sqlite"
    )
    print(f"sandbox: {args.deals:,} deals, {contacts:,} contacts ({time.monotonic() - started:.0f}s)", flush=True)
    report = load_sandbox(db, work / "warehouse.duckdb")
    print(f"loaded without HTTP in {report.seconds:.0f}s", flush=True)
    result = run_dbt_once(report.warehouse, end_date_of(db), work)
    if result["errors"] or result["failed_tests"]:
        raise SystemExit(f"dbt build failed: {result['errors'] or result['failed_tests']}")
    print(f"dbt build in {result['seconds']:.0f}s\n")
    print("\n".join(accuracy_table(report.warehouse)))


if __name__ == "__main__":
    main()
