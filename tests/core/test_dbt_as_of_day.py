"""The as-of day reaches dbt through the environment, not `--vars` (docs/decisions.md, "The as-of
day from the environment, read at execution"); the dbt side is covered by the unit tests of
`int_days_spined` (dbt_project/models/intermediate/int_days_spined.yml)."""

from datetime import date
from pathlib import Path

from core.dbt_cli import dbt_env, pipeline_target_path
from core.settings import AS_OF_DATE_ENV, DBT_PROJECT_DIR


def test_the_day_given_replaces_the_one_inherited():
    env = dbt_env(base={AS_OF_DATE_ENV: "2020-01-01", "HOME": "/h"}, as_of=date(2026, 11, 30))
    assert env[AS_OF_DATE_ENV] == "2026-11-30"
    assert env["HOME"] == "/h"


def test_without_a_day_the_environment_is_passed_as_it_is():
    assert AS_OF_DATE_ENV not in dbt_env(base={"HOME": "/h"})
    assert dbt_env(base={AS_OF_DATE_ENV: "2026-10-31"})[AS_OF_DATE_ENV] == "2026-10-31"


def test_the_macro_reads_the_same_variable_and_only_at_execution():
    macro = (DBT_PROJECT_DIR / "macros" / "as_of_date.sql").read_text()
    assert f"env_var('{AS_OF_DATE_ENV}'" in macro
    assert "and execute" in macro


def test_the_pipeline_target_folder_sits_beside_its_warehouse_and_is_stable(tmp_path):
    first = pipeline_target_path(tmp_path / "w.duckdb")
    assert first == pipeline_target_path(Path(str(tmp_path / "w.duckdb")))
    assert first.parent == tmp_path and first != pipeline_target_path(tmp_path / "other.duckdb")
