"""A local Spark Thrift server (HiveThriftServer2, shipped in the pyspark package) with the
project's Spark settings (:mod:`warehouse.engines.spark_conf`): what the engine tests start, and
a stand-in for a shared server when trying ``SPARK_THRIFT_HOST`` on one machine.

    python -m warehouse.engines.spark_thrift --port 10000 --dir data/spark-thrift

Its tables and Derby metastore live under ``<dir>/spark-warehouse`` (pass that directory as
``SPARK_WAREHOUSE_DIR`` to the pipeline: publishing and the checks read the tables' Parquet
parts there), its logs under ``<dir>``. It starts with an environment without the API tokens and
passwords (:func:`core.sources.is_secret_env`), so none can reach its files or logs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from core.sources import is_secret_env
from warehouse.engines.spark_conf import SQL_CONF, local_conf

THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


@dataclass(frozen=True)
class ThriftServer:
    host: str
    port: int
    warehouse_dir: Path
    log: Path
    pid: int

    def env(self) -> dict[str, str]:
        """The pipeline's variables for this server."""
        return {
            "SPARK_THRIFT_HOST": self.host,
            "SPARK_THRIFT_PORT": str(self.port),
            "SPARK_WAREHOUSE_DIR": str(self.warehouse_dir),
        }


def spark_home() -> Path:
    return Path(importlib.import_module("pyspark").__file__ or "").parent


def server_command(home: Path, work: Path, host: str, port: int) -> list[str]:
    """spark-submit of HiveThriftServer2: the local settings, then the SQL ones as the server's
    defaults (AQE off must be set here: a session's own setting did not apply)."""
    conf = {**local_conf(work / "spark-warehouse"), **SQL_CONF}
    master = conf.pop("spark.master")
    cmd = [str(home / "bin" / "spark-submit"), "--master", master, "--class", THRIFT_CLASS]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    hive = {
        "hive.server2.thrift.bind.host": host,
        "hive.server2.thrift.port": str(port),
        "hive.server2.logging.operation.log.location": str(work / "operation_logs"),
        "hive.exec.local.scratchdir": str(work / "scratch"),
        "hive.querylog.location": str(work / "querylog"),
    }
    for key, value in hive.items():
        cmd += ["--hiveconf", f"{key}={value}"]
    return [*cmd, "spark-internal"]


def _accepts(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def thrift_server(
    work: Path, port: int | None = None, host: str = "127.0.0.1", timeout_s: float = 600
) -> Iterator[ThriftServer]:
    """Start the server (its own process group), wait until it accepts connections, stop it at exit."""
    work = work.resolve()
    (work / "spark-warehouse").mkdir(parents=True, exist_ok=True)  # Derby's log goes there
    port = port or free_port()
    home = spark_home()
    env = {k: v for k, v in os.environ.items() if not is_secret_env(k)}
    env.update({"SPARK_HOME": str(home), "SPARK_LOG_DIR": str(work), "SPARK_LOCAL_DIRS": str(work / "local")})
    log = work / "thrift-server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            server_command(home, work, host, port),
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not _accepts(host, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Spark Thrift server did not start (see {log}):\n{log.read_text()[-3000:]}")
            time.sleep(1.0)
        yield ThriftServer(host, port, work / "spark-warehouse", log, proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own group: spark-submit and its JVM
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m warehouse.engines.spark_thrift", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=10000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--dir", type=Path, default=Path("data/spark-thrift"), help="its warehouse, metastore and logs")
    a = p.parse_args(argv)
    # SIGTERM (and SIGINT, ignored in a background job) stops the server the same way as Ctrl-C
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    with thrift_server(a.dir, a.port, a.host) as server:
        print(f"Spark Thrift server ready in {time.monotonic() - started:.0f} s; for the pipeline:")
        print(" ".join(f"{k}={v}" for k, v in {"WAREHOUSE_TARGET": "spark", **server.env()}.items()))
        print("Ctrl-C (or SIGTERM) stops it.", flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
