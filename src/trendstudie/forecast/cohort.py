"""Cohort-component projection on the age bands the bundle has (no single years of age).

Bands: fine (0-4, 5-9, 10-14, 15-19, 20-24, 25-44, 45-64, 65-79, 80+; 2014, 2015 and 2025) and
coarse (0-14, 15-24, 25-44, 45-64, 65+; KWB 2019). Every year, for every gemeente:

1. mortality: a standard Dutch mortality schedule by band (`*_MORTALITY`, rounded values from the
   life table of the 2010s) scaled per gemeente so that the deaths match the gemeente's crude
   death rate of the component model (indirect standardisation);
2. ageing: survivors move to the next band at 1/width of the band per year (people are taken to
   be spread evenly over the ages within a band); the open top band keeps everybody;
3. fertility: births = the gemeente's births per inhabitant of 25-44 (component flows of the
   estimation window) × the 25-44 band; births enter the youngest band;
4. migration by band: a net rate per band, estimated by the residual method from two observed
   age structures before the origin (simulate 1–3 without migration from the earlier structure,
   the gap with the later observed one, per person-year, is net migration; refined three times
   so migrants age too). This captures student towns, suburbs that attract families and
   gemeenten that young adults leave;
5. the bands are scaled proportionally to the total of the component model (`totals`), so the
   age projection only decides the structure, never the size.

Simplifications: no sexes (no sex-specific fertility), uniform ages within bands, the same
mortality schedule everywhere up to a level factor, migration profiles constant over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from ..errors import TrendstudieError
from .components import History, Rates


@dataclass(frozen=True)
class BandSet:
    names: tuple[str, ...]
    lower: tuple[int, ...]
    width: tuple[int | None, ...]  # None: open band
    mortality: tuple[float, ...]  # standard yearly probability of dying
    migration: tuple[float, ...]  # age profile of net migration (shares, sum 1)

    @property
    def fertile(self) -> int:
        return self.lower.index(25)


# Mortality: rounded Dutch death probabilities of the 2010s averaged over each band. Migration
# profile: roughly the age pattern of immigration into the Netherlands in the 2010s (young adults).
FINE = BandSet(("0-4", "5-9", "10-14", "15-19", "20-24", "25-44", "45-64", "65-79", "80+"),
               (0, 5, 10, 15, 20, 25, 45, 65, 80), (5, 5, 5, 5, 5, 20, 20, 15, None),
               (0.0008, 0.0001, 0.0001, 0.0002, 0.0003, 0.0006, 0.004, 0.019, 0.11),
               (0.05, 0.04, 0.03, 0.06, 0.20, 0.45, 0.12, 0.03, 0.02))
COARSE = BandSet(("0-14", "15-24", "25-44", "45-64", "65+"), (0, 15, 25, 45, 65), (15, 10, 20, 20, None),
                 (0.0003, 0.00025, 0.0006, 0.004, 0.042), (0.12, 0.26, 0.45, 0.12, 0.05))
FINE_TO_COARSE = ((0, 1, 2), (3, 4), (5,), (6,), (7, 8))
OPEN_WIDTH = 20  # years assumed for the open top band when interpolating densities
LOCAL_SHRINK = 0.5  # share of a gemeente's own deviation from the national migration profile kept

SOURCES = {
    2014: (FINE, "NL_Gemeenten2014", ("inw_jonger_dan_5j", "inw_5_9j", "inw_10_14j", "inw_15_19j", "inw_20_24j",
                                      "inw_25_44j", "inw_45_64j", "inw_65_79j", "inw_80j_en_ouder")),
    2015: (FINE, "70072ned", ("JongerDan5Jaar", "k_5Tot10Jaar", "k_10Tot15Jaar", "k_15Tot20Jaar", "k_20Tot25Jaar",
                              "k_25Tot45Jaar", "k_45Tot65Jaar", "k_65Tot80Jaar", "k_80JaarOfOuder")),
    2019: (COARSE, "84583NED", ("a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo")),
    2025: (FINE, "70072ned", ("JongerDan5Jaar", "k_5Tot10Jaar", "k_10Tot15Jaar", "k_15Tot20Jaar", "k_20Tot25Jaar",
                              "k_25Tot45Jaar", "k_45Tot65Jaar", "k_65Tot80Jaar", "k_80JaarOfOuder")),
}

# registry indicator -> (band set, band indices) for the age shares a projection reports
SHARES = {
    "aandeel_0_15": {FINE: (0, 1, 2), COARSE: (0,)},
    "aandeel_15_25": {FINE: (3, 4), COARSE: (1,)},
    "aandeel_25_45": {FINE: (5,), COARSE: (2,)},
    "aandeel_45_65": {FINE: (6,), COARSE: (3,)},
    "aandeel_65_plus": {FINE: (7, 8), COARSE: (4,)},
    "aandeel_80_plus": {FINE: (8,)},
}


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
    return np.stack([fine[:, list(ix)].sum(axis=1) for ix in FINE_TO_COARSE], axis=1)


@dataclass
class CohortParameters:
    bands: BandSet
    mortality: np.ndarray  # (gemeenten, bands) yearly probability
    fertility: np.ndarray  # (gemeenten,) births per inhabitant of 25-44 per year
    migration: np.ndarray  # (gemeenten, bands) yearly net rate


def mortality_for(bands: BandSet, pop: np.ndarray, crude_death_rate: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """Scale the standard schedule per gemeente so expected deaths equal crude rate × population."""
    std = np.asarray(bands.mortality)
    expected = pop @ std
    level = crude_death_rate * pop.sum(axis=1) / np.where(expected > 0, expected, 1.0)
    return np.clip(np.outer(level, std) * factor, 0.0, 0.6)


def fertility_for(bands: BandSet, pop: np.ndarray, crude_birth_rate: np.ndarray, factor: float = 1.0) -> np.ndarray:
    fertile = pop[:, bands.fertile]
    return crude_birth_rate * pop.sum(axis=1) / np.where(fertile > 0, fertile, 1.0) * factor


def ageing_fraction(pop: np.ndarray, bands: BandSet) -> np.ndarray:
    """Share of each band that has its birthday into the next band within a year.

    The density (people per year of age) at the upper edge of a band is interpolated linearly
    between the mean densities of the band and the next one, placed at their midpoints (the open
    top band is taken as `OPEN_WIDTH` years wide). Uniform ages within a band would send far too
    many people on when a large generation sits at the bottom of a wide band (the baby boom in
    65-79 around 2015).
    """
    width = np.array([w or OPEN_WIDTH for w in bands.width], float)
    lower = np.array(bands.lower, float)
    mid = lower + width / 2
    density = pop / width
    frac = np.zeros_like(pop)
    for b in range(len(bands.width) - 1):
        t = (lower[b] + width[b] - mid[b]) / (mid[b + 1] - mid[b])
        at_edge = np.maximum(density[:, b] + t * (density[:, b + 1] - density[:, b]), 0.0)
        frac[:, b] = np.minimum(at_edge / np.where(pop[:, b] > 0, pop[:, b], 1.0), 1.0)
    return frac


def step(pop: np.ndarray, p: CohortParameters, ageing: str = "interpolated") -> np.ndarray:
    """One year of mortality, ageing, births and the band-specific net migration rates."""
    survivors = pop * (1 - p.mortality)
    if ageing == "uniform":
        frac = np.tile(1 / np.array([w or np.inf for w in p.bands.width], float), (len(pop), 1))
    else:
        frac = ageing_fraction(survivors, p.bands)
    moving = survivors * frac
    nxt = survivors - moving
    nxt[:, 1:] += moving[:, :-1]
    nxt[:, 0] += p.fertility * pop[:, p.bands.fertile]
    nxt += p.migration * pop
    return np.maximum(nxt, 0.0)


def simulate(start: np.ndarray, p: CohortParameters, years: int, totals: np.ndarray | None = None,
             ageing: str = "interpolated") -> np.ndarray:
    """Population by band for 0 … `years` years after the start: (years+1, gemeenten, bands).

    With `totals` (years+1, gemeenten) the gap between the cohort total and the given total (the
    component model's migration not yet in the bands) is spread over the bands by the band set's
    migration profile, then the bands are scaled to the total exactly.
    """
    out = np.zeros((years + 1, *start.shape))
    out[0] = start
    profile = np.asarray(p.bands.migration)
    for k in range(years):
        nxt = step(out[k], p, ageing)
        if totals is not None:
            gap = totals[k + 1] - nxt.sum(axis=1)
            nxt = np.maximum(nxt + np.outer(gap, profile), 0.0)
            s = nxt.sum(axis=1)
            nxt = nxt * (totals[k + 1] / np.where(s > 0, s, 1.0))[:, None]
        out[k + 1] = nxt
    return out


def residual_migration(earlier: np.ndarray, later: np.ndarray, years: int, bands: BandSet,
                       crude_birth: np.ndarray, crude_death: np.ndarray, shrink: float = LOCAL_SHRINK,
                       iterations: int = 3) -> np.ndarray:
    """Each gemeente's own deviation from the national net migration rate per band and year.

    The residual method gives the rates that carry `earlier` to `later`; the national rate per
    band (which also absorbs what the ageing assumption gets wrong everywhere alike) is
    subtracted and the local deviation shrunk by `shrink`, because a profile from a few years is
    noisy. The level of migration comes from the component model (see `simulate`).
    """
    p = CohortParameters(bands, mortality_for(bands, earlier, crude_death), fertility_for(bands, earlier, crude_birth),
                         np.zeros_like(earlier))
    for _ in range(iterations):
        path = simulate(earlier, p, years)
        exposure = path[:-1].sum(axis=0)
        p.migration = p.migration + (later - path[-1]) / np.where(exposure > 0, exposure, 1.0)
    national = (p.migration * exposure).sum(axis=0) / exposure.sum(axis=0)
    return (p.migration - national[None, :]) * shrink


def parameters(bands: BandSet, start: np.ndarray, rates: Rates, migration: np.ndarray,
               fertility: float = 1.0, mortality: float = 1.0) -> CohortParameters:
    return CohortParameters(bands, mortality_for(bands, start, rates.death, mortality),
                            fertility_for(bands, start, rates.birth, fertility), migration)


def shares(pop: np.ndarray, bands: BandSet) -> dict[str, np.ndarray]:
    """Age shares in percent for every registry indicator the band set can give, plus (fine bands)
    grijze druk (65+ per 100 of 20-64) and groene druk (0-19 per 100 of 20-64)."""
    total = pop.sum(axis=-1)
    out = {ind: pop[..., list(by[bands])].sum(axis=-1) / total * 100 for ind, by in SHARES.items() if bands in by}
    if bands is FINE:
        working = pop[..., [4, 5, 6]].sum(axis=-1)
        out["grijze_druk"] = pop[..., [7, 8]].sum(axis=-1) / working * 100
        out["groene_druk"] = pop[..., [0, 1, 2, 3]].sum(axis=-1) / working * 100
    return out


@dataclass
class AgeCheck:
    """Result of projecting an observed age structure forward and comparing with a later one."""

    origin: int
    target: int
    bands: BandSet
    band_mape: np.ndarray  # per band: median absolute % error of the counts (observed totals)
    share_mae: float  # mean absolute error of the band shares over gemeenten and bands, percentage points
    share_mae_constant: float  # baseline: the age structure stays as it was at the origin
    share_mae_uniform: float  # the same model with uniform ages within bands
    share_mae_no_local: float  # the same model without local migration profiles
    max_share_error: float
    national_share_error: np.ndarray  # per band, percentage points, Nederland as a whole


def check_against_observed(con: duckdb.DuckDBPyConnection, history: History, rates: Rates, earlier: int = 2014,
                           origin: int = 2019, target: int = 2025) -> AgeCheck:
    """Project the bands of `origin` to `target` with local migration profiles from `earlier` → `origin`.

    Only data up to the origin are used for the parameters; the projection is held to the
    observed total population of each year so the check is about the age structure only.
    """
    codes = history.codes
    b_o, start = load_bands(con, origin, codes)
    b_e, before = load_bands(con, earlier, codes)
    b_t, observed = load_bands(con, target, codes)
    bands = COARSE if COARSE in (b_o, b_e, b_t) else FINE
    conv = lambda b, a: to_coarse(a) if (bands is COARSE and b is FINE) else a  # noqa: E731
    start, before, observed = conv(b_o, start), conv(b_e, before), conv(b_t, observed)
    for name, arr in (("startjaar", start), ("vergelijkingsjaar", before), ("doeljaar", observed)):
        if np.isnan(arr).any():
            raise TrendstudieError(f"De leeftijdsverdeling van het {name} is niet voor alle gemeenten bekend.")
    totals = np.stack([history.pop(y) for y in range(origin, target + 1)])
    years = target - origin
    local = residual_migration(before, start, origin - earlier, bands, rates.birth, rates.death)
    p = parameters(bands, start, rates, local)
    projected = simulate(start, p, years, totals)[-1]
    uniform = simulate(start, p, years, totals, ageing="uniform")[-1]
    no_local = simulate(start, parameters(bands, start, rates, np.zeros_like(local)), years, totals)[-1]
    pct = lambda a: a / a.sum(axis=-1, keepdims=True) * 100  # noqa: E731
    obs_share = pct(observed)
    err = pct(projected) - obs_share
    return AgeCheck(
        origin, target, bands, np.median(np.abs(projected / observed - 1) * 100, axis=0),
        float(np.abs(err).mean()), float(np.abs(pct(start) - obs_share).mean()),
        float(np.abs(pct(uniform) - obs_share).mean()), float(np.abs(pct(no_local) - obs_share).mean()),
        float(np.abs(err).max()), pct(projected.sum(axis=0)) - pct(observed.sum(axis=0)))
