"""Warehouse-side Python: the raw loader (batches + cursors into DuckDB) and sync driver.

Knows DuckDB, not Dagster and not any API: connectors hand it `connectors.common.Batch`es.
"""
