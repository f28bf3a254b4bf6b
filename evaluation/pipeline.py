"""One scenario end to end: build the sandbox, load it without HTTP, ``dbt build``, run the checks.

The end-to-end counterpart of ``make eval-checks`` (whose power table runs on the fast path,
:mod:`evaluation.fast`): ``tests/anomaly_scenarios/test_end_to_end.py`` runs one anomaly and one
clean scenario through it; ``benchmarks/`` reuse its dbt runner.

A failing dbt test is a *detection*, not an error: the build's ``run_results.json`` is parsed for
failed tests (severity ``error`` -> ERROR, ``warn`` -> WARN) and the run carries on to
``warehouse.anomaly.checks.run_all``. Only harness problems (a model that errors, dbt that
does not run, checks that raise or are missing) are reported as errors.

Each worker uses its own *slot* directory (``<work>/slot-<k>/``) whose warehouse path and dbt
target path never change, so dbt's partial parse is reused from one run to the next and parallel
workers never share a file.
"""

from __future__ import annotations

import fnmatch
import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.dbt_cli import PIPELINE_BUILD_ARGS
from core.dbt_cli import run_dbt as run_dbt_cli
from core.settings import ROOT
from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of
from evaluation.load import load_sandbox
from evaluation.scenarios import SCENARIOS, Injection, code_version, read_injection

CACHE_DIR = ROOT / "data" / "eval"


@dataclass(frozen=True)
class Size:
    """Sandbox size of a scenario run."""

    n_deals: int = 20_000
    n_contacts: int = 60_000
    months: int = 12

    def label(self) -> str:
        return f"d{self.n_deals}-c{self.n_contacts}-m{self.months}"


@dataclass
class Fired:
    """A check that did not pass: a dbt test (``kind='dbt'``) or an anomaly check."""

    name: str
    severity: str
    kind: str
    asset: str | None = None
    detail: str | None = None
    could_not_run: bool = False
    """The check failed because it could not run (e.g. marts skipped after a blocking test)."""
    dbt_pass: int = 1
    """dbt tests: the build that found it (> 1: masked by a blocking failure upstream in build 1)."""

    def label(self) -> str:
        extra = ", could not run" if self.could_not_run else ""
        if self.dbt_pass > 1:
            extra += f", dbt pass {self.dbt_pass}"
        return f"{self.name} ({self.severity}{extra})"


@dataclass
class RunResult:
    """Everything one scenario run produced, picklable for worker processes."""

    scenario: str
    seed: int
    size: Size
    injection: dict[str, Any] | None = None
    fired: list[Fired] = field(default_factory=list)
    checks_evaluated: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    dbt: dict[str, Any] = field(default_factory=dict)

    @property
    def detected(self) -> bool | None:
        """Whether the expected checks fired (None for the clean scenario)."""
        if self.scenario == "clean":
            return None
        return expected_fired(self.scenario, self.fired)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["detected"] = self.detected
        return d


def expected_fired(scenario: str, fired: list[Fired]) -> bool:
    """Did the checks the scenario expects fire (with the required severity)?"""
    spec = SCENARIOS[scenario]
    hits = []
    for requirement in spec.expected_checks:  # "a|b": either pattern satisfies the requirement
        patterns = requirement.split("|")
        hits.append(
            any(
                any(fnmatch.fnmatchcase(f.name, p) for p in patterns)
                and (spec.severity is None or f.severity == spec.severity)
                for f in fired
            )
        )
    if not hits:
        return False
    return all(hits) if spec.require == "all" else any(hits)


def sandbox_path(scenario: str, seed: int, size: Size, cache_dir: Path = CACHE_DIR) -> Path:
    """Cached sandbox file of (scenario, seed, size)."""
    return cache_dir / "sandboxes" / f"{scenario}-s{seed}-{size.label()}.sqlite"


