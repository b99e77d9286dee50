"""Observations (as published) → facts on today's municipal classification.

A pure function of the observations, the table metadata and the region registry. The method
is written down in docs/harmonisatie.md; in short:

1. Where several sources publish the same cell, the most authoritative wins (v4 API > tidy
   exchange files > v3 exports > StatLine downloads > other copies); disagreements are reported.
2. Each (table, measure, dims, period) slice is placed on the classification it was published
   on: the period's first day, or, for tables republished on later boundaries (the police
   figures), the first later date on which all of its codes existed.
3. Each code is converted to today's codes with `Conversion` (geo/herindeling.py): merged
   gemeenten hand over everything, boundary changes the share of inhabitants (dwellings for
   dwelling measures) CBS reports.
4. Counts are summed. Averages, rates and shares are weighted by inhabitants or dwellings and
   flagged `gewogen`. Measures whose nature is unknown are carried over only where nothing
   changed. A gemeente whose predecessors are not all present gets no value, with the reason.
5. Nederland (NL01) is as CBS publishes it. For a count of a table that publishes no national
   row (the police figures), NL01 is the sum of every published gemeente row plus the rows CBS
   cannot assign to a gemeente (GM0000, 'niet toe te delen'), when every gemeente has a value.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date
from typing import Any, NamedTuple

from . import gcpause
from .geo.regions import RegionRegistry
from .sources.records import Observation, TableMeta, pick

# Lower rank wins when two sources publish the same cell.
SOURCE_RANKS = (("cache/", 0), ("odata-v4/", 1), ("tidy/", 2))
DEFAULT_RANK = 5

# Where the sizes of gemeenten come from (for boundary-change shares and weights), best first.
SIZE_SOURCES = {
    "inwoners": [
        ("03759ned", "M000352", "BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000"),
        ("37259ENG", "PopulationOn1January", "Sex=T001038"),
        ("70072ned", "TotaleBevolking", ""),
        ("70072ned", "GemiddeldAantalInwoners", ""),
    ],
    "woningen": [
        ("81955NED", "BeginstandVoorraad", ""),
        ("70072ned", "VoorraadOp1Januari", ""),
        ("KWB", "a_woning", ""),
        ("85984NED", "Woningvoorraad", ""),
    ],
}

SIZE_TABLES = frozenset(t for sources in SIZE_SOURCES.values() for t, _, _ in sources)

REQUIRED_SHARE = 0.001
UNASSIGNED = "GM0000"  # the police's 'niet toe te delen': in the national total, in no gemeente  # predecessors that carry at least this share must all be present


def source_rank(source: str) -> int:
    for prefix, rank in SOURCE_RANKS:
        if source.startswith(prefix):
            return rank
    return DEFAULT_RANK


class Fact(NamedTuple):
    """One harmonised figure (a named tuple: the build makes hundreds of thousands)."""

    table_id: str
    measure: str
    dims: str
    region_code: str
    period: str
    value: float | None
    status: str | None
    harmonised: bool
    method: str  # ongewijzigd | samengeteld | gewogen | benaderd | zoals gepubliceerd | ontbreekt
    provenance: str
    reason: str | None = None


Cell = tuple[float, "str | None", str]  # a gemeente's published value in a slice: value, status, source


def cells_of(present: dict[str, Observation]) -> dict[str, Cell]:
    """A slice's observations with a value by code, as the cells the Harmoniser works on."""
    return {code: (o.value, o.status, o.source) for code, o in present.items()}


def observations_at(table, positions) -> list[Observation]:
    """The rows of an Arrow table of observations at `positions`, in that order, as tuples."""
    from .sources.records import observations_of

    return observations_of(_rows_at(table, positions)) if len(positions) else []


def select(observations: list[Observation]) -> tuple[list[Observation], list[str]]:
    """One observation per cell, by source rank; report real disagreements."""
    best: dict[tuple, Observation] = {}
    conflicts: list[str] = []
    setdefault = best.setdefault
    for o in observations:
        cur = setdefault((o.table_id, o.measure, o.dims, o.region_code, o.period), o)
        if cur is not o:
            best[(o.table_id, o.measure, o.dims, o.region_code, o.period)] = _prefer(cur, o, conflicts)
    return list(best.values()), conflicts


