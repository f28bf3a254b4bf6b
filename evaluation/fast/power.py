"""The power table of the funnel checks: scenario × effect size × account size → detection rate
over seeds, and the false-alarm rate per check over the clean seeds.

    python -m evaluation.fast.power [--sizes 300,1500,20000] [--seeds 30] [--jobs 2] [--plain]
                                    [--json FILE] [--report FILE]

Per (size, seed): one varied account is generated (``SandboxConfig(variation=True)``: seasonality,
trend, holidays, channel mix, owner effects, a CSV import of old deals, a renamed pipeline;
``--plain`` for the default generator), its two check relations are computed once by the plain-
Python reference of the marts (:mod:`evaluation.fast.relations`), then the clean relations and
each effect of :data:`evaluation.fast.inject.EFFECTS` injected into them run through the
exposure-based checks. A detection is a WARN of a check named in ``EXPECTED_CHECKS``; a false
alarm is any WARN on the clean relations. Structural faults (corrupted timestamps) and the checks
on the metric table are scored by the full end-to-end runs (``python -m evaluation.eval_checks``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from tabulate import tabulate

from evaluation.fast.inject import EFFECTS, EXPECTED_CHECKS, apply
from evaluation.fast.relations import SIZES, base_rows, connection, sandbox_config
from warehouse.anomaly.checks import run_all

FAST_CHECKS = ("lead_volume_anomaly", "stage_conversion_drop", "stage_dwell_spike", "stuck_deals", "transition_burst")
"""The checks that read only the fast path's relations."""
DEFAULT_SEEDS = 30


@dataclass
class SeedResult:
    size: str
    seed: int
    fired: dict[str, list[str]] = field(default_factory=dict)  # run label -> checks that warned
    no_power: dict[str, list[str]] = field(default_factory=dict)  # run label -> "check:segment" without power
    check_seconds: list[float] = field(default_factory=list)
    build_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def run_seed(size_label: str, seed: int, varied: bool) -> SeedResult:
    out = SeedResult(size_label, seed)
    t0 = time.process_time()
    with tempfile.TemporaryDirectory(prefix="eval-fast-") as work:
        visits, leads, as_of = base_rows(sandbox_config(SIZES[size_label], seed, varied=varied), Path(work))
    out.build_seconds = time.process_time() - t0
    runs = [("clean", None), *((e.label, e) for e in EFFECTS)]
    for label, effect in runs:
        v, ld = [dict(x) for x in visits], [dict(x) for x in leads]
        if effect is not None:
            v, ld = apply(effect, v, ld, as_of, random.Random(seed * 1000 + EFFECTS.index(effect)))
        con = connection(v, ld)
        t = time.process_time()
        outcomes = run_all(con, as_of, FAST_CHECKS)
        out.check_seconds.append(time.process_time() - t)
        con.close()
        out.fired[label] = [o.name for o in outcomes if not o.passed]
        out.errors += [f"{label}: {o.metadata['error']}" for o in outcomes if "error" in o.metadata]
        out.no_power[label] = [f"{o.name}:{s}" for o in outcomes for s in o.metadata.get("not_enough_data", [])]
    return out


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def power_table(results: list[SeedResult], sizes: list[str]) -> str:
    rows = []
    for e in EFFECTS:
        row = [e.scenario, e.label, ", ".join(EXPECTED_CHECKS[e.scenario])]
        for s in sizes:
            rs = [r for r in results if r.size == s]
            hit = sum(any(c in r.fired[e.label] for c in EXPECTED_CHECKS[e.scenario]) for r in rs)
            row.append(f"{hit}/{len(rs)} ({100 * hit / len(rs):.0f}%)" if rs else "-")
        rows.append(row)
    return _table(["scenario", "effect", "expected check", *(f"{s} deals/yr" for s in sizes)], rows)