def build_scenario(scenario: str, seed: int, size: Size, cache_dir: Path = CACHE_DIR) -> tuple[Path, Injection]:
    """Build (or reuse) the scenario sandbox; returns its path and injection record."""
    config = SandboxConfig(
        seed=seed, n_deals=size.n_deals, n_contacts=size.n_contacts, months=size.months, scenario=scenario
    )
    path = sandbox_path(scenario, seed, size, cache_dir)
    if path.exists():
        cached = read_injection(path)
        if cached is None or cached.code_version != code_version():
            path.unlink()  # built by another version of the scenarios: rebuild
    path = build_sandbox(config, path)
    injection = read_injection(path)
    assert injection is not None, f"{path} carries no scenario record"
    return path, injection


# ---------------------------------------------------------------- dbt


def run_dbt_once(warehouse: Path, as_of: date, slot_dir: Path, exclude: list[str] | None = None) -> dict[str, Any]:
    """One ``dbt build`` on ``warehouse`` with a private target/log path; never raises on failures.

    Returns ``{returncode, seconds, failed_tests: [(name, severity, failures, unique_id)],
    errors: [...], skipped, passed}``.
    """
    target, logs = slot_dir / "target", slot_dir / "logs"
    args = [
        *PIPELINE_BUILD_ARGS,
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
        "--vars",
        json.dumps({"as_of_date": as_of.isoformat()}),
    ]
    if exclude:
        args += ["--exclude", *exclude]
    (target / "run_results.json").unlink(missing_ok=True)
    started = time.monotonic()
    proc = run_dbt_cli("build", *args, warehouse=warehouse, capture=True)
    out: dict[str, Any] = {
        "returncode": proc.returncode,
        "seconds": time.monotonic() - started,
        "failed_tests": [],
        "errors": [],
        "skipped": 0,
        "passed": 0,
    }
    (slot_dir / "dbt_stdout.log").write_text(proc.stdout + proc.stderr)
    results_file = target / "run_results.json"
    if not results_file.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        out["errors"].append(f"dbt build produced no run_results.json (exit {proc.returncode}):\n{tail}")
        return out
    for r in json.loads(results_file.read_text())["results"]:
        uid, status = r["unique_id"], r["status"]
        kind = uid.split(".")[0]
        name = uid.split(".")[2] if uid.count(".") >= 2 else uid
        if status == "skipped":
            out["skipped"] += 1
        elif status in ("pass", "success"):
            out["passed"] += 1
        elif kind in ("test", "unit_test") and status in ("fail", "warn", "error"):
            severity = "WARN" if status == "warn" else "ERROR"
            out["failed_tests"].append((name, severity, r.get("failures"), uid))
        else:
            out["errors"].append(f"{uid}: {status}: {(r.get('message') or '').strip()[:300]}")
    return out


def run_dbt(warehouse: Path, as_of: date, slot_dir: Path, *, max_passes: int = 3) -> dict[str, Any]:
    """``dbt build``; when blocking (ERROR) tests fail and skip what is downstream of them, build
    again without those tests (at most ``max_passes`` builds) to see the faults they masked.

    A blocking test upstream (say, history dated after its load, on a staging model) skips every
    test below it (history before creation, on an intermediate model), so one build can report
    one structural fault of a scenario that has two. The later passes show what fixing the first
    would reveal, and build the marts so the anomaly checks can run. Each failed test carries
    the pass that found it: ``failed_tests: [(name, severity, failures, unique_id, pass)]``.
    """
    total: dict[str, Any] = {"seconds": 0.0, "failed_tests": [], "errors": [], "passes": 0}
    excluded: list[str] = []
    seen: set[str] = set()
    for n in range(1, max_passes + 1):
        res = run_dbt_once(warehouse, as_of, slot_dir, excluded)
        total["seconds"] += res["seconds"]
        total["passes"] = n
        total["errors"].extend(e for e in res["errors"] if e not in total["errors"])
        total.update({k: res[k] for k in ("returncode", "skipped", "passed")})
        blocking = []
        for name, severity, failures, uid in res["failed_tests"]:
            if name not in seen:
                seen.add(name)
                total["failed_tests"].append((name, severity, failures, uid, n))
            if severity == "ERROR" and name not in excluded:
                blocking.append(name)
        if not res["skipped"] or not blocking:
            break
        excluded.extend(blocking)
    return total