def _prefer(cur: Observation, o: Observation, conflicts: list[str]) -> Observation:
    """Of two observations of one cell (`cur` seen first), the one to keep; a real disagreement
    between them is added to `conflicts`."""
    keep, other = (o, cur) if source_rank(o.source) < source_rank(cur.source) else (cur, o)
    if keep.value is None and other.value is not None and source_rank(other.source) == source_rank(keep.source):
        keep, other = other, keep
    if keep.value is not None and other.value is not None and abs(keep.value - other.value) > max(0.5, 1e-6 * abs(keep.value)):
        conflicts.append(
            f"{keep.table_id} {keep.measure} {keep.region_code} {keep.period}: {keep.value:g} ({keep.source}) "
            f"tegenover {other.value:g} ({other.source}); eerste aangehouden"
        )
    return keep


CELL = ("table_id", "measure", "dims", "region_code", "period")  # what makes a cell


def _encoded(table, names) -> dict:
    """Per column of `table`: its distinct values and each row's number among them (-1: null)."""
    import numpy as np
    import pyarrow.compute as pc

    out = {}
    for name in names:  # chunk by chunk, the chunks' lists of values then made one (no text is copied)
        chunks = pc.dictionary_encode(table.column(name)).unify_dictionaries().chunks
        values = chunks[0].dictionary.to_pylist() if chunks else []
        out[name] = (values, np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
                                             for c in chunks]) if chunks else np.zeros(0, dtype=np.int64))
    return out


def _combined(encoded: dict, names, rows=None):
    """One number per row (of `rows`, or all) for its values in the columns `names` together, from
    their numbers (`_encoded`): equal rows, equal numbers; made dense again before it could overflow."""
    import numpy as np

    key = None
    size = 1
    for name in names:
        values, numbers = encoded[name]
        numbers = (numbers if rows is None else numbers[rows]) + 1  # 0: null (number -1)
        distinct = len(values) + 1
        if key is None:
            key = numbers
        else:
            if size * distinct >= 2**62:
                key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
                size = int(key.max()) + 1 if len(key) else 1
            key = key * distinct + numbers
        size *= distinct
    return key


def _repeated_cells(encoded: dict):
    """Per row: whether another row has the same cell (CELL)."""
    import numpy as np

    key = _combined(encoded, CELL)
    ordered = np.sort(key)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])  # the keys seen more than once (few)
    if not len(repeated):
        return np.zeros(len(key), dtype=bool)
    return repeated[np.minimum(np.searchsorted(repeated, key), len(repeated) - 1)] == key


def select_rows(table, encoded: dict | None = None) -> tuple[list[int], list[str]]:
    """`select` on the rows of `table` (observations as an Arrow table): the positions of the
    rows `select` returns, in its order, and the same disagreements. Only the cells published
    more than once (found column-wise) are gone through one by one, as Observation tuples.
    `encoded`: `_encoded(table, CELL)` when already made."""
    import numpy as np

    n = table.num_rows
    repeated = np.flatnonzero(_repeated_cells(encoded or _encoded(table, CELL))).tolist()
    observations = dict(zip(repeated, observations_at(table, repeated)))
    first: dict[tuple, int] = {}  # cell → position of its first observation
    chosen: dict[int, int] = {}  # that position → position of the observation kept
    conflicts: list[str] = []
    for i in repeated:
        o = observations[i]
        key = (o.table_id, o.measure, o.dims, o.region_code, o.period)
        at = first.setdefault(key, i)
        if at != i:
            kept = chosen.get(at, at)
            chosen[at] = i if _prefer(observations[kept], o, conflicts) is o else kept
    rows = np.ones(n, dtype=bool)
    rows[repeated] = False
    rows[list(first.values())] = True
    positions = np.flatnonzero(rows)
    if chosen:
        at = np.array(list(chosen), dtype=np.int64)
        positions[np.searchsorted(positions, at)] = np.array(list(chosen.values()), dtype=np.int64)
    return positions.tolist(), conflicts


