"""Build the store from the bundle (and whatever `trendstudie sync` fetched): read every source,
harmonise, and write the database atomically."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from . import atomic, editions, store
from .config import Settings, require_bundle
from .errors import TrendstudieError
from .geo.regions import RegionRegistry
from .harmonise import harmonise
from .lock import build_lock
from .sources import mirror, tidy
from .sources.records import Imported

# Reports progress: (stage description, done, total or None).
Progress = Callable[[str, int, int | None], None]


@dataclass
class BuildReport:
    database: Path
    observations: int = 0
    facts: int = 0
    indicators: int = 0
    missing_indicators: int = 0
    tables: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _registry_source(settings: Settings, bundle: Path) -> Path:
    synced = settings.synced / "CBS" / "03759ned" / "RegioSCodes.json"
    return synced if synced.exists() else bundle / "odata-v4" / "03759ned" / "RegioSCodes.json"


def read_sources(settings: Settings, bundle: Path, registry: RegionRegistry, progress: Progress | None = None) -> Imported:
    """Every importer over the bundle, then the sync cache (which outranks the bundle)."""
    from . import eigen
    from .sources import exports, more  # raw-file importers: the shapes analysts download by hand

    steps: list[tuple[str, Callable[[], Imported]]] = [
        ("OData v4-spiegel", lambda: mirror.read_mirror(bundle / "odata-v4", prefix="odata-v4")),
        ("tidy CSV", lambda: tidy.read_tidy_dir(bundle / "tidy", prefix="tidy")),
        ("StatLine- en v3-exports", lambda: exports.read_all(bundle, registry)),
        ("KWB en overige bestanden", lambda: more.read_all(bundle, registry)),
        ("eigen bestanden", lambda: eigen.read_imports(settings.home)),  # trendstudie importeer
    ]
    if settings.synced.is_dir():
        for catalog_dir in sorted(p for p in settings.synced.iterdir() if p.is_dir() and not p.name.startswith(".")):
            steps.append((f"gesynchroniseerd ({catalog_dir.name})",
                          lambda d=catalog_dir: mirror.read_mirror(d, prefix=f"cache/odata/{d.name}")))
    out = Imported()
    for i, (name, step) in enumerate(steps):
        if progress:
            progress(f"inlezen: {name}", i, len(steps))
        out.extend(step())
    if progress:
        progress("inlezen", len(steps), len(steps))
    return out


def _fetched_at(settings: Settings, bundle: Path) -> Callable[[str], datetime | None]:
    memo: dict[str, datetime | None] = {}

    def lookup(source: str) -> datetime | None:
        if source not in memo:
            path = settings.home / source if source.startswith("cache/") else bundle / source
            if path.is_dir():
                path = path / "Observations.json"
            memo[source] = datetime.fromtimestamp(path.stat().st_mtime) if path.exists() else None
        return memo[source]

    return lookup


# The database takes about 2.8 times the bundle's size; while it is written the old one stays.
SPACE_FACTOR = 4
SPACE_MARGIN = 64 * 1024 * 1024


def folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def required_space(input_bytes: int) -> int:
    """Free bytes a build needs in the home, estimated from the size of what it reads."""
    return SPACE_FACTOR * input_bytes + SPACE_MARGIN


def preflight(settings: Settings, bundle: Path) -> None:
    """Before any work: the home can be written and has room for the new database."""
    atomic.ensure_dir(settings.home)
    inputs = folder_size(bundle) + (folder_size(settings.synced) if settings.synced.is_dir() else 0)
    atomic.check_free_space(settings.home, required_space(inputs), "de nieuwe database")


def remove_stale_temporaries(settings: Settings) -> list[Path]:
    """Temporary databases of builds that were killed (only safe while holding the build lock)."""
    return atomic.remove_stale(settings.home, f".{settings.database.name}.", alive=lambda p: False)


def build(settings: Settings, progress: Progress | None = None, user_groups: Path | None = None,
          wait: bool = False, waiting: Callable[[str], None] | None = None) -> BuildReport:
    """Build the store: one build at a time per home (the lock), checked for room before it starts."""
    bundle = require_bundle(settings)
    preflight(settings, bundle)
    with build_lock(settings.home, wait=wait, waiting=waiting):
        remove_stale_temporaries(settings)
        return _build(settings, bundle, progress, user_groups)


def _build(settings: Settings, bundle: Path, progress: Progress | None, user_groups: Path | None) -> BuildReport:
    started = time.perf_counter()
    registry = RegionRegistry.from_regioscodes(_registry_source(settings, bundle))
    if len(registry.current_gemeenten()) < 300:
        raise TrendstudieError("De regio-indeling lijkt onvolledig: minder dan 300 huidige gemeenten in RegioSCodes.")
    imported = read_sources(settings, bundle, registry, progress)

    def harmonise_progress(done: int, total: int) -> None:
        if progress:
            progress("harmoniseren naar de huidige gemeentelijke indeling", done, total)

    facts, harmonise_warnings = harmonise(imported.observations, imported.tables, registry, harmonise_progress)
    from . import eigen

    facts = eigen.complete_facts(facts, imported.observations, imported.tables, registry)

    from .geo import groups as group_data

    populations = _latest_populations(facts, registry)
    groups = group_data.all_groups(registry, populations, peildatum=populations.peildatum, user_file=user_groups)

    from .indicators import registry as indicator_registry

    indicators = eigen.load_indicators(settings.home, indicator_registry.load())
    # Gemeenten from the harmonised facts; Nederland as CBS publishes it (NL01 facts, see
    # indicators/registry.py); wijken as published (for indicators of the spread between a
    # gemeente's wijken, see indicators/registry.py `Spread`).
    index = indicator_registry.FactIndex(
        itertools.chain((f for f in facts if f.region_code.startswith("GM") or f.region_code == "NL01"),
                        (o for o in imported.observations if o.region_code.startswith("WK"))),
        {(t.table_id, mid): m.title for t in imported.tables for mid, m in t.measures.items()},
        {(t.table_id, mid): m.unit for t in imported.tables for mid, m in t.measures.items()},
    )

    def derive_progress(done: int, total: int) -> None:
        if progress:
            progress("indicatoren berekenen", done, total)

    members = {g.id: g.members for g in groups}
    values, missing = indicator_registry.derive(indicators, index, registry.current_gemeenten(), members, derive_progress)

    shapes_rows, shape_warnings = _boundaries(bundle, registry)

    if progress:
        progress("database schrijven", 0, 1)
    fetched = _fetched_at(settings, bundle)
    content = store.Content(
        info={"bundle": str(bundle.resolve()), "regions_source": str(_registry_source(settings, bundle)),
              eigen.INFO_KEY: eigen.store_info(settings.home), eigen.OWN_RULES_KEY: eigen.own_rules_text(settings.home, indicators)},
        source_tables=[(t.table_id, t.title, t.catalog, t.source, t.modified) for t in imported.tables],
        measures=[(t.table_id, mid, m.title, m.unit, m.decimals, m.aggregation, m.basis)
                  for t in imported.tables for mid, m in t.measures.items()],
        dimension_codes=[(t.table_id, d, code, title) for t in imported.tables
                         for d, codes in t.dimensions.items() for code, title in codes.items()],
        observations=store.to_arrow(imported.observations, store.OBSERVATION_SCHEMA,
                                    {"fetched_at": lambda o: fetched(o.source)}),
        facts=store.to_arrow(facts, store.FACT_SCHEMA),
        regions=[(r.code, r.name, r.title, r.kind, r.province, r.valid_from, r.valid_to,
                  r.kind == "GM" and r.valid_to is None) for r in registry.regions.values()],
        region_events=[(t.date, t.from_code, t.to_code, t.kind, t.hectares, t.dwellings, t.inhabitants)
                       for t in registry.transfers],
        groups=[(g.id, g.title, g.kind, g.peildatum, g.source, g.description, "\n".join(g.changes)) for g in groups],
        group_members=[(g.id, code) for g in groups for code in g.members],
        indicators=[(i.id, i.title, i.description, i.domain, i.unit, i.decimals, i.direction, i.citation, i.note,
                     ", ".join(i.live), "; ".join(missing.get(i.id, [])) or None, pos)
                    for pos, i in enumerate(indicators.indicators)],
        indicator_values=store.to_arrow(values, store.INDICATOR_VALUE_SCHEMA),
        boundaries=shapes_rows,
        warnings=[("regio's", w) for w in registry.warnings]
        + [("inlezen", w) for w in imported.warnings]
        + [("harmoniseren", w) for w in harmonise_warnings]
        + [("grenzen", w) for w in shape_warnings],
    )
    with editions.recording(settings, progress):  # a new edition, with what changed against the previous store
        store.write_database(settings.database, content)
    if progress:
        progress("database schrijven", 1, 1)
    return BuildReport(
        database=settings.database,
        observations=len(imported.observations),
        facts=len(facts),
        indicators=len(indicators.indicators),
        missing_indicators=len(missing),
        tables=sorted({t.table_id for t in imported.tables}),
        warnings=content.warnings,
        seconds=time.perf_counter() - started,
    )


BOUNDARIES = "raw/luc4sdreyer__dutch_demographics/web/nl_gemeenten.geojson"


def _boundaries(bundle: Path, registry: RegionRegistry) -> tuple[list[tuple], list[str]]:
    """Today's gemeente boundaries for maps, kept in the store so reports and the web need no bundle."""
    import json

    from .geo import shapes

    path = bundle / BOUNDARIES
    if not path.exists():
        return [], [f"{BOUNDARIES} ontbreekt: rapporten en webpagina's tonen geen kaarten"]
    features = shapes.load_features(path)
    current = set(registry.current_gemeenten())
    warnings = [f"grenzen: {f.code} is geen huidige gemeente; overgeslagen" for f in features if f.code not in current]
    missing = sorted(current - {f.code for f in features})
    if missing:
        warnings.append(f"grenzen: geen grens voor {', '.join(missing)}")
    rows = [(f.code, f.name, json.dumps(f.geometry, separators=(",", ":")), BOUNDARIES)
            for f in features if f.code in current]
    return rows, warnings


class Populations(dict):
    """Inhabitants on 1 January of the latest year, per current gemeente."""

    peildatum: date | None = None


POPULATION = ("03759ned", "M000352", "BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000")


def _latest_populations(facts, registry: RegionRegistry) -> Populations:
    current = set(registry.current_gemeenten())
    latest: dict[str, tuple[str, float]] = {}
    for f in facts:
        if (f.table_id, f.measure, f.dims) == POPULATION and f.region_code in current and f.value is not None:
            if f.region_code not in latest or f.period > latest[f.region_code][0]:
                latest[f.region_code] = (f.period, f.value)
    pops = Populations({c: v for c, (_, v) in latest.items()})
    if not latest:
        raise TrendstudieError("Geen bevolkingscijfers (CBS 03759ned) gevonden: de databundel is onvolledig.")
    pops.peildatum = date(int(max(p for p, _ in latest.values())[:4]), 1, 1)
    return pops
