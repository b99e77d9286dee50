"""Projections and scenarios: where each gemeente is heading, backtested.

Public API (the CLI and the report call only these):

- `project(con, code, scenario, until, overrides)` → list of `ProjectionRow`: population and its
  components (component model), age shares (cohort-component in single years of age, with net
  migration by age estimated per gemeente), households (headship rates by age), dwelling
  stock, woningbehoefte and woningtekort (households model) and a damped-trend extrapolation of the
  other indicators whose backtest allowed it, each with a 90% interval and the method that made it;
  also for groups (NL01, provinces, G4, G40, …) as sums of their gemeenten;
- `backtest(con, origin)` → `BacktestTable` with `.format()` (a Dutch table);
- `load_scenarios(path)` / `Scenario`: the named parameter sets (basis, hoog, laag, metropolisering,
  spreiding, de-urbanisatie) plus a user's own YAML file.

The intervals of the population come from the backtest: the 90th percentile of the absolute
errors the same model made from the origins 2017-2019, per horizon and size class. Results that
depend only on the database (history, backtest bands, the extrapolation gate) are cached per
database file and build.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np

from ..errors import TrendstudieError
from . import backtest as _backtest
from . import cohort, components, extrapolate, households
from .backtest import BacktestTable, backtest
from .scenarios import Scenario, adjustments, get_scenario, group_membership, load_scenarios, parse_overrides

def source_tables() -> set[str]:
    """The CBS tables the population and household models read (a report names them as sources)."""
    return ({components.FLOW_TABLE, households.HEADSHIP_TABLE, households.HOUSING_TABLE, cohort.REFERENCE_TABLE}
            | {table for table, _, _ in components.POPULATION_SOURCES}
            | {table for _, table, _ in cohort.SOURCES.values()})


__all__ = ["ProjectionRow", "project", "source_tables", "backtest", "BacktestTable", "Scenario", "load_scenarios", "parse_overrides",
           "METHODS", "MODEL_INDICATORS"]

DEFAULT_UNTIL = 2040
MAX_UNTIL = 2070

METHODS = {
    "components": "componentenmodel",
    "cohort": "cohort-componentenmodel (losse leeftijdsjaren)",
    "households": "huishoudensmodel (huishoudensgrootte en woningvoorraad)",
    "trend": "trendextrapolatie",
}
# indicators the demographic models give; every other indicator with a long enough series is extrapolated
MODEL_INDICATORS = {
    "bevolking", "bevolkingsgroei", "geboorten_per_1000", "sterfte_per_1000", "natuurlijke_aanwas_per_1000",
    "binnenlands_migratiesaldo_per_1000", "buitenlands_migratiesaldo_per_1000", *cohort.SHARES, "huishoudens",
    "gemiddelde_huishoudensgrootte", "woningvoorraad", "woningen_per_huishouden", "woningbehoefte", "woningtekort",
    "grijze_druk", "groene_druk",
}
AGE_PROFILE = (2015, 2025)  # migration profiles by age from this cohort change; the projection starts in the later year
AGE_CHECK = _backtest.AGE_CHECK  # backtest of the age shares (profile from the first two, start in the second)


class ProjectionRow(NamedTuple):  # a named tuple: a projection of every gemeente makes ~250,000 of them
    indicator_id: str
    region_code: str
    period: str  # CBS code, e.g. 2030JJ00 (population and households: on 1 January)
    value: float
    lower: float | None  # 90% interval; None where no honest interval exists
    upper: float | None
    scenario: str
    method: str
    origin: str  # the period the projection starts from (last observation used)


_cache: dict[tuple[str, str], Any] = {}


_keys: dict[int, tuple[Any, str]] = {}


def _build_key(con: duckdb.DuckDBPyConnection) -> str:
    """Which database (and build) a connection reads; asked once per connection."""
    known = _keys.get(id(con))
    if known is not None and known[0] is con:
        return known[1]
    row = con.execute("SELECT value FROM build_info WHERE key = 'built_at'").fetchone()
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    key = f"{path[0] if path else ''}@{row[0] if row else ''}"
    if len(_keys) > 16:  # do not keep many closed connections alive
        _keys.clear()
    _keys[id(con)] = (con, key)
    return key


def _cached(con, name: str, make):
    key = (_build_key(con), name)
    found = _cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    # One thread makes it, the others wait for it: 25 pages rendered at once on a fresh server
    # would otherwise each compute the same model run (seconds of CPU apiece).
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        found = _cache.get(key, _MISSING)
        if found is _MISSING:
            # The site keeps every scenario to 2070 and the report's to 2040: some 40 entries (±60 MB).
            # Past the limit the oldest go (clearing all made a server compute its models again).
            while len(_cache) >= CACHE_ENTRIES:
                try:
                    _cache.pop(next(iter(_cache)), None)
                except (RuntimeError, StopIteration):  # another thread changed it meanwhile
                    break
            found = _cache[key] = make()
    return found


CACHE_ENTRIES = 96
_locks: dict = {}
_MISSING = object()
_locks_guard = threading.Lock()


def _age_errors(con, history: components.History) -> dict[str, float]:
    """90th percentile absolute error (percentage points) per age share in the backtest AGE_CHECK."""
    check = cohort.check_against_observed(con, history, *AGE_CHECK)
    return check.indicator_p90


def members_of(con: duckdb.DuckDBPyConnection, history: components.History, code: str) -> list[int]:
    """Indices of the gemeenten that make up `code`: the gemeente itself, or the members of a
    group / province / Nederland (NL01, PV20…PV31, G4, G40, M50, GK1…GK8)."""
    if code in history.codes:
        return [history.index(code)]
    members = _cached(con, "members", lambda: group_membership(con, history.codes))
    if code in members:
        return sorted(history.index(c) for c in members[code])
    raise TrendstudieError(f"{code} is geen huidige gemeente of groep; kies een code als GM0363, PV27, G40 of NL01.")


def project(con: duckdb.DuckDBPyConnection, code: str, scenario: str | Scenario = "basis",
            until: int = DEFAULT_UNTIL, overrides: dict[str, Any] | None = None,
            scenario_file: str | Path | None = None, extrapolated: bool = True) -> list[ProjectionRow]:
    """Project a gemeente (or a group of them: NL01, a province, G4, …) under a scenario to 1 January of `until`.

    `overrides` replaces single scenario parameters for a what-if (e.g. {"immigratie": 1.2,
    "woningbouw": 1.5}); `scenario_file` adds the scenarios of a user's YAML file. For a group
    the counts are sums over its gemeenten and the shares follow from the summed age bands; its
    population band is that of the largest size class (conservative: the errors of gemeenten
    partly cancel in a sum). `extrapolated=False` leaves out the trend extrapolations of the other
    indicators (only the demographic models' rows; see `extrapolates_to`).
    """
    chosen = get_scenario(scenario, scenario_file).with_overrides(overrides)
    history = _cached(con, "history", lambda: components.load_history(con))
    idx = members_of(con, history, code)
    origin = history.last_population_year()
    if not origin < until <= MAX_UNTIL:
        raise TrendstudieError(f"Kies een eindjaar na {origin} en uiterlijk {MAX_UNTIL}, niet {until}.")
    members = _cached(con, "members", lambda: group_membership(con, history.codes))
    adjust = adjustments(chosen, history.codes, members)
    # The model projects all gemeenten at once: keep that run for every other gemeente's report.
    proj = _cached(con, f"projection:{chosen.model_dump_json()}:{origin}:{until}",
                   lambda: components.project_all(history, origin, until, adjust=adjust))
    bands = _cached(con, "bands", lambda: _backtest.error_bands(_backtest.backtest_history(history)))
    origin_code = f"{origin}JJ00"
    rows: list[ProjectionRow] = []

    def add(indicator, year, value, lower, upper, method, start=origin_code):
        rows.append(ProjectionRow(indicator, code, f"{year}JJ00", float(value),
                                  None if lower is None else float(lower), None if upper is None else float(upper),
                                  chosen.id, method, start))

    pop = proj.population[idx].sum(axis=0)
    size_for_band = pop[0] if len(idx) == 1 else float("inf")
    intervals = {}
    for k, year in enumerate(proj.years):
        if k == 0:
            continue
        lo, hi = bands.interval(pop[k], size_for_band, k)
        intervals[int(year)] = (lo, hi)
        add("bevolking", year, pop[k], lo, hi, METHODS["components"])
        add("bevolkingsgroei", year, (pop[k] / pop[k - 1] - 1) * 100, None, None, METHODS["components"])
    flows = {name: f[idx].sum(axis=0) for name, f in proj.flows.items()}
    for k, year in enumerate(proj.years[:-1]):  # flows during calendar year `year`
        per1000 = lambda x: x[k] / pop[k] * 1000  # noqa: E731
        add("geboorten_per_1000", year, per1000(flows["births"]), None, None, METHODS["components"])
        add("sterfte_per_1000", year, per1000(flows["deaths"]), None, None, METHODS["components"])
        add("natuurlijke_aanwas_per_1000", year, per1000(flows["births"]) - per1000(flows["deaths"]), None, None,
            METHODS["components"])
        add("binnenlands_migratiesaldo_per_1000", year, per1000(flows["arrivals"]) - per1000(flows["departures"]),
            None, None, METHODS["components"])
        add("buitenlands_migratiesaldo_per_1000", year, per1000(flows["immigration"]) - per1000(flows["emigration"]),
            None, None, METHODS["components"])

    rows += _age_rows(con, history, code, idx, chosen, proj)
    rows += _housing_rows(con, history, code, idx, chosen, proj, intervals)
    if extrapolated:
        rows += _trend_rows(con, code, chosen, until)
    return rows


def extrapolates_to(con: duckdb.DuckDBPyConnection, year: int) -> bool:
    """Whether a trend extrapolation can reach `year`: it goes at most extrapolate.MAX_AHEAD years
    past an indicator's last yearly value, so not when the newest of them is older than that."""
    row = con.execute("SELECT max(CAST(substr(period, 1, 4) AS INTEGER)) FROM indicator_values "
                      "WHERE period LIKE '%JJ00' AND value IS NOT NULL").fetchone()
    return row is not None and row[0] is not None and int(row[0]) + extrapolate.MAX_AHEAD >= year


def _model_facts() -> str:
    """A condition on the facts table that holds for every fact the demographic models read
    (components, cohort, households; the trend extrapolations read indicator_values)."""
    pairs = {(t, m) for t, m, _ in components.POPULATION_SOURCES}
    pairs |= {(components.FLOW_TABLE, m) for m in components.FLOW_MEASURES.values()}
    pairs |= {(table, m) for _, table, measures in cohort.SOURCES.values() for m in measures}
    pairs.add((cohort.REFERENCE_TABLE, cohort.REFERENCE_MEASURE))
    pairs |= {(households.HEADSHIP_TABLE, m) for m in [*(h for h, _ in households.HEADS), households.PERSONS]}
    listed = ", ".join(f"({t!r}, {m!r})" for t, m in sorted(pairs))
    return f"((table_id, measure) IN ({listed}) OR {households.HOUSING_FACTS})"


def inputs(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """A fingerprint of everything in the store that the projections of `year` are made of: the
    facts the demographic models read, the current gemeenten and the groups, and, when a trend
    extrapolation can reach `year`, the indicator values. The same fingerprint (and the same
    program) gives the same projections."""
    parts = [con.execute(f"SELECT count(*), bit_xor(hash(table_id, measure, dims, region_code, period, value)) "
                         f"FROM facts WHERE {_model_facts()}").fetchone(),
             con.execute("SELECT count(*), bit_xor(hash(group_id, region_code)) FROM group_members").fetchone(),
             con.execute("SELECT count(*), bit_xor(hash(code, kind, current)) FROM regions").fetchone()]
    if extrapolates_to(con, year):
        parts += [con.execute("SELECT count(*), bit_xor(hash(indicator_id, region_code, period, value)) "
                              "FROM indicator_values").fetchone(),
                  con.execute("SELECT count(*), bit_xor(hash(indicator_id, unit)) FROM indicators").fetchone()]
    return ";".join(f"{n}:{h}" for n, h in parts)


def _all_ages(con, history, chosen, proj) -> tuple[list[int], np.ndarray] | None:
    """Years and population by single year of age of every gemeente under this scenario (NaN for
    gemeenten without an age structure), or None when the database has no age structure."""
    earlier, year0 = AGE_PROFILE
    if year0 > int(proj.years[-1]):
        return None
    try:
        prep = _cached(con, f"ages-prepared:{earlier}-{year0}", lambda: cohort.prepare(con, history, year0, earlier))
    except TrendstudieError:  # no age structure to start from in this database
        return None
    years = list(range(year0, int(proj.years[-1]) + 1))
    # every gemeente at once (the model is row by row), kept for the other gemeenten of this scenario
    paths = _cached(con, f"ages:{chosen.model_dump_json()}:{proj.years[0]}:{proj.years[-1]}",
                    lambda: _age_paths(history, prep, years, chosen, proj))
    return years, paths


def _age_rows(con, history, code, idx, chosen, proj) -> list[ProjectionRow]:
    ages = _all_ages(con, history, chosen, proj)
    if ages is None:
        return []
    years, paths = ages
    if np.isnan(paths[0, idx]).any():
        return []
    path = paths[:, idx].sum(axis=1)  # summed over the gemeenten
    errors = _cached(con, "age_errors", lambda: _age_errors(con, history))
    out = []
    span = AGE_CHECK[2] - AGE_CHECK[1]
    for ind, values in cohort.shares(path, cohort.FINE).items():
        for k, year in enumerate(years):
            if k == 0:
                continue
            half = errors[ind] * k / span
            out.append(ProjectionRow(ind, code, f"{year}JJ00", float(values[k]), float(max(values[k] - half, 0.0)),
                                     float(values[k] + half if ind.endswith("_druk") else min(values[k] + half, 100.0)),
                                     chosen.id, METHODS["cohort"], f"{years[0]}JJ00"))
    return out


def _age_paths(history, prep: cohort.Prepared, years, chosen, proj) -> np.ndarray:
    """Population by single year of age of every gemeente, (years, gemeenten, AGES), held to the
    component model's total of every year."""
    rates = components.estimate(history, prep.year)
    totals = np.array([history.pop(y) if y < proj.years[0] else proj.population[:, y - proj.years[0]] for y in years])
    with np.errstate(invalid="ignore", divide="ignore"):  # gemeenten without age bands stay NaN, never asked for
        p = cohort.parameters(prep.start, prep.mortality, rates.birth, rates.death, prep.migration,
                              fertility=chosen.vruchtbaarheid, mortality=chosen.sterfte)
        return cohort.simulate(prep.start, p, len(years) - 1, totals)


def _age_factors(con, history, chosen, proj) -> tuple[list[int], np.ndarray] | None:
    """Households per inhabitant by national headship rates and each gemeente's projected age
    structure, relative to the first year (years, gemeenten); None without age structures."""
    ages = _all_ages(con, history, chosen, proj)
    if ages is None:
        return None
    years, paths = ages
    try:
        headship = _cached(con, f"headship:{years[0]}", lambda: households.load_headship(con, years[0]))
    except TrendstudieError:
        return None
    with np.errstate(invalid="ignore"):
        return years, households.age_factors(headship, cohort.aggregate(paths, cohort.FIVE), years,
                                             chosen.huishoudensverdunning)


def _housing_rows(con, history, code, idx, chosen, proj, intervals) -> list[ProjectionRow]:
    codes = [history.codes[i] for i in idx]
    bases = _cached(con, "housing", lambda: households.load_housing_many(con, history.codes))
    if any(c not in bases for c in codes):
        return []
    factors = _cached(con, f"household-ages:{chosen.model_dump_json()}:{proj.years[0]}:{proj.years[-1]}",
                      lambda: _age_factors(con, history, chosen, proj))
    totals: dict[int, list[float]] = {}
    for i, c in zip(idx, codes):
        pop = {int(y): float(proj.population[i, k]) for k, y in enumerate(proj.years) if k > 0}
        age_factor = None
        if factors is not None and bases[c].households_year in factors[0] and not np.isnan(factors[1][:, i]).any():
            years, f = factors
            base = f[years.index(bases[c].households_year), i]
            age_factor = {y: float(f[k, i] / base) for k, y in enumerate(years)}
        for r in households.project_housing(bases[c], pop, chosen.huishoudensverdunning, chosen.woningbouw,
                                            chosen.frictieleegstand, age_factor):
            t = totals.setdefault(r.year, [0.0, 0.0, 0.0])
            t[0] += r.population
            t[1] += r.households
            t[2] += r.stock
    start = f"{max(bases[c].households_year for c in codes)}JJ00"
    method = METHODS["households"]
    need = lambda hh: hh / (1 - chosen.frictieleegstand)  # noqa: E731
    out = []
    for year in sorted(totals):
        population, n_hh, stock = totals[year]
        size = population / n_hh
        lo_pop, hi_pop = intervals[year]
        lo_hh, hi_hh = lo_pop / size, hi_pop / size
        for ind, value, lo, hi in (
            ("huishoudens", n_hh, lo_hh, hi_hh),
            ("gemiddelde_huishoudensgrootte", size, None, None),
            ("woningvoorraad", stock, None, None),
            ("woningen_per_huishouden", stock / n_hh, stock / hi_hh, stock / lo_hh),
            ("woningbehoefte", need(n_hh), need(lo_hh), need(hi_hh)),
            ("woningtekort", need(n_hh) - stock, need(lo_hh) - stock, need(hi_hh) - stock),
        ):
            out.append(ProjectionRow(ind, code, f"{year}JJ00", float(value), lo if lo is None else float(lo),
                                     hi if hi is None else float(hi), chosen.id, method, start))
    return out

TREND_MAX_RATIO = 1.1  # extrapolation error may be at most 10% above that of "the last value stays"
TREND_MIN_COVERAGE = 0.7  # and its 90% interval must have held at least 70% of the outcomes


def _trend_gate(con) -> tuple[set[str], set[str]]:
    """Indicators whose extrapolation was backtested, and those that passed on every horizon."""
    checked, failed = set(), set()
    for r in extrapolate.check(con, skip=MODEL_INDICATORS):
        checked.add(r.indicator_id)
        if r.median_error > TREND_MAX_RATIO * r.median_error_naive or r.coverage < TREND_MIN_COVERAGE:
            failed.add(r.indicator_id)
    return checked, checked - failed


def _yearly_series(con) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Region code -> indicator -> [(year, value)] of every yearly indicator the models do not give."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for code, ind, period, value in con.execute(
            "SELECT region_code, indicator_id, period, value FROM indicator_values WHERE period LIKE '%JJ00' "
            "AND value IS NOT NULL ORDER BY region_code, indicator_id, period").fetchall():
        if ind not in MODEL_INDICATORS:
            out.setdefault(code, {}).setdefault(ind, []).append((int(period[:4]), value))
    return out


def _trend_rows(con, code, chosen, until) -> list[ProjectionRow]:
    units = _cached(con, "units", lambda: dict(con.execute("SELECT indicator_id, unit FROM indicators").fetchall()))
    checked, passed = _cached(con, "trend_gate", lambda: _trend_gate(con))
    fits = _cached(con, "trend_fits", dict)  # region code -> {indicator: Fit}, filled as regions are asked for
    if code not in fits:
        series = _cached(con, "trend_series", lambda: _yearly_series(con)).get(code, {})
        # where the backtest showed a trend does no better than "no change" there is no extrapolation
        fits[code] = {ind: f for ind, points in sorted(series.items()) if not (ind in checked and ind not in passed)
                      and (f := extrapolate.fit([y for y, _ in points], [v for _, v in points])) is not None}
    out = []
    for ind, f in fits[code].items():
        unit = units.get(ind, "")
        upper = 100.0 if unit == "%" else None
        lower = None if unit.startswith("%") and unit != "%" else 0.0  # growth rates may be negative
        horizon = min(until, f.last_year + extrapolate.MAX_AHEAD) - f.last_year
        for year, (value, lo, hi) in zip(range(f.last_year + 1, f.last_year + horizon + 1),
                                         extrapolate.forecasts(f, horizon, lower, upper)):
            out.append(ProjectionRow(ind, code, f"{year}JJ00", value, lo, hi, chosen.id, METHODS["trend"],
                                     f"{f.last_year}JJ00"))
    return out