class Sizes:
    """Inhabitants and dwellings per code and year, from whichever tables have them."""

    def __init__(self, observations: list[Observation]):
        wanted = {(t, m, d): (basis, rank) for basis, srcs in SIZE_SOURCES.items() for rank, (t, m, d) in enumerate(srcs)}
        found: dict[tuple[str, str, int], tuple[int, float]] = {}
        for o in observations:
            if o.table_id not in SIZE_TABLES:
                continue
            hit = wanted.get((o.table_id, o.measure, o.dims))
            if hit is None or o.value is None or not o.region_code.startswith("GM"):
                continue
            basis, rank = hit
            key = (basis, o.region_code, int(o.period[:4]))
            if key not in found or rank < found[key][0]:
                found[key] = (rank, o.value)
        self._series: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        grouped: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        for (basis, code, year), (_, value) in found.items():
            grouped[(basis, code)].append((year, value))
        for key, pairs in grouped.items():
            pairs.sort()
            self._series[key] = ([p[0] for p in pairs], [p[1] for p in pairs])
        self._got: dict[tuple[str, int, str], float | None] = {}

    def get(self, code: str, year: int, basis: str) -> float | None:
        """The size in `year`, or in the nearest year with data (earlier one on a tie)."""
        key = (code, year, basis)
        if key not in self._got:
            self._got[key] = self._get(code, year, basis)
        return self._got[key]

    def _get(self, code: str, year: int, basis: str) -> float | None:
        series = self._series.get((basis, code)) or self._series.get(("inwoners", code))
        if not series:
            return None
        years, values = series
        i = bisect.bisect_left(years, year)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(years)]
        j = min(candidates, key=lambda k: (abs(years[k] - year), years[k]))
        return values[j]

    def before(self, code: str, when: date, basis: str) -> float | None:
        # A change per 1 January takes the size a year earlier, on the old boundaries.
        year = when.year - 1 if (when.month, when.day) == (1, 1) else when.year
        return self.get(code, year, basis)


def period_start(period: str) -> date:
    year = int(period[:4])
    kind, n = period[4:6], int(period[6:8])
    if kind == "KW":
        return date(year, 3 * (n - 1) + 1, 1)
    if kind == "MM":
        return date(year, n, 1)
    return date(year, 1, 1)


def period_end(period: str) -> date:
    """The first day after the period."""
    year = int(period[:4])
    kind, n = period[4:6], int(period[6:8])
    if kind == "KW":
        return date(year + 1, 1, 1) if n == 4 else date(year, 3 * n + 1, 1)
    if kind == "MM":
        return date(year + 1, 1, 1) if n == 12 else date(year, n + 1, 1)
    return date(year + 1, 1, 1)


def _combine_status(statuses: list[str | None]) -> str | None:
    if any(s == "Voorlopig" for s in statuses):
        return "Voorlopig"
    if any(s == "NaderVoorlopig" for s in statuses):
        return "NaderVoorlopig"
    if statuses and all(s == "Definitief" for s in statuses):
        return "Definitief"
    return None


