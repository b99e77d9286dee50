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
