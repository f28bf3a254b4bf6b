"""Throwaway engines for the engine tests: a PostgreSQL server and a Spark session directory.

PostgreSQL: a fresh cluster (`initdb`, as the `postgres` user when we are root, since initdb
refuses root) on a random free loopback port, fsync off, stopped and deleted at the end of the
session. Skipped, with the reason, only when the server binaries are absent (CI has them).
The server runs in a non-UTC time zone on purpose: results must not depend on it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The engine pipeline tests first (stable otherwise): their `make run` starts in the
    background when the first of them sets up, before the DuckDB basis (`demo_warehouse`, the same
    xdist group) is built, so the two runs overlap instead of queueing on one worker."""
    first = [i for i in items if i.nodeid.startswith("tests/engines/test_engine_pipeline.py::")]
    if first:
        rest = [i for i in items if not i.nodeid.startswith("tests/engines/test_engine_pipeline.py::")]
        items[:] = first + rest


PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SERVER_TIME_ZONE = "America/New_York"


def _pg_bin() -> Path | None:
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    def env(self) -> dict[str, str]:
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGDATABASE": self.database}


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg2", reason="PostgreSQL extras missing: run `make setup-postgres`")
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="pg-engine-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
        f"-c full_page_writes=off -c timezone={SERVER_TIME_ZONE}"
    )
    pg_ctl = str(bin_dir / "pg_ctl")
    subprocess.run(
        _as_server_user(
            [pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "30", "-o", options, "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("create database warehouse")
        con.close()
        yield PostgresServer(host="127.0.0.1", port=port, user="postgres", database="warehouse")
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_env(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    """The PG* variables of the throwaway server and WAREHOUSE_TARGET=postgres, for one test."""
    for key, value in postgres_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WAREHOUSE_TARGET", "postgres")
    return postgres_server


@pytest.fixture
def fresh_database(pg_env: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty database on the throwaway server (PGDATABASE points at it)."""
    import psycopg2

    name = f"t_{os.urandom(4).hex()}"
    con = psycopg2.connect(host=pg_env.host, port=pg_env.port, user=pg_env.user, dbname="postgres")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"create database {name}")
    con.close()
    monkeypatch.setenv("PGDATABASE", name)
    return name
