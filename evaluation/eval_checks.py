"""``make eval-checks``: recall on the anomaly scenario suite, false alarms on clean seeds.

    python -m evaluation.eval_checks [--seeds 20] [--deals 20000] [--contacts 60000]
                                     [--months 12] [--scenario NAME] [--jobs 2] [--quick]

Every anomaly scenario of :mod:`evaluation.scenarios` runs once (seed 1) and the
``clean`` scenario runs over ``--seeds`` seeds (1..N), each end to end: the seeded sandbox is
built (cached under ``data/eval/sandboxes/`` keyed by scenario, seed and size), loaded into a fresh
DuckDB warehouse through the real connector without HTTP (:mod:`evaluation.load`), ``dbt build``
runs as of the sandbox end date E (a failing blocking dbt test is a detection; when it skips
the tests below it, the build is repeated without it, at most 3 builds, so masked structural
faults show too and the marts get built: those are marked "dbt pass N"), then
``warehouse.anomaly.checks.run_all(con, E)``. It prints the scenario table, the false alarms per
check over the clean seeds, recall and the total false alarms, and timings. Exit 0 only when
recall is 100%, no check fired on any clean seed and nothing errored (so CI can gate on it).
``--quick``: 3 clean seeds instead of 20 (a smoke run). ``--scenario NAME``: only that scenario
(``clean`` runs over the seeds). ``--json FILE`` writes every run's result.

Size and statistical power
--------------------------
The default scenario sandbox has 20,000 deals and 60,000 contacts over 12 months: about 55 new
deals and 165 leads a day (weekdays carry most of it). That is the smallest round size at which
every injected anomaly is far beyond the checks' two gates (|z| ≥ 4 and a ≥ 30% relative change
on ≥ 30 units) while each clean baseline bucket holds enough units for the noise to stay well
inside them:

- lead volume: PAID_SEARCH (16% of leads) brings ~150 leads a week; keeping 10% of them for a
  week is a drop of ~135 against a Poisson sd of ~12, z ≈ −10 even with overdispersion;
- conversion: ~700 deals enter qualification in the two tested weekly cohorts; their rate
  falls from ~0.43 to ~0.22 (two-proportion z ≈ −11);
- dwell: ~400 presentation visits exit in the 14-day window; a 4x dwell moves the log median
  by ln 4 ≈ 1.39 against a standard error of ~0.06;
- stuck deals: ~300 open negotiation deals; 60 more stuck 60–120 days triple the stuck share;
- bulk edit: 80 deals × 4 changes (160 regressions, 320 transitions) in one day against
  ~150 transitions and a handful of regressions on a normal weekday;
- corrupted timestamps are structural (blocking dbt tests): no power needed.

At a tenth of this size most of these fall below the minimum sample (the lead-volume week
expects ~15 paid-search leads), so the checks rightly stay silent: the suite would measure
power, not the checks. The tests (``tests/anomaly_scenarios``) run one anomaly scenario and one
clean seed at a smaller size chosen for its anomaly (see there).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from tabulate import tabulate

from evaluation.pipeline import CACHE_DIR, RunResult, Size, run_scenario
from evaluation.scenarios import ANOMALY_SCENARIOS, SCENARIOS

DEFAULT_SEEDS = 20
QUICK_SEEDS = 3


def _run_slot(
    slot: int, jobs: list[tuple[str, int]], size: Size, work_dir: str, cache_dir: str, total: int, offset: list[int]
) -> list[RunResult]:
    """Run ``jobs`` one after another in slot ``slot`` (a worker process or the main one)."""
    out = []
    for (scenario, seed), number in zip(jobs, offset, strict=True):
        print(f"[{number}/{total}] {scenario} seed {seed} ({size.label()}, slot {slot})", flush=True)
        try:
            out.append(
                run_scenario(
                    scenario,
                    seed,
                    size,
                    slot_dir=Path(work_dir) / f"slot-{slot}",
                    cache_dir=Path(cache_dir),
                    log=lambda m: print(m, flush=True),
                )
            )
        except Exception as exc:  # keep going: one broken run must not hide the others
            r = RunResult(scenario, seed, size)
            r.errors.append(f"run failed: {type(exc).__name__}: {exc}")
            print(f"    {scenario} seed {seed}: FAILED {type(exc).__name__}: {exc}", flush=True)
            out.append(r)
    return out


def run_all_scenarios(
    jobs: list[tuple[str, int]],
    size: Size,
    *,
    n_jobs: int = 1,
    work_dir: Path = CACHE_DIR / "work",
    cache_dir: Path = CACHE_DIR,
) -> list[RunResult]:
    """Run (scenario, seed) pairs over ``n_jobs`` slots; results in the order of ``jobs``."""
    n_jobs = max(1, min(n_jobs, len(jobs)))
    numbered = list(enumerate(jobs, start=1))
    parts = [numbered[k::n_jobs] for k in range(n_jobs)]
    args = [
        (k, [j for _, j in part], size, str(work_dir), str(cache_dir), len(jobs), [i for i, _ in part])
        for k, part in enumerate(parts)
    ]
    if n_jobs == 1:
        results = _run_slot(*args[0])
    else:
        with ProcessPoolExecutor(n_jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_run_slot, *a) for a in args]
            results = [r for f in futures for r in f.result()]
    order = {job: i for i, job in enumerate(jobs)}
    return sorted(results, key=lambda r: order[(r.scenario, r.seed)])


# ---------------------------------------------------------------- report


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers, tablefmt="psql", disable_numparse=True)


def scenario_table(results: list[RunResult]) -> str:
    rows = []
    for r in results:
        if r.scenario == "clean" and r.seed != min(x.seed for x in results if x.scenario == "clean"):
            continue
        spec = SCENARIOS[r.scenario]
        fired = ", ".join(f.label() for f in r.fired if not f.could_not_run) or "none"
        not_run = [f for f in r.fired if f.could_not_run]
        if not_run:
            fired += f"; {len(not_run)} checks could not run (marts not built)"
        if r.scenario == "clean":
            expected, detected = "(none expected)", "n/a" if not r.fired else "FALSE ALARM"
        else:
            expected = spec.expected_text()
            if spec.severity:
                expected += f" [{spec.severity}]"
            expected += ": " + ("yes" if r.detected else "NO")
            detected = "yes" if r.detected else "NO"
        if r.errors:
            detected += " (errors)"
        rows.append([f"{r.scenario} (seed {r.seed})", spec.anomaly, fired, expected, detected])
    return _table(
        ["scenario", "injected anomaly", "checks fired (severity)", "expected check fired?", "detected"], rows
    )


def false_alarm_table(clean: list[RunResult]) -> tuple[str, int]:
    names = sorted({n for r in clean for n in r.checks_evaluated} | {f.name for r in clean for f in r.fired})
    counts: Counter[str] = Counter()
    seeds: dict[str, list[int]] = {}
    for r in clean:
        for name in sorted({f.name for f in r.fired}):
            counts[name] += 1
            seeds.setdefault(name, []).append(r.seed)
    rows = []
    for name in names:
        kind = "dbt test" if any(f.name == name and f.kind == "dbt" for r in clean for f in r.fired) else "check"
        rows.append([name, kind, f"{counts[name]}/{len(clean)}", ", ".join(map(str, seeds.get(name, []))) or "-"])
    rows.append(["(every other dbt test)", "dbt test", f"0/{len(clean)}", "-"])
    return _table(["check", "kind", "seeds fired", "which seeds"], rows), sum(counts.values())


def timing_table(results: list[RunResult]) -> str:
    rows = []
    for r in results:
        t = r.timings
        total = sum(t.values())
        rows.append(
            [
                r.scenario,
                str(r.seed),
                *(f"{t.get(k, 0):.1f}" for k in ("build", "load", "dbt", "checks")),
                f"{total:.1f}",
            ]
        )
    return _table(["scenario", "seed", "build s", "load s", "dbt s", "checks s", "total s"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.eval_checks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=None, help=f"clean seeds (default {DEFAULT_SEEDS})")
    parser.add_argument("--deals", type=int, default=Size.n_deals)
    parser.add_argument("--contacts", type=int, default=Size.n_contacts)
    parser.add_argument("--months", type=int, default=Size.months)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), help="only this scenario")
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs (default 2)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SEEDS} clean seeds instead of {DEFAULT_SEEDS}")
    parser.add_argument("--json", help="write every run's result to this file")
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (QUICK_SEEDS if args.quick else DEFAULT_SEEDS)
    size = Size(args.deals, args.contacts, args.months)
    anomalies = (
        [args.scenario]
        if args.scenario and args.scenario != "clean"
        else ([] if args.scenario == "clean" else list(ANOMALY_SCENARIOS))
    )
    clean_seeds = [] if args.scenario and args.scenario != "clean" else list(range(1, n_seeds + 1))
    jobs = [(s, 1) for s in anomalies] + [("clean", seed) for seed in clean_seeds]
    print(
        f"==> Evaluating the anomaly checks: {len(anomalies)} anomaly scenario(s) (seed 1) and the clean "
        f"scenario over {len(clean_seeds)} seed(s); {size.n_deals} deals, {size.n_contacts} contacts, "
        f"{size.months} months; {args.jobs} job(s)",
        flush=True,
    )
    started = time.monotonic()
    results = run_all_scenarios(jobs, size, n_jobs=args.jobs)
    wall = time.monotonic() - started

    anomaly_runs = [r for r in results if r.scenario != "clean"]
    clean_runs = [r for r in results if r.scenario == "clean"]
    print("\n== Scenarios (anomalies: seed 1; clean: first seed; as of each sandbox's end date E)")
    print(scenario_table(results))
    false_alarms = 0
    if clean_runs:
        table, false_alarms = false_alarm_table(clean_runs)
        print(f"\n== False alarms per check over {len(clean_runs)} clean seed(s)")
        print(table)
    detected = sum(1 for r in anomaly_runs if r.detected)
    print("\n== Summary")
    if anomaly_runs:
        print(f"recall: {detected}/{len(anomaly_runs)} = {100 * detected / len(anomaly_runs):.0f}%")
        missed = [r.scenario for r in anomaly_runs if not r.detected]
        if missed:
            print(f"missed: {', '.join(missed)}")
    if clean_runs:
        print(f"false alarms: {false_alarms} over {len(clean_runs)} clean seed(s)")
    errors = [(r, e) for r in results for e in r.errors]
    for r, e in errors:
        print(f"ERROR {r.scenario} seed {r.seed}: {e}")
    print("\n== Timings")
    print(timing_table(results))
    print(f"wall clock: {wall:.0f}s with {args.jobs} job(s)")
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_json() for r in results], indent=2, default=str))
    ok = detected == len(anomaly_runs) and false_alarms == 0 and not errors
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