def false_alarm_table(results: list[SeedResult], sizes: list[str]) -> str:
    rows = []
    for check in FAST_CHECKS:
        row = [check]
        for s in sizes:
            rs = [r for r in results if r.size == s]
            row.append(f"{sum(check in r.fired['clean'] for r in rs)}/{len(rs)}")
        rows.append(row)
    any_row = ["(any check: clean runs with a WARN)"]
    for s in sizes:
        rs = [r for r in results if r.size == s]
        any_row.append(f"{sum(bool(r.fired['clean']) for r in rs)}/{len(rs)}")
    rows.append(any_row)
    return _table(["check", *(f"{s} deals/yr" for s in sizes)], rows)


def no_power_table(results: list[SeedResult], sizes: list[str]) -> str:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in results:
        for seg in r.no_power["clean"]:
            counts[seg][r.size] += 1
    rows = [[seg, *(f"{counts[seg][s]}/{sum(r.size == s for r in results)}" for s in sizes)] for seg in sorted(counts)]
    return _table(["check:segment reporting 'not enough data' (clean runs)", *sizes], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.fast.power", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--plain", action="store_true", help="the default generator (no account variation)")
    parser.add_argument("--json", help="append every seed's result to this file (JSON lines) as it finishes")
    parser.add_argument("--report", help="only print the tables of a --json file (partial runs too)")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.report:
        done = [SeedResult(**json.loads(line)) for line in Path(args.report).read_text().splitlines() if line]
        report(done, [s for s in sizes if any(r.size == s for r in done)], None, args.jobs)
        return 0
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; known: {', '.join(SIZES)}")
    jobs = [(s, seed) for s in sizes for seed in range(args.first_seed, args.first_seed + args.seeds)]
    print(
        f"==> Power of the funnel checks: sizes {sizes}, {args.seeds} seeds each, {len(EFFECTS)} effects + clean",
        flush=True,
    )
    started = time.monotonic()
    results: list[SeedResult] = []
    with ProcessPoolExecutor(max(1, args.jobs), mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_seed, s, seed, not args.plain): (s, seed) for s, seed in jobs}
        for i, f in enumerate(futures, 1):
            s, seed = futures[f]
            try:
                results.append(f.result())
            except Exception as exc:  # one broken seed must not hide the others
                r = SeedResult(s, seed, errors=[f"{type(exc).__name__}: {exc}"])
                r.fired = {"clean": [], **{e.label: [] for e in EFFECTS}}
                r.no_power = {"clean": []}
                results.append(r)
            print(f"  [{i}/{len(jobs)}] size {s} seed {seed}: clean fired {results[-1].fired.get('clean')}", flush=True)
            if args.json:
                with open(args.json, "a", encoding="utf-8") as f:
                    f.write(json.dumps(results[-1].__dict__) + "\n")
    errors = report(results, sizes, time.monotonic() - started, args.jobs)
    return 1 if errors else 0


def report(results: list[SeedResult], sizes: list[str], wall: float | None, jobs: int) -> int:
    """Print the tables; returns the number of errors."""
    print("\n== Detection rate (a WARN of the expected check) over seeds")
    print(power_table(results, sizes))
    print("\n== False alarms per check over the clean seeds")
    print(false_alarm_table(results, sizes))
    print("\n== Segments without power (the checks say 'not enough data')")
    print(no_power_table(results, sizes))
    checks = [t for r in results for t in r.check_seconds]
    print(f"\nchecks CPU per run: mean {sum(checks) / max(1, len(checks)):.2f}s, max {max(checks, default=0):.2f}s")
    print(
        f"generate + reference marts CPU per seed: {sum(r.build_seconds for r in results) / max(1, len(results)):.1f}s"
    )
    if wall is not None:
        print(f"wall clock: {wall:.0f}s with {jobs} job(s)")
    errors = [(r, e) for r in results for e in r.errors]
    for r, e in errors:
        print(f"ERROR size {r.size} seed {r.seed}: {e}")
    return len(errors)


if __name__ == "__main__":
    sys.exit(main())
