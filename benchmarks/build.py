"""Time a full build from the bundle against the time DuckDB alone needs to read the same raw files
(goal: at most 10×), then a rebuild with nothing changed (goal: at most 1 s, the build() call and
the whole `trendstudie build` command). The full build's stages (reading, harmonising, indicators,
writing) are timed apart through build()'s progress callback, in wall-clock and processor time,
each also as a multiple of DuckDB's bare read: where the rest of the way to 10× lies.

A small machine's clock wanders by a tenth either way from one run to the next: the full build and
the bare read are each timed `--rondes` times (default 3), alternately, and the medians are
compared; every round is printed.

Prints each figure against its goal. Usage: python benchmarks/build.py [BUNDLE_DIR] [--rondes N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("bundle", nargs="?", default=Path(__file__).resolve().parents[1].parent / "shared/data/bundle",
                    type=Path)
parser.add_argument("--rondes", type=int, default=3, help="volledige bouwen en kale leesbeurten; de medianen tellen")
args = parser.parse_args()
bundle = args.bundle


class Stages:
    """Per stage [wall, cpu] from its first progress call to the next stage's (build()'s callback)."""

    def __init__(self):
        self.spent: dict[str, list[float]] = {}
        self.current: list = [None, 0.0, 0.0]

    def __call__(self, label: str, done: int, total: int | None) -> None:
        stage = label.split(":")[0]
        now, cpu = time.perf_counter(), time.process_time()
        if stage != self.current[0]:
            if self.current[0] is not None:
                spent = self.spent.setdefault(self.current[0], [0.0, 0.0])
                spent[0] += now - self.current[1]
                spent[1] += cpu - self.current[2]
            self.current[:] = [stage, now, cpu]


files = sorted(p for p in bundle.rglob("*") if p.suffix.lower() in (".json", ".csv", ".geojson") and p.is_file())


def bare_read() -> tuple[float, float]:
    """DuckDB reading every raw file of the bundle once: (wall, cpu)."""
    con = duckdb.connect()
    t0, c0 = time.perf_counter(), time.process_time()
    for p in files:
        if p.suffix == ".csv":
            try:
                con.execute("SELECT count(*) FROM read_csv(?, all_varchar=true, ignore_errors=true, null_padding=true)",
                            [str(p)]).fetchone()
            except duckdb.Error:
                con.execute("SELECT count(*) FROM read_text(?)", [str(p)]).fetchone()
        else:
            con.execute("SELECT count(*) FROM read_text(?)", [str(p)]).fetchone()
    out = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    return out


def full_build(home: str) -> tuple[float, float, Stages, object]:
    """A full build into a new `home`: (wall, cpu of all this process's threads, stages, report)."""
    stages = Stages()
    t0, c0 = time.perf_counter(), time.process_time()
    report = build(settings(home=home, bundle=bundle), progress=stages, full=True)
    stages("einde", 0, 0)
    return time.perf_counter() - t0, time.process_time() - c0, stages, report


load_before = os.getloadavg()[0]
builds, reads = [], []
with tempfile.TemporaryDirectory() as parent:
    for n in range(max(args.rondes, 1)):  # each build in a home of its own: a first build, no edition to compare
        home = os.path.join(parent, f"ronde-{n + 1}")
        builds.append(full_build(home))
        reads.append(bare_read())

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

full = statistics.median(b[0] for b in builds)
raw = statistics.median(r[0] for r in reads)
middle = sorted(builds, key=lambda b: b[0])[len(builds) // 2]  # the median build, for its stages
report = middle[3]
ratio = full / raw
print(f"volledige bouw ({len(builds)}×): {', '.join(f'{b[0]:.2f}' for b in builds)} s, mediaan {full:.2f} s, "
      f"processortijd {middle[1]:.2f} s ({report.observations} observaties, {report.facts} feiten); belasting van "
      f"de machine (load average, 1 min) ervoor {load_before:.2f}, erna {os.getloadavg()[0]:.2f} op {os.cpu_count()} kernen")
print(f"DuckDB leest dezelfde {len(files)} ruwe bestanden ({len(reads)}×): {', '.join(f'{r[0]:.2f}' for r in reads)} s, "
      f"mediaan {raw:.2f} s, processortijd {statistics.median(r[1] for r in reads):.2f} s")
for stage, (wall, cpu) in middle[2].spent.items():
    print(f"  stap {stage}: {wall:.2f} s ({wall / raw:.1f}× lezen), processortijd {cpu:.2f} s")
print(f"verhouding bouw / lezen (medianen): {ratio:.1f} (doel: hoogstens {RATIO_GOAL}; per ronde "
      f"{', '.join(f'{b[0] / r[0]:.1f}' for b, r in zip(builds, reads))}) "
      f"{'gehaald' if ratio <= RATIO_GOAL else 'NIET gehaald'}")
# On a busy machine wall-clock time says little; the processor time is printed beside it.
print(f"bouw zonder verandering, build(): {unchanged:.2f} s, processortijd {unchanged_cpu:.2f} s (doel: hoogstens {UNCHANGED_GOAL:.0f} s) "
      f"{'gehaald' if unchanged <= UNCHANGED_GOAL else 'NIET gehaald'}")
print(f"bouw zonder verandering, hele opdracht `trendstudie build`: {command:.2f} s, processortijd "
      f"{command_cpu:.2f} s (doel: hoogstens "
      f"{UNCHANGED_GOAL:.0f} s) {'gehaald' if command <= UNCHANGED_GOAL else 'NIET gehaald'}")
