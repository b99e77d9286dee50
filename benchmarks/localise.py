"""Time to judge every trend and force in every gemeente, and in one gemeente, as a user runs it.

Usage: python benchmarks/localise.py [--home DIR] [BUNDLE_DIR]
  Without --home a temporary store is built first (not timed).
Goals (issue 15, point 7): `trendstudie trends --alle --format json` (all 342 gemeenten, one JSON
document) in at most 15 s on this 2-core machine; `trendstudie trends Zwolle` well under a second.
Both are timed as whole commands (a fresh process: loading included), best of three.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_ALL, GOAL_ONE = 15.0, 1.0


def timed(args: list[str], env: dict) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "trendstudie", *args], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    argv = sys.argv[1:]
    home = None
    if "--home" in argv:
        i = argv.index("--home")
        home = argv[i + 1]
        del argv[i:i + 2]
    bundle = Path(argv[0] if argv else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TRENDSTUDIE_HOME=home or tmp)
        if home is None:
            subprocess.run([sys.executable, "-m", "trendstudie", "build", "--bundle", str(bundle)], env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        one = timed(["trends", "Zwolle"], env)
        every = timed(["trends", "--alle", "--format", "json"], env)
    print(f"Alle 342 gemeenten (trends --alle --format json): {every:.1f} s (doel ≤ {GOAL_ALL:.0f} s) "
          f"{'gehaald' if every <= GOAL_ALL else 'NIET gehaald'}")
    print(f"Eén gemeente (trends Zwolle, hele opdracht): {one:.2f} s (doel < {GOAL_ONE:.0f} s) "
          f"{'gehaald' if one < GOAL_ONE else 'NIET gehaald'}")


if __name__ == "__main__":
    main()
