"""Time to project all 342 gemeenten 30 years ahead, per scenario.

Usage: python benchmarks/projection.py [--home DIR] [--bundle DIR] [--jaren 30]
       (without --home a temporary store is built from the bundle first; not timed)
Target (issue 5): under a second per scenario.

Two figures per scenario:
- "model": the component model run for all gemeenten at once (births, deaths, domestic moves
  balanced nationally, migration), the step every projection of that scenario shares;
- "alle rijen": `forecast.project()` for each of the 342 gemeenten, i.e. everything the CLI and
  the report give per gemeente (population with bands, components, age shares from the cohort
  model, households, dwelling stock, woningbehoefte/woningtekort, trend extrapolations).
The estimation of history, backtest bands, the migration profiles by age (and the age backtest
that sets their margins) and the extrapolation gate, which depend only on the database, is timed
once separately ("voorbereiding"); the first scenario also fits the trend
extrapolation of each gemeente, which the other scenarios reuse.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from trendstudie import forecast, store
from trendstudie.build import build
from trendstudie.config import settings
from trendstudie.forecast import components
from trendstudie.forecast.scenarios import adjustments, builtin_scenarios, group_membership


def run(db: Path, years: int) -> None:
    con = store.connect(db)
    codes = components.current_gemeenten(con)
    t0 = time.perf_counter()
    history = components.load_history(con)
    origin = history.last_population_year()
    until = origin + years
    forecast.project(con, codes[0], "basis", until=until)  # fills the per-database caches
    prep = time.perf_counter() - t0
    print(f"{len(codes)} gemeenten, oorsprong 1 januari {origin}, tot 1 januari {until} ({years} jaar)")
    print(f"voorbereiding (historie, backtestmarges, migratieprofielen naar leeftijd, extrapolatietoets; "
          f"eenmaal per database): {prep:.2f} s")
    members = group_membership(con, history.codes)
    worst = 0.0
    for sid, scenario in builtin_scenarios().items():
        t0 = time.perf_counter()
        components.project_all(history, origin, until, adjust=adjustments(scenario, history.codes, members))
        model = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = 0
        for code in codes:
            rows += len(forecast.project(con, code, sid, until=until))
        every = time.perf_counter() - t0
        worst = max(worst, every)
        print(f"scenario {sid:<16} model {model * 1000:6.0f} ms   alle rijen voor {len(codes)} gemeenten "
              f"{every:5.2f} s ({rows} rijen)")
    print(f"langzaamste scenario, alle rijen: {worst:.2f} s (doel: onder 1 s per scenario)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="map met een gebouwde trendstudie.duckdb")
    parser.add_argument("--bundle", type=Path,
                        default=Path(__file__).resolve().parents[1].parent / "shared/data/bundle")
    parser.add_argument("--jaren", type=int, default=30)
    args = parser.parse_args()
    if args.home:
        run(args.home / "trendstudie.duckdb", args.jaren)
        return
    with tempfile.TemporaryDirectory() as home:
        build(settings(home=home, bundle=args.bundle))
        run(Path(home) / "trendstudie.duckdb", args.jaren)


if __name__ == "__main__":
    main()
