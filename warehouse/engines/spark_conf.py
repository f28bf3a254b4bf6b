"""The one home of the Spark settings the project runs with (docs/decisions.md "The Spark
session"), for dbt's local session (`dbt_project/profiles.yml` reads them from the
``SPARK_SESSION_CONF`` variable that :func:`core.dbt_cli.dbt_env` sets), for the Thrift server
the tests start (:mod:`warehouse.engines.spark_thrift`) and for the engine tools.

- :data:`SQL_CONF`: per-session SQL settings, sent by dbt on every connection (a local session
  or a Thrift server's session);
- :func:`local_conf`: what only the process that starts Spark can set (master, warehouse
  directory, the embedded Derby metastore, JVM options); a shared Thrift server was started with
  its own, so dbt sends it only :data:`SQL_CONF`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SQL_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    # With AQE on, Spark 4.3 fails to deserialize a broadcast of a union of literal rows (dbt
    # unit-test fixtures). A Thrift server needs it off at start: per-session it did not apply.
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # the lake's Parquet holds DuckDB TIMESTAMP (UTC): read it as timestamp, not timestamp_ntz
    "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
    # dbt-spark forces this on every connection; a Thrift server gets it as its default too
    "spark.sql.ansi.enabled": "false",
}

DEFAULT_MASTER = "local[2]"


def spark_master() -> str:
    """SPARK_MASTER: the master of a local session or of the Thrift server we start (local[2])."""
    return os.environ.get("SPARK_MASTER") or DEFAULT_MASTER


def local_conf(warehouse_dir: Path, master: str | None = None) -> dict[str, str]:
    """Settings of the process that starts Spark: tables and Derby metastore under ``warehouse_dir``."""
    d = str(warehouse_dir)
    return {
        "spark.master": master or spark_master(),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.default.parallelism": "2",
        "spark.sql.warehouse.dir": d,
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={d}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={d}/derby.log -Duser.timezone=UTC",
    }


def session_conf(warehouse_dir: Path, thrift: bool) -> dict[str, str]:
    """What dbt's profile passes as ``server_side_parameters``: a Thrift server's sessions get
    the SQL settings only, a local session everything."""
    return dict(SQL_CONF) if thrift else {**SQL_CONF, **local_conf(warehouse_dir)}


def session_conf_json(warehouse_dir: Path, thrift: bool) -> str:
    return json.dumps(session_conf(warehouse_dir, thrift), sort_keys=True)
