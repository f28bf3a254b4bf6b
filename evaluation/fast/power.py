"""``make eval-checks``: the power table of the anomaly checks (scenario × effect size × account
size → detection rate over seeds) and their false-alarm rate per check over clean seeds.

    python -m evaluation.fast.power [--sizes 300,1500,20000] [--seeds 30] [--jobs 2]
                                    [--out data/eval/power] [--plain] [--no-metric-table]
                                    [--report DIR] [--scenarios lead_volume_collapse,…]

Per (size, seed): one varied account is generated (``SandboxConfig(variation=True)``: weekday and
yearly seasonality, trend, holidays, channel mix, owner effects, a CSV import of old deals, a
renamed pipeline; ``--plain`` for the default generator) and its marts are computed once by the
plain-Python reference (:mod:`evaluation.fast.relations`, no dbt; a slow test shows they equal
the dbt build). Then the clean relations and each effect of
:data:`evaluation.fast.inject.ALL_EFFECTS` injected into them go through the checks:

- every run: the five exposure-based funnel checks (``FAST_CHECKS``) and ``quarantined_records``
  (the ERROR check on ``marts.quarantined_records``, filled by the reference's quarantine rules);
- the clean run also: the three checks on ``metrics.metric_funnel_history``, built by dbt's own
  models over the clean marts (:mod:`evaluation.fast.metric_table`; ``--no-metric-table`` skips).

A detection is a WARN/ERROR of a check named in ``EXPECTED_CHECKS`` (the check whose name says what
was found); a false alarm is any check failing on the clean run. Every finished seed is appended
to ``<out>/seeds.jsonl``; the tables are printed and written to ``<out>/power.md`` and
``<out>/power.json`` (``--report DIR`` re-renders them from a partial run).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from core.settings import ROOT
from evaluation.fast.inject import ALL_EFFECTS, EXPECTED_CHECKS, inject, quarantine_of
from evaluation.fast.metric_table import METRIC_TABLE_CHECKS, MetricTable
from evaluation.fast.relations import SIZES, build_account, connection, sandbox_config
from evaluation.fast.report import SeedResult, write_report
from warehouse.anomaly.checks import run_all
from warehouse.quarantine import CHECK_NAME, read_quarantined, summarize

FAST_CHECKS = ("lead_volume_anomaly", "stage_conversion_drop", "stage_dwell_spike", "stuck_deals", "transition_burst")
"""The checks that read only the fast path's relations (marts.fct_deal_stage_history, marts.mart_lead_volume_daily)."""
DEFAULT_SEEDS = 30
DEFAULT_OUT = ROOT / "data" / "eval" / "power"
_METRIC_TABLES: dict[str, MetricTable] = {}  # one per worker process (and output folder)


