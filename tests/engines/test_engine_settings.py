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


def test_spark_settings_local_session_all_thrift_sql_only(monkeypatch: pytest.MonkeyPatch, tmp_path):
    import json

    monkeypatch.setenv("WAREHOUSE_TARGET", "spark")
    monkeypatch.setenv("SPARK_WAREHOUSE_DIR", str(tmp_path / "wh"))
    local = json.loads(dbt_env(base={})["SPARK_SESSION_CONF"])
    assert local["spark.sql.adaptive.enabled"] == "false" and local["spark.master"] == "local[2]"
    assert local["spark.sql.warehouse.dir"] == str(tmp_path / "wh")
    assert str(tmp_path / "wh" / "metastore_db") in local["spark.hadoop.javax.jdo.option.ConnectionURL"]
    thrift = json.loads(dbt_env(base={"SPARK_THRIFT_HOST": "spark.internal"})["SPARK_SESSION_CONF"])
    # a running server ignores static settings: dbt sends only the per-session SQL ones
    assert thrift["spark.sql.adaptive.enabled"] == "false" and thrift["spark.sql.session.timeZone"] == "UTC"
    assert not [k for k in thrift if k in ("spark.master", "spark.sql.warehouse.dir") or "Java" in k]


def test_thrift_server_starts_with_aqe_off_and_its_own_folders(tmp_path):
    from warehouse.engines.spark_thrift import THRIFT_CLASS, server_command

    cmd = server_command(tmp_path / "pyspark", tmp_path / "srv", "127.0.0.1", 10123)
    confs = {cmd[i + 1].split("=", 1)[0]: cmd[i + 1].split("=", 1)[1] for i, a in enumerate(cmd) if a == "--conf"}
    assert cmd[0] == str(tmp_path / "pyspark" / "bin" / "spark-submit") and THRIFT_CLASS in cmd
    assert cmd[cmd.index("--master") + 1] == "local[2]" and cmd[-1] == "spark-internal"
    assert confs["spark.sql.adaptive.enabled"] == "false"  # at start: a session's own setting did not apply
    assert confs["spark.sql.warehouse.dir"] == str(tmp_path / "srv" / "spark-warehouse")
    assert "hive.server2.thrift.port=10123" in cmd and "hive.server2.thrift.bind.host=127.0.0.1" in cmd