class Harmoniser:
    def __init__(self, registry: RegionRegistry, sizes: Sizes):
        self.registry = registry
        self.sizes = sizes
        self.conversion = registry.conversion(sizes.before)
        self.current = registry.current_gemeenten()
        self._matrix: dict[tuple[date, str], dict[str, list[tuple[str, float, bool]]]] = {}
        self._dates = sorted({t.date for t in registry.transfers})
        self._renamed = {t.to_code: t.from_code for t in registry.transfers if t.kind == "naamswijziging"}
        self._gemeenten_on: dict[date, frozenset[str]] = {}
        self._gm = frozenset(c for c, r in registry.regions.items() if r.kind == "GM")
        # (day, basis) → (plan, its entries that changed, the targets that did not)
        self._plans: dict[tuple[date, str], tuple[list, list, frozenset[str]]] = {}
        self._trails: dict[tuple, str] = {}
        self._days: dict[tuple[frozenset[str], date, date | None], date | None] = {}

    def gemeenten_on(self, day: date) -> frozenset[str]:
        """The registry's gemeenten on `day` (asked for the same few days in every slice)."""
        if day not in self._gemeenten_on:
            self._gemeenten_on[day] = frozenset(self.registry.gemeenten_on(day))
        return self._gemeenten_on[day]

    def matrix(self, day: date, basis: str) -> dict[str, list[tuple[str, float, bool]]]:
        """For the classification of `day`: today's code → [(old code, share, approximate)]."""
        key = (day, basis)
        if key not in self._matrix:
            m: dict[str, list[tuple[str, float, bool]]] = defaultdict(list)
            for code in self.registry.gemeenten_on(day):
                w = self.conversion.weights(code, day, basis)  # type: ignore[arg-type]
                for target, share in w.shares.items():
                    if share > 1e-12:
                        m[target].append((code, share, w.approximate))
            self._matrix[key] = dict(m)
        return self._matrix[key]

    def classification_date(self, codes: set[str], start: date, end: date | None = None) -> date | None:
        """The classification a slice was published on: among the first day of the period and the
        changes within it, the one whose gemeenten best match the codes present (a year's flows
        after Weesp joined Amsterdam on 24 March 2022 are published without Weesp); failing that,
        the first later date on which all codes existed (tables republished on later boundaries)."""
        regions = self.registry.regions
        candidates = [start] + [d for d in self._dates if start < d and (end is None or d < end)]
        best, best_missing = None, None
        for d in candidates:
            if all(regions[c].valid_on(d) for c in codes):
                missing = len(self.gemeenten_on(d) - codes)
                if best_missing is None or missing < best_missing:
                    best, best_missing = d, missing
        if best is not None:
            return best
        for d in self._dates:
            if d > start and all(regions[c].valid_on(d) for c in codes):
                return d
        return None

    def plan(self, day: date, basis: str) -> list[tuple[str, list[tuple[str, float, bool]], bool]]:
        """`matrix` in the order of today's gemeenten, for the targets with a predecessor:
        (target, parts, identity), identity when the target is its own only predecessor, whole
        (the common case, which a slice then handles with one look-up)."""
        return self._plan(day, basis)[0]

    def _plan(self, day: date, basis: str) -> tuple[list, list, frozenset[str]]:
        key = (day, basis)
        if key not in self._plans:
            matrix = self.matrix(day, basis)
            plan = [(target, parts, len(parts) == 1 and parts[0][0] == target and abs(parts[0][1] - 1) < 1e-12)
                    for target in self.current if (parts := matrix.get(target))]
            self._plans[key] = (plan, [entry for entry in plan if not entry[2]],
                                frozenset(target for target, _, same in plan if same))
        return self._plans[key]

    def _classification_day(self, codes: set[str], start: date, end: date | None) -> date | None:
        """`classification_date`, once per set of codes and period (most slices share both)."""
        key = (frozenset(codes), start, end)
        if key not in self._days:
            self._days[key] = self.classification_date(codes, start, end)
        return self._days[key]

    def _trail(self, parts: list[tuple[str, float, bool]], source: str) -> str:
        """`_trail`, once per set of parts and source (the same herindeling recurs in every slice)."""
        key = (tuple(parts), source)
        got = self._trails.get(key)
        if got is None:
            got = self._trails[key] = _trail(key[0], source)
        return got

    def slice(self, meta_agg: str, basis: str, first: Observation,
              present: dict[str, Observation]) -> tuple[list[Fact], list[str]]:
        """Harmonise one (table, measure, dims, period) slice of gemeente observations: `first` is
        its first row (published value or not), `present` its rows with a value by code."""
        day, cells, warnings = self.prepare(first, cells_of(present))
        return (self.targets(meta_agg, basis, first, cells, day) if day is not None else []), warnings

    def prepare(self, first: Observation, present: dict[str, Cell]) -> tuple[date | None, dict[str, Cell], list[str]]:
        """What a slice is published on: (the day of its classification, or None when it gives no
        facts; its rows with a value by code, without the second code of a renamed gemeente; warnings)."""
        table_id, measure, dims, period = first.table_id, first.measure, first.dims, first.period
        warnings: list[str] = []
        gm = self._gm
        known = {c for c in present if c in gm}
        if len(known) < len(present):
            for c in sorted(set(present) - known):
                if c != UNASSIGNED:
                    warnings.append(f"{table_id} {measure} {period}: onbekende gemeentecode {c} overgeslagen")
        if not known:
            return None, present, warnings
        start = period_start(period)
        end = period_end(period)
        # A code renamed during the period (De Friese Meren GM1921 → De Fryske Marren GM1940 on
        # 1 July 2015) may be published under both codes for the same territory: keep the code
        # that was valid on the first day of the period.
        for new in sorted(known & self._renamed.keys()):
            old = self._renamed[new]
            if old in known:
                drop = new if self.registry.regions[old].valid_on(start) else old
                known.discard(drop)
                present = {c: o for c, o in present.items() if c != drop}
                warnings.append(f"{table_id} {measure} {period}: {old} en {new} zijn hetzelfde gebied "
                                f"onder twee namen; {drop} ({'nieuwe' if drop == new else 'oude'} naam) niet meegeteld")
        day = self._classification_day(known, start, end)
        if day is None:
            warnings.append(
                f"{table_id} {measure} {dims} {period}: codes van verschillende indelingen; "
                "niet geharmoniseerd"
            )
        return day, present, warnings

    def changed(self, day: date, basis: str) -> list[tuple[str, list[tuple[str, float, bool]], bool]]:
        """The entries of `plan(day, basis)` for the targets that are not `unchanged`."""
        return self._plan(day, basis)[1]

    def unchanged(self, day: date, basis: str) -> frozenset[str]:
        """The targets of `plan(day, basis)` that are their own only predecessor, whole."""
        return self._plan(day, basis)[2]

    def targets(self, meta_agg: str, basis: str, first: Observation, present: dict[str, Cell], day: date,
                identity: bool = True) -> list[Fact]:
        """The facts of a slice prepared by `prepare` (`present`: its cells by code), in the order of
        today's gemeenten; without `identity`, not those of the gemeenten that did not change (the
        build makes those column-wise)."""
        table_id, measure, dims, period = first.table_id, first.measure, first.dims, first.period
        start = period_start(period)
        facts = []
        append = facts.append
        source = first.source
        get = present.get
        for target, parts, same in (self.plan(day, basis) if identity else self.changed(day, basis)):
            if same:
                if identity:
                    cell = get(target)
                    if cell is not None:
                        append(Fact(table_id, measure, dims, target, period, cell[0], cell[1], False, "ongewijzigd",
                                    f"{target} ({cell[2]})"))
                continue
            if not any(code in present for code, _, _ in parts):
                continue  # nothing published for this gemeente in this slice
            missing = [code for code, share, _ in parts if share >= REQUIRED_SHARE and code not in present]
            if missing:
                append(Fact(table_id, measure, dims, target, period, None, None, True, "ontbreekt",
                            self._trail(parts, source), "geen waarde voor " + ", ".join(missing)))
                continue
            used = [(code, share, approx) for code, share, approx in parts if code in present]
            statuses = [present[c][1] for c, _, _ in used]
            approximate = any(a for _, _, a in used)
            if meta_agg == "sum":
                value = sum(present[c][0] * s for c, s, _ in used)  # type: ignore[operator]
                method = "benaderd" if approximate else "samengeteld"
            elif meta_agg == "mean":
                year = start.year
                weights = []
                for c, s, _ in used:
                    size = self.sizes.get(c, year, basis)
                    if size is None:
                        approximate = True
                        size = 1.0
                    weights.append(s * size)
                total = sum(weights)
                if total <= 0:
                    continue
                value = sum(present[c][0] * w for (c, _, _), w in zip(used, weights)) / total  # type: ignore[operator]
                method = "benaderd" if approximate else "gewogen"
            else:
                append(Fact(table_id, measure, dims, target, period, None, None, True, "ontbreekt",
                            self._trail(parts, source),
                            "grens gewijzigd en de aard van de maatstaf is onbekend (niet op te tellen)"))
                continue
            append(Fact(table_id, measure, dims, target, period, value, _combine_status(statuses), True, method,
                        self._trail(used, source)))
        return facts

    def national(self, first: Observation, present: dict[str, Cell], valued: int) -> Fact | None:
        """Nederland for a count slice of a table without a national row: every published gemeente
        row plus 'niet toe te delen' (GM0000), when every current gemeente got a value (else None).
        `first` is as for `slice`, `present` its cells by code (`cells_of`), `valued` how many of the
        facts `slice` made of them have a value; a code published twice under an old and a new name
        (see `slice`) counts once."""
        if valued < len(self.current):
            return None
        present = dict(present)
        for new, old in self._renamed.items():
            if new in present and old in present:
                start = period_start(first.period)
                del present[new if self.registry.regions[old].valid_on(start) else old]
        used = [cell for c, cell in present.items() if c == UNASSIGNED or c in self._gm]
        unassigned = present.get(UNASSIGNED)
        extra = f" plus niet toe te delen {unassigned[0]:g}" if unassigned is not None else ""
        return Fact(first.table_id, first.measure, first.dims, "NL01", first.period,
                    sum(cell[0] for cell in used), _combine_status([cell[1] for cell in used]),  # type: ignore[misc]
                    False, "samengeteld",
                    f"som van {len(used) - (unassigned is not None)} gemeenten{extra} ({first.source})")


