"""Time a full build from the bundle against the time DuckDB alone needs to read the same raw files
(goal: at most 10×), then a rebuild with nothing changed (goal: at most 1 s, the build() call and
the whole `trendstudie build` command). The full build's stages (reading, harmonising, indicators,
writing) are timed apart through build()'s progress callback, in wall-clock and processor time,
each also as a multiple of DuckDB's bare read: where the rest of the way to 10× lies.

Prints each figure against its goal. Usage: python benchmarks/build.py [BUNDLE_DIR]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from trendstudie.build import build
from trendstudie.config import settings

RATIO_GOAL = 10
UNCHANGED_GOAL = 1.0

bundle = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")

stages: dict[str, list[float]] = {}  # stage → [wall, cpu] from its first progress call to the next stage's
current: list = [None, 0.0, 0.0]


def progress(label: str, done: int, total: int | None) -> None:
    stage = label.split(":")[0]
    now, cpu = time.perf_counter(), time.process_time()
    if stage != current[0]:
        if current[0] is not None:
            spent = stages.setdefault(current[0], [0.0, 0.0])
            spent[0] += now - current[1]
            spent[1] += cpu - current[2]
        current[:] = [stage, now, cpu]


with tempfile.TemporaryDirectory() as home:
    load_before = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    report = build(settings(home=home, bundle=bundle), progress=progress, full=True)
    progress("einde", 0, 0)
    full, full_cpu = time.perf_counter() - t0, time.process_time() - c0  # CPU: all threads of this process

    t0, c0 = time.perf_counter(), time.process_time()
    again = build(settings(home=home, bundle=bundle))
    unchanged, unchanged_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert again.unchanged, "de tweede bouw zonder verandering bouwde toch"

    t0, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cli = subprocess.run([sys.executable, "-m", "trendstudie", "build", "--bundle", str(bundle)],
                         env={**os.environ, "TRENDSTUDIE_HOME": home}, capture_output=True, text=True)
    command = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    command_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    assert cli.returncode == 0 and "Niets veranderd" in cli.stderr, cli.stderr

files = sorted(p for p in bundle.rglob("*") if p.suffix.lower() in (".json", ".csv", ".geojson") and p.is_file())
con = duckdb.connect()
t0, c0 = time.perf_counter(), time.process_time()
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
raw, raw_cpu = time.perf_counter() - t0, time.process_time() - c0

ratio = full / raw
print(f"volledige bouw: {full:.2f} s, processortijd {full_cpu:.2f} s ({report.observations} observaties, "
      f"{report.facts} feiten); belasting van de machine (load average, 1 min) ervoor {load_before:.2f}, "
      f"erna {os.getloadavg()[0]:.2f} op {os.cpu_count()} kernen")
print(f"DuckDB leest dezelfde {read} ruwe bestanden: {raw:.2f} s, processortijd {raw_cpu:.2f} s")
for stage, (wall, cpu) in stages.items():
    print(f"  stap {stage}: {wall:.2f} s ({wall / raw:.1f}× lezen), processortijd {cpu:.2f} s")
print(f"verhouding bouw / lezen: {ratio:.1f} (doel: hoogstens {RATIO_GOAL}) "
      f"{'gehaald' if ratio <= RATIO_GOAL else 'NIET gehaald'}")
# On a busy machine wall-clock time says little; the processor time is printed beside it.
print(f"bouw zonder verandering, build(): {unchanged:.2f} s, processortijd {unchanged_cpu:.2f} s (doel: hoogstens {UNCHANGED_GOAL:.0f} s) "
      f"{'gehaald' if unchanged <= UNCHANGED_GOAL else 'NIET gehaald'}")
print(f"bouw zonder verandering, hele opdracht `trendstudie build`: {command:.2f} s, processortijd "
      f"{command_cpu:.2f} s (doel: hoogstens "
      f"{UNCHANGED_GOAL:.0f} s) {'gehaald' if command <= UNCHANGED_GOAL else 'NIET gehaald'}")
