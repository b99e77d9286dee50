"""One store for all analysis tests: the session's shared build (`built_home`, built once from
the bundle in tests/conftest.py), opened read-only, with one shared `Values` cache."""

from __future__ import annotations

import pytest

from trendstudie import store
from trendstudie.analysis import Values


@pytest.fixture(scope="session")
def con(built_home):
    c = store.connect(built_home / "trendstudie.duckdb")
    yield c
    c.close()


@pytest.fixture(scope="session")
def values(con) -> Values:
    return Values(con)


@pytest.fixture(scope="session")
def raw(con):
    """indicator_id, region_code, period → value, straight from the table (for checks by hand)."""
    def get(indicator_id: str, region: str, period: str):
        row = con.execute("SELECT value FROM indicator_values WHERE indicator_id = ? AND region_code = ? AND period = ?",
                          [indicator_id, region, period]).fetchone()
        return row[0] if row else None
    return get