def _trail(parts: tuple[tuple[str, float, bool], ...], source: str) -> str:
    shown = ", ".join(f"{c}×{s:.4f}".rstrip("0").rstrip(".") for c, s, _ in sorted(parts, key=lambda p: -p[1])[:12])
    more = f" (+{len(parts) - 12})" if len(parts) > 12 else ""
    return f"{shown}{more} ({source})"


class Harmonised(NamedTuple):
    """What `harmonise_columns` gives: the facts of the regions other than gemeenten (as published)
    and those of the gemeenten, each an Arrow table (FACT_SCHEMA), and the warnings. Together, in
    this order, they are what `harmonise` returns."""

    published: Any  # pyarrow.Table
    facts: Any  # pyarrow.Table
    warnings: list[str]


PUBLISHED = ("NL", "PV", "LD", "CR")  # regions whose facts are as CBS publishes them


def harmonise(observations: list[Observation], tables: list[TableMeta], registry: RegionRegistry,
              progress=None) -> tuple[list[Fact], list[str]]:
    """All facts: gemeenten on today's classification, other regions as published."""
    from .buildcache import observations_table

    done = harmonise_columns(observations_table(observations), tables, registry, progress)
    return [*facts_of(done.published), *facts_of(done.facts)], done.warnings


def facts_of(table) -> list[Fact]:
    """The rows of a facts table (FACT_SCHEMA) as Fact tuples."""
    columns = table.to_pydict()
    return list(map(Fact, *(columns[name] for name in Fact._fields)))


