"""Time a full build from the bundle, and the time DuckDB alone needs to read the same raw files.

Prints both and their ratio. Usage: python benchmarks/build.py [BUNDLE_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb

from trendstudie.build import build
from trendstudie.config import settings

bundle = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")

with tempfile.TemporaryDirectory() as home:
    t0 = time.perf_counter()
    report = build(settings(home=home, bundle=bundle))
    full = time.perf_counter() - t0

files = sorted(p for p in bundle.rglob("*") if p.suffix.lower() in (".json", ".csv", ".geojson") and p.is_file())
con = duckdb.connect()
t0 = time.perf_counter()
read = 0
for p in files:
    if p.suffix == ".csv":
        try:
            con.execute("SELECT count(*) FROM read_csv(?, all_varchar=true, ignore_errors=true, null_padding=true)", [str(p)]).fetchone()
        except duckdb.Error:
            con.execute("SELECT count(*) FROM read_text(?)", [str(p)]).fetchone()
    else:
        con.execute("SELECT count(*) FROM read_text(?)", [str(p)]).fetchone()
    read += 1
raw = time.perf_counter() - t0

print(f"volledige bouw: {full:.2f} s ({report.observations} observaties, {report.facts} feiten)")
print(f"DuckDB leest dezelfde {read} ruwe bestanden: {raw:.2f} s")
print(f"verhouding bouw / lezen: {full / raw:.1f}")
