"""Households and housing need (woningbehoefte, woningtekort) from the population projection.

Households follow from a headship approach on the projected age structure:

- national headship rates by five-year age band (71488ned: households per person, counting a
  person living alone, a single parent and half of each partner in a couple), with their
  log-linear trend of the last `HEADSHIP_YEARS` years continued, damped (factor `DAMPING` per
  year) and multiplied by the scenario's `huishoudensverdunning`;
- per gemeente the households per inhabitant these rates give for its own projected age
  structure (cohort model), relative to the base year: the household size changes by that
  factor from the last observed size (KWB a_inw/a_hh 2025), so the gemeente keeps its own level
  (students in rooms, large families) and ageing makes households smaller where people age;
- where no age structure is known, the gemeente's own damped log-linear size trend (70072ned
  2015, KWB 2020 … 2025) is used instead. The size never drops below `MIN_SIZE`;
- projected households = projected population / projected household size.

The dwelling stock continues the mean yearly net addition of the last `STOCK_YEARS` years
(KWB a_woning; new construction minus demolition and other changes), times the scenario's
`woningbouw`. In the words of the trend studies (ABF's approach):

- woningbehoefte = households / (1 − frictieleegstand): the dwellings needed to house every
  household with a normal frictional vacancy (default 2%);
- woningtekort = woningbehoefte − woningvoorraad (negative: a surplus).

Both are statistical: second homes, students in rooms and institutions are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from ..errors import TrendstudieError

DAMPING = 0.95
MIN_SIZE = 1.3
STOCK_YEARS = 5
HEADSHIP_YEARS = 10
HEADSHIP_TABLE = "71488ned"
HEADS = (("Alleenstaand", 1.0), ("TotaalSamenwonendePersonen", 0.5), ("OuderInEenouderhuishouden", 1.0))
PERSONS = "TotaalPersonenInHuishoudens"
# The facts a housing base is made of: households and population of 70072ned, and KWB's households,
# inhabitants and dwellings from whichever table has them.
HOUSING_TABLE = "70072ned"
HOUSING_TABLE_MEASURES = ("TotaalAantalParticuliereHuishoudens", "TotaleBevolking")
HOUSING_MEASURES = ("a_hh", "a_inw", "a_woning")
HOUSING_FACTS = (f"((table_id = '{HOUSING_TABLE}' AND measure IN ({', '.join(repr(m) for m in HOUSING_TABLE_MEASURES)})) "
                 f"OR measure IN ({', '.join(repr(m) for m in HOUSING_MEASURES)}))")


@dataclass
class HousingBase:
    """Observed households, population and dwellings of one gemeente."""

    code: str
    size_years: list[int]
    sizes: list[float]  # inhabitants per private household
    households_year: int
    households: float
    stock_years: list[int]
    stock: list[float]


def load_housing_many(con: duckdb.DuckDBPyConnection, codes: list[str]) -> dict[str, HousingBase]:
    """Observed households and dwellings for several gemeenten in one query; gemeenten without
    enough data are left out (`load_housing` says why)."""
    rows = con.execute(
        f"SELECT region_code, table_id, measure, period, value FROM facts WHERE value IS NOT NULL AND {HOUSING_FACTS} "
        "AND period LIKE '%JJ00' "
        f"AND region_code IN ({', '.join('?' * len(codes))})", list(codes)).fetchall()
    per: dict[str, list] = {c: [] for c in codes}
    for code, *rest in rows:
        per[code].append(tuple(rest))
    out = {}
    for code, facts in per.items():
        base = _base(code, facts)
        if isinstance(base, HousingBase):
            out[code] = base
    return out


def load_housing(con: duckdb.DuckDBPyConnection, code: str) -> HousingBase:
    rows = con.execute(
        f"SELECT table_id, measure, period, value FROM facts WHERE region_code = ? AND value IS NOT NULL AND {HOUSING_FACTS} "
        "AND period LIKE '%JJ00'", [code]).fetchall()
    base = _base(code, rows)
    if isinstance(base, str):
        raise TrendstudieError(base)
    return base


def _base(code: str, rows: list[tuple]) -> HousingBase | str:
    hh: dict[int, float] = {}
    inw: dict[int, float] = {}
    stock: dict[int, float] = {}
    for table, measure, period, value in sorted(rows, key=lambda r: (r[0] != HOUSING_TABLE, r[2])):
        year = int(period[:4])  # KWB figures win over 70072ned where both exist (they agree)
        if measure in ("a_hh", "TotaalAantalParticuliereHuishoudens"):
            hh[year] = value
        elif measure in ("a_inw", "TotaleBevolking"):
            inw[year] = value
        elif measure == "a_woning":
            stock[year] = value
    years = sorted(y for y in hh if y in inw and hh[y] > 0)
    if not years:
        return f"Geen huishoudens bekend voor {code}; de huishoudensprognose kan niet."
    if len(stock) < 2:
        return f"Te weinig jaren met de woningvoorraad van {code} voor een trend."
    sy = sorted(stock)
    return HousingBase(code, years, [inw[y] / hh[y] for y in years], years[-1], hh[years[-1]], sy, [stock[y] for y in sy])


def size_slope(years: list[int], sizes: list[float]) -> float:
    """Yearly log change of the household size (least squares); 0 with a single observation."""
    if len(years) < 2:
        return 0.0
    x = np.asarray(years, float)
    y = np.log(np.asarray(sizes, float))
    return float(np.polyfit(x - x.mean(), y, 1)[0])


def projected_size(base: HousingBase, year: int, thinning: float = 1.0, slope: float | None = None) -> float:
    """Household size in `year`: the damped log-linear trend from the last observation
    (`slope`: the base's `size_slope`, when the caller computed it already)."""
    slope = (size_slope(base.size_years, base.sizes) if slope is None else slope) * thinning
    k = year - base.households_year
    if k <= 0:
        return base.sizes[-1]
    cumulative = slope * DAMPING * (1 - DAMPING ** k) / (1 - DAMPING)
    return max(MIN_SIZE, base.sizes[-1] * float(np.exp(cumulative)))


def stock_growth(base: HousingBase) -> float:
    """Mean yearly net addition to the stock over the last STOCK_YEARS years."""
    years = [y for y in base.stock_years if y >= base.stock_years[-1] - STOCK_YEARS]
    first, last = years[0], years[-1]
    return (base.stock[base.stock_years.index(last)] - base.stock[base.stock_years.index(first)]) / (last - first)


def projected_stock(base: HousingBase, year: int, building: float = 1.0) -> float:
    last = base.stock_years[-1]
    return base.stock[-1] + building * stock_growth(base) * max(0, year - last)


@dataclass
class Headship:
    """National households per person by five-year age band (`cohort.FIVE`) and their trend."""

    year: int  # the last observed year
    rates: np.ndarray  # (20,) households per person in that year (0 under 15)
    slope: np.ndarray  # (20,) yearly log change over the HEADSHIP_YEARS before

    def at(self, year: int, thinning: float = 1.0) -> np.ndarray:
        """Rates in `year`: the trend continued, damped by DAMPING a year, times `thinning`."""
        k = year - self.year
        if k <= 0:
            return self.rates
        return self.rates * np.exp(self.slope * thinning * DAMPING * (1 - DAMPING ** k) / (1 - DAMPING))


def headship_rates(con: duckdb.DuckDBPyConnection, year: int) -> np.ndarray | None:
    """Households per person by five-year band for Nederland in `year` (71488ned), or None."""
    from .cohort import REFERENCE_AGES

    pos = {d: j for j, d in enumerate(REFERENCE_AGES)}
    wanted = [m for m, _ in HEADS] + [PERSONS]
    values = {m: np.zeros(len(pos)) for m in wanted}
    rows = con.execute(
        "SELECT measure, dims, value FROM facts WHERE table_id = ? AND region_code = 'NL01' AND period = ? "
        f"AND value IS NOT NULL AND measure IN ({', '.join('?' * len(wanted))})",
        [HEADSHIP_TABLE, f"{year}JJ00", *wanted]).fetchall()
    for measure, dims, value in rows:
        if dims in pos:
            values[measure][pos[dims]] = value
    if not (values[PERSONS] > 0).all():
        return None
    return sum(values[m] * w for m, w in HEADS) / values[PERSONS]


def load_headship(con: duckdb.DuckDBPyConnection, up_to: int) -> Headship:
    """The headship rates of the last year at or before `up_to` with their trend (least squares on
    the log of the rate over the HEADSHIP_YEARS before; bands without heads stay 0)."""
    present = {int(p[:4]) for (p,) in con.execute(  # only the years the table has (one query, not 61)
        "SELECT DISTINCT period FROM facts WHERE table_id = ? AND region_code = 'NL01' AND period LIKE '%JJ00'",
        [HEADSHIP_TABLE]).fetchall()}
    found = {y: r for y in range(up_to - 60, up_to + 1)
             if y in present and (r := headship_rates(con, y)) is not None}
    if not found:
        raise TrendstudieError(f"Geen huishoudens naar leeftijd ({HEADSHIP_TABLE}) van {up_to} of eerder.")
    last = max(found)
    years = [y for y in range(last - HEADSHIP_YEARS, last + 1) if y in found]
    rates = found[last]
    slope = np.zeros_like(rates)
    if len(years) > 1:
        x = np.asarray(years, float) - np.mean(years)
        with np.errstate(divide="ignore"):
            logs = np.log(np.stack([found[y] for y in years]))
        ok = np.isfinite(logs).all(axis=0)
        slope[ok] = (x[:, None] * (logs[:, ok] - logs[:, ok].mean(axis=0))).sum(axis=0) / (x * x).sum()
    return Headship(last, rates, slope)


def age_factors(headship: Headship, five: np.ndarray, years: list[int], thinning: float = 1.0) -> np.ndarray:
    """Households per inhabitant by the headship rates and the age structure `five` (years,
    gemeenten, 20), relative to the first year: (years, gemeenten)."""
    per_person = np.stack([five[k] @ headship.at(y, thinning) for k, y in enumerate(years)]) / five.sum(axis=-1)
    return per_person / per_person[0]


@dataclass
class HousingRow:
    year: int
    population: float
    size: float
    households: float
    stock: float
    need: float  # woningbehoefte
    shortage: float  # woningtekort


def project_housing(base: HousingBase, population: dict[int, float], thinning: float = 1.0, building: float = 1.0,
                    vacancy: float = 0.02, age_factor: dict[int, float] | None = None) -> list[HousingRow]:
    """Households, stock, woningbehoefte and woningtekort for every year of `population`.

    `age_factor` (year -> households per inhabitant by the headship rates of that year and the
    gemeente's projected age structure, relative to the base year, see `age_factors`) makes the
    household size base size / factor; without it the gemeente's own damped size trend applies."""
    out = []
    slope = size_slope(base.size_years, base.sizes)
    for year in sorted(population):
        if age_factor is not None:
            size = max(MIN_SIZE, base.sizes[-1] / age_factor[year]) if year > base.households_year else base.sizes[-1]
        else:
            size = projected_size(base, year, thinning, slope)
        households = population[year] / size
        stock = projected_stock(base, year, building)
        need = households / (1 - vacancy)
        out.append(HousingRow(year, population[year], size, households, stock, need, need - stock))
    return out


@dataclass
class HousingCheck:
    """Household size and dwelling stock projected from `origin` with only earlier data, against `target`."""

    origin: int
    target: int
    n: int
    size_median: float  # median absolute % error of the damped household-size trend
    size_median_constant: float  # baseline: the size stays as it was at the origin
    size_p90: float
    stock_median: float  # median absolute % error of the stock trend
    stock_median_constant: float  # baseline: no building


def check_housing(con: duckdb.DuckDBPyConnection, codes: list[str], origin: int = 2022, target: int = 2025) -> HousingCheck:
    """Backtest of the household-size and stock trends over all `codes` (origin < target ≤ last observation)."""
    bases = load_housing_many(con, codes)
    size_err, size_const, stock_err, stock_const = [], [], [], []
    for code, b in bases.items():
        if target not in b.size_years or target not in b.stock_years:
            continue
        years = [y for y in b.size_years if y <= origin]
        stock_years = [y for y in b.stock_years if y <= origin]
        if not years or len(stock_years) < 2:
            continue
        past = HousingBase(code, years, [b.sizes[b.size_years.index(y)] for y in years], years[-1], 0.0,
                           stock_years, [b.stock[b.stock_years.index(y)] for y in stock_years])
        size, stock = b.sizes[b.size_years.index(target)], b.stock[b.stock_years.index(target)]
        size_err.append(abs(projected_size(past, target) / size - 1) * 100)
        size_const.append(abs(past.sizes[-1] / size - 1) * 100)
        stock_err.append(abs(projected_stock(past, target) / stock - 1) * 100)
        stock_const.append(abs(past.stock[-1] / stock - 1) * 100)
    if not size_err:
        raise TrendstudieError(f"Geen gemeenten met huishoudens en woningen in {origin} en {target}.")
    med = lambda x: float(np.median(x))  # noqa: E731
    return HousingCheck(origin, target, len(size_err), med(size_err), med(size_const), float(np.percentile(size_err, 90)),
                        med(stock_err), med(stock_const))


@dataclass
class HeadshipCheck:
    """Household size from `origin` to `target`: headship model against the gemeente's own trend."""

    origin: int
    target: int
    n: int
    median: float  # median absolute % error of the size by the headship model
    p90: float
    median_trend: float  # the gemeente's own damped size trend (the model without age structure)
    p90_trend: float
    median_constant: float  # the size stays as it was at the origin


def check_headship(con: duckdb.DuckDBPyConnection, history, origins: tuple[int, ...] = (2020, 2021, 2022, 2023),
                   target: int = 2025, age_check: tuple[int, int, int] = (2014, 2019, 2025)) -> list[HeadshipCheck]:
    """Backtest of the household size with only earlier data: the age structure is the cohort
    model's backtest path (`age_check`: profile from the first year, start in the second, observed
    totals), the headship rates and their trend are those known at each origin."""
    from . import cohort

    run = cohort.backtest_path(con, history, *age_check)
    five = cohort.aggregate(run.path, cohort.FIVE)
    bases = load_housing_many(con, history.codes)
    out = []
    for origin in origins:
        if origin not in run.years or target not in run.years:
            raise TrendstudieError(f"De leeftijdsopbouw van de toets loopt van {run.years[0]} tot {run.years[-1]}.")
        factor = age_factors(load_headship(con, origin), five[[run.years.index(origin), run.years.index(target)]],
                             [origin, target])[-1]
        model, trend, constant = [], [], []
        for i, code in enumerate(history.codes):
            b = bases.get(code)
            if b is None or origin not in b.size_years or target not in b.size_years:
                continue
            size0, size = b.sizes[b.size_years.index(origin)], b.sizes[b.size_years.index(target)]
            years = [y for y in b.size_years if y <= origin]
            past = HousingBase(code, years, [b.sizes[b.size_years.index(y)] for y in years], origin, 0.0, [], [])
            model.append(abs(size0 / factor[i] / size - 1) * 100)
            trend.append(abs(projected_size(past, target) / size - 1) * 100)
            constant.append(abs(size0 / size - 1) * 100)
        if not model:
            raise TrendstudieError(f"Geen gemeenten met huishoudens in {origin} en {target}.")
        out.append(HeadshipCheck(origin, target, len(model), float(np.median(model)), float(np.percentile(model, 90)),
                                 float(np.median(trend)), float(np.percentile(trend, 90)), float(np.median(constant))))
    return out
