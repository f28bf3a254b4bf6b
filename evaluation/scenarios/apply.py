"""Apply a scenario to a sandbox being generated (the generator's hook) and record it."""

from __future__ import annotations

import random
import sqlite3
from datetime import date

from evaluation.scenarios.events import _corrupted_timestamps, _lead_volume_collapse
from evaluation.scenarios.specs import META_KEY, SCENARIOS, Injection, code_version

_INJECTORS = {
    "lead_volume_collapse": _lead_volume_collapse,
    "corrupted_timestamps": _corrupted_timestamps,
}


def inject(conn: sqlite3.Connection, scenario: str, *, seed: int, end_date: date) -> Injection:
    """Apply ``scenario`` to the sandbox open on ``conn`` and record it in ``meta``.

    Called by the generator inside its transaction; deterministic per (seed, scenario).
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    spec = SCENARIOS[scenario]
    inj = Injection(
        scenario=scenario,
        seed=seed,
        end_date=end_date.isoformat(),
        anomaly=spec.anomaly,
        expected_checks=list(spec.expected_checks),
        require=spec.require,
        severity=spec.severity,
        code_version=code_version(),
    )
    if scenario in _INJECTORS:
        rng = random.Random(f"scenario:{scenario}:{seed}")
        _INJECTORS[scenario](conn, rng, inj, end_date)
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META_KEY, inj.to_json()))
    return inj