def harmonise_columns(table, tables: list[TableMeta], registry: RegionRegistry, progress=None) -> Harmonised:
    """`harmonise` of the observations as an Arrow table (buildcache.OBSERVATION_COLUMNS): the
    build's way, which makes one by one only the facts of gemeenten that changed, and makes
    Observation tuples only of the rows it goes through one by one."""
    with gcpause.paused():
        return _harmonise(table, tables, registry, progress)


def _published_facts(selected):
    """The facts of the regions other than gemeenten in `selected` (an Arrow table of observations):
    as published, column-wise."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from .store import FACT_SCHEMA

    n = selected.num_rows
    missing = pc.is_null(selected.column("value"))
    columns = {name: selected.column(name) for name in ("table_id", "measure", "dims", "region_code", "period",
                                                          "value", "status", "reason")}
    columns["harmonised"] = pa.array(np.zeros(n, dtype=bool))
    columns["method"] = pc.if_else(missing, "ontbreekt", "zoals gepubliceerd")
    columns["provenance"] = selected.column("source")  # both store.few_texts: not copied
    return pa.Table.from_arrays([pc.cast(columns[f.name], f.type) for f in FACT_SCHEMA], schema=FACT_SCHEMA)


def _rows_at(table, positions):
    """The rows of `table` at `positions`: where they ascend (nearly always) as a filter, which
    works chunk by chunk, else as a take (which first joins the chunks of every column)."""
    import numpy as np
    import pyarrow as pa

    if len(positions) > 1 and not (np.diff(positions) > 0).all():
        return table.take(pa.array(positions))
    keep = np.zeros(table.num_rows, dtype=bool)
    keep[positions] = True
    return table.filter(pa.array(keep))


def _harmonise(table, tables: list[TableMeta], registry: RegionRegistry, progress=None) -> Harmonised:
    import numpy as np
    import pyarrow.compute as pc

    encoded = _encoded(table, (*CELL, "status", "source"))
    positions, warnings = select_rows(table, encoded)
    positions = np.asarray(positions, dtype=np.int64)
    codes, region_numbers = encoded["region_code"]

    def kind(*prefixes: str):  # the selected rows whose region code starts with one of `prefixes`
        found = np.array([code.startswith(prefixes) for code in codes] + [False], dtype=bool)[region_numbers]
        return positions[found[positions]]

    published = _published_facts(_rows_at(table, kind(*PUBLISHED)))
    rows = kind("GM")  # the gemeenten's selected rows, by position in `table`
    sizes = Sizes(observations_at(table, rows[_size_rows(encoded, rows)]))
    h = Harmoniser(registry, sizes)
    measures = {(t.table_id, mid): m for t in tables for mid, m in t.measures.items()}
    valued = table.column("value").is_valid().to_numpy(zero_copy_only=False)[rows]  # per selected row
    slices, slice_of = _slices(table, encoded, rows, valued)
    national = set(pc.unique(published.filter(pc.equal(published.column("region_code"), "NL01"))
                             .column("table_id")).to_pylist())
    # The facts of gemeenten that did not change are the published rows as they are: they are
    # chosen and made column-wise below; the others one by one here. Every fact gets its place:
    # (the rank of its slice, the position of its gemeente among today's).
    place = {code: k for k, code in enumerate(h.current)}
    plans: dict[tuple, int] = {}  # (day, basis) → number
    plan_of = np.full(len(slices), -1, dtype=np.int64)
    rank_of = np.zeros(len(slices), dtype=np.int64)
    dropped: list[tuple[int, str]] = []  # (slice, code) left out as the second code of a renamed gemeente
    made: list[Fact] = []
    made_at: list[tuple[int, int]] = []
    keys = sorted(slices)
    for rank, key in enumerate(keys):
        meta = measures.get((key[0], key[1]))
        agg = meta.aggregation if meta else ""
        basis = meta.basis if meta else "inwoners"
        first, present, number = slices[key]
        day, kept, w = h.prepare(first, present)
        warnings.extend(w)
        rank_of[number] = rank
        if day is not None:
            plan_of[number] = plans.setdefault((day, basis), len(plans))
            dropped.extend((number, code) for code in present.keys() - kept.keys())
            f = h.targets(agg, basis, first, kept, day, identity=False)
            made.extend(f)
            made_at.extend((rank, place[x.region_code]) for x in f)
            unchanged = len(h.unchanged(day, basis) & kept.keys())
            if agg == "sum" and key[0] not in national and (f or unchanged):
                nl = h.national(first, present, unchanged + sum(1 for x in f if x.value is not None))
                if nl is not None:
                    made.append(nl)
                    made_at.append((rank, len(place)))
        if progress:
            progress(rank + 1, len(keys))
    same, same_at = _unchanged_rows(encoded, rows, valued, slice_of,
                                    [(h.unchanged(*plan), n) for plan, n in plans.items()], plan_of, rank_of, dropped, place)
    at = np.concatenate([same_at, np.array(made_at, dtype=np.int64).reshape(-1, 2).T], axis=1)
    order = np.lexsort((at[1], at[0]))
    return Harmonised(published, _merged(table, encoded, same, made, order), warnings)


def _size_rows(encoded: dict, rows):
    """Which of `rows` (positions in the observations table) are of a series in SIZE_SOURCES, the
    only rows Sizes reads: chosen by number, in order."""
    import numpy as np

    names = ("table_id", "measure", "dims")
    numbers = [encoded[name][1][rows] for name in names]
    found = np.zeros(len(rows), dtype=bool)
    for series in (series for sources in SIZE_SOURCES.values() for series in sources):
        at = [encoded[name][0].index(text) if text in encoded[name][0] else None for name, text in zip(names, series)]
        if None not in at:
            found |= (numbers[0] == at[0]) & (numbers[1] == at[1]) & (numbers[2] == at[2])
    return found


def _slices(table, encoded: dict, rows, valued):
    """The gemeenten's selected rows (at positions `rows` in the observations `table`; `valued`:
    whether each has a value) per (table, measure, dims, period): {key: (its first row as an
    Observation, its cells with a value by code (`cells_of`), its number)}, numbered in order of
    first appearance, and per selected row the number of its slice. Grouped column-wise; each
    slice's cells by code are then made in one go, without an Observation per row."""
    import numpy as np

    key = _combined(encoded, ("table_id", "measure", "dims", "period"), rows)
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    by_appearance = np.argsort(first, kind="stable")
    number = np.empty(len(first), dtype=np.int64)
    number[by_appearance] = np.arange(len(first))
    slice_of = number[group.reshape(-1)]
    with_value = np.flatnonzero(valued)
    ordered = with_value[np.argsort(slice_of[with_value], kind="stable")]  # by slice, in selected order
    codes = encoded["region_code"][0]
    region_of = encoded["region_code"][1][rows]
    ordered_codes = pick(codes, region_of[ordered])
    at = rows[ordered]
    values = table.column("value").combine_chunks().to_numpy(zero_copy_only=False)[at].tolist()
    ordered_cells = list(zip(values, *(pick(encoded[name][0], encoded[name][1][at]) for name in ("status", "source"))))
    ends = np.searchsorted(slice_of[ordered], np.arange(len(first) + 1), side="left").tolist()
    slices = {}
    for n, o in enumerate(observations_at(table, rows[first[by_appearance]])):
        slices[(o.table_id, o.measure, o.dims, o.period)] = (
            o, dict(zip(ordered_codes[ends[n]:ends[n + 1]], ordered_cells[ends[n]:ends[n + 1]])), n)
    return slices, slice_of


