"""Households and housing need (woningbehoefte, woningtekort) from the population projection.

Households follow from a headship approach in its simplest form, the average household size
(inhabitants per private household):

- the observed sizes (70072ned 2015, Kerncijfers wijken en buurten a_inw/a_hh 2020 … 2025) give a
  log-linear trend per gemeente (least squares on ln(size) against the year);
- the trend is damped (factor `DAMPING` per year, so the yearly change shrinks) and multiplied by
  the scenario's `huishoudensverdunning`; the size never drops below `MIN_SIZE`;
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
        "SELECT region_code, table_id, measure, period, value FROM facts WHERE value IS NOT NULL AND "
        "((table_id = '70072ned' AND measure IN ('TotaalAantalParticuliereHuishoudens', 'TotaleBevolking')) "
        " OR measure IN ('a_hh', 'a_inw', 'a_woning')) AND period LIKE '%JJ00' "
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
        "SELECT table_id, measure, period, value FROM facts WHERE region_code = ? AND value IS NOT NULL AND "
        "((table_id = '70072ned' AND measure IN ('TotaalAantalParticuliereHuishoudens', 'TotaleBevolking')) "
        " OR measure IN ('a_hh', 'a_inw', 'a_woning')) AND period LIKE '%JJ00'", [code]).fetchall()
    base = _base(code, rows)
    if isinstance(base, str):
        raise TrendstudieError(base)
    return base


def _base(code: str, rows: list[tuple]) -> HousingBase | str:
    hh: dict[int, float] = {}
    inw: dict[int, float] = {}
    stock: dict[int, float] = {}
    for table, measure, period, value in sorted(rows, key=lambda r: (r[0] != "70072ned", r[2])):
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
class HousingRow:
    year: int
    population: float
    size: float
    households: float
    stock: float
    need: float  # woningbehoefte
    shortage: float  # woningtekort


def project_housing(base: HousingBase, population: dict[int, float], thinning: float = 1.0, building: float = 1.0,
                    vacancy: float = 0.02) -> list[HousingRow]:
    """Households, stock, woningbehoefte and woningtekort for every year of `population`."""
    out = []
    slope = size_slope(base.size_years, base.sizes)
    for year in sorted(population):
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
