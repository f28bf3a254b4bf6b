"""One anomaly scenario and one clean seed end to end (build, load without HTTP, dbt build,
``warehouse.anomaly.checks.run_all``): the end-to-end counterpart of the fast path of
``make eval-checks``, which ``make test`` runs.

``lead_volume_collapse`` is the cheapest meaningful scenario: it exercises a statistical check and
only needs leads to have power, so the sandbox keeps 30,000 contacts (the paid-search week the
check tests expects ~75 leads; keeping 10% of them is z ≈ −7 against the |z| ≥ 4, ≥ 30%, ≥ 30
leads gates) but only 3,000 deals, which keeps dbt fast. The clean run uses the same seed and
size, so the only difference between the two warehouses is the injected anomaly.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from evaluation.pipeline import RunResult, Size, run_scenario

SIZE = Size(n_deals=3_000, n_contacts=30_000, months=12)
SEED = 1


@pytest.mark.slow
def test_lead_volume_collapse_fires_and_clean_seed_stays_quiet(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    def run(scenario: str) -> RunResult:
        return run_scenario(scenario, SEED, SIZE, slot_dir=tmp_path / scenario, cache_dir=cache, log=lambda _m: None)

    with ThreadPoolExecutor(2) as pool:  # the two dbt builds run side by side
        anomaly_f, clean_f = pool.submit(run, "lead_volume_collapse"), pool.submit(run, "clean")
        anomaly, clean = anomaly_f.result(), clean_f.result()

    assert not anomaly.errors and not clean.errors, anomaly.errors + clean.errors
    assert "lead_volume_anomaly" in anomaly.checks_evaluated
    assert anomaly.detected, [f.label() for f in anomaly.fired]
    assert [f.label() for f in clean.fired] == []
    assert anomaly.injection["details"]["removed"] > 0
