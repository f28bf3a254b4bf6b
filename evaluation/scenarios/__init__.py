"""Anomaly scenarios: known faults injected at known dates into a sandbox CRM.

A scenario post-processes the rows the generator wrote, inside the same SQLite transaction, before
the indexes are built (hook in :func:`emulators.truth.generator._write`), so a scenario
sandbox is still one self-consistent CRM and its own ground truth: every touched deal keeps its
current stage, ``closedate``, ``hs_is_closed*``, ``amount`` and ``hs_lastmodifieddate`` in line
with its history, history ``seq`` stays 0..n-1 (oldest first), the first ``dealstage`` entry stays
at ``createdate`` and nothing is dated after the end date E, except what ``corrupted_timestamps``
corrupts on purpose. What was injected (ids, dates, counts) is stored as JSON in
``meta['scenario']`` (:func:`read_injection`). Injection is deterministic per (seed, scenario).

    from emulators import SandboxConfig, build_sandbox
    from evaluation.scenarios import SCENARIOS, read_injection
    path = build_sandbox(SandboxConfig(seed=1, n_deals=20_000, n_contacts=60_000,
                                       scenario="corrupted_timestamps"), Path("x.sqlite"))
    injection = read_injection(path)     # what, when, which ids, which checks should fire

Calendar (E = the sandbox end date; the checks evaluate as of E):

==========================  ===================================================================
``lead_volume_collapse``    channel PAID_SEARCH keeps 10% of its live leads created on E-6..E
                            (the others never arrived: removed with their associations)
``corrupted_timestamps``    15 deals get a ``dealstage`` entry dated before their creation, 10
                            deals one dated years after E (structural: quarantined, the ERROR
                            check ``quarantined_records`` fails)
``clean``                   nothing injected
==========================  ===================================================================

These sandbox-level scenarios serve the end-to-end tests (``tests/anomaly_scenarios``: one anomaly
and one clean run through load, dbt build and the checks; ``tests/marts/test_quarantine_marts.py``).
The power table of ``make eval-checks`` injects every scenario of the issue, at each effect size,
into the checks' relations instead (:mod:`evaluation.fast`). Modules: ``specs`` (the catalogue
and the injection record), ``deals`` (deal rewriting helpers), ``events`` (the injectors),
``apply`` (the generator hook).
"""

from evaluation.scenarios.apply import inject
from evaluation.scenarios.deals import STEP_ORDER
from evaluation.scenarios.specs import (
    ANOMALY_SCENARIOS,
    SCENARIOS,
    Injection,
    ScenarioSpec,
    code_version,
    read_injection,
)

__all__ = [
    "ANOMALY_SCENARIOS",
    "SCENARIOS",
    "STEP_ORDER",
    "Injection",
    "ScenarioSpec",
    "code_version",
    "inject",
    "read_injection",
]
