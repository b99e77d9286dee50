"""Time to record an edition after a build (issue 17, point 3): comparing the new store with the
previous one, cell by cell, and the verdicts and projections whose inputs changed.

Usage: python benchmarks/editions.py [--home DIR] [BUNDLE_DIR]
  Without --home a temporary store is built first (not timed). Each "new" store is a copy of the
  previous one with a few figures of one gemeente (Zwolle) changed in place.

The goal: recording an edition after a small change adds at most a few seconds to a build on this
2-core machine. The machine is shared, so the wall clock says little: each case prints wall and
CPU time and the load average, and is judged on its CPU time (what it costs a quiet machine).

- "kleine wijziging": house prices and their indicator (83625NED): the cells are compared and the
  verdicts of the trends that use house prices are judged again on both stores (goal ≤ 3 s);
- "gedeelde invoer gewijzigd": a gemeente's name, which every verdict may cite: every verdict is
  judged again on both stores (the worst case for verdicts; goal ≤ 20 s); they are kept;
- "kleine wijziging, volgende editie": house prices again, the kept verdicts of the other trends
  taken over (goal ≤ 3 s);
- "bevolking gewijzigd": the population on the projections' start date (03759ned): the models
  project every gemeente again, on both stores (goal ≤ 10 s);
- "bevolking, volgende editie": the same again, the previous projections kept (goal ≤ 6 s);
- "geen wijziging": a store with the same content (only its build time and a warning differ)
  records no edition (goal ≤ 1 s).

Verdicts are judged again for the trends that use an indicator whose values changed (all of them
when something every verdict shares changed); projections when the facts the demographic models
read, the gemeenten or the groups changed (see editions.py and forecast.inputs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from trendstudie import editions

GOALS = {"kleine wijziging": 3.0, "kleine wijziging, volgende editie": 3.0, "bevolking gewijzigd": 10.0,
         "bevolking, volgende editie": 6.0, "gedeelde invoer gewijzigd": 20.0, "geen wijziging": 1.0}
CODE = "GM0193"


def changed_copy(source: Path, target: Path, kind: str, stamp: str) -> None:
    shutil.copy(source, target)
    con = duckdb.connect(str(target))
    try:
        if kind == "prijzen":
            con.execute("UPDATE facts SET value = value * 1.1 WHERE table_id = '83625NED' AND region_code = ?", [CODE])
            con.execute("UPDATE indicator_values SET value = value * 1.1 WHERE indicator_id = 'gemiddelde_verkoopprijs' "
                        "AND region_code = ?", [CODE])
        elif kind == "bevolking":
            con.execute("UPDATE facts SET value = round(value * 1.5) WHERE table_id = '03759ned' AND measure = 'M000352' "
                        "AND region_code = ? AND period = (SELECT max(period) FROM facts WHERE table_id = '03759ned')",
                        [CODE])
        elif kind == "naam":
            con.execute("UPDATE regions SET name = name || ' (herzien)' WHERE code = ?", [CODE])
        else:  # nothing of the content: a warning's text
            con.execute("UPDATE warnings SET message = message || ' (herzien)' WHERE rowid = 0")
        con.execute("UPDATE build_info SET value = ? WHERE key = 'built_at'", [stamp])
        con.execute("CHECKPOINT")
    finally:
        con.close()


def timed(home: Path, new: Path, old: Path) -> tuple[float, float, editions.Edition | None]:
    t0, c0 = time.perf_counter(), time.process_time()
    e = editions.record(home, new, old)
    return time.perf_counter() - t0, time.process_time() - c0, e


def main() -> None:
    argv = sys.argv[1:]
    home = None
    if "--home" in argv:
        i = argv.index("--home")
        home = Path(argv[i + 1])
        del argv[i:i + 2]
    bundle = Path(argv[0] if argv else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")
    cases = [("kleine wijziging", "prijzen"), ("gedeelde invoer gewijzigd", "naam"),
             ("kleine wijziging, volgende editie", "prijzen"), ("bevolking gewijzigd", "bevolking"),
             ("bevolking, volgende editie", "bevolking"), ("geen wijziging", "niets")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if home is None:
            home = tmp / "bron"
            subprocess.run([sys.executable, "-m", "trendstudie", "build", "--bundle", str(bundle), "--home", str(home)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        work = tmp / "home"
        work.mkdir()
        previous = tmp / "v0.duckdb"
        shutil.copy(home / "trendstudie.duckdb", previous)
        editions.record(work, previous, None)
        for i, (name, kind) in enumerate(cases, start=1):
            new = tmp / f"v{i}.duckdb"
            changed_copy(previous, new, kind, f"2030-01-{i:02d}T00:00:00+00:00")
            load = os.getloadavg()[0]
            results.append((name, *timed(work, new, previous), load))
            previous.unlink()
            previous = new
    print(f"Editie vastleggen op {os.cpu_count()} kernen; beoordeeld op CPU-tijd (op een rustige machine ≈ wandklok).")
    for name, seconds, cpu, e, load in results:
        goal = GOALS[name]
        counts = (", ".join(f"{n} {k}" for k, n in e.wijzigingen.items() if n) or "geen wijzigingen") if e \
            else "geen nieuwe editie"
        print(f"{name}: {cpu:.1f} s CPU, {seconds:.1f} s wandklok bij belasting {load:.1f} (doel ≤ {goal:.0f} s) "
              f"{'gehaald' if cpu <= goal else 'NIET gehaald'} — {counts}")


if __name__ == "__main__":
    main()
