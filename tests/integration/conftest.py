"""The HubSpot sandbox the integration tests share: one small CRM built once per worker, a private
copy per test (tests mutate it), served on a free loopback port."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from emulators import SandboxConfig, SandboxServer, build_sandbox
from tests.integration.hubspot_raw import TOKEN

HubSpotSandbox = Callable[..., tuple[Path, SandboxServer]]


@pytest.fixture(scope="session")
def hubspot_pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crm") / "crm.sqlite"
    return build_sandbox(SandboxConfig(seed=11, n_contacts=400, n_deals=180), path)


@pytest.fixture
def hubspot_sandbox(hubspot_pristine: Path, tmp_path: Path) -> Iterator[HubSpotSandbox]:
    """``hubspot_sandbox(**server_options) -> (db, server)``: the test's copy of the CRM, served
    (``latency_ms``, ``rate_limit_per_10s``, ... as :class:`SandboxServer` takes them)."""
    with ExitStack() as stack:

        def start(**options: Any) -> tuple[Path, SandboxServer]:
            db = tmp_path / "crm.sqlite"
            shutil.copy(hubspot_pristine, db)
            return db, stack.enter_context(SandboxServer(db, token=TOKEN, **options))

        yield start
