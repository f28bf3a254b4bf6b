"""Settings read from the environment (see the README's configuration table).

Relative paths resolve against the repository root, whatever the current directory.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = ROOT / "dbt_project"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message says which and how to fix it."""


def resolve_path(value: str | os.PathLike[str]) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else ROOT / path


def warehouse_path() -> Path:
    return resolve_path(os.environ.get("WAREHOUSE_PATH") or "data/warehouse.duckdb")


def publish_dir(warehouse: Path | None = None) -> Path:
    """Where BI-facing copies of the marts go: WAREHOUSE_PUBLISH_DIR, else <warehouse dir>/published
    on DuckDB and data/published on the other engines."""
    raw = os.environ.get("WAREHOUSE_PUBLISH_DIR")
    if raw:
        return resolve_path(raw)
    if warehouse_target() != "duckdb":
        return resolve_path("data/published")
    return resolve_path(warehouse or warehouse_path()).parent / "published"


WAREHOUSE_TARGETS: tuple[str, ...] = ("duckdb", "postgres", "spark")


def warehouse_target() -> str:
    """WAREHOUSE_TARGET: the engine dbt builds on (duckdb, postgres or spark); default duckdb."""
    raw = (os.environ.get("WAREHOUSE_TARGET") or "duckdb").strip().lower()
    if raw not in WAREHOUSE_TARGETS:
        raise SettingsError(f"WAREHOUSE_TARGET must be one of {', '.join(WAREHOUSE_TARGETS)}; got {raw!r}.")
    return raw


def spark_warehouse_dir() -> Path:
    """SPARK_WAREHOUSE_DIR: tables and metastore of a local Spark session (data/spark-warehouse)."""
    return resolve_path(os.environ.get("SPARK_WAREHOUSE_DIR") or "data/spark-warehouse")


def spark_lake_dir() -> Path:
    """Where raw tables are mirrored as Parquet for Spark: the `lake` folder beside the warehouse dir."""
    return spark_warehouse_dir().parent / "lake"


def dagster_home() -> Path:
    return resolve_path(os.environ.get("DAGSTER_HOME") or ".dagster_home")


AS_OF_DATE_ENV = "AS_OF_DATE"
"""The environment variable of the as-of day, read here and by dbt's `as_of_date()` macro (only
at execution, so a new day keeps dbt's partial parse: docs/decisions.md, "The as-of day from the
environment, read at execution"); `core.dbt_cli.dbt_env` hands the resolved day to dbt."""


def as_of_date() -> date:
    """AS_OF_DATE (YYYY-MM-DD, UTC) or today in UTC."""
    raw = (os.environ.get(AS_OF_DATE_ENV) or "").strip()
    if not raw:
        return datetime.now(UTC).date()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise SettingsError(f"AS_OF_DATE must look like 2026-10-31 (YYYY-MM-DD, UTC); got {raw!r}.")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(f"AS_OF_DATE {raw!r} is not a calendar date.") from exc


# DuckDB resources, read by dbt's profile (dbt_project/profiles.yml, same names and defaults)
# and by Python code that opens the warehouse itself (:func:`duckdb_config`).
DEFAULT_WAREHOUSE_THREADS = 2
DEFAULT_WAREHOUSE_MEMORY_LIMIT = "1GB"


def warehouse_threads() -> int:
    """WAREHOUSE_THREADS: DuckDB worker threads (a positive integer), default 2."""
    raw = (os.environ.get("WAREHOUSE_THREADS") or "").strip()
    if not raw:
        return DEFAULT_WAREHOUSE_THREADS
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"WAREHOUSE_THREADS must be a positive integer such as 2; got {raw!r}.")
    return int(raw)


def warehouse_memory_limit() -> str:
    """WAREHOUSE_MEMORY_LIMIT: DuckDB's memory limit (e.g. 1GB, 1500MB), default 1GB."""
    raw = (os.environ.get("WAREHOUSE_MEMORY_LIMIT") or "").strip()
    if not raw:
        return DEFAULT_WAREHOUSE_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw, flags=re.IGNORECASE):
        raise SettingsError(f"WAREHOUSE_MEMORY_LIMIT must be a size such as 1GB or 1500MB; got {raw!r}.")
    return raw


def duckdb_config() -> dict[str, str]:
    """The ``config`` for ``duckdb.connect`` from WAREHOUSE_THREADS and WAREHOUSE_MEMORY_LIMIT."""
    return {"threads": str(warehouse_threads()), "memory_limit": warehouse_memory_limit()}
