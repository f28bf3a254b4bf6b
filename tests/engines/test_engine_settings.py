"""WAREHOUSE_TARGET and what dbt receives on each engine (no secret beyond what it needs)."""

from __future__ import annotations

import pytest

from core.dbt_cli import DBT_SECRET_PGPASSWORD, dbt_command, dbt_env
from core.settings import SettingsError, publish_dir, resolve_path, warehouse_target
from core.sources import is_secret_env


def test_target_defaults_to_duckdb_and_rejects_unknown(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WAREHOUSE_TARGET", raising=False)
    assert warehouse_target() == "duckdb"
    monkeypatch.setenv("WAREHOUSE_TARGET", " Postgres ")
    assert warehouse_target() == "postgres"
    monkeypatch.setenv("WAREHOUSE_TARGET", "trino")
    with pytest.raises(SettingsError, match="duckdb, postgres, spark"):
        warehouse_target()


def test_dbt_runs_with_the_target(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WAREHOUSE_TARGET", "spark")
    cmd = dbt_command("build")
    assert cmd[cmd.index("--target") + 1] == "spark"


def test_pgpassword_is_a_secret_given_to_dbt_only_on_postgres(monkeypatch: pytest.MonkeyPatch):
    assert is_secret_env("PGPASSWORD")
    base = {"PGPASSWORD": "s3cret", "PGHOST": "db", "HUBSPOT_ACCESS_TOKEN": "pat-x"}
    monkeypatch.setenv("WAREHOUSE_TARGET", "duckdb")
    env = dbt_env(base=base)
    assert "PGPASSWORD" not in env and DBT_SECRET_PGPASSWORD not in env and "HUBSPOT_ACCESS_TOKEN" not in env
    monkeypatch.setenv("WAREHOUSE_TARGET", "postgres")
    env = dbt_env(base=base)
    assert env["PGPASSWORD"] == env[DBT_SECRET_PGPASSWORD] == "s3cret"  # dbt scrubs DBT_ENV_SECRET_* values
    assert env["PGHOST"] == "db" and "HUBSPOT_ACCESS_TOKEN" not in env


def test_publish_dir_default_per_engine(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.delenv("WAREHOUSE_PUBLISH_DIR", raising=False)
    monkeypatch.setenv("WAREHOUSE_TARGET", "duckdb")
    assert publish_dir(tmp_path / "w.duckdb") == tmp_path / "published"
    monkeypatch.setenv("WAREHOUSE_TARGET", "postgres")
    assert publish_dir(tmp_path / "w.duckdb") == resolve_path("data/published")


def test_spark_without_pyspark_says_what_to_run(monkeypatch: pytest.MonkeyPatch):
    import sys

    from warehouse.engines import require_spark

    monkeypatch.setitem(sys.modules, "pyspark", None)  # what an environment without the extra sees
    with pytest.raises(RuntimeError, match="make setup-spark"):
        require_spark()