# ---------------------------------------------------------------- checks


def run_checks(warehouse: Path, as_of: date) -> tuple[list[Fired], list[str], list[str]]:
    """``warehouse.anomaly.checks.run_all(con, as_of)`` -> (fired, names evaluated, errors)."""
    try:
        from warehouse.anomaly.checks import run_all
    except ImportError as exc:
        return [], [], [f"warehouse.anomaly.checks.run_all is not available ({exc})"]
    import duckdb

    from warehouse.quarantine import CHECK_NAME, read_quarantined, summarize

    try:
        with duckdb.connect(str(warehouse)) as con:
            outcomes = run_all(con, as_of)
            # the quarantine's ERROR check (a Dagster asset check on marts.quarantined_records)
            quarantine = summarize(read_quarantined(con))
    except Exception as exc:  # a crashing check is a harness finding, not a detection
        return [], [], [f"run_all raised {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"]
    fired = [
        Fired(
            o.name,
            str(o.severity).upper(),
            "check",
            getattr(o, "asset", None),
            (getattr(o, "description", None) or "")[:300],
            could_not_run="error" in (getattr(o, "metadata", None) or {}),
        )
        for o in outcomes
        if not o.passed
    ]
    if not quarantine.passed:
        fired.append(Fired(CHECK_NAME, "ERROR", "check", "quarantined_records", quarantine.headline()[:300]))
    return fired, sorted({o.name for o in outcomes} | {CHECK_NAME}), []


# ---------------------------------------------------------------- one run


def run_scenario(
    scenario: str, seed: int, size: Size, *, slot_dir: Path, cache_dir: Path = CACHE_DIR, log=print
) -> RunResult:
    """Build, load, dbt build and check one (scenario, seed, size) in ``slot_dir``."""
    result = RunResult(scenario, seed, size)
    slot_dir.mkdir(parents=True, exist_ok=True)
    warehouse = slot_dir / "warehouse.duckdb"

    t = time.monotonic()
    db, injection = build_scenario(scenario, seed, size, cache_dir)
    result.timings["build"] = time.monotonic() - t
    result.injection = asdict(injection)
    as_of = end_date_of(db)

    t = time.monotonic()
    load_sandbox(db, warehouse)
    result.timings["load"] = time.monotonic() - t

    dbt = run_dbt(warehouse, as_of, slot_dir)
    result.timings["dbt"] = dbt["seconds"]
    result.dbt = {k: dbt.get(k) for k in ("returncode", "skipped", "passed", "passes")}
    result.errors.extend(dbt["errors"])
    result.fired.extend(
        Fired(name, sev, "dbt", None, f"{failures} failing rows" if failures is not None else None, dbt_pass=n)
        for name, sev, failures, _uid, n in dbt["failed_tests"]
    )

    t = time.monotonic()
    fired, evaluated, errors = run_checks(warehouse, as_of)
    result.timings["checks"] = time.monotonic() - t
    result.fired.extend(fired)
    result.checks_evaluated = evaluated
    result.errors.extend(errors)
    log(
        f"    {scenario} seed {seed}: fired {', '.join(f.label() for f in result.fired) or 'nothing'}"
        f" [build {result.timings['build']:.0f}s, load {result.timings['load']:.0f}s, dbt "
        f"{result.timings['dbt']:.0f}s, checks {result.timings['checks']:.0f}s]"
    )
    return result


__all__ = [
    "CACHE_DIR",
    "Fired",
    "RunResult",
    "Size",
    "build_scenario",
    "expected_fired",
    "run_checks",
    "run_dbt",
    "run_dbt_once",
    "run_scenario",
    "sandbox_path",
]
