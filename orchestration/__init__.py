"""Dagster code location: thin wiring of connectors, the raw loader and dbt. No business logic."""
