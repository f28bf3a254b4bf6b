"""The dbt project handle. Kept apart from `@dbt_assets` so manifest preparation can import it."""

from dagster_dbt import DbtProject

from core.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
