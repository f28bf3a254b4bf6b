"""How this project calls dbt, in one place: the executable, the environment (the warehouse file;
no API secrets, no telemetry) and the command line with the project and profiles directories.
Used by the manifest preparation (orchestration/instance.py), Dagster's `DbtCliResource`
(orchestration/definitions.py, orchestration/assets/dbt.py) and the evaluation harness
(evaluation/pipeline.py). Dagster-free."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from core.settings import (
    AS_OF_DATE_ENV,
    DBT_PROJECT_DIR,
    resolve_path,
    spark_lake_dir,
    spark_warehouse_dir,
    warehouse_target,
)
from core.sources import is_secret_env

# dbt scrubs the values of DBT_ENV_SECRET_* variables from its logs and refuses them outside
# profiles.yml, so the PostgreSQL password is also handed over under that name.
DBT_SECRET_PGPASSWORD = "DBT_ENV_SECRET_PGPASSWORD"


PIPELINE_BUILD_ARGS: tuple[str, ...] = ("--exclude-resource-type", "unit_test")
"""What the pipeline's ``dbt build`` leaves out: dbt's unit tests. They test the models' SQL on
fixed fixture rows, not the data, so a data run gains nothing from them and pays their fixed cost
on every build (a quarter of a build's node time after a 1% change); `make test` runs them
(tests/marts/test_dbt_unit_tests.py). Data tests and asset checks are unchanged."""


def dbt_executable() -> str:
    """The `dbt` of this virtualenv (beside the running Python), else the one on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(
    warehouse: Path | str | None = None, base: Mapping[str, str] | None = None, as_of: date | None = None
) -> dict[str, str]:
    """The environment of a dbt process: ``base`` (default: ours) without the API secrets, with
    telemetry off, given a warehouse file ``DBT_DUCKDB_PATH`` pointing at it, and given a day
    ``AS_OF_DATE`` set to it. The day goes through the environment, not ``--vars``: dbt's
    ``as_of_date()`` reads it only at execution, so a new day keeps the partial parse (any change
    of ``--vars`` makes dbt parse the whole project again; docs/decisions.md, "The as-of day from
    the environment, read at execution")."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not is_secret_env(k)}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    if as_of is not None:
        env[AS_OF_DATE_ENV] = as_of.isoformat()
    if warehouse is not None:
        env["DBT_DUCKDB_PATH"] = str(warehouse)
    target = warehouse_target()
    if target == "postgres" and source.get("PGPASSWORD"):
        env["PGPASSWORD"] = env[DBT_SECRET_PGPASSWORD] = source["PGPASSWORD"]
    if target == "spark":
        env.setdefault("SPARK_WAREHOUSE_DIR", str(spark_warehouse_dir()))
        lake = spark_lake_dir()
        env["WAREHOUSE_LAKE_DIR"] = str(lake)
        env["WAREHOUSE_LAKE_TABLES"] = ",".join(lake_tables(lake))
        from warehouse.engines.spark_conf import session_conf_json

        thrift = bool(source.get("SPARK_THRIFT_HOST"))
        env["SPARK_SESSION_CONF"] = session_conf_json(resolve_path(env["SPARK_WAREHOUSE_DIR"]), thrift)
    return env


def pipeline_target_path(warehouse: Path | str) -> Path:
    """dbt's target (and log) folder for the pipeline's builds of one warehouse: the folder
    ``<warehouse file>.dbt_target`` beside it, kept from run to run. Each build then starts from
    the previous build's ``partial_parse.msgpack``, saved under that warehouse's profile and vars;
    Dagster's default, a new folder per run seeded from ``dbt_project/target/`` (the manifest
    preparation, another profile), made every build parse the whole project again. dbt re-parses
    whatever files changed, so a saved parse is never stale; one run at a time writes it
    (docs/decisions.md, "The as-of day from the environment, read at execution")."""
    path = Path(warehouse)
    return path.with_name(path.name + ".dbt_target")


def lake_tables(lake: Path) -> list[str]:
    """``<raw schema>.<table>`` of every raw table mirrored to the Spark lake folder."""
    if not lake.is_dir():
        return []
    return sorted(f"{f.parent.name}.{f.stem}" for f in lake.glob("raw_*/*.parquet") if not f.name.startswith("."))


def dbt_target_args() -> list[str]:
    """``--target <WAREHOUSE_TARGET>`` (profiles.yml has one output per engine)."""
    return ["--target", warehouse_target()]


def dbt_command(command: str, *args: str) -> list[str]:
    """``dbt <command> --project-dir … --profiles-dir … <args>`` for this project."""
    return [
        dbt_executable(),
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        *dbt_target_args(),
        *args,
    ]


def run_dbt(
    command: str,
    *args: str,
    warehouse: Path | str | None = None,
    as_of: date | None = None,
    capture: bool = False,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command in the project directory (dbt resolves relative paths from there);
    ``as_of``: the as-of day, through the environment (:func:`dbt_env`)."""
    return subprocess.run(
        dbt_command(command, *args),
        env=dbt_env(warehouse, as_of=as_of),
        cwd=DBT_PROJECT_DIR,
        capture_output=capture,
        text=True,
        check=check,
    )


__all__: Sequence[str] = [
    "PIPELINE_BUILD_ARGS",
    "dbt_command",
    "dbt_env",
    "dbt_executable",
    "dbt_target_args",
    "pipeline_target_path",
    "run_dbt",
]
