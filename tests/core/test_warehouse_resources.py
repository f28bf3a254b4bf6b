"""WAREHOUSE_THREADS / WAREHOUSE_MEMORY_LIMIT: defaults, values and clear errors."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, duckdb_config, warehouse_memory_limit, warehouse_threads


def test_defaults(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_THREADS", raising=False)
    monkeypatch.delenv("WAREHOUSE_MEMORY_LIMIT", raising=False)
    assert duckdb_config() == {"threads": "2", "memory_limit": "1GB"}


def test_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_THREADS", "4")
    monkeypatch.setenv("WAREHOUSE_MEMORY_LIMIT", "1500MB")
    assert warehouse_threads() == 4
    assert warehouse_memory_limit() == "1500MB"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WAREHOUSE_THREADS", "0"),
        ("WAREHOUSE_THREADS", "two"),
        ("WAREHOUSE_MEMORY_LIMIT", "lots"),
        ("WAREHOUSE_MEMORY_LIMIT", "80%"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        duckdb_config()


def test_duckdb_accepts_the_config(tmp_path, monkeypatch):
    import duckdb

    monkeypatch.setenv("WAREHOUSE_MEMORY_LIMIT", "512MB")
    with duckdb.connect(str(tmp_path / "w.duckdb"), config=duckdb_config()) as con:
        assert con.execute("select current_setting('threads')").fetchone()[0] == 2
        assert con.execute("select current_setting('memory_limit')").fetchone()[0].startswith("488")
