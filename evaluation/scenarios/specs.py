"""The scenario catalogue: what each scenario injects, which checks must fire, and the injection
record stored in the sandbox (``meta['scenario']``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emulators.truth import store

META_KEY = "scenario"


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario: what it injects and which checks must fire to call it detected.

    ``expected_checks`` are check names, each an ``fnmatch`` pattern or ``a|b`` alternatives (the
    future-timestamp dbt test is matched by name patterns); ``require`` says whether ``all`` or
    ``any`` of them must fire;
    ``severity`` (if set) is the severity a matching check must fire with.
    """

    name: str
    anomaly: str
    expected_checks: tuple[str, ...] = ()
    require: str = "all"
    severity: str | None = None
    expected_label: str | None = None  # how reports name the expected checks (default: the patterns)

    def expected_text(self) -> str:
        if self.expected_label:
            return self.expected_label
        return (" and " if self.require == "all" else " or ").join(self.expected_checks)


SCENARIOS: dict[str, ScenarioSpec] = {
    s.name: s
    for s in (
        ScenarioSpec("lead_volume_collapse", "paid_search leads at 10% on E-6..E", ("lead_volume_anomaly",)),
        ScenarioSpec(
            "corrupted_timestamps",
            "15 deals with history before creation, 10 with history years after E",
            # quarantined (docs/metrics.md "Quarantine"), no longer blocking dbt tests
            ("quarantined_records",),
            severity="ERROR",
            expected_label="quarantined_records (ERROR)",
        ),
        ScenarioSpec("clean", "none"),
    )
}
ANOMALY_SCENARIOS: tuple[str, ...] = tuple(n for n in SCENARIOS if n != "clean")


@dataclass
class Injection:
    """What a scenario injected; stored in ``meta['scenario']`` of the sandbox file."""

    scenario: str
    seed: int
    end_date: str
    anomaly: str
    expected_checks: list[str]
    require: str
    severity: str | None
    code_version: str = ""  # hash of this module: a cached sandbox from older code is rebuilt
    window: list[str] | None = None  # [first day, last day] (ISO dates) of the anomaly
    deal_ids: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Injection:
        return cls(**json.loads(text))


def code_version() -> str:
    """Hash of the scenario package's source: scenario sandboxes built by other code are stale."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:12]


def read_injection(path: Path | str) -> Injection | None:
    """The injection record of a scenario sandbox (None for a plain sandbox)."""
    conn = store.connect(path, readonly=True)
    try:
        meta = store.read_meta(conn)
    finally:
        conn.close()
    return Injection.from_json(meta[META_KEY]) if META_KEY in meta else None
