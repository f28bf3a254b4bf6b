"""API emulators for tests, the demo and the evaluation: never used in production.

One seeded, deterministic ground truth (``emulators.truth``: a generated CRM account in SQLite,
its mutations and the facts tests compare against) rendered by one sub-package per emulated API
(``emulators.hubspot``: HubSpot's JSON shapes, search, paging, rate limits and faults over HTTP).

    from emulators import SandboxConfig, build_sandbox, SandboxServer, mutate
    db = build_sandbox(SandboxConfig(n_deals=600), Path("sandbox.sqlite"))
    with SandboxServer(db) as srv:          # srv.base_url, token "sandbox-token"
        ...

``truth``: ``generator`` (build), ``store`` (schema, reference data), ``mutate`` (incremental
change sets), ``ground_truth`` (facts for tests). ``hubspot``: ``objects`` (JSON shapes),
``search`` (filters -> SQL), ``api`` (endpoints), ``ratelimit``, ``server`` (HTTP).
"""

from emulators.hubspot.server import Fault, SandboxServer
from emulators.truth.generator import (
    SANDBOX_END_DATE,
    SandboxConfig,
    build_sandbox,
    end_date_of,
)
from emulators.truth.mutate import mutate


def __getattr__(name: str) -> object:
    """``GroundTruth`` is imported lazily: it needs pandas, the server does not."""
    if name == "GroundTruth":
        from emulators.truth.ground_truth import GroundTruth

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