def _cpu_with_children() -> float:
    """CPU seconds of this process and its finished children (the dbt process)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _fired(outcomes) -> list[str]:
    return [o.name for o in outcomes if not o.passed]


def run_seed(
    size_label: str, seed: int, varied: bool, metric_dir: str | None, scenarios: tuple[str, ...] | None = None
) -> SeedResult:
    """Every run (clean + each effect, or each effect of ``scenarios``) of one (size, seed)."""
    out = SeedResult(size_label, seed)
    t0 = time.process_time()
    with tempfile.TemporaryDirectory(prefix="eval-fast-") as work:
        account = build_account(sandbox_config(SIZES[size_label], seed, varied=varied), Path(work))
    out.build_seconds = time.process_time() - t0
    out.deals, out.visits = len(account.deals), len(account.visits)
    out.leads = sum(int(r["new_leads"]) for r in account.leads)
    clean_q = [
        {"source": "hubspot", "entity": "deal", "source_record_id": k.split(":", 1)[1], "deal_id": k, "rule": "?"}
        for k in account.quarantined
    ] + quarantine_of(account.crm_deals, account.entry_times, account.as_of)
    runs = [("clean", None), *((e.label, e) for e in ALL_EFFECTS if scenarios is None or e.scenario in scenarios)]
    for label, effect in runs:
        if effect is None:
            visits, leads, quarantined, deals = account.visits, account.leads, clean_q, account.deals
        else:
            inj = inject(effect, account, random.Random(seed * 1000 + ALL_EFFECTS.index(effect)))
            visits, leads, quarantined, deals = inj.visits, inj.leads, inj.quarantined, inj.deals
        con = connection(visits, leads, quarantined, deals)
        t = time.process_time()
        outcomes = run_all(con, account.as_of, FAST_CHECKS)
        out.check_seconds.append(time.process_time() - t)
        summary = summarize(read_quarantined(con))
        con.close()
        out.fired[label] = _fired(outcomes) + ([] if summary.passed else [CHECK_NAME])
        out.errors += [f"{label}: {o.name}: {o.metadata['error']}" for o in outcomes if "error" in o.metadata]
        out.no_power[label] = [f"{o.name}:{s}" for o in outcomes for s in o.metadata.get("not_enough_data", [])]
    if metric_dir is not None:
        t = _cpu_with_children()
        con = _metric_table(metric_dir).connect(account.visits, account.deals, account.as_of)
        try:
            outcomes = run_all(con, account.as_of, METRIC_TABLE_CHECKS)
        finally:
            con.close()
        out.metric_seconds = _cpu_with_children() - t
        out.fired["clean"] += _fired(outcomes)
        out.errors += [f"clean: {o.name}: {o.metadata['error']}" for o in outcomes if "error" in o.metadata]
    out.checks_run = [*FAST_CHECKS, CHECK_NAME, *(METRIC_TABLE_CHECKS if metric_dir is not None else ())]
    return out


def _metric_table(root: str) -> MetricTable:
    """This worker process's metric-table folder (``<out>/dbt/worker-<pid>``), made once."""
    if root not in _METRIC_TABLES:
        _METRIC_TABLES[root] = MetricTable(Path(root) / f"worker-{os.getpid()}")
    return _METRIC_TABLES[root]


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.fast.power", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated deals a year: " + ", ".join(SIZES))
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds per size (default {DEFAULT_SEEDS})")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default data/eval/power)")
    parser.add_argument("--plain", action="store_true", help="the default generator (no account variation)")
    parser.add_argument(
        "--no-metric-table", action="store_true", help="skip the three metric-table checks (no dbt at all)"
    )
    parser.add_argument("--report", metavar="DIR", help="only re-render the tables of DIR/seeds.jsonl")
    parser.add_argument(
        "--scenarios",
        help="comma-separated scenarios to inject (default all: " + ", ".join(dict.fromkeys(EXPECTED_CHECKS)) + ")",
    )
    args = parser.parse_args(argv)
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip()) if args.scenarios else None
    if scenarios and set(scenarios) - set(EXPECTED_CHECKS):
        parser.error(
            f"unknown scenario(s) {sorted(set(scenarios) - set(EXPECTED_CHECKS))}; known: {', '.join(EXPECTED_CHECKS)}"
        )
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; known: {', '.join(SIZES)}")
    if args.report:
        folder = Path(args.report)
        done = [SeedResult.from_json(line) for line in (folder / "seeds.jsonl").read_text().splitlines() if line]
        write_report(done, [s for s in sizes if any(r.size == s for r in done)], folder, None, args.jobs)
        return 0
    out = Path(args.out).resolve()  # dbt runs in dbt_project/: a relative warehouse path would miss the file
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds.jsonl").write_text("")
    metric_root = None if args.no_metric_table else str(out / "dbt")
    jobs = [(s, seed) for s in sizes for seed in range(args.first_seed, args.first_seed + args.seeds)]
    print(
        f"==> Power of the anomaly checks: sizes {', '.join(sizes)} deals/yr, {args.seeds} seeds each "
        f"({len(jobs)} accounts), {len(ALL_EFFECTS)} effects + clean per account, {args.jobs} job(s); "
        f"results in {out}",
        flush=True,
    )
    started = time.monotonic()
    results: list[SeedResult] = []
    with ProcessPoolExecutor(max(1, args.jobs), mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(run_seed, s, seed, not args.plain, metric_root, scenarios): (s, seed) for s, seed in jobs
        }
        for i, f in enumerate(as_completed(futures), 1):
            s, seed = futures[f]
            try:
                r = f.result()
            except Exception as exc:  # one broken seed must not hide the others
                r = SeedResult(s, seed, errors=[f"{type(exc).__name__}: {exc}"])
            results.append(r)
            with open(out / "seeds.jsonl", "a", encoding="utf-8") as fh:
                fh.write(r.to_json() + "\n")
            elapsed = time.monotonic() - started
            eta = elapsed / i * (len(jobs) - i)
            clean = ", ".join(r.fired.get("clean", [])) or "quiet"
            run = [e for e in ALL_EFFECTS if e.label in r.fired]
            missed = [e.label for e in run if not set(EXPECTED_CHECKS[e.scenario]) & set(r.fired[e.label])]
            print(
                f"  [{i}/{len(jobs)}] {s} deals/yr seed {seed}: clean {clean}; missed {len(missed)}/{len(run)}"
                f"{' ERROR' if r.errors else ''} (account {r.build_seconds:.0f}s CPU; elapsed {_clock(elapsed)}, "
                f"about {_clock(eta)} left)",
                flush=True,
            )
    return 1 if write_report(results, sizes, out, time.monotonic() - started, args.jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
