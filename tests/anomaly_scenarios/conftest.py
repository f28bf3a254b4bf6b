"""Small scenario sandboxes for the injection tests, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators import SandboxConfig, build_sandbox
from evaluation.scenarios import SCENARIOS

# Big enough that every scenario finds its candidates (25 deals to corrupt, a week of paid-search
# leads), small enough to build all of them in a few seconds.
SEED, DEALS, CONTACTS = 3, 4000, 12000


def small_config(scenario: str | None) -> SandboxConfig:
    return SandboxConfig(seed=SEED, n_deals=DEALS, n_contacts=CONTACTS, scenario=scenario)


@pytest.fixture(scope="session")
def scenario_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scenario name -> sandbox file; key ``None`` is the plain sandbox of the same config."""
    base = tmp_path_factory.mktemp("scenarios")
    out: dict = {None: build_sandbox(small_config(None), base / "plain.sqlite")}
    for name in SCENARIOS:
        out[name] = build_sandbox(small_config(name), base / f"{name}.sqlite")
    return out
