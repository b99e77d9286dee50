"""The one read model over the store: everything the CLI, the report and the web read.

Modelled on datasette's `Database`: one object per database file is the only way to query it.
`Reader.execute(sql, params)` runs a query on a DuckDB cursor of the calling thread (one DuckDB
connection must not be used by two threads at once, but cursors of one connection may run in
parallel), so no caller needs a lock. On top of that it holds, loaded once on first use, what
several front ends need: regions with their whole history and the transfers between them,
groups, indicators, indicator values (series and latest values), findings and verdicts, the map
boundaries, and the one answer to "which gemeente of today did this former gemeente go into".

The store does not change while a Reader is open (a build writes a new file and renames it), so
everything loaded here stays valid for the Reader's life.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

from . import store
from .errors import TrendstudieError

if TYPE_CHECKING:  # DuckDB is imported when the store is first queried (see _ThreadConnection)
    import duckdb

    from .geo.regions import RegionRegistry


class RegionRow(NamedTuple):
    """One region of any time (CBS code), as the store keeps it."""

    code: str
    name: str
    title: str
    kind: str  # NL, LD, PV, CR, GM
    province: str | None
    valid_from: date | None
    valid_to: date | None
    current: bool


@dataclass(frozen=True)
class Event:
    """A herindeling, boundary change or rename: territory moving from one code to another."""

    date: date
    from_code: str
    to_code: str
    kind: str
    hectares: float | None
    dwellings: int | None
    inhabitants: int | None


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator of the register, declared here once for every reader: the CLI, the report, the
    web pages, the profile and the API (whose schema derives its models from these fields).
    `missing` says why an indicator has no values without a sync (None: it has them); `tables`
    are the CBS tables its values come from."""

    id: str
    title: str
    description: str
    domain: str
    unit: str
    decimals: int
    direction: str
    citation: str
    note: str
    missing: str | None
    position: int
    tables: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, rec: dict, tables: Sequence[str] = ()) -> "IndicatorRow":
        """From a row of the store's `indicators` table (column → value), with its source tables."""
        return cls(rec["indicator_id"], rec["title"], rec.get("description") or "", rec["domain"],
                   rec.get("unit") or "", int(rec.get("decimals") or 0), rec.get("direction") or "neutraal",
                   rec.get("citation") or "", rec.get("note") or "", rec.get("missing"), int(rec.get("position") or 0),
                   tuple(tables))


def indicator_rows(con) -> dict[str, IndicatorRow]:
    """Every indicator of the register, in register order, without its source tables: the one
    query of the `indicators` table, also for what holds only a connection (the localiser's
    IndicatorData, the analysis' Values). `Reader.indicators` adds the tables."""
    cur = con.execute("SELECT * FROM indicators ORDER BY position")
    names = [d[0] for d in cur.description]
    rows = (dict(zip(names, r)) for r in cur.fetchall())
    return {rec["indicator_id"]: IndicatorRow.from_record(rec) for rec in rows}


# The regions part of readcache.py: its file name, and the code it is made by.
GEOGRAPHY_PREFIX = "regios-"
GEOGRAPHY_SOURCES = ("reader.py", "geo/regions.py", "geo/herindeling.py")


@dataclass
class Geography:
    """Every region of any time with its history, and the registry that resolves names to
    codes (its name index built once)."""

    regions: dict[str, RegionRow]
    events: list[Event]
    registry: RegionRegistry


class _ThreadConnection:
    """Looks like a DuckDB connection to code that takes one (`con.execute(...)`), but every call
    goes to the calling thread's own cursor. It holds the root connection, not the Reader: no
    reference cycle, so a Reader and all it loaded are freed as soon as it is no longer used (a
    cycle left the large Localiser to the garbage collector, which walked it again at exit).
    Given a database file, it opens it (store.connect) at the first query: a command answered
    from readcache.py's files never imports DuckDB."""

    def __init__(self, root: duckdb.DuckDBPyConnection | None, database: Path | None = None):
        self._root = root
        self._database = database
        self._local = threading.local()
        self._lock = threading.Lock()  # only around opening the store and creating a thread's cursor

    def root(self) -> duckdb.DuckDBPyConnection:
        if self._root is None:
            with self._lock:
                if self._root is None:
                    self._root = store.connect(self._database)
        return self._root

    def close_root(self) -> None:
        if self._root is not None:
            self._root.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            root = self.root()
            with self._lock:
                cur = root.cursor()
            self._local.cursor = cur
        return cur

    def __getattr__(self, name: str):
        return getattr(self.cursor(), name)


