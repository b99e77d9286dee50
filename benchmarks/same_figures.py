"""Check that two stores hold the same figures: every table of the schema, cell by cell and in the
same row order (build_info only for the keys both have, without the build time).

Usage: python benchmarks/same_figures.py OLD.duckdb NEW.duckdb  (exit 1 and the differences if not)
Used while making the build faster: a store built before a change against one built after it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from trendstudie.store import TABLES

# Keys that differ between any two builds by design (when, and which inputs in which state).
VOLATILE_INFO = {"built_at", "fingerprint", "sources"}


def differences(old: Path, new: Path, tables: tuple[str, ...] = TABLES, ignore: tuple[str, ...] = ()) -> list[str]:
    """What differs, one line each; `ignore` names columns ('table.column') left out."""
    a = duckdb.connect(str(old), read_only=True)
    b = duckdb.connect(str(new), read_only=True)
    out = []
    try:
        for table in tables:
            if table == "build_info":
                ia = dict(a.execute("SELECT key, value FROM build_info").fetchall())
                ib = dict(b.execute("SELECT key, value FROM build_info").fetchall())
                for key in sorted((set(ia) & set(ib)) - VOLATILE_INFO):
                    if ia[key] != ib[key]:
                        out.append(f"build_info.{key}: {ia[key]!r} -> {ib[key]!r}")
                continue
            ta = a.sql(f"SELECT * FROM {table} ORDER BY rowid").to_arrow_table()
            tb = b.sql(f"SELECT * FROM {table} ORDER BY rowid").to_arrow_table()
            skip = [c.split(".", 1)[1] for c in ignore if c.startswith(table + ".")]
            ta, tb = ta.drop_columns(skip), tb.drop_columns(skip)
            if ta.schema != tb.schema:
                out.append(f"{table}: ander schema\n{ta.schema}\n{tb.schema}")
            elif ta.num_rows != tb.num_rows:
                out.append(f"{table}: {ta.num_rows} -> {tb.num_rows} rijen")
            elif not ta.equals(tb):
                cols = [c for c in ta.column_names if not ta[c].equals(tb[c])]
                for c in cols:
                    xa, xb = ta[c].to_pylist(), tb[c].to_pylist()
                    first = next(i for i, (x, y) in enumerate(zip(xa, xb)) if x != y and not (x != x and y != y))
                    out.append(f"{table}.{c}: eerste verschil op rij {first}: {xa[first]!r} -> {xb[first]!r}")
    finally:
        a.close()
        b.close()
    return out


if __name__ == "__main__":
    diffs = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    for d in diffs:
        print(d)
    print("zelfde cijfers" if not diffs else f"{len(diffs)} verschillen")
    sys.exit(1 if diffs else 0)
