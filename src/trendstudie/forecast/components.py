"""Component model of population change for all 342 gemeenten at once.

For every gemeente and every year::

    P(t+1) = P(t) + births − deaths + immigration − emigration + domestic in − domestic out + corrections

Rates are estimated from the harmonised history (CBS 37259ENG flows, population on 1 January from
37259ENG and 03759ned) over the `window` years before the origin (default 5):

- births, deaths, emigration, domestic departures and corrections are rates per inhabitant
  (sum of the flow over the window divided by the sum of the population on 1 January);
  "corrections" are the administrative corrections plus whatever the published flows do not
  explain of the observed change, so the rates reproduce the observed growth in the window;
- immigration is a national level (the mean over the window of the Netherlands' figure)
  distributed over the gemeenten by their share of immigration in the window (shares only from
  years in which every gemeente has the flows: Amsterdam lacks 2022 in the harmonised facts);
- domestic arrivals follow a pool model: everybody who leaves a gemeente for another one is
  handed out over all gemeenten by their share of arrivals in the window, so domestic moves
  net to exactly zero nationally.

The same model run on the national totals gives the national projection; every year the
gemeenten are scaled proportionally so they add up to it (the gap before scaling stays below a
few hundredths of a percent and is reported in `Projection.national_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from ..errors import TrendstudieError

FLOW_MEASURES = {
    "births": "LiveBornChildren",
    "deaths": "Deaths",
    "immigration": "DueToImmigration",
    "emigration": "DueToEmigrationIncludingAdministr",
    "arrivals": "ArrivalsDueToIntermunicipalMoves",
    "departures": "DeparturesDueToIntermunicipalMoves",
    "corrections": "NetAdministrativeCorrections",
}
FLOW_TABLE = "37259ENG"
FLOW_DIMS = "Sex=T001038"
POPULATION_SOURCES = (("37259ENG", "PopulationOn1January", "Sex=T001038"),
                      ("03759ned", "M000352", "BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000"))
DEFAULT_WINDOW = 5


@dataclass
class History:
    """Harmonised population (1 January) and yearly flows for the current gemeenten."""

    codes: list[str]
    pop_years: np.ndarray
    population: np.ndarray  # (gemeenten, pop_years), NaN where unknown
    flow_years: np.ndarray
    flows: dict[str, np.ndarray]  # name -> (gemeenten, flow_years), NaN where unknown
    national_immigration: dict[int, float] = field(default_factory=dict)  # NL01, by flow year

    def index(self, code: str) -> int:
        try:
            return self.codes.index(code)
        except ValueError:
            raise TrendstudieError(f"{code} is geen huidige gemeente; kies een code als GM0363.") from None

    def pop(self, year: int) -> np.ndarray:
        where = np.nonzero(self.pop_years == year)[0]
        if not len(where):
            return np.full(len(self.codes), np.nan)
        return self.population[:, where[0]]

    def flow(self, name: str, year: int) -> np.ndarray:
        where = np.nonzero(self.flow_years == year)[0]
        if not len(where):
            return np.full(len(self.codes), np.nan)
        return self.flows[name][:, where[0]]

    def last_population_year(self) -> int:
        known = ~np.isnan(self.population).any(axis=0)
        return int(self.pop_years[known].max())


def current_gemeenten(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT region_code FROM group_members WHERE group_id = 'NL01' ORDER BY region_code").fetchall()
    if not rows:
        rows = con.execute("SELECT code FROM regions WHERE kind = 'GM' AND current ORDER BY code").fetchall()
    return [r[0] for r in rows]


def load_history(con: duckdb.DuckDBPyConnection) -> History:
    """Read population and flows from the facts table into dense arrays."""
    codes = current_gemeenten(con)
    if not codes:
        raise TrendstudieError("De database bevat geen gemeenten; bouw hem opnieuw met trendstudie build.")
    pos = {c: i for i, c in enumerate(codes)}
    pop: dict[tuple[int, int], float] = {}
    for table, measure, dims in POPULATION_SOURCES:  # later sources win where both have a figure
        for code, period, value in con.execute(
                "SELECT region_code, period, value FROM facts WHERE table_id = ? AND measure = ? AND dims = ? "
                "AND period LIKE '%JJ00' AND value IS NOT NULL", [table, measure, dims]).fetchall():
            if code in pos:
                pop[(pos[code], int(period[:4]))] = value
    if not pop:
        raise TrendstudieError("De database bevat geen bevolking op 1 januari (37259ENG of 03759ned).")
    pop_years = np.arange(min(y for _, y in pop), max(y for _, y in pop) + 1)
    population = np.full((len(codes), len(pop_years)), np.nan)
    for (i, year), value in pop.items():
        population[i, year - pop_years[0]] = value
    raw: dict[str, dict[tuple[int, int], float]] = {name: {} for name in FLOW_MEASURES}
    by_measure = {m: n for n, m in FLOW_MEASURES.items()}
    for measure, code, period, value in con.execute(
            "SELECT measure, region_code, period, value FROM facts WHERE table_id = ? AND dims = ? "
            f"AND measure IN ({', '.join('?' * len(FLOW_MEASURES))}) AND period LIKE '%JJ00' AND value IS NOT NULL",
            [FLOW_TABLE, FLOW_DIMS, *FLOW_MEASURES.values()]).fetchall():
        if code in pos:
            raw[by_measure[measure]][(pos[code], int(period[:4]))] = value
    years = sorted({y for d in raw.values() for _, y in d})
    flow_years = np.arange(years[0], years[-1] + 1) if years else np.array([], dtype=int)
    flows = {}
    for name, d in raw.items():
        arr = np.full((len(codes), len(flow_years)), np.nan)
        for (i, year), value in d.items():
            arr[i, year - flow_years[0]] = value
        flows[name] = arr
    national = dict((int(p[:4]), v) for p, v in con.execute(
        "SELECT period, value FROM facts WHERE table_id = ? AND dims = ? AND measure = ? AND region_code = 'NL01' "
        "AND period LIKE '%JJ00' AND value IS NOT NULL", [FLOW_TABLE, FLOW_DIMS, FLOW_MEASURES["immigration"]]).fetchall())
    return History(codes, pop_years, population, flow_years, flows, national)


@dataclass
class Rates:
    """Estimated parameters of the component model at one origin."""

    origin: int
    window: tuple[int, int]  # first and last flow year used
    birth: np.ndarray
    death: np.ndarray
    emigration: np.ndarray
    departure: np.ndarray
    correction: np.ndarray
    immigration_share: np.ndarray
    arrival_share: np.ndarray
    immigration_level: float  # national immigrants per year
    national: dict[str, float] = field(default_factory=dict)  # national rates of the same model


def estimate(history: History, origin: int, window: int = DEFAULT_WINDOW) -> Rates:
    """Estimate rates from the last `window` flow years before `origin` (origin−window … origin−1
    when flows reach that far; otherwise the last `window` years with flows).

    Only data before the origin are used: flows of year t and the population on 1 January of t
    and t+1 (t+1 ≤ origin). Years in which a gemeente lacks a figure are left out for that gemeente.
    """
    flow_years = set(history.flow_years.tolist())
    end = min(origin - 1, max(flow_years, default=origin - 1))  # the last flow year before the origin
    years = [y for y in range(end - window + 1, end + 1) if y in flow_years
             and y + 1 <= origin and (y + 1) in set(history.pop_years.tolist())]
    if not years:
        raise TrendstudieError(f"Geen bevolkingsstromen beschikbaar vóór {origin} om de prognose op te baseren.")
    n = len(history.codes)
    sums = {name: np.zeros(n) for name in (*FLOW_MEASURES, "residual")}
    exposure = np.zeros(n)
    for y in years:
        p0, p1 = history.pop(y), history.pop(y + 1)
        f = {name: history.flow(name, y) for name in FLOW_MEASURES}
        ok = ~np.isnan(p0) & ~np.isnan(p1)
        for arr in f.values():
            ok &= ~np.isnan(arr)
        explained = f["births"] - f["deaths"] + f["immigration"] - f["emigration"] + f["arrivals"] - f["departures"]
        for name in FLOW_MEASURES:
            sums[name] += np.where(ok, f[name], 0.0)
        sums["residual"] += np.where(ok, (p1 - p0) - explained - f["corrections"], 0.0)
        exposure += np.where(ok, p0, 0.0)
    # shares of the national immigration and arrivals: only years in which every gemeente has
    # the flow (a gemeente missing one year would otherwise get too small a share)
    complete = [y for y in years if not np.isnan(history.flow("immigration", y)).any()
                and not np.isnan(history.flow("arrivals", y)).any()]
    if not complete:
        raise TrendstudieError(f"Geen jaar vóór {origin} waarin alle gemeenten bevolkingsstromen hebben.")
    imm = sum(history.flow("immigration", y) for y in complete)
    arr = sum(history.flow("arrivals", y) for y in complete)
    if all(y in history.national_immigration for y in years):  # the national figure covers every year
        level = float(np.mean([history.national_immigration[y] for y in years]))
    else:
        level = float(imm.sum() / len(complete))
    if (exposure <= 0).any():
        missing = [history.codes[i] for i in np.nonzero(exposure <= 0)[0]]
        raise TrendstudieError(f"Geen bruikbare bevolkingsstromen vóór {origin} voor {', '.join(missing[:5])}.")
    rate = lambda name: sums[name] / exposure  # noqa: E731
    correction = (sums["corrections"] + sums["residual"]) / exposure
    national = {name: float(sums[name].sum() / exposure.sum()) for name in ("births", "deaths", "emigration", "departures")}
    national["correction"] = float((sums["corrections"].sum() + sums["residual"].sum()) / exposure.sum())
    return Rates(
        origin=origin, window=(years[0], years[-1]),
        birth=rate("births"), death=rate("deaths"), emigration=rate("emigration"), departure=rate("departures"),
        correction=correction,
        immigration_share=imm / imm.sum(),
        arrival_share=arr / arr.sum(),
        immigration_level=level,
        national=national,
    )


@dataclass
class Adjustments:
    """Scenario knobs the component model understands (1.0 = as estimated)."""

    fertility: float = 1.0
    mortality: float = 1.0
    immigration: float = 1.0
    emigration: float = 1.0
    mobility: float = 1.0
    attraction: np.ndarray | None = None  # per gemeente, multiplies arrival and immigration shares
    departure: np.ndarray | None = None  # per gemeente, multiplies the domestic departure rate


@dataclass
class Projection:
    """Population on 1 January for years origin … until, for every gemeente and the nation."""

    codes: list[str]
    years: np.ndarray
    population: np.ndarray  # (gemeenten, years)
    national: np.ndarray  # (years,)
    national_gap: float  # largest relative gap between the sum of gemeenten and the national run
    rates: Rates
    flows: dict[str, np.ndarray]  # projected flows per year (gemeenten, years-1)


def _normalise(share: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    if weight is None:
        return share
    s = share * weight
    return s / s.sum()


def run(history: History, rates: Rates, start: np.ndarray, until: int,
        adjust: Adjustments | None = None) -> Projection:
    """Project from `start` (population on 1 January of rates.origin) to 1 January of `until`."""
    adjust = adjust or Adjustments()
    if until < rates.origin:
        raise TrendstudieError(f"Het eindjaar {until} ligt vóór het startjaar {rates.origin}.")
    years = np.arange(rates.origin, until + 1)
    n = len(history.codes)
    pop = np.zeros((n, len(years)))
    pop[:, 0] = start
    nat = np.zeros(len(years))
    nat[0] = start.sum()
    imm_share = _normalise(rates.immigration_share, adjust.attraction)
    arr_share = _normalise(rates.arrival_share, adjust.attraction)
    departure = rates.departure * adjust.mobility * (adjust.departure if adjust.departure is not None else 1.0)
    birth, death = rates.birth * adjust.fertility, rates.death * adjust.mortality
    emigration = rates.emigration * adjust.emigration
    level = rates.immigration_level * adjust.immigration
    nr = rates.national
    names = ("births", "deaths", "immigration", "emigration", "arrivals", "departures", "corrections")
    flows = {name: np.zeros((n, len(years) - 1)) for name in names}
    gap = 0.0
    for k in range(len(years) - 1):
        p = pop[:, k]
        out = departure * p
        f = {
            "births": birth * p, "deaths": death * p, "immigration": level * imm_share,
            "emigration": emigration * p, "departures": out, "arrivals": arr_share * out.sum(),
            "corrections": rates.correction * p,
        }
        nxt = p + f["births"] - f["deaths"] + f["immigration"] - f["emigration"] + f["arrivals"] - f["departures"] + f["corrections"]
        nxt = np.maximum(nxt, 0.0)
        nat[k + 1] = nat[k] * (1 + nr["births"] * adjust.fertility - nr["deaths"] * adjust.mortality
                               - nr["emigration"] * adjust.emigration + nr["correction"]) + level
        total = nxt.sum()
        gap = max(gap, abs(total / nat[k + 1] - 1))
        pop[:, k + 1] = nxt * (nat[k + 1] / total)
        for name in names:
            flows[name][:, k] = f[name]
    return Projection(history.codes, years, pop, nat, gap, rates, flows)


def project_all(history: History, origin: int, until: int, window: int = DEFAULT_WINDOW,
                adjust: Adjustments | None = None) -> Projection:
    """Estimate at `origin` from earlier data and project every gemeente to `until`."""
    start = history.pop(origin)
    if np.isnan(start).any():
        raise TrendstudieError(f"De bevolking op 1 januari {origin} is niet voor alle gemeenten bekend.")
    return run(history, estimate(history, origin, window), start, until, adjust)
