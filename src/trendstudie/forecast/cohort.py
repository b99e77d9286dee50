"""Cohort-component projection of the age structure, in single years of age.

The bundle has the population of every gemeente in age bands only: fine (0-4, 5-9, 10-14, 15-19,
20-24, 25-44, 45-64, 65-79, 80+; 2014, 2015 and 2025) and coarse (0-14, 15-24, 25-44, 45-64, 65+;
KWB 2019). Nederland and the provinces have five-year bands up to 95+ for every year 2000-2024
(71488ned). The model runs on single years 0 … 94 and 95+ (`AGES`), so ageing is exact: every
year everybody moves up one year of age.

1. **Single years from bands** (`split`): every band is divided into five-year bands by the
   gemeente's own smooth shape (a monotone cubic through its cumulative counts: a student town's
   25-44 lean towards 25) times the bumps of its province's five-year bands (the baby boom in
   65-79), then into single years. Band totals are kept exactly.
2. **Mortality** (`standard_mortality`): a Gompertz-Makeham schedule fitted to the ten-year cohort
   survival of the national five-year bands aged 60+ (where migration hardly matters), falling by
   the yearly improvement between the earliest and the latest ten-year window of 71488ned; per
   gemeente scaled to its crude death rate at the start (indirect standardisation), so deaths
   rise as a gemeente ages.
3. **Births**: the gemeente's births per inhabitant of 25-44 (crude birth rate of the component
   model's window × population / 25-44 at the start) × its people aged 25-44.
4. **Net migration by age** (`estimate_migration`): from the cohort change between two observed
   age structures (each cohort at age a in year t against age a+k in year t+k, after the observed
   deaths, with the observed births). The yearly net rate per single year of age is the smoothest
   profile that reproduces the later bands; the provinces, whose five-year bands pin their
   profiles down, give the typical size of net migration at each age (`migration_scale`), so
   what the gemeente's wide bands cannot place is put where migration usually happens. In the
   projection net inflow stays a number of people per year (students come whether or not the
   town has many 18-year-olds of its own), net outflow a rate of the people of that age.
5. **Consistency with the component model**: the component model decides the total population of
   every year. What it adds or removes beyond the cohort model's own births, deaths and migration
   is spread over the ages by the national net migration rate by age (all gemeenten's profiles
   together) times the gemeente's own population at that age; then the ages are scaled to the
   total exactly.

Simplifications: no sexes (fertility per person of 25-44), one mortality schedule for all
gemeenten up to a level factor, migration profiles constant over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from ..errors import TrendstudieError
from .components import History

AGES = 96  # single years 0 … 94 and the open 95+
TOP = AGES - 1


@dataclass(frozen=True)
class BandSet:
    names: tuple[str, ...]
    lower: tuple[int, ...]  # first age of every band; the last band is open

    def edges(self) -> list[int]:
        return [*self.lower, AGES]


FINE = BandSet(("0-4", "5-9", "10-14", "15-19", "20-24", "25-44", "45-64", "65-79", "80+"),
               (0, 5, 10, 15, 20, 25, 45, 65, 80))
COARSE = BandSet(("0-14", "15-24", "25-44", "45-64", "65+"), (0, 15, 25, 45, 65))
FIVE = BandSet(tuple(f"{a}-{a + 4}" for a in range(0, 95, 5)) + ("95+",), tuple(range(0, 100, 5)))
FINE_TO_COARSE = ((0, 1, 2), (3, 4), (5,), (6,), (7, 8))

SOURCES = {
    2014: (FINE, "NL_Gemeenten2014", ("inw_jonger_dan_5j", "inw_5_9j", "inw_10_14j", "inw_15_19j", "inw_20_24j",
                                      "inw_25_44j", "inw_45_64j", "inw_65_79j", "inw_80j_en_ouder")),
    2015: (FINE, "70072ned", ("JongerDan5Jaar", "k_5Tot10Jaar", "k_10Tot15Jaar", "k_15Tot20Jaar", "k_20Tot25Jaar",
                              "k_25Tot45Jaar", "k_45Tot65Jaar", "k_65Tot80Jaar", "k_80JaarOfOuder")),
    2019: (COARSE, "84583NED", ("a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo")),
    2025: (FINE, "70072ned", ("JongerDan5Jaar", "k_5Tot10Jaar", "k_10Tot15Jaar", "k_15Tot20Jaar", "k_20Tot25Jaar",
                              "k_25Tot45Jaar", "k_45Tot65Jaar", "k_65Tot80Jaar", "k_80JaarOfOuder")),
}
# five-year bands of Nederland and the provinces (persons in households and institutions, 1 January)
REFERENCE_TABLE = "71488ned"
REFERENCE_MEASURE = "TotaalPersonenInHuishoudens"
REFERENCE_AGES = tuple(f"Geslacht=T001038;Leeftijd={c}" for c in range(70100, 72000, 100)) + (
    "Geslacht=T001038;Leeftijd=22000",)  # 0-4 … 90-94, 95+

FERTILE = (25, 45)  # births per inhabitant of these ages
INFANT_MORTALITY = 0.0035  # probability of dying in the first year (Dutch level of the 2010s)
MAKEHAM = 0.0002  # age-independent part of the hazard
SURVIVAL_FROM = 60  # national cohorts from this age on fit the mortality slope
# the migration fit: a misfit of FIT_TOLERANCE of a band's count weighs as much as one unit of
# SMOOTHING × (second differences of the rate)² or RIDGE × (rate / typical rate at that age)²;
# the backtest barely moves for either weight ten times larger or smaller
SMOOTHING = 1e3
FIT_TOLERANCE = 0.01
RIDGE = 1e-3
ITERATIONS = 6  # Gauss-Newton steps of the migration fit (the rates compound over the years)

# registry indicator -> (band set, band indices) for the age shares a projection reports
SHARES = {
    "aandeel_0_15": {FINE: (0, 1, 2), COARSE: (0,)},
    "aandeel_15_25": {FINE: (3, 4), COARSE: (1,)},
    "aandeel_25_45": {FINE: (5,), COARSE: (2,)},
    "aandeel_45_65": {FINE: (6,), COARSE: (3,)},
    "aandeel_65_plus": {FINE: (7, 8), COARSE: (4,)},
    "aandeel_80_plus": {FINE: (8,)},
}


# ---------------------------------------------------------------------------------------------
# data


def load_bands(con: duckdb.DuckDBPyConnection, year: int, codes: list[str]) -> tuple[BandSet, np.ndarray]:
    """Observed population by band in `year` for `codes` (rows) as an array; NaN where missing."""
    if year not in SOURCES:
        raise TrendstudieError(f"Geen leeftijdsverdeling in de bundel voor {year}; wel voor {', '.join(map(str, SOURCES))}.")
    bands, table, measures = SOURCES[year]
    pos = {c: i for i, c in enumerate(codes)}
    out = np.full((len(codes), len(measures)), np.nan)
    col = {m: j for j, m in enumerate(measures)}
    for code, measure, value in con.execute(
            f"SELECT region_code, measure, value FROM facts WHERE table_id = ? AND period = ? AND value IS NOT NULL "
            f"AND measure IN ({', '.join('?' * len(measures))})", [table, f"{year}JJ00", *measures]).fetchall():
        if code in pos:
            out[pos[code], col[measure]] = value
    return bands, out


def to_coarse(fine: np.ndarray) -> np.ndarray:
    return np.stack([fine[..., list(ix)].sum(axis=-1) for ix in FINE_TO_COARSE], axis=-1)


def aggregate(single: np.ndarray, bands: BandSet) -> np.ndarray:
    """Single years (…, AGES) summed into `bands` (…, len(bands))."""
    e = bands.edges()
    return np.stack([single[..., e[b]:e[b + 1]].sum(axis=-1) for b in range(len(e) - 1)], axis=-1)


def _five_year(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, np.ndarray]:
    """Region (NL01, PV20 … PV31) -> population in the 20 five-year bands of 71488ned in `year`."""
    pos = {d: j for j, d in enumerate(REFERENCE_AGES)}
    out: dict[str, np.ndarray] = {}
    for region, dims, value in con.execute(
            "SELECT region_code, dims, value FROM facts WHERE table_id = ? AND measure = ? AND period = ? "
            f"AND value IS NOT NULL AND dims IN ({', '.join('?' * len(pos))})",
            [REFERENCE_TABLE, REFERENCE_MEASURE, f"{year}JJ00", *pos]).fetchall():
        out.setdefault(region, np.full(len(pos), np.nan))[pos[dims]] = value
    return {r: a for r, a in out.items() if not np.isnan(a).any()}


def reference_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute("SELECT DISTINCT period FROM facts WHERE table_id = ? AND measure = ? AND region_code = 'NL01'",
                       [REFERENCE_TABLE, REFERENCE_MEASURE]).fetchall()
    return sorted(int(p[:4]) for (p,) in rows)


def reference_bands(con: duckdb.DuckDBPyConnection, year: int, codes: list[str]) -> np.ndarray:
    """Five-year bands of each gemeente's province (Nederland where no province is known) in
    `year`, or in the nearest earlier year 71488ned has: (gemeenten, 20)."""
    years = [y for y in reference_years(con) if y <= year]
    if not years:
        raise TrendstudieError(f"De bundel heeft geen leeftijdsopbouw in vijfjaarsgroepen ({REFERENCE_TABLE}) "
                               f"van {year} of eerder; die is nodig om leeftijdsgroepen in losse jaren te verdelen.")
    five = _five_year(con, years[-1])
    province = dict(con.execute("SELECT region_code, group_id FROM group_members WHERE group_id LIKE 'PV%'").fetchall())
    if "NL01" not in five:
        raise TrendstudieError(f"{REFERENCE_TABLE} {years[-1]} mist de leeftijdsopbouw van Nederland.")
    return np.stack([five.get(province.get(c, "NL01"), five["NL01"]) for c in codes])


def national_five_year(con: duckdb.DuckDBPyConnection, year: int) -> np.ndarray | None:
    return _five_year(con, year).get("NL01")


# ---------------------------------------------------------------------------------------------
# single years of age


def _monotone_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes of a monotone cubic Hermite interpolant through y(x), last axis."""
    h = np.diff(x)
    delta = np.diff(y, axis=-1) / h
    d = np.zeros_like(y)
    left, right = delta[..., :-1], delta[..., 1:]
    w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / left + w2 / right)
    d[..., 1:-1] = np.where(left * right > 0, harmonic, 0.0)
    for end, (d0, d1, h0, h1) in ((0, (delta[..., 0], delta[..., 1], h[0], h[1])),
                                  (-1, (delta[..., -1], delta[..., -2], h[-1], h[-2]))):
        e = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        e = np.where(np.sign(e) != np.sign(d0), 0.0, e)
        d[..., end] = np.where((np.sign(d0) != np.sign(d1)) & (np.abs(e) > np.abs(3 * d0)), 3 * d0, e)
    return d