def _unchanged_rows(encoded: dict, rows, valued, slice_of, plans: list[tuple[frozenset[str], int]], plan_of, rank_of,
                    dropped: list[tuple[int, str]], place: dict[str, int]):
    """The rows (positions in the observations table, of the gemeenten's selected `rows`) that are
    facts as they are: with a value (`valued`), of a gemeente among the unchanged targets of its slice's plan (`plans`:
    (unchanged codes, number); `plan_of` per slice, -1: no facts), not `dropped`; and the place of
    each (rank of its slice, position of its gemeente in `place`) as a 2 × n array."""
    import numpy as np

    codes, region_numbers = encoded["region_code"]
    region_of = region_numbers[rows]
    index_of = {code: k for k, code in enumerate(codes)}
    unchanged_in = np.zeros((len(plans) + 1, len(codes) + 1), dtype=bool)  # last row and column: none
    for unchanged, number in plans:
        unchanged_in[number, [index_of[code] for code in unchanged if code in index_of]] = True
    plan_rows = plan_of[slice_of]
    take = valued & unchanged_in[np.where(plan_rows < 0, len(plans), plan_rows), region_of]
    if dropped:
        left_out = np.array([number * (len(codes) + 1) + index_of[code] for number, code in dropped], dtype=np.int64)
        take &= ~np.isin(slice_of * (len(codes) + 1) + region_of, left_out)
    position = np.array([place.get(code, len(place)) for code in codes], dtype=np.int64)
    return rows[take], np.stack([rank_of[slice_of[take]], position[region_of[take]]])


