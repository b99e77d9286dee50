"""Time the two computing stages of a build on the bundle: harmonising the observations
(harmonise.harmonise) and deriving the indicators (FactIndex + indicators.registry.derive), each
as wall-clock and processor time, with the load average (on a shared machine the processor time
is the figure to go by).

Goal: each stage at least 3x faster in processor time than before the rewrite of issue 17
(harmonise 6.1 s, derive 7.0 s on the bundle, measured 6 December 2026 at a load average of 9 on
2 cores; on a machine that busy the processor time grows too: the old code measured 7.3 s and 7.7 s
at load 12, the new 2.8 s and 2.6 s right after it).

Usage: python benchmarks/stages.py [BUNDLE_DIR]
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

from trendstudie import build as B
from trendstudie import eigen
from trendstudie.config import settings
from trendstudie.geo import groups as group_data
from trendstudie.geo.regions import RegionRegistry
from trendstudie.harmonise import harmonise
from trendstudie.indicators import registry as IR

BEFORE = {"harmoniseren": 6.1, "indicatoren": 7.0}
SPEEDUP_GOAL = 3

bundle = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")

with tempfile.TemporaryDirectory() as home:
    s = settings(home=home, bundle=bundle)
    registry = RegionRegistry.from_regioscodes(B._registry_source(s, bundle))
    imported = B.read_sources(s, bundle, registry, None, B.sources(s, bundle))
    indicators = eigen.load_indicators(s.home, IR.load())

    measured = {}
    t0, c0 = time.perf_counter(), time.process_time()
    facts, _ = harmonise(imported.observations, imported.tables, registry)
    measured["harmoniseren"] = (time.perf_counter() - t0, time.process_time() - c0)

    facts = eigen.complete_facts(facts, imported.observations, imported.tables, registry)
    populations = B._latest_populations(facts, registry)
    groups = group_data.all_groups(registry, populations, peildatum=populations.peildatum)

    t0, c0 = time.perf_counter(), time.process_time()
    index = IR.FactIndex(
        itertools.chain((f for f in facts if f.region_code.startswith("GM") or f.region_code == "NL01"),
                        (o for o in imported.observations if o.region_code.startswith("WK"))),
        {(t.table_id, mid): m.title for t in imported.tables for mid, m in t.measures.items()},
        {(t.table_id, mid): m.unit for t in imported.tables for mid, m in t.measures.items()},
    )
    values, _ = IR.derive(indicators, index, registry.current_gemeenten(), {g.id: g.members for g in groups})
    measured["indicatoren"] = (time.perf_counter() - t0, time.process_time() - c0)

print(f"belasting (load average, 1 min): {os.getloadavg()[0]:.2f}; {len(facts)} feiten, {len(values)} indicatorwaarden")
for stage, (wall, cpu) in measured.items():
    speedup = BEFORE[stage] / cpu if cpu else float("inf")
    print(f"{stage}: {wall:.2f} s, processortijd {cpu:.2f} s; {speedup:.1f}x sneller dan {BEFORE[stage]:.1f} s "
          f"(doel: minstens {SPEEDUP_GOAL}x) {'gehaald' if speedup >= SPEEDUP_GOAL else 'NIET gehaald'}")
