"""Shared sandboxes for the sandbox tests (built once per session in a temp dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulators import SandboxConfig, SandboxServer, build_sandbox

TOKEN = "test-token-3f9a"
DEMO = SandboxConfig(seed=7, n_contacts=2000, n_deals=600)
SMALL = SandboxConfig(seed=11, n_contacts=300, n_deals=100)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(DEMO, tmp_path_factory.mktemp("demo") / "demo.sqlite")


@pytest.fixture(scope="session")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(SMALL, tmp_path_factory.mktemp("small") / "small.sqlite")


@pytest.fixture(scope="session")
def server(demo_db: Path) -> Iterator[SandboxServer]:
    with SandboxServer(demo_db, token=TOKEN) as srv:
        yield srv


@pytest.fixture()
def http(server: SandboxServer) -> Iterator[requests.Session]:
    assert server.base_url  # the session server must be up
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    yield s
    s.close()