def _through_cumulative(counts: np.ndarray, edges: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The monotone cubic through the cumulative `counts` (…, len(edges) − 1) at the band `edges`,
    evaluated `at` (ascending, within the edges), differenced: people between consecutive points."""
    cumulative = np.concatenate([np.zeros((*counts.shape[:-1], 1)), np.cumsum(counts, axis=-1)], axis=-1)
    d = _monotone_slopes(edges, cumulative)
    i = np.clip(np.searchsorted(edges, at, side="right") - 1, 0, len(edges) - 2)
    h = edges[i + 1] - edges[i]
    t = (at - edges[i]) / h
    c = ((2 * t ** 3 - 3 * t ** 2 + 1) * cumulative[..., i] + (t ** 3 - 2 * t ** 2 + t) * h * d[..., i]
         + (-2 * t ** 3 + 3 * t ** 2) * cumulative[..., i + 1] + (t ** 3 - t ** 2) * h * d[..., i + 1])
    return np.maximum(np.diff(c, axis=-1), 0.0)


def single_years(five: np.ndarray) -> np.ndarray:
    """Five-year bands (…, 20; the last is 95+) into single years (…, AGES), keeping every band's
    total: a monotone cubic through the cumulative counts at the band edges."""
    edges = np.arange(0, 100, 5, dtype=float)
    return np.concatenate([_through_cumulative(five[..., :-1], edges, np.arange(TOP + 1, dtype=float)),
                           five[..., -1:]], axis=-1)


def _smooth_five(counts: np.ndarray, bands: BandSet) -> np.ndarray:
    """Bands (…, len(bands)) into five-year bands (…, 20) by a monotone cubic through the
    cumulative counts at the band edges (the open top band taken to end at 100); 95+ is the rest."""
    five = _through_cumulative(counts, np.array([*bands.lower, 100], dtype=float), np.arange(0, 100, 5, dtype=float))
    return np.concatenate([five, np.maximum(counts.sum(axis=-1, keepdims=True) - five.sum(axis=-1, keepdims=True), 0.0)],
                          axis=-1)


def split(counts: np.ndarray, bands: BandSet, reference: np.ndarray) -> np.ndarray:
    """Population in `bands` (gemeenten, bands) into single years (gemeenten, AGES).

    Every band is first divided into five-year bands: the gemeente's own smooth shape (a monotone
    cubic through its cumulative counts, so a student town's 25-44 lean towards 25) times the
    bumps of `reference` (gemeenten, 20: the province's five-year bands against their own smooth
    shape, e.g. the baby boom in 65-79), scaled to the band's count. Then into single years."""
    e = [x // 5 for x in bands.lower] + [len(FIVE.lower)]
    smooth_ref = _smooth_five(np.stack([reference[:, e[b]:e[b + 1]].sum(axis=1) for b in range(len(bands.lower))],
                                       axis=1), bands)
    shape = _smooth_five(counts, bands) * reference / np.maximum(smooth_ref, 1e-9)
    five = np.zeros((counts.shape[0], len(FIVE.lower)))
    for b in range(len(bands.lower)):
        part = shape[:, e[b]:e[b + 1]]
        total = part.sum(axis=1, keepdims=True)
        ref = reference[:, e[b]:e[b + 1]]
        part = np.where(total > 0, part, ref)  # no smooth mass in the band: the reference's proportions
        total = part.sum(axis=1, keepdims=True)
        five[:, e[b]:e[b + 1]] = counts[:, b:b + 1] * part / np.where(total > 0, total, 1.0)
    return single_years(five)


def rescale(single: np.ndarray, counts: np.ndarray, bands: BandSet) -> np.ndarray:
    """Scale single years within every band so the bands add up to `counts` exactly."""
    e = bands.edges()
    out = single.copy()
    for b in range(len(bands.lower)):
        part = single[:, e[b]:e[b + 1]]
        s = part.sum(axis=1, keepdims=True)
        width = e[b + 1] - e[b]
        out[:, e[b]:e[b + 1]] = np.where(s > 0, part * counts[:, b:b + 1] / np.where(s > 0, s, 1.0),
                                         counts[:, b:b + 1] / width)
    return out


def shift(pop: np.ndarray) -> np.ndarray:
    """Everybody one year older (single years on the last axis; the open top keeps its people)."""
    out = np.zeros_like(pop)
    out[..., 1:] = pop[..., :-1]
    out[..., -1] += pop[..., -1]
    return out


# ---------------------------------------------------------------------------------------------
# mortality


def gompertz(slope: float, level: float) -> np.ndarray:
    """Yearly probability of dying at each age of AGES under a Gompertz-Makeham hazard."""
    mid = np.arange(AGES) + 0.5
    mid[TOP] = TOP + 2.5  # the open 95+ group
    q = 1 - np.exp(-(MAKEHAM + level * np.exp(slope * mid)))
    q[0] = INFANT_MORTALITY
    return q


@dataclass(frozen=True)
class Mortality:
    """The national mortality schedule and how fast it fell."""

    slope: float  # Gompertz: the hazard grows by this factor (log) per year of age
    level: float
    improvement: float  # yearly relative fall of the hazard's level between the earliest and the latest fit
    years: tuple[int, int]  # the last year of the earliest and of the latest ten-year window

    @property
    def q(self) -> np.ndarray:
        return gompertz(self.slope, self.level)


def _survival_fit(con: duckdb.DuckDBPyConnection, later: int, span: int,
                  slopes: np.ndarray) -> tuple[float, float, float]:
    """Best (sse, slope, level) of the cohort survival of the national five-year bands aged
    SURVIVAL_FROM+ from `later` − `span` to `later` (log survival = −span·MAKEHAM − level·K(slope))."""
    before, after = national_five_year(con, later - span), national_five_year(con, later)
    shift_bands = span // 5
    cohorts = range(SURVIVAL_FROM // 5, len(FIVE.lower) - 1 - shift_bands)  # closed bands that stay closed
    observed = np.log(np.array([after[b + shift_bands] / before[b] for b in cohorts])) + span * MAKEHAM
    best = (np.inf, 0.0, 0.0)
    for slope in slopes:
        k = np.array([np.mean([np.exp(slope * (a0 + np.arange(span) + 0.5)).sum() for a0 in range(5 * b, 5 * b + 5)])
                      for b in cohorts])
        level = max(float(-(observed * k).sum() / (k * k).sum()), 1e-12)
        sse = float(((observed + level * k) ** 2).sum())
        if sse < best[0]:
            best = (sse, float(slope), level)
    return best


def standard_mortality(con: duckdb.DuckDBPyConnection, year: int, span: int = 10) -> Mortality:
    """Gompertz-Makeham schedule fitted to national cohort survival (71488ned): the five-year bands
    aged 60+ in the latest year at or before `year` with a year `span` earlier, against the same
    cohorts `span` years later (migration hardly matters at these ages). The yearly improvement
    compares the level at that slope with the earliest such window. Every gemeente gets its own
    level on top (`mortality_levels`)."""
    years = [y for y in reference_years(con) if y <= year]
    windows = [y for y in years if y - span in years]
    if not windows:
        raise TrendstudieError(f"{REFERENCE_TABLE} heeft geen twee jaren {span} jaar uit elkaar tot {year} "
                               "om het sterfteschema te schatten.")
    _, slope, level = _survival_fit(con, windows[-1], span, np.arange(0.07, 0.1501, 0.0005))
    improvement = 0.0
    if windows[-1] > windows[0]:
        _, _, early = _survival_fit(con, windows[0], span, np.array([slope]))
        improvement = float(np.clip(1 - (level / early) ** (1 / (windows[-1] - windows[0])), 0.0, 0.05))
    return Mortality(slope, level, improvement, (windows[0], windows[-1]))


def mortality_levels(q: np.ndarray, pop: np.ndarray, crude_death_rate: np.ndarray) -> np.ndarray:
    """Per gemeente the factor on `q` that gives crude_death_rate × population deaths (indirect standardisation)."""
    expected = pop @ q
    return crude_death_rate * pop.sum(axis=-1) / np.where(expected > 0, expected, 1.0)


def _deaths_at(q: np.ndarray, level: np.ndarray) -> np.ndarray:
    return np.clip(level[:, None] * q[None, :], 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# migration


@dataclass
class Migration:
    """Yearly net migration by single year of age (ages at the end of the year)."""

    inflow: np.ndarray  # (gemeenten, AGES) people per year where the net flow is inward
    outflow: np.ndarray  # (gemeenten, AGES) rate (≤ 0) per person of that age where it is outward
    national: np.ndarray  # (AGES,) net migration per person of that age, all gemeenten together (≥ 0)
    misfit: np.ndarray  # (gemeenten, bands) relative gap between the fitted and the observed later bands
    fitted: np.ndarray | None = None  # (gemeenten, AGES) the later structure as the fit reached it
    rate: np.ndarray | None = None  # (gemeenten, AGES) the fitted yearly net rate per person of that age

    @classmethod
    def none(cls, n: int) -> "Migration":
        return cls(np.zeros((n, AGES)), np.zeros((n, AGES)), np.ones(AGES) / AGES, np.zeros((n, 1)))

    def counts(self, pop: np.ndarray) -> np.ndarray:
        """Net migrants per age for the population `pop` (after ageing, before migration)."""
        return self.inflow + self.outflow * pop


def flows_for(history: History, name: str, years: list[int]) -> np.ndarray:
    """Observed births or deaths per gemeente for `years` (years, gemeenten); years or gemeenten
    without a figure get the gemeente's mean rate over its last five known years × its population."""
    known = [y for y in history.flow_years.tolist() if y < max(years) + 1][-5:] or history.flow_years.tolist()[-5:]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.nanmean(np.stack([history.flow(name, y) / history.pop(y) for y in known]), axis=0)
    out = []
    for y in years:
        f = history.flow(name, y)
        out.append(np.where(np.isnan(f), rate * history.pop(y), f))
    return np.array(out)


def _run_rates(start: np.ndarray, rate: np.ndarray, births: np.ndarray, deaths: np.ndarray,
               q: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Carry `start` through len(births) years with the net rates `rate` (gemeenten, AGES): the
    end population, and per year the aged people before migration and the survival by age (the
    mortality level matched to `deaths` of that year)."""
    pop, aged_by_year, survival = start.copy(), [], []
    for k in range(len(births)):
        level = deaths[k] / np.maximum(pop @ q, 1e-9)
        survive = 1 - _deaths_at(q, level)
        aged = shift(survive * pop)
        aged[:, 0] += births[k]
        survival.append(survive)
        aged_by_year.append(aged)
        pop = (1 + rate) * aged
    return pop, aged_by_year, survival


def _band_jacobian(agg: np.ndarray, rate: np.ndarray, aged: list[np.ndarray], survival: list[np.ndarray]) -> np.ndarray:
    """d(agg @ end population) / d(rate): (gemeenten, bands, AGES), by walking back from the end
    (the adjoint of `_run_rates`; the mortality levels are held as they were)."""
    older = np.minimum(np.arange(AGES) + 1, TOP)  # where each age is a year later
    back = np.broadcast_to(agg, (rate.shape[0], *agg.shape)).copy()
    jac = np.zeros_like(back)
    for k in reversed(range(len(aged))):
        jac += back * aged[k][:, None, :]  # this year's rate acts on this year's aged people
        back = (back * (1 + rate)[:, None, :])[:, :, older] * survival[k][:, None, :]  # migration, ageing, deaths
    return jac


def estimate_migration(start: np.ndarray, later: np.ndarray, bands: BandSet, births: np.ndarray,
                       deaths: np.ndarray, q: np.ndarray, scale: np.ndarray | None = None) -> Migration:
    """Net migration by age that carries `start` (gemeenten, AGES) to the observed `later` bands
    (gemeenten, bands) in len(births) years, with the observed births and deaths per year.

    The unknown is a yearly net migration rate per single year of age: each year the people of
    that age (after ageing) grow or shrink by it, so a cohort can never be emptied below zero. It
    is the smoothest rate profile (second differences; rates far above `scale`, the typical size
    at that age, cost extra) that reproduces the later bands to within a small fraction
    (`FIT_TOLERANCE`, `SMOOTHING`, `RIDGE`): a regularised least-squares problem per gemeente,
    solved by Gauss-Newton (`ITERATIONS` steps) because the rates compound; the mortality level
    follows the observed deaths in every step.
    """
    years = len(births)
    agg = aggregate(np.eye(AGES), bands).T  # (bands, AGES): which ages make up each band
    diff = np.diff(np.eye(AGES), 2, axis=0)
    scale = np.ones(AGES) if scale is None else scale
    penalty = SMOOTHING * diff.T @ diff + RIDGE * np.diag(1 / scale ** 2)
    weight = 1 / (FIT_TOLERANCE * np.maximum(later, 1.0))
    rate = np.zeros_like(start)
    for _ in range(ITERATIONS):
        pop, aged, survival = _run_rates(start, rate, births, deaths, q)
        jac = _band_jacobian(agg, rate, aged, survival)
        c = jac * weight[:, :, None]
        target = (later - pop @ agg.T) * weight + np.einsum("gbj,gj->gb", c, rate)
        lhs = np.einsum("gbi,gbj->gij", c, c) + penalty[None]
        rate = np.maximum(np.linalg.solve(lhs, np.einsum("gbi,gb->gi", c, target)[..., None])[..., 0], -0.5)
    pop, aged, _ = _run_rates(start, rate, births, deaths, q)
    misfit = (pop @ agg.T - later) / np.maximum(later, 1.0)
    exposure = sum(aged) / years  # people by age after ageing, before migration, a year on average
    m = sum(rate * a for a in aged) / years  # net migrants per year by age over the window
    national = np.maximum(m.sum(axis=0), 0.0) / np.maximum(exposure.sum(axis=0), 1.0)
    return Migration(np.maximum(m, 0.0), np.minimum(rate, 0.0), national, misfit, pop, rate)


def migration_scale(con: duckdb.DuckDBPyConnection, history: History, year: int, span: int) -> np.ndarray:
    """How strongly net migration varies between regions at each age (AGES,), from the provinces.

    The provinces have five-year bands every year (71488ned), so their net migration by age is
    well determined: the profiles of the twelve provinces over `span` years up to the last year
    with bands at or before `year` are fitted like those of the gemeenten, and the root mean
    square of their deviation from Nederland's, smoothed over five years of age, is the scale. It
    is large for students and starters (18-30) and small for the middle-aged, and keeps the
    gemeenten's profiles from putting at 40 what the bands cannot tell from 25.
    """
    years = reference_years(con)
    later = next((y for y in reversed(years) if y <= year and y - span in years), None)
    if later is None:
        raise TrendstudieError(f"{REFERENCE_TABLE} heeft geen twee jaren {span} jaar uit elkaar tot {year}.")
    before, after = _five_year(con, later - span), _five_year(con, later)
    regions = sorted(r for r in before if r.startswith("PV") and r in after)
    members: dict[str, list[int]] = {}
    pos = {c: i for i, c in enumerate(history.codes)}
    for group, code in con.execute("SELECT group_id, region_code FROM group_members WHERE group_id LIKE 'PV%'").fetchall():
        if code in pos:
            members.setdefault(group, []).append(pos[code])
    regions = [r for r in regions if r in members]
    if len(regions) < 2:
        raise TrendstudieError(f"{REFERENCE_TABLE} heeft te weinig provincies om de leeftijdsschaal van migratie te schatten.")
    flow_years = list(range(later - span, later))
    births, deaths = flows_for(history, "births", flow_years), flows_for(history, "deaths", flow_years)
    total = lambda f: np.stack([*(f[:, members[r]].sum(axis=1) for r in regions), f.sum(axis=1)], axis=1)  # noqa: E731
    start = single_years(np.stack([*(before[r] for r in regions), before["NL01"]]))
    fit = estimate_migration(start, np.stack([*(after[r] for r in regions), after["NL01"]]), FIVE,
                             total(births), total(deaths), standard_mortality(con, later).q)
    spread = np.sqrt(((fit.rate[:-1] - fit.rate[-1]) ** 2).mean(axis=0))
    return np.convolve(np.pad(spread, 2, mode="edge"), np.ones(5) / 5, mode="valid")


# ---------------------------------------------------------------------------------------------
# projection


@dataclass
class CohortParameters:
    q: np.ndarray  # (AGES,) standard yearly probability of dying in the first year
    mortality: np.ndarray  # (gemeenten,) level on q
    fertility: np.ndarray  # (gemeenten,) births per inhabitant of FERTILE ages per year
    migration: Migration
    improvement: float = 0.0  # yearly relative fall of mortality at every age


def parameters(start: np.ndarray, mortality_schedule: Mortality, crude_birth: np.ndarray, crude_death: np.ndarray,
               migration: Migration, fertility: float = 1.0, mortality: float = 1.0) -> CohortParameters:
    """Levels of mortality and fertility from crude rates at the start structure (scenario factors on top)."""
    q = mortality_schedule.q
    fertile = start[:, FERTILE[0]:FERTILE[1]].sum(axis=1)
    births = crude_birth * start.sum(axis=1) / np.where(fertile > 0, fertile, 1.0)
    return CohortParameters(q, mortality_levels(q, start, crude_death) * mortality, births * fertility, migration,
                            mortality_schedule.improvement)


def step(pop: np.ndarray, p: CohortParameters, total: np.ndarray | None = None, k: int = 0) -> np.ndarray:
    """Year `k` after the start: deaths, ageing, births, net migration by age, and (with `total`)
    the rest of the component model's change spread by the national migration profile, scaled to
    `total`."""
    nxt = shift((1 - _deaths_at(p.q, p.mortality * (1 - p.improvement) ** k)) * pop)
    nxt[:, 0] += p.fertility * pop[:, FERTILE[0]:FERTILE[1]].sum(axis=1)
    nxt = nxt + p.migration.counts(nxt)
    if total is not None:
        gap = total - nxt.sum(axis=1)
        weight = p.migration.national[None, :] * np.maximum(nxt, 0.0)
        s = weight.sum(axis=1, keepdims=True)
        nxt = nxt + gap[:, None] * np.where(s > 0, weight / np.where(s > 0, s, 1.0), 1.0 / AGES)
    nxt = np.maximum(nxt, 0.0)
    if total is not None:
        s = nxt.sum(axis=1)
        nxt = nxt * (total / np.where(s > 0, s, 1.0))[:, None]
    return nxt


def simulate(start: np.ndarray, p: CohortParameters, years: int, totals: np.ndarray | None = None) -> np.ndarray:
    """Population by single year of age for 0 … `years` years after the start: (years+1, gemeenten, AGES).

    With `totals` (years+1, gemeenten) every year is held to the given total (the component model)."""
    out = np.zeros((years + 1, *start.shape))
    out[0] = start
    for k in range(years):
        out[k + 1] = step(out[k], p, None if totals is None else totals[k + 1], k)
    return out


@dataclass
class Prepared:
    """Everything the age projection needs at one origin, for all gemeenten."""

    year: int  # the year of the observed age structure the projection starts from
    start: np.ndarray  # (gemeenten, AGES)
    mortality: Mortality
    migration: Migration
    profile_years: tuple[int, int]


def prepare(con: duckdb.DuckDBPyConnection, history: History, year: int, earlier: int) -> Prepared:
    """Start structure of `year` in single years and the migration profile from `earlier` → `year`,
    with only data up to `year` (births and deaths of the years in between; where the flows stop
    early, the gemeente's recent rate).

    The start's bands are split into single years (`split`); when the start has coarser bands
    than the earlier year (KWB 2019 after 2014), the single years are those the fit reached from
    the earlier, finer structure, scaled within every observed band to its exact count."""
    codes = history.codes
    b_start, observed = load_bands(con, year, codes)
    b_early, before = load_bands(con, earlier, codes)
    keep = ~np.isnan(observed).any(axis=1) & ~np.isnan(before).any(axis=1)
    early = split(before[keep], b_early, reference_bands(con, earlier, codes)[keep])
    mortality = standard_mortality(con, year)
    q = mortality.q
    years = list(range(earlier, year))
    births, deaths = flows_for(history, "births", years)[:, keep], flows_for(history, "deaths", years)[:, keep]
    scale = migration_scale(con, history, year, year - earlier)
    fitted = estimate_migration(early, observed[keep], b_start, births, deaths, q, scale=scale)
    start = np.full((len(codes), AGES), np.nan)
    if len(b_start.lower) < len(b_early.lower):  # the earlier structure has more detail: carry it forward
        start[keep] = rescale(np.maximum(fitted.fitted, 0.0), observed[keep], b_start)
    else:
        start[keep] = split(observed[keep], b_start, reference_bands(con, year, codes)[keep])
    n = len(codes)
    migration = Migration(np.zeros((n, AGES)), np.zeros((n, AGES)), fitted.national,
                          np.full((n, len(b_start.lower)), np.nan), np.full((n, AGES), np.nan), np.full((n, AGES), np.nan))
    for name in ("inflow", "outflow", "misfit", "fitted", "rate"):
        getattr(migration, name)[keep] = getattr(fitted, name)
    return Prepared(year, start, mortality, migration, (earlier, year))


def shares(pop: np.ndarray, bands: BandSet = FINE) -> dict[str, np.ndarray]:
    """Age shares in percent for every registry indicator the band set can give, plus (fine bands)
    grijze druk (65+ per 100 of 20-64) and groene druk (0-19 per 100 of 20-64). `pop` is in `bands`
    (…, len(bands)) or in single years (…, AGES), which are summed into `bands` first."""
    if pop.shape[-1] == AGES and len(bands.lower) != AGES:
        pop = aggregate(pop, bands)
    total = pop.sum(axis=-1)
    out = {ind: pop[..., list(by[bands])].sum(axis=-1) / total * 100 for ind, by in SHARES.items() if bands in by}
    if bands is FINE:
        working = pop[..., [4, 5, 6]].sum(axis=-1)
        out["grijze_druk"] = pop[..., [7, 8]].sum(axis=-1) / working * 100
        out["groene_druk"] = pop[..., [0, 1, 2, 3]].sum(axis=-1) / working * 100
    return out


# ---------------------------------------------------------------------------------------------
# backtest of the age structure


@dataclass
class AgeCheck:
    """Result of projecting an observed age structure forward and comparing with a later one."""

    earlier: int
    origin: int
    target: int
    bands: BandSet  # the bands the comparison is made in (the target's)
    n: int  # gemeenten
    share_mae: float  # mean absolute error of the band shares over gemeenten and bands, percentage points
    share_mae_coarse: float  # the same in the five coarse bands
    share_mae_constant: float  # baseline: the origin's structure stays (in the origin's own bands)
    share_mae_no_local: float  # the same model without the gemeenten's own migration profiles (target's bands)
    max_share_error: float
    national_share_error: np.ndarray  # per band, percentage points, Nederland as a whole
    indicator_p90: dict[str, float]  # per reported share: 90th percentile of the absolute error
    indicator_p90_constant: dict[str, float]
    band_mape: np.ndarray  # per band: median absolute % error of the counts


@dataclass
class BacktestPath:
    """The age projection of a backtest: from `origin` with data up to it, held to the observed totals."""

    prepared: Prepared
    years: list[int]
    path: np.ndarray  # (years, gemeenten, AGES)
    no_local: np.ndarray  # the same without the gemeenten's own migration profiles


def backtest_path(con: duckdb.DuckDBPyConnection, history: History, earlier: int, origin: int, target: int,
                  window: int = 5) -> BacktestPath:
    """Project the age structure of `origin` to `target` with migration profiles from `earlier` →
    `origin` and the component model's birth and death rates estimated before `origin`; the
    total of every year is the observed one, so only the structure is a projection."""
    from . import components

    rates = components.estimate(history, origin, window)
    prep = prepare(con, history, origin, earlier)
    if np.isnan(prep.start).any():
        missing = [history.codes[i] for i in np.nonzero(np.isnan(prep.start).any(axis=1))[0][:5]]
        raise TrendstudieError(f"De leeftijdsopbouw is niet voor alle gemeenten bekend (bijv. {', '.join(missing)}).")
    years = list(range(origin, target + 1))
    totals = np.stack([history.pop(y) for y in years])
    if np.isnan(totals).any():
        raise TrendstudieError(f"De bevolking van {origin} tot {target} is niet voor alle gemeenten bekend.")

    def run(migration: Migration) -> np.ndarray:
        p = parameters(prep.start, prep.mortality, rates.birth, rates.death, migration)
        return simulate(prep.start, p, len(years) - 1, totals)

    bare = Migration.none(len(history.codes))
    bare.national = prep.migration.national
    return BacktestPath(prep, years, run(prep.migration), run(bare))


def check_against_observed(con: duckdb.DuckDBPyConnection, history: History, earlier: int = 2014,
                           origin: int = 2019, target: int = 2025, window: int = 5) -> AgeCheck:
    """`backtest_path` compared with the observed bands of `target`.

    Only data up to the origin go into the parameters; the comparison is in the target's bands
    (the projection is in single years, whatever bands the start had)."""
    run = backtest_path(con, history, earlier, origin, target, window)
    projected, no_local = run.path[-1], run.no_local[-1]
    bands, observed = load_bands(con, target, history.codes)
    b_origin, at_origin = load_bands(con, origin, history.codes)
    if np.isnan(observed).any():
        raise TrendstudieError(f"De leeftijdsopbouw van {target} is niet voor alle gemeenten bekend.")
    pct = lambda a: a / a.sum(axis=-1, keepdims=True) * 100  # noqa: E731
    coarse = lambda b, a: a if b is COARSE else to_coarse(a)  # noqa: E731
    got = aggregate(projected, bands)
    err = pct(got) - pct(observed)
    # baseline "nothing changes": the origin's structure in its own bands against the target's
    in_origin_bands = observed if b_origin is bands else to_coarse(observed)
    mine, want = shares(projected, bands), shares(observed, bands)
    kept, seen = shares(at_origin, b_origin), shares(in_origin_bands, b_origin)
    return AgeCheck(
        earlier, origin, target, bands, len(history.codes),
        float(np.abs(err).mean()),
        float(np.abs(pct(coarse(bands, got)) - pct(coarse(bands, observed))).mean()),
        float(np.abs(pct(at_origin) - pct(in_origin_bands)).mean()),
        float(np.abs(pct(aggregate(no_local, bands)) - pct(observed)).mean()),
        float(np.abs(err).max()),
        pct(got.sum(axis=0)) - pct(observed.sum(axis=0)),
        {ind: float(np.percentile(np.abs(mine[ind] - want[ind]), 90)) for ind in mine},
        {ind: float(np.percentile(np.abs(kept[ind] - seen[ind]), 90)) for ind in kept},
        np.median(np.abs(got / observed - 1) * 100, axis=0))