def _merged(table, encoded: dict, same, made: list[Fact], order):
    """The facts table (FACT_SCHEMA): the unchanged gemeenten's rows of `table` at positions `same`
    as they were published, then `made`, put in `order`. Texts are merged as numbers into one
    list of distinct texts per column, so that ordering moves numbers, not texts."""
    import numpy as np
    import pyarrow as pa

    from .store import FACT_SCHEMA

    n = len(same)
    columns = {}
    fields = dict(zip(Fact._fields, zip(*made))) if made else {name: () for name in Fact._fields}
    for name in ("table_id", "measure", "dims", "region_code", "period", "status", "method", "provenance", "reason"):
        if name in encoded:
            texts, numbers = encoded[name]
            texts = list(texts)
            first = numbers[same]
        elif name == "method":
            texts, first = ["ongewijzigd"], np.zeros(n, dtype=np.int64)
        elif name == "reason":
            texts, first = [], np.full(n, -1, dtype=np.int64)
        else:  # provenance: "GM0193 (source)" per distinct gemeente and source
            codes, sources = encoded["region_code"][0], encoded["source"][0]
            pairs, first = np.unique(encoded["region_code"][1][same] * len(sources) + encoded["source"][1][same],
                                     return_inverse=True)
            texts = [f"{codes[p // len(sources)]} ({sources[p % len(sources)]})" for p in pairs.tolist()]
            first = first.astype(np.int64)
        number = {text: k for k, text in enumerate(texts)}
        texts += [text for text in dict.fromkeys(fields[name]) if text is not None and text not in number]
        number = {text: k for k, text in enumerate(texts)}
        number[None] = -1
        rest = np.array([number[v] for v in fields[name]], dtype=np.int64)
        numbers = np.concatenate([first, rest])[order]
        encoded_column = pa.DictionaryArray.from_arrays(pa.array(numbers.astype(np.int32), mask=numbers < 0),
                                                        pa.array(texts, type=pa.string()))
        kind = FACT_SCHEMA.field(name).type
        columns[name] = encoded_column if encoded_column.type == kind else encoded_column.cast(kind)
    values = table.column("value").combine_chunks().to_numpy(zero_copy_only=False)[same]
    rest = np.array([np.nan if v is None else v for v in fields["value"]], dtype=np.float64)
    merged = np.concatenate([values, rest])[order]
    missing = np.concatenate([np.zeros(n, dtype=bool), np.array([v is None for v in fields["value"]], dtype=bool)])[order]
    columns["value"] = pa.array(merged, mask=missing, type=pa.float64())
    columns["harmonised"] = pa.array(np.concatenate([np.zeros(n, dtype=bool),
                                                     np.array(fields["harmonised"], dtype=bool)])[order])
    return pa.Table.from_arrays([columns[f.name] for f in FACT_SCHEMA], schema=FACT_SCHEMA)
