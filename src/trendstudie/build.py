"""Build the store from the bundle (and whatever `trendstudie sync` fetched): read every source,
harmonise, and write the database atomically."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from . import atomic, buildcache, buildworker, gcpause, store
from .config import Settings, cores, require_bundle
from .errors import TrendstudieError
from .geo.regions import RegionRegistry
from .harmonise import facts_of, harmonise_columns
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
    unchanged: bool = False  # nothing changed since the store was built: it was left as it was
    built_at: str | None = None  # when the store that is there now was built (for an unchanged one)
    reread: list[str] = field(default_factory=list)  # sources read from their files (the rest from the cache)
    cached: list[str] = field(default_factory=list)  # sources taken from the build cache


def _registry_source(settings: Settings, bundle: Path) -> Path:
    synced = settings.synced / "CBS" / "03759ned" / "RegioSCodes.json"
    return synced if synced.exists() else bundle / "odata-v4" / "03759ned" / "RegioSCodes.json"


@dataclass(frozen=True)
class Source:
    """One importer step: what it reads (for its fingerprint) and how."""

    key: str  # stable name of its cache entry
    name: str  # as progress and the report say it
    inputs: tuple[Path, ...]  # files and folders it reads
    root: Path  # `inputs` are fingerprinted relative to this, so a moved bundle is the same bundle
    read: Callable[[RegionRegistry], Imported]
    uses_registry: bool = False  # gemeenten matched by name or code of their year


def sources(settings: Settings, bundle: Path) -> list[Source]:
    """Every importer over the bundle, then the sync cache (which outranks the bundle)."""
    from . import eigen
    from .sources import exports, more  # raw-file importers: the shapes analysts download by hand

    steps = [
        Source("odata-v4", "OData v4-spiegel", (bundle / "odata-v4",), bundle,
               lambda r: mirror.read_mirror(bundle / "odata-v4", prefix="odata-v4")),
        Source("tidy", "tidy CSV", (bundle / "tidy",), bundle, lambda r: tidy.read_tidy_dir(bundle / "tidy", prefix="tidy")),
        Source("exports", "StatLine- en v3-exports", tuple(exports.inputs(bundle)), bundle,
               lambda r: exports.read_all(bundle, r), uses_registry=True),
        Source("more", "KWB en overige bestanden", tuple(more.inputs(bundle)), bundle,
               lambda r: more.read_all(bundle, r), uses_registry=True),
        Source("eigen", "eigen bestanden", (eigen.imports_dir(settings.home),), settings.home,
               lambda r: eigen.read_imports(settings.home)),  # trendstudie importeer
    ]
    if settings.synced.is_dir():
        for catalog_dir in sorted(p for p in settings.synced.iterdir() if p.is_dir() and not p.name.startswith(".")):
            steps.append(Source(f"sync-{catalog_dir.name}", f"gesynchroniseerd ({catalog_dir.name})", (catalog_dir,),
                                settings.home,
                                lambda r, d=catalog_dir: mirror.read_mirror(d, prefix=f"cache/odata/{d.name}")))
    return steps


def source_fingerprints(settings: Settings, bundle: Path, steps: list[Source]) -> dict[str, str]:
    regions = _registry_source(settings, bundle)
    registry_file = buildcache.file_states([regions], settings.home if regions.is_relative_to(settings.home) else bundle)
    return {s.key: buildcache.fingerprint(s.key, s.inputs, s.root, registry_file if s.uses_registry else ())
            for s in steps}


def read_sources(settings: Settings, bundle: Path, registry: RegionRegistry, progress: Progress | None = None,
                 steps: list[Source] | None = None, fingerprints: dict[str, str] | None = None,
                 use_cache: bool = True, reread: list[str] | None = None,
                 tables: list | None = None, parallel: bool | None = None, saver=None) -> Imported:
    """What every source holds: from the build cache where its fingerprint is unchanged, else by
    its importer (and then kept in the cache). The names of the sources read from their files
    are appended to `reread`, each source's observations as an Arrow table to `tables`.
    With more than one source to read and more than one core (`parallel` None), a second process
    reads the others while this one reads the largest (buildworker.py). The sources read are kept
    in the build cache by `saver` (a CacheSaver; when None, one that is waited for here)."""

    steps = steps if steps is not None else sources(settings, bundle)
    fingerprints = fingerprints or source_fingerprints(settings, bundle, steps)
    got: dict[str, tuple[Imported, object]] = {}
    for step in steps:
        cached = buildcache.load(settings.home, step.key, fingerprints[step.key]) if use_cache else None
        if cached is not None:
            got[step.key] = cached
    to_read = [step for step in steps if step.key not in got]
    if parallel is None:
        parallel = cores() > 1
    worker = None
    folder = buildcache.cache_dir(settings.home) / f".lezen-{os.getpid()}"
    try:
        if parallel and len(to_read) > 1:
            largest = max(to_read, key=lambda step: sum(max(size, 0) for _, size, _ in buildcache.file_states(step.inputs)))
            worker = buildworker.start(settings.home, bundle, folder, [s.key for s in to_read if s is not largest])
        mine = [step for step in to_read if worker is None or step.key not in worker.keys]
        for i, step in enumerate(mine):
            if progress:
                progress(f"inlezen: {step.name}" + (" (de andere bronnen tegelijk)" if worker else ""), i, len(mine))
            got[step.key] = _read(step, registry)
        if worker is not None:
            done = buildworker.collect(worker)
            for step in to_read:
                if step.key not in got:
                    got[step.key] = done[step.key] if done is not None else _read(step, registry)
    finally:
        if worker is not None and worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        shutil.rmtree(folder, ignore_errors=True)
    read_here = {step.key for step in to_read}
    out = Imported()
    with (CacheSaver() if saver is None else contextlib.nullcontext(saver)) as keep:
        for step in steps:
            part, table = got[step.key]
            if step.key in read_here:
                if reread is not None:
                    reread.append(step.name)
                keep.save(settings.home, step.key, fingerprints[step.key], part, table)
            if tables is not None:
                tables.append(table)
            out.extend(Imported(tables=part.tables, warnings=part.warnings, columns=table))  # no tuples (see Imported)
    if progress:
        progress("inlezen", len(steps), len(steps))
    return out


class CacheSaver:
    """Keeps sources in the build cache on a thread (compressing and writing happen outside
    Python's lock) while the build goes on; leaving the `with` waits for what is still being
    written. A cache that cannot be written only makes the next build slower."""

    def __enter__(self) -> "CacheSaver":
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="build-cache")
        self._jobs: list = []
        return self

    def save(self, *args) -> None:
        self._jobs.append(self._pool.submit(buildcache.save, *args))

    def __exit__(self, *exc) -> None:
        try:
            for job in self._jobs:
                try:
                    job.result()
                except OSError:
                    pass
        finally:
            self._pool.shutdown()


def _read(step: Source, registry: RegionRegistry) -> tuple[Imported, object]:
    """One source read by its importer, with its observations as an Arrow table."""
    part = step.read(registry)
    return part, buildcache.table_of(part)


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


# The database takes less than the bundle's size (2.8 times while it had indexes); while it is written
# the old one stays, and the factor leaves room for what the build cache and the editions keep.
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
    """Temporary databases, and folders of read sources, of builds that were killed (only safe while
    holding the build lock)."""
    for folder in buildcache.cache_dir(settings.home).glob(".lezen-*"):
        shutil.rmtree(folder, ignore_errors=True)
    return atomic.remove_stale(settings.home, f".{settings.database.name}.", alive=lambda p: False)


def build(settings: Settings, progress: Progress | None = None, user_groups: Path | None = None,
          wait: bool = False, waiting: Callable[[str], None] | None = None, full: bool = False) -> BuildReport:
    """Build the store: one build at a time per home (the lock), checked for room before it starts.
    Only sources that changed since the last build are read again (the others come from the build
    cache); when nothing changed at all the store is left as it is (`unchanged`). `full` reads
    and builds everything anew."""
    bundle = require_bundle(settings)
    preflight(settings, bundle)
    with build_lock(settings.home, wait=wait, waiting=waiting):
        remove_stale_temporaries(settings)
        started = time.perf_counter()
        steps = sources(settings, bundle)
        fingerprints = source_fingerprints(settings, bundle, steps)
        fingerprint = store_fingerprint(settings, bundle, fingerprints, user_groups)
        if not full:
            built_at = unchanged_since(settings.database, fingerprint)
            if built_at is not None:
                return BuildReport(database=settings.database, unchanged=True, built_at=built_at,
                                   seconds=time.perf_counter() - started)
        # The collector paused for the whole build, reading and writing too: it would walk the
        # million observations and facts again and again, and they hold no cycles.
        with gcpause.paused():
            return _build(settings, bundle, progress, user_groups, steps, fingerprints, fingerprint, full, started)


FINGERPRINT_KEY = "fingerprint"  # build_info: the fingerprint of everything the build took in
SOURCES_KEY = "sources"  # build_info: JSON {source name: fingerprint}


def store_fingerprint(settings: Settings, bundle: Path, fingerprints: dict[str, str],
                      user_groups: Path | None) -> str:
    """Everything a build takes in: its sources, all program code and YAML (indicators, knowledge,
    groups), the bundle's place, the region registry, the boundaries, own groups and indicators."""
    from . import eigen

    files = [_registry_source(settings, bundle), bundle / BOUNDARIES, settings.home / eigen.INDICATOR_FILE]
    return buildcache.combine(fingerprints, extra=[
        store.SCHEMA_VERSION, buildcache.code_version(), bundle.resolve(), _registry_source(settings, bundle),
        user_groups.resolve() if user_groups else "", *buildcache.file_states(files + ([user_groups] if user_groups else []))])


def unchanged_since(database: Path, fingerprint: str) -> str | None:
    """When the store was built, if it was built from exactly `fingerprint` and can be read; else None."""
    import duckdb

    if not database.exists():
        return None
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return None
    try:
        info = dict(con.execute("SELECT key, value FROM build_info WHERE key IN (?, ?, ?)",
                                [FINGERPRINT_KEY, "built_at", "schema_version"]).fetchall())
    except duckdb.Error:
        return None
    finally:
        con.close()
    if info.get(FINGERPRINT_KEY) != fingerprint or info.get("schema_version") != str(store.SCHEMA_VERSION):
        return None
    return info.get("built_at") or "onbekend"


def _build(settings: Settings, bundle: Path, progress: Progress | None, user_groups: Path | None,
           steps: list[Source], fingerprints: dict[str, str], fingerprint: str, full: bool,
           started: float) -> BuildReport:
    registry = RegionRegistry.from_regioscodes(_registry_source(settings, bundle))
    if len(registry.current_gemeenten()) < 300:
        raise TrendstudieError("De regio-indeling lijkt onvolledig: minder dan 300 huidige gemeenten in RegioSCodes.")
    reread: list[str] = []
    observation_tables: list = []
    with CacheSaver() as saver:  # the build cache is written while the build goes on
        imported = read_sources(settings, bundle, registry, progress, steps, fingerprints, use_cache=not full,
                                reread=reread, tables=observation_tables, saver=saver)
        import pyarrow as pa

        table = pa.concat_tables(observation_tables) if observation_tables else buildcache.OBSERVATION_COLUMNS.empty_table()
        # The big tables go into the new database while the build computes the rest (store.Writer).
        writer = store.Writer(settings.database)
        try:
            writer.add("observations", buildcache.observations_with_fetched(table, _fetched_at(settings, bundle),
                                                                            store.OBSERVATION_SCHEMA))
            return _harmonise_derive_write(settings, bundle, progress, user_groups, steps, fingerprints, fingerprint,
                                           started, registry, imported, table, reread, writer)
        except BaseException:
            writer.abort()
            raise


def _harmonise_derive_write(settings: Settings, bundle: Path, progress: Progress | None, user_groups: Path | None,
                            steps: list[Source], fingerprints: dict[str, str], fingerprint: str, started: float,
                            registry: RegionRegistry, imported: Imported, table, reread: list[str],
                            writer: store.Writer) -> BuildReport:
    """`table`: the observations of `imported` as an Arrow table (its `columns`)."""
    import pyarrow as pa

    def harmonise_progress(done: int, total: int) -> None:
        if progress:
            progress("harmoniseren naar de huidige gemeentelijke indeling", done, total)

    if progress:
        progress("harmoniseren naar de huidige gemeentelijke indeling", 0, None)
    # The other regions' facts as published; the gemeenten's (made one by one only where a
    # gemeente changed): two tables.
    published, facts, harmonise_warnings = harmonise_columns(table, imported.tables, registry, harmonise_progress)
    from . import eigen

    if eigen.needs_completing(imported.tables):
        facts = store.to_arrow(eigen.complete_facts(facts_of(facts), imported.observations, imported.tables, registry),
                               store.FACT_SCHEMA)

    from .geo import groups as group_data

    fact_table = pa.concat_tables([published, facts])
    writer.add("facts", fact_table)
    writer.checkpoint()  # the two big tables into the file while the indicators are computed
    populations = _latest_populations(facts, registry)
    groups = group_data.all_groups(registry, populations, peildatum=populations.peildatum, user_file=user_groups)

    from .indicators import registry as indicator_registry

    indicators = eigen.load_indicators(settings.home, indicator_registry.load())
    # Gemeenten from the harmonised facts; Nederland as CBS publishes it (NL01 facts, see
    # indicators/registry.py); wijken as published (for indicators of the spread between a
    # gemeente's wijken, see indicators/registry.py `Spread`).
    index = indicator_registry.FactIndex(
        [], {(t.table_id, mid): m.title for t in imported.tables for mid, m in t.measures.items()},
        {(t.table_id, mid): m.unit for t in imported.tables for mid, m in t.measures.items()})
    read = indicators.series_read()
    index.add_table(_rows(published, read, regions="NL01"))
    index.add_table(_rows(facts, read, regions=""))
    index.add_table(_rows(table, read, regions="WK"))

    def derive_progress(done: int, total: int) -> None:
        if progress:
            progress("indicatoren berekenen", done, total)

    members = {g.id: g.members for g in groups}
    values, missing = indicator_registry.derive(indicators, index, registry.current_gemeenten(), members, derive_progress)

    shapes_rows, shape_warnings = _boundaries(bundle, registry)

    if progress:
        progress("database schrijven", 0, 1)
    from .knowledge.localise import OWN_RULES_KEY  # the user's localisation rules in build_info

    content = store.Content(
        info={FINGERPRINT_KEY: fingerprint,
              SOURCES_KEY: json.dumps({s.name: fingerprints[s.key] for s in steps}, ensure_ascii=False),
              "bundle": str(bundle.resolve()), "regions_source": str(_registry_source(settings, bundle)),
              eigen.INFO_KEY: eigen.store_info(settings.home),
              OWN_RULES_KEY: eigen.own_rules_text(settings.home, indicators)},
        source_tables=[(t.table_id, t.title, t.catalog, t.source, t.modified) for t in imported.tables],
        measures=[(t.table_id, mid, m.title, m.unit, m.decimals, m.aggregation, m.basis)
                  for t in imported.tables for mid, m in t.measures.items()],
        dimension_codes=[(t.table_id, d, code, title) for t in imported.tables
                         for d, codes in t.dimensions.items() for code, title in codes.items()],
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
    from . import editions  # (here: the reading worker, which imports this module, needs none of it)

    with editions.recording(settings, progress):  # a new edition, with what changed against the previous store
        writer.finish(content)
    if progress:
        progress("database schrijven", 1, 1)
    return BuildReport(
        database=settings.database,
        observations=table.num_rows,
        facts=fact_table.num_rows,
        indicators=len(indicators.indicators),
        missing_indicators=len(missing),
        tables=sorted({t.table_id for t in imported.tables}),
        warnings=content.warnings,
        seconds=time.perf_counter() - started,
        reread=reread,
        cached=[s.name for s in steps if s.name not in reread],
    )


def _rows(table, read: set[tuple[str, str]], regions: str = "WK"):
    """The rows of `table` (facts or observations) in the series `read` (Registry.series_read), with a value,
    of the regions whose code starts with `regions` ("" for all); only the columns a FactIndex
    reads. Chosen column-wise, in the table's order: one mask, then one filter of those columns
    (filtering copies every column it is given)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = table.select([c for c in ("table_id", "measure", "dims", "region_code", "period", "value", "status",
                                         "harmonised") if c in table.column_names])
    # Whether each row's (table, dims) is read: looked up once per distinct table and dims, then
    # taken by their numbers (the columns are dictionary-encoded, see store.few_texts).
    tables, dims = (pc.dictionary_encode(table.column(name)).combine_chunks() for name in ("table_id", "dims"))
    table_texts, dims_texts = tables.dictionary.to_pylist(), dims.dictionary.to_pylist()
    dims_at = {d: j for j, d in enumerate(dims_texts)}
    wanted = np.zeros((len(table_texts) + 1, len(dims_texts) + 1), dtype=bool)  # last row and column: null
    table_at = {t: i for i, t in enumerate(table_texts)}
    for t, d in read:
        if t in table_at and d in dims_at:
            wanted[table_at[t], dims_at[d]] = True
    series = wanted[tables.indices.fill_null(len(table_texts)).to_numpy(zero_copy_only=False),
                    dims.indices.fill_null(len(dims_texts)).to_numpy(zero_copy_only=False)]
    where = pc.and_(pa.array(series), pc.is_valid(table.column("value")))
    if regions:
        where = pc.and_(where, pc.starts_with(table.column("region_code"), regions))
    return columns.filter(where)


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
    """From the gemeenten's facts (a FACT_SCHEMA table)."""
    import pyarrow.compute as pc

    table, measure, dims = POPULATION
    rows = facts.filter(pc.and_(pc.and_(pc.equal(facts.column("measure"), measure), pc.equal(facts.column("table_id"), table)),
                                pc.and_(pc.equal(facts.column("dims"), dims), pc.is_valid(facts.column("value")))))
    current = set(registry.current_gemeenten())
    latest: dict[str, tuple[str, float]] = {}
    for region, period, value in zip(*(rows.column(name).to_pylist() for name in ("region_code", "period", "value"))):
        if region in current and (region not in latest or period > latest[region][0]):
            latest[region] = (period, value)
    pops = Populations({c: v for c, (_, v) in latest.items()})
    if not latest:
        raise TrendstudieError("Geen bevolkingscijfers (CBS 03759ned) gevonden: de databundel is onvolledig.")
    pops.peildatum = date(int(max(p for p, _ in latest.values())[:4]), 1, 1)
    return pops