class Reader:
    """Read-only access to one built store, safe to share between threads."""

    def __init__(self, database: Path | str | None = None, *, connection: duckdb.DuckDBPyConnection | None = None):
        if connection is None and database is None:
            raise ValueError("Reader needs a database path or an open connection")
        self.database = Path(database) if database is not None else None
        if connection is None:
            store.require(self.database)  # the clear error now; the store is opened at its first query
        self._load_lock = threading.RLock()  # one load of each cached part, however many threads ask
        self.con = _ThreadConnection(connection, self.database)

    @classmethod
    def of(cls, source: "Reader | duckdb.DuckDBPyConnection | Path | str") -> "Reader":
        """A Reader for a Reader (itself), an open connection or a database path."""
        if isinstance(source, Reader):
            return source
        if isinstance(source, (str, Path)):
            return cls(source)
        return cls(connection=source)

    # --- the only way to query ------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor."""
        return self.con.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        """Rows of a parameterised query, on this thread's cursor."""
        return self.cursor().execute(sql, list(params or [])).fetchall()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict]:
        """Rows of a query as dicts keyed by column name."""
        cur = self.cursor().execute(sql, list(params or []))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def close(self) -> None:
        self.con.close_root()

    def _once(self, name: str, load):
        """`load()` once, however many threads ask at the same time (cached_property is not
        guarded against that, and these loads take seconds)."""
        value = self.__dict__.get(name)
        if value is None:
            with self._load_lock:
                value = self.__dict__.get(name)
                if value is None:
                    value = load()
                    self.__dict__[name] = value
        return value

    # --- build --------------------------------------------------------------------------------
    @cached_property
    def info(self) -> dict[str, str]:
        return dict(self.execute("SELECT key, value FROM build_info"))

    @property
    def built_at(self) -> str:
        return self.info["built_at"]

    @cached_property
    def source_tables(self) -> dict[str, str]:
        """CBS table id → title, of every table the build read."""
        return dict(self.execute("SELECT DISTINCT table_id, title FROM source_tables ORDER BY 1"))

    @cached_property
    def measure_keys(self) -> set[tuple[str, str]]:
        return set(self.execute("SELECT DISTINCT table_id, measure FROM measures"))

    @cached_property
    def warnings(self) -> list[tuple[str, str]]:
        return self.execute("SELECT stage, message FROM warnings")

    # --- regions and their history -----------------------------------------------------------------
    @cached_property
    def _geography(self) -> Geography:
        """Regions, events and the registry with its name index: for a store file from
        readcache.py's file when that is of this store and this program."""
        if self.database is None:
            return self._load_geography()
        from . import readcache

        return readcache.kept(self.database, GEOGRAPHY_PREFIX,
                              ("geography", readcache.source_hash(readcache.PACKAGE, GEOGRAPHY_SOURCES)),
                              self._load_geography, Geography)

    def _load_geography(self) -> Geography:
        from .geo.herindeling import Transfer
        from .geo.regions import Region, RegionRegistry

        regions = {r[0]: RegionRow(*r) for r in self.execute(
            "SELECT code, name, title, kind, province, valid_from, valid_to, current FROM regions ORDER BY code")}
        events = [Event(*r) for r in self.execute(
            "SELECT date, from_code, to_code, kind, hectares, dwellings, inhabitants FROM region_events "
            "ORDER BY date, from_code, to_code")]
        registry = RegionRegistry(
            {c: Region(r.code, r.name, r.title, r.kind, r.province, r.valid_from, r.valid_to) for c, r in regions.items()},
            [Transfer(e.date, e.from_code, e.to_code, e.kind, e.hectares, e.dwellings, e.inhabitants) for e in events])
        return Geography(regions, events, registry)

    @property
    def regions(self) -> dict[str, RegionRow]:
        """Every region of any time, by code."""
        return self._geography.regions

    @property
    def events(self) -> list[Event]:
        """Every herindeling, boundary change and rename, oldest first."""
        return self._geography.events

    def events_of(self, code: str) -> list[Event]:
        return [e for e in self.events if code in (e.from_code, e.to_code)]

    @cached_property
    def gemeenten(self) -> list[str]:
        """Today's gemeente codes, sorted."""
        return sorted(c for c, r in self.regions.items() if r.kind == "GM" and r.current)

    @property
    def registry(self) -> RegionRegistry:
        """The region registry (names → codes, CBS disambiguations) with the transfers."""
        return self._geography.registry

    def resolution(self, text: str, kinds: tuple[str, ...] = ("GM",)):
        """What a typed code or name (of any time) resolves to, through the one resolver
        (geo/resolve.py): a former gemeente leads to its successor, a split names them all.
        Raises a clear Dutch error (with 'Bedoelde u') for an unknown text."""
        from .geo.resolve import resolve_gemeente

        return resolve_gemeente(text, self.registry, kinds)

    def resolve(self, text: str, kinds: tuple[str, ...] = ("GM", "PV", "NL", "LD", "CR")) -> str:
        """A code or a name to the code to answer for; a clear error when unknown, ambiguous or split."""
        return self.resolution(text, kinds).require()

    @cached_property
    def successors(self) -> dict[str, str]:
        """Former gemeente code → the gemeente of today it went into, for those that went
        (nearly) whole into one; decided by geo/resolve.py, the only place that decides."""
        out = {}
        for code, r in self.regions.items():
            if r.kind == "GM" and not r.current:
                found = self.resolution(code).code
                if found:
                    out[code] = found
        return out

    def successor(self, code: str) -> str | None:
        """Today's gemeente for a code: itself when current, else where it went; None otherwise."""
        code = code.strip().upper()
        if code in self.regions and self.regions[code].kind == "GM" and self.regions[code].current:
            return code
        return self.successors.get(code)

    def gemeente_of(self, text: str) -> str | None:
        """The gemeente of today that `text` names exactly: its code or name (CBS spellings known),
        or a former gemeente's code or name, which leads to the gemeente it went into; else None
        (also for a former gemeente split over several)."""
        if not text.strip():
            return None
        try:
            code = self.resolution(text).code
        except TrendstudieError:
            return None
        return code if code in self.regions and self.regions[code].current else None

    # --- groups ---------------------------------------------------------------------------------
    @cached_property
    def groups(self) -> dict[str, tuple[str, str]]:
        """group id → (title, kind)."""
        return {r[0]: (r[1], r[2]) for r in self.execute("SELECT group_id, title, kind FROM groups ORDER BY group_id")}

    @cached_property
    def group_members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for gid, code in self.execute("SELECT group_id, region_code FROM group_members ORDER BY 1, 2"):
            out.setdefault(gid, []).append(code)
        return out

    @cached_property
    def member_of(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for gid, codes in self.group_members.items():
            for code in codes:
                out.setdefault(code, set()).add(gid)
        return out

    def groups_of(self, code: str) -> list[tuple[str, str]]:
        """(group id, title) of the groups a region belongs to, by kind and id."""
        mine = self.member_of.get(code, set())
        return [(g, self.groups[g][0]) for g in sorted(mine, key=lambda g: (self.groups[g][1], g)) if g in self.groups]

    def group_id(self, text: str, flag: str | None = None) -> str:
        """A group id given in any case; unknown ones get suggestions ("Bedoelde u: G40?") or the
        choices, naming the option they came from."""
        import difflib

        by_lower = {g.lower(): g for g in sorted(self.groups)}
        key = text.strip().lower()
        if key in by_lower:
            return by_lower[key]
        close = [by_lower[c] for c in difflib.get_close_matches(key, list(by_lower), n=3, cutoff=0.6)]
        hint = f" Bedoelde u: {' of '.join(close)}?" if close else f" Kies uit: {', '.join(by_lower.values())}."
        raise TrendstudieError(f"Onbekende groep {text!r}" + (f" voor {flag}" if flag else "") + f".{hint}")

    def year_range(self) -> tuple[int, int] | None:
        """The first and last year of any gemeente's indicator values, or None for an empty store."""
        years = [int(p[:4]) for periods in self.periods.values() for p in periods]
        return (min(years), max(years)) if years else None

    # --- indicators -----------------------------------------------------------------------------
    @cached_property
    def indicators(self) -> dict[str, IndicatorRow]:
        """Every indicator of the register, in register order (also those without data), with the
        CBS tables its values come from."""
        tables = self.indicator_tables
        return {i: replace(row, tables=tuple(tables.get(i, ()))) for i, row in indicator_rows(self.cursor()).items()}

    @cached_property
    def indicator_tables(self) -> dict[str, list[str]]:
        """indicator id → the CBS tables its values come from (from their provenance)."""
        tables: dict[str, list[str]] = {}
        for ind, prov in self.execute(
                "SELECT DISTINCT indicator_id, provenance FROM indicator_values WHERE provenance IS NOT NULL ORDER BY 1, 2"):
            for token in re.findall(r"[0-9A-Za-z_]+", prov):
                if token in self.source_tables and token not in tables.setdefault(ind, []):
                    tables[ind].append(token)
        return tables

    @cached_property
    def periods(self) -> dict[str, list[str]]:
        """indicator id → the periods with a value for some gemeente, oldest first."""
        out: dict[str, list[str]] = {}
        for ind, period in self.execute("SELECT DISTINCT indicator_id, period FROM indicator_values "
                                        "WHERE region_code LIKE 'GM%' ORDER BY 1, 2"):
            out.setdefault(ind, []).append(period)
        return out

    @property
    def rules(self):
        from .knowledge.localise import load_rules

        if self.database is not None:  # the localiser's, loaded with it (from its cache)
            return self._once("_rules", lambda: self.localiser.rules)
        return self._once("_rules", load_rules)

    @property
    def data(self):
        """Indicator values in memory (with the derived indicators of the rules): series, values
        per period, latest values, percentiles."""
        from .knowledge.localise import IndicatorData

        if self.database is not None:
            return self._once("_data", lambda: self.localiser.data)
        return self._once("_data", lambda: IndicatorData(self.con, self.rules.derived))

    def latest(self, indicator: str, code: str) -> tuple[str, float] | None:
        return self.data.latest(indicator, code)

    def value(self, indicator: str, code: str, period: str) -> float | None:
        return self.data.value(indicator, code, period)

    @property
    def values(self):
        """The analysis stage's view of the values (comparisons, neighbours)."""
        from .analysis.compare import Values

        return self._once("_values", lambda: Values(self.con))

    def series(self, table: str, measure: str, regions: list[str] | None = None, from_year: int | None = None,
               to_year: int | None = None, dims: list[str] | None = None, as_published: bool = False) -> list[dict]:
        """A CBS series, harmonised to today's gemeenten (or as published)."""
        from .query import series

        return series(self.con, table, measure, regions, from_year, to_year, dims, as_published)

    def indicator_table(self, regions: list[str], group: str | None, indicators: list[str]) -> list[dict]:
        """Indicator values in the export's long format."""
        from .query import indicator_table

        return indicator_table(self.con, regions, group, indicators)

    def latest_fact(self, table: str, measure: str, code: str) -> tuple[str, float, str | None] | None:
        """(period, value, status) of the newest harmonised figure of a series for one region."""
        rows = self.execute(
            "SELECT period, value, status FROM facts WHERE table_id = ? AND measure = ? AND region_code = ? "
            "AND value IS NOT NULL ORDER BY period DESC LIMIT 1", [table, measure, code])
        return rows[0] if rows else None

    def indicator_overview(self) -> list[tuple]:
        """Per indicator in register order: id, title, domain, unit, live source, what is missing,
        first and last period, and the number of gemeenten with a value."""
        return self.execute(
            "SELECT i.indicator_id, i.title, i.domain, i.unit, i.live, i.missing, min(v.period), max(v.period), "
            "count(DISTINCT v.region_code) FILTER (WHERE v.region_code LIKE 'GM%') "
            "FROM indicators i LEFT JOIN indicator_values v USING (indicator_id) "
            "GROUP BY ALL ORDER BY min(i.position)")

    def indicator_values(self, indicators: list[str], regions: list[str], period: str | None = None,
                         from_year: int | None = None, to_year: int | None = None) -> list[tuple]:
        """(indicator_id, region_code, period, value, status) of these indicators and regions, in
        register order, optionally of one period or a span of years."""
        where = ["indicator_id IN (SELECT unnest(?))", "region_code IN (SELECT unnest(?))"]
        params: list = [list(indicators), list(regions)]
        if period:
            where.append("period = ?")
            params.append(period)
        if from_year is not None:
            where.append("CAST(substr(period, 1, 4) AS INTEGER) >= ?")
            params.append(from_year)
        if to_year is not None:
            where.append("CAST(substr(period, 1, 4) AS INTEGER) <= ?")
            params.append(to_year)
        return self.execute("SELECT v.indicator_id, v.region_code, v.period, v.value, v.status, v.harmonised "
                            "FROM indicator_values v "
                            "JOIN indicators i USING (indicator_id) WHERE " + " AND ".join(where)
                            + " ORDER BY i.position, v.region_code, v.period", params)

    def indicator_rows(self, code: str) -> list[tuple]:
        """Every indicator value of one region with status and provenance, register order."""
        return self.execute(
            "SELECT v.indicator_id, v.region_code, v.period, v.value, v.status, v.provenance, v.harmonised "
            "FROM indicator_values v JOIN indicators i USING (indicator_id) WHERE v.region_code = ? "
            "ORDER BY i.position, v.period", [code])

    # --- knowledge, findings, verdicts ------------------------------------------------------------
    @property
    def kb(self):
        from .knowledge.model import load

        if self.database is not None:
            return self._once("_kb", lambda: self.localiser.kb)
        return self._once("_kb", load)

    @property
    def graph(self):
        from .knowledge.graph import Graph

        return self._once("_graph", lambda: Graph(self.kb))

    @property
    def localiser(self):
        """Verdicts for every trend and force (knowledge/verdict.py), sharing this Reader's data.
        For a store file it is loaded with the knowledge base, the rules and the indicator values
        from its cache in TRENDSTUDIE_HOME/cache when that is of this build and this program
        (knowledge/cache.py), and `kb`, `rules` and `data` are its parts."""
        from .knowledge.verdict import Localiser

        if self.database is None:
            return self._once("_localiser", lambda: Localiser(self.con, self.kb, self.rules, self.data))
        from .knowledge import cache

        return self._once("_localiser", lambda: cache.localiser(self.database, lambda: Localiser(self.con)))

    def localiser_for(self, code: str):
        """A Localiser that judges in this one region: the Reader's own when it is loaded; else,
        for a store file, one from the cache holding only this gemeente's own figures besides
        everything else (a third of the whole to read), which refuses other gemeenten."""
        if self.__dict__.get("_localiser") is not None or self.database is None:
            return self.localiser
        from .knowledge import cache
        from .knowledge.verdict import Localiser

        found = cache.localiser(self.database, lambda: Localiser(self.con), code)
        if found.only is None:  # made from the store: the whole, kept for what else this Reader is asked
            self.__dict__["_localiser"] = found
        return found

    def verdicts(self, code: str):
        return self.localiser.verdicts(code)

    # --- geometry -------------------------------------------------------------------------------
    @cached_property
    def boundaries(self) -> dict[str, dict]:
        """Today's gemeente boundaries (GeoJSON geometry, WGS84) as stored by the build."""
        return {code: json.loads(geom) for code, geom in self.execute("SELECT region_code, geometry FROM boundaries")}

