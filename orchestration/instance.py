"""Prepare what every entry point needs before Dagster code is imported.

- `DAGSTER_HOME` (absolute) with a `dagster.yaml`: telemetry off, one run at a time (DuckDB has a
  single writer), storage inside DAGSTER_HOME.
- the dbt manifest (`dbt parse`), re-created only when a dbt file is newer than it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.dbt_cli import run_dbt
from core.settings import DBT_PROJECT_DIR, dagster_home

DAGSTER_YAML = """\
# Written by `make` (orchestration/instance.py); edits are overwritten.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
storage:
  sqlite:
    base_dir: {home}/storage
local_artifact_storage:
  module: dagster._core.storage.root
  class: LocalArtifactStorage
  config:
    base_dir: {home}
compute_logs:
  module: dagster._core.storage.local_compute_log_manager
  class: LocalComputeLogManager
  config:
    base_dir: {home}/compute_logs
"""


def prepare_dagster_home() -> Path:
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = DAGSTER_YAML.format(home=home.as_posix())
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _newest_dbt_source_mtime() -> float:
    newest = 0.0
    for folder in ("models", "macros", "seeds", "tests"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (DBT_PROJECT_DIR / name).stat().st_mtime)
    return newest


def prepare_dbt_manifest(force: bool = False) -> Path:
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if force or not manifest.exists() or manifest.stat().st_mtime < _newest_dbt_source_mtime():
        print("Preparing the dbt manifest (dbt parse)...", flush=True)
        run_dbt("parse", "--quiet", check=True)
        manifest.touch()
    return manifest


def main() -> None:
    prepare_dagster_home()
    prepare_dbt_manifest(force="--force" in sys.argv)


if __name__ == "__main__":
    main()
