"""Time to judge every trend and force in every gemeente, and in one gemeente, as a user runs it.

Usage: python benchmarks/localise.py [--home DIR] [BUNDLE_DIR]
  Without --home a temporary store is built first (not timed).
Goals (issue 15, point 7): `trendstudie trends --alle --format json` (all 342 gemeenten, one JSON
document) in at most 15 s on this 2-core machine; `trendstudie trends Zwolle` well under a second.
Both are timed as whole commands (a fresh process: loading included), best of three, in wall-clock
time and in CPU time (user + system; on a shared machine the CPU time says more). The first call
after a build also makes the Localiser's cache (TRENDSTUDIE_HOME/cache, knowledge/cache.py); it is
timed on its own, the best of three are the calls after it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_ALL, GOAL_ONE = 15.0, 1.0


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole command."""
    t0, c0 = time.perf_counter(), _child_cpu()
    subprocess.run([sys.executable, "-m", "trendstudie", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, _child_cpu() - c0


def timed(args: list[str], env: dict) -> tuple[float, float]:
    runs = [run(args, env) for _ in range(3)]
    return min(w for w, _ in runs), min(c for _, c in runs)


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
        for kept in (Path(env["TRENDSTUDIE_HOME"]) / "cache").glob("localiser-*.pickle"):
            kept.unlink()  # only a cache: the first call below makes it again, as after a build
        first = run(["trends", "Zwolle"], env)
        one = timed(["trends", "Zwolle"], env)
        every = timed(["trends", "--alle", "--format", "json"], env)
    print(f"Alle 342 gemeenten (trends --alle --format json): {every[0]:.1f} s, CPU {every[1]:.1f} s "
          f"(doel ≤ {GOAL_ALL:.0f} s) {'gehaald' if every[0] <= GOAL_ALL else 'NIET gehaald'}")
    print(f"Eén gemeente (trends Zwolle, hele opdracht): {one[0]:.2f} s, CPU {one[1]:.2f} s "
          f"(doel < {GOAL_ONE:.0f} s) {'gehaald' if one[0] < GOAL_ONE else 'NIET gehaald'}")
    print(f"Eén gemeente, eerste keer na de build (maakt de cache): {first[0]:.2f} s, CPU {first[1]:.2f} s")


if __name__ == "__main__":
    main()
