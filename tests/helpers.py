"""Helpers several test modules share (import them: `from helpers import sha`; tests/ is on the
path through tests/conftest.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def sha(path: Path) -> str:
    """The SHA-256 of a file: that a database was left exactly as it was."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_copy(built_home: Path, home: Path) -> Path:
    """`home` with a copy of the shared store in it, for tests that may write (or try to harm) a
    store: the shared one stays as it is."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built_home / "trendstudie.duckdb", home / "trendstudie.duckdb")
    return home


def linked_copy(src: Path, dst: Path, own: set[str] = frozenset()) -> Path:
    """`dst` mirrors the folder `src` (the data bundle) with symbolic links, except the relative
    paths in `own` ('tidy', 'odata-v4/83625NED/Observations.json'), which are real copies a test
    may change: a changed bundle in a moment, without touching the shared one."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        rel = entry.name
        inside = {c[len(rel) + 1:] for c in own if c.startswith(rel + "/")}
        if rel in own:
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, dst / rel)
        elif inside:
            linked_copy(entry, dst / rel, inside)
        else:
            os.symlink(entry, dst / rel)
    return dst


def first_rows(home: Path, *queries: str) -> list[tuple | None]:
    """The first row of each query on the store in `home`, opened for these queries only."""
    from trendstudie import store

    con = store.connect(home / "trendstudie.duckdb")
    try:
        return [con.execute(q).fetchone() for q in queries]
    finally:
        con.close()


def tiny_indicator_store(values: dict[tuple[str, str, str], float], indicators: dict[str, tuple[str, str, int]]):
    """A DuckDB store in memory with the store's own schema (store.SCHEMA), one gemeente GM0001
    ('Dorp') in Nederland NL01, and `values` {(indicator, region, period): value} of the
    `indicators` {id: (title, unit, decimals)}: the tables the localiser's IndicatorData reads."""
    import duckdb

    from trendstudie import store

    con = duckdb.connect()
    con.execute(store.SCHEMA)
    for pos, (ind, (title, unit, decimals)) in enumerate(indicators.items()):
        con.execute("INSERT INTO indicators (indicator_id, title, unit, decimals, direction, position) "
                    "VALUES (?, ?, ?, ?, 'neutraal', ?)", [ind, title, unit, decimals, pos])
    for (ind, region, period), v in values.items():
        con.execute("INSERT INTO indicator_values (indicator_id, region_code, period, value, harmonised) "
                    "VALUES (?, ?, ?, ?, false)", [ind, region, period, v])
    con.execute("INSERT INTO groups (group_id, title, kind) VALUES ('NL01', 'Nederland', 'nederland')")
    con.execute("INSERT INTO group_members VALUES ('NL01', 'GM0001')")
    con.execute("INSERT INTO regions (code, name) VALUES ('GM0001', 'Dorp'), ('NL01', 'Nederland')")
    return con


def changed_copy(source: Path, target: Path, *statements: str) -> Path:
    """A copy of the store `source` at `target` with `statements` (SQL) run on it and checkpointed:
    a store with a known change, the shared one untouched."""
    import duckdb

    shutil.copy(source, target)
    con = duckdb.connect(str(target))
    try:
        for sql in statements:
            con.execute(sql)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return target
