"""The fast path's metric table (evaluation/fast/metric_table.py) is dbt's: after dbt built the
``metrics`` layer once, refilling the marts and rebuilding the table from dbt's compiled SQL
gives exactly the rows a fresh ``dbt run`` of that layer gives on the same marts."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.fast.metric_table import TABLE, MetricTable
from evaluation.fast.relations import SIZES, build_account, sandbox_config


@pytest.mark.slow
def test_rebuilt_metric_table_equals_a_fresh_dbt_run(tmp_path: Path) -> None:
    # two dbt runs of the three metric models (~10 s of CPU each) on two 300-deal accounts
    first, second = (build_account(sandbox_config(SIZES["300"], seed), tmp_path / "acc") for seed in (1, 2))
    reused = MetricTable(tmp_path / "reused")
    reused.connect(first.visits, first.deals, first.as_of).close()
    with reused.connect(second.visits, second.deals, second.as_of) as con:
        rebuilt = con.execute(f"select * from {TABLE} order by all").fetchall()
    with MetricTable(tmp_path / "fresh")._fresh(second.visits, second.deals, second.as_of) as con:
        fresh = con.execute(f"select * from {TABLE} order by all").fetchall()
    assert rebuilt == fresh
    assert {r[0] for r in fresh} == {"skip_rate", "regression_rate", "won_missing_amount", "won_log_amount"}
