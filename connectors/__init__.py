"""API clients (plain Python over HTTP) and the sandbox that emulates those APIs.

Nothing in this package imports DuckDB or Dagster: a connector yields `Batch`es of flat rows
plus the cursor to store with them, and the loader (``warehouse.loader``) writes both.
"""
