"""The power table and the false alarms of ``make eval-checks`` (evaluation.fast.power): one
seed's result, the tables (printed, ``power.md``) and their figures (``power.json``)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from evaluation.fast.inject import ALL_EFFECTS, EXPECTED_CHECKS


@dataclass
class SeedResult:
    size: str
    seed: int
    fired: dict[str, list[str]] = field(default_factory=dict)  # run label ("clean", effect label) -> checks failed
    no_power: dict[str, list[str]] = field(default_factory=dict)  # run label -> "check:segment" without power
    checks_run: list[str] = field(default_factory=list)  # the checks of the clean run
    check_seconds: list[float] = field(default_factory=list)  # CPU of the funnel checks, per run
    build_seconds: float = 0.0  # CPU: generate the account and compute its marts
    metric_seconds: float = 0.0  # CPU: the metric table and its three checks (clean run)
    deals: int = 0
    visits: int = 0
    leads: int = 0
    errors: list[str] = field(default_factory=list)

    def detected(self, label: str, scenario: str) -> bool:
        return bool(set(EXPECTED_CHECKS[scenario]) & set(self.fired.get(label, [])))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> SeedResult:
        return cls(**json.loads(line))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def _rate(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "-"


def _by_size(results: list[SeedResult], sizes: list[str]) -> dict[str, list[SeedResult]]:
    return {s: [r for r in results if r.size == s and not (r.errors and not r.fired)] for s in sizes}


def figures(results: list[SeedResult], sizes: list[str], wall: float | None, jobs: int) -> dict[str, Any]:
    """Every number of the report (``power.json``)."""
    by = _by_size(results, sizes)
    power = {
        e.label: {
            "scenario": e.scenario,
            "expected_checks": list(EXPECTED_CHECKS[e.scenario]),
            **{
                s: {"detected": sum(r.detected(e.label, e.scenario) for r in by[s]), "seeds": len(by[s])} for s in sizes
            },
        }
        for e in ALL_EFFECTS
        if any(e.label in r.fired for r in results)  # effects not run (power --scenarios) have no row
    }
    checks = sorted({c for r in results for c in r.checks_run}, key=lambda c: (c not in _ORDER, _ORDER.get(c, 0), c))
    alarms = {
        c: {
            s: {
                "fired": sum(c in r.fired.get("clean", []) for r in by[s] if c in r.checks_run),
                "seeds": sum(c in r.checks_run for r in by[s]),
            }
            for s in sizes
        }
        for c in checks
    }
    any_check = {s: {"fired": sum(bool(r.fired.get("clean")) for r in by[s]), "seeds": len(by[s])} for s in sizes}
    no_power: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(sizes, 0))
    for s in sizes:
        for r in by[s]:
            for seg in r.no_power.get("clean", []):
                no_power[seg][s] += 1

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / len(xs), 3) if xs else 0.0

    cost = {
        s: {
            "seeds": len(by[s]),
            "deals": mean([r.deals for r in by[s]]),
            "visits": mean([r.visits for r in by[s]]),
            "leads": mean([r.leads for r in by[s]]),
            "account_cpu_s": mean([r.build_seconds for r in by[s]]),
            "checks_cpu_s_per_run": mean([t for r in by[s] for t in r.check_seconds]),
            "metric_table_cpu_s": mean([r.metric_seconds for r in by[s]]),
            "seed_cpu_s": mean([r.build_seconds + sum(r.check_seconds) + r.metric_seconds for r in by[s]]),
        }
        for s in sizes
    }
    errors = [f"size {r.size} seed {r.seed}: {e}" for r in results for e in r.errors]
    return {
        "sizes": sizes,
        "power": power,
        "false_alarms": alarms,
        "false_alarms_any_check": any_check,
        "not_enough_data_clean": dict(sorted(no_power.items())),
        "cost": cost,
        "wall_seconds": None if wall is None else round(wall),
        "jobs": jobs,
        "errors": errors,
    }


_ORDER = {
    c: i
    for i, c in enumerate(
        (
            "stage_conversion_drop",
            "lead_volume_anomaly",
            "stage_dwell_spike",
            "stuck_deals",
            "transition_burst",
            "quarantined_records",
            "skip_rate_jump",
            "regression_rate_jump",
            "won_amount_sanity",
        )
    )
}


TARGET = 0.95
"""The detection rate a tested effect needs to count as detectable (the issue's target)."""


def minimum_detectable(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per expected check and size: the weakest tested effect detected in at least ``TARGET`` of
    the seeds (the effects of a scenario are listed weaker first), else the best rate reached."""
    rates: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for label, v in f["power"].items():
        check = ", ".join(f"`{c}`" for c in v["expected_checks"])
        for s in f["sizes"]:
            if v[s]["seeds"]:
                rates.setdefault(check, {}).setdefault(s, []).append((label, v[s]["detected"] / v[s]["seeds"]))
    out: dict[str, dict[str, str]] = {}
    for check, by_size in rates.items():
        for s, tested in by_size.items():
            hit = next(((label, r) for label, r in tested if r >= TARGET), None)
            if hit:
                text = f"**{hit[0]}** ({100 * hit[1]:.0f}%)"
            else:
                label, r = max(reversed(tested), key=lambda t: t[1])  # ties: the stronger effect
                text = f"none tested (best: {label}, {100 * r:.0f}%)"
            out.setdefault(check, {})[s] = text
    return out


def render(f: dict[str, Any]) -> str:
    """The markdown report of :func:`figures`."""
    sizes = f["sizes"]
    heads = [f"{int(s):,} deals/yr" for s in sizes]
    power_rows = [
        [
            v["scenario"],
            label,
            ", ".join(f"`{c}`" for c in v["expected_checks"]),
            *(_rate(v[s]["detected"], v[s]["seeds"]) for s in sizes),
        ]
        for label, v in f["power"].items()
    ]
    alarm_rows = [
        [f"`{c}`", *(_rate(v[s]["fired"], v[s]["seeds"]) for s in sizes)] for c, v in f["false_alarms"].items()
    ]
    alarm_rows.append(
        [
            "**any check** (clean runs with a failing check)",
            *(_rate(f["false_alarms_any_check"][s]["fired"], f["false_alarms_any_check"][s]["seeds"]) for s in sizes),
        ]
    )
    np_rows = [
        [f"`{seg}`", *(f"{v[s]}/{f['cost'][s]['seeds']}" for s in sizes)]
        for seg, v in f["not_enough_data_clean"].items()
    ]
    c = f["cost"]
    cost_rows = [
        [
            "deals / visits / leads in the account (mean)",
            *(f"{c[s]['deals']:,.0f} / {c[s]['visits']:,.0f} / {c[s]['leads']:,.0f}" for s in sizes),
        ],
        ["CPU: generate the account + reference marts", *(f"{c[s]['account_cpu_s']:.1f} s" for s in sizes)],
        ["CPU: the five funnel checks, per run", *(f"{c[s]['checks_cpu_s_per_run']:.2f} s" for s in sizes)],
        ["CPU: metric table + its three checks (clean run)", *(f"{c[s]['metric_table_cpu_s']:.2f} s" for s in sizes)],
        ["CPU per seed (all of it)", *(f"{c[s]['seed_cpu_s']:.1f} s" for s in sizes)],
    ]
    mde_rows = [[check, *(row.get(s, "-") for s in sizes)] for check, row in minimum_detectable(f).items()]
    out = [
        "## Detection rate over seeds (a failure of the expected check)",
        "",
        _table(["scenario", "effect", "expected check", *heads], power_rows),
        "",
        f"## Minimum detectable effect: the weakest tested effect caught in ≥ {TARGET:.0%} of seeds",
        "",
        _table(["check", *heads], mde_rows),
        "",
        "## False alarms per check over the clean seeds",
        "",
        _table(["check", *heads], alarm_rows),
        "",
        "## Segments without power on the clean runs (the check says 'not enough data')",
        "",
        _table(["check:segment", *heads], np_rows) if np_rows else "none",
        "",
        "## Cost",
        "",
        _table(["", *heads], cost_rows),
        "",
    ]
    if f["wall_seconds"] is not None:
        out.append(f"Wall clock: {f['wall_seconds']} s with {f['jobs']} job(s).")
    for e in f["errors"]:
        out.append(f"ERROR {e}")
    return "\n".join(out) + "\n"


def write_report(results: list[SeedResult], sizes: list[str], out: Path, wall: float | None, jobs: int) -> int:
    """Print the report, write ``power.md`` and ``power.json`` in ``out``; returns the number of errors."""
    f = figures(results, sizes, wall, jobs)
    text = render(f)
    print("\n" + text, flush=True)
    (out / "power.md").write_text(text, encoding="utf-8")
    (out / "power.json").write_text(json.dumps(f, indent=2), encoding="utf-8")
    print(f"Written: {out / 'power.md'}, {out / 'power.json'} (every seed: {out / 'seeds.jsonl'})")
    return len(f["errors"])
