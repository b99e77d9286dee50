"""Time to record an edition after a build (issue 17, point 3): comparing the new store with the
previous one, cell by cell, and the verdicts and projections of all 342 gemeenten when their
inputs changed.

Usage: python benchmarks/editions.py [--home DIR] [BUNDLE_DIR]
  Without --home a temporary store is built first (not timed). The "new" store is a copy of it
  with a few values of one gemeente changed (house prices and their indicator), so both the cell
  comparison and the verdicts and projections have something to do.

Three figures:
- "eerste vergelijking": no verdicts or projections kept yet, so they are computed for both
  stores (the worst case; goal ≤ 60 s on this 2-core machine);
- "volgende editie": the previous edition's verdicts and projections are kept, only the new
  store's are computed (goal ≤ 35 s);
- "geen wijziging": a store with the same content (only its build time and a warning differ)
  records no edition (goal ≤ 1 s).

Verdicts are recomputed when the indicator values, groups, regions or rules differ; projections
when any table's cells differ (a sound, coarse test: see editions.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from trendstudie import editions

GOALS = {"eerste vergelijking": 60.0, "volgende editie": 35.0, "geen wijziging": 1.0}


def changed_copy(source: Path, target: Path, factor: float, stamp: str, indicators: bool = True) -> None:
    shutil.copy(source, target)
    con = duckdb.connect(str(target))
    try:
        if indicators:
            con.execute("UPDATE facts SET value = value * ? WHERE table_id = '83625NED' AND region_code = 'GM0193'",
                        [factor])
            con.execute("UPDATE indicator_values SET value = value * ? WHERE indicator_id = 'gemiddelde_verkoopprijs' "
                        "AND region_code = 'GM0193'", [factor])
        else:  # nothing of the content: a warning's text
            con.execute("UPDATE warnings SET message = message || ' (herzien)' WHERE rowid = 0")
        con.execute("UPDATE build_info SET value = ? WHERE key = 'built_at'", [stamp])
        con.execute("CHECKPOINT")
    finally:
        con.close()


def timed(home: Path, new: Path, old: Path) -> tuple[float, editions.Edition | None]:
    t0 = time.perf_counter()
    e = editions.record(home, new, old)
    return time.perf_counter() - t0, e


def main() -> None:
    argv = sys.argv[1:]
    home = None
    if "--home" in argv:
        i = argv.index("--home")
        home = Path(argv[i + 1])
        del argv[i:i + 2]
    bundle = Path(argv[0] if argv else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if home is None:
            home = tmp / "bron"
            subprocess.run([sys.executable, "-m", "trendstudie", "build", "--bundle", str(bundle), "--home", str(home)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = home / "trendstudie.duckdb"
        work = tmp / "home"
        work.mkdir()
        v1, v2, v3, v4 = (tmp / f"v{i}.duckdb" for i in range(1, 5))
        shutil.copy(base, v1)
        editions.record(work, v1, None)
        changed_copy(v1, v2, 1.10, "2030-01-01T00:00:00+00:00")
        first, e2 = timed(work, v2, v1)
        changed_copy(v2, v3, 1.10, "2030-01-02T00:00:00+00:00")
        following, e3 = timed(work, v3, v2)
        changed_copy(v3, v4, 1.0, "2030-01-03T00:00:00+00:00", indicators=False)
        only, e4 = timed(work, v4, v3)
    for name, seconds, e in (("eerste vergelijking", first, e2), ("volgende editie", following, e3),
                             ("geen wijziging", only, e4)):
        goal = GOALS[name]
        counts = (", ".join(f"{n} {k}" for k, n in e.wijzigingen.items() if n) or "geen wijzigingen") if e \
            else "geen nieuwe editie"
        print(f"{name}: {seconds:.1f} s (doel ≤ {goal:.0f} s) {'gehaald' if seconds <= goal else 'NIET gehaald'} "
              f"— {counts}")


if __name__ == "__main__":
    main()
