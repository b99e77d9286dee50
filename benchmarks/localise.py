"""Time to judge every trend and force in every gemeente, and in one gemeente, as a user runs it.

Usage: python benchmarks/localise.py [--home DIR] [BUNDLE_DIR]
  Without --home a temporary store is built first (not timed).
Goals (issue 15, point 7): `trendstudie trends --alle --format json` (all 342 gemeenten, one JSON
document) in at most 15 s on this 2-core machine; `trendstudie trends Zwolle` well under a second:
at most 0.4 s of CPU for the whole command, the start of Python included.
Both are timed as whole commands (a fresh process: loading included), best of three, in wall-clock
time and in CPU time (user + system; on a shared machine the CPU time says more). The first call
after a build also makes the caches of the store's parts (TRENDSTUDIE_HOME/cache: the Localiser,
knowledge/cache.py, and the regions, readcache.py); it is timed on its own, the best of three are
the calls after it.
The commands run as an installed trendstudie runs: with Python's compiled bytecode kept (here in a
temporary folder, PYTHONPYCACHEPREFIX, even when PYTHONDONTWRITEBYTECODE is set: recompiling the
program's sources at every start is not what a user's installation does). The one-gemeente figure
without kept bytecode is printed as well.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_ALL, GOAL_ONE, GOAL_ONE_CPU = 15.0, 1.0, 0.4


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
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as pycache:
        env = dict(os.environ, TRENDSTUDIE_HOME=home or tmp, PYTHONPYCACHEPREFIX=pycache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if home is None:
            subprocess.run([sys.executable, "-m", "trendstudie", "build", "--bundle", str(bundle)], env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(["trends", "Zwolle"], env)  # not timed: Python compiles the program (and its libraries) once
        for pattern in ("localiser-*.pickle", "regios-*.pickle"):
            for kept in (Path(env["TRENDSTUDIE_HOME"]) / "cache").glob(pattern):
                kept.unlink()  # only caches: the first call below makes them again, as after a build
        first = run(["trends", "Zwolle"], env)
        one = timed(["trends", "Zwolle"], env)
        recompiled = dict(env, PYTHONDONTWRITEBYTECODE="1")  # the libraries' own bytecode, not trendstudie's
        del recompiled["PYTHONPYCACHEPREFIX"]
        compiling = timed(["trends", "Zwolle"], recompiled)
        every = timed(["trends", "--alle", "--format", "json"], env)
    print(f"Alle 342 gemeenten (trends --alle --format json): {every[0]:.1f} s, CPU {every[1]:.1f} s "
          f"(doel ≤ {GOAL_ALL:.0f} s) {'gehaald' if every[0] <= GOAL_ALL else 'NIET gehaald'}")
    print(f"Eén gemeente (trends Zwolle, hele opdracht): {one[0]:.2f} s (doel < {GOAL_ONE:.0f} s) "
          f"{'gehaald' if one[0] < GOAL_ONE else 'NIET gehaald'}; CPU {one[1]:.2f} s (doel ≤ {GOAL_ONE_CPU:.1f} s) "
          f"{'gehaald' if one[1] <= GOAL_ONE_CPU else 'NIET gehaald'}")
    print(f"Eén gemeente met PYTHONDONTWRITEBYTECODE=1 (zonder __pycache__ in src/ vertaalt Python trendstudie's "
          f"bronnen bij elke start opnieuw): {compiling[0]:.2f} s, CPU {compiling[1]:.2f} s")
    print(f"Eén gemeente, eerste keer na de build (maakt de caches): {first[0]:.2f} s, CPU {first[1]:.2f} s")
    print("Belasting van de machine (load average 1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
