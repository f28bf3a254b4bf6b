"""The dbt project's vars (`vars:` of dbt_project/dbt_project.yml), for Python code that must use
the same definitions as the models: the funnel steps (core/funnel.py) and the anomaly horizons
(warehouse/anomaly/thresholds.py). Read once per process; no dbt import, no Dagster."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from core.settings import DBT_PROJECT_DIR

DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"


@cache
def dbt_vars() -> dict[str, Any]:
    """The project-level dbt vars (as declared; `--vars` given to one dbt run are not seen)."""
    with DBT_PROJECT_FILE.open(encoding="utf-8") as f:
        project = yaml.safe_load(f)
    return dict(project.get("vars") or {})


def dbt_var(name: str) -> Any:
    """One dbt var; a clear error naming the file when it is not declared."""
    values = dbt_vars()
    if name not in values:
        raise KeyError(f"dbt var {name!r} is not declared under `vars:` in {DBT_PROJECT_FILE}; add it there")
    return values[name]
