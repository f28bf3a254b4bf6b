"""A chart whose mart is not published is left out of the report (None), never an error."""

from __future__ import annotations

import duckdb

from warehouse.report.charts import CHARTS


def test_every_chart_is_skipped_when_its_mart_is_not_published():
    with duckdb.connect() as con:
        con.execute("create schema marts")
        assert [fn(con) for fn in CHARTS] == [None] * len(CHARTS)
