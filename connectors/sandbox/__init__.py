"""A seeded, deterministic fake HubSpot CRM (SQLite) and a local server speaking its API.

    from connectors.sandbox import SandboxConfig, build_sandbox, SandboxServer, mutate
    db = build_sandbox(SandboxConfig(n_deals=600), Path("sandbox.sqlite"))
    with SandboxServer(db) as srv:          # srv.base_url, token "sandbox-token"
        ...

Modules: ``generator`` (build), ``store`` (schema, catalogue), ``objects`` (JSON shapes),
``search`` (filters -> SQL), ``api`` (endpoints), ``ratelimit``, ``server`` (HTTP),
``mutate`` (incremental change sets), ``truth`` (ground truth for tests).
"""

from connectors.sandbox.generator import (
    SANDBOX_END_DATE,
    SandboxConfig,
    build_sandbox,
    end_date_of,
)
from connectors.sandbox.mutate import mutate
from connectors.sandbox.server import Fault, SandboxServer


def __getattr__(name: str) -> object:
    """``GroundTruth`` is imported lazily: it needs pandas, the server does not."""
    if name == "GroundTruth":
        from connectors.sandbox.truth import GroundTruth

        return GroundTruth
    raise AttributeError(name)


__all__ = [
    "SANDBOX_END_DATE",
    "Fault",
    "GroundTruth",
    "SandboxConfig",
    "SandboxServer",
    "build_sandbox",
    "end_date_of",
    "mutate",
]
