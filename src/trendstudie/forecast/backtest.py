"""Backtest: project from past origins with only the data before them and compare with what happened.

For every origin (default 2017, 2018 and 2019) the component model is estimated from the flows
of the years before the origin, started from the population on 1 January of the origin and
compared per horizon (1 … 7 years, as far as observations reach) with the observed population
of all 342 gemeenten. Two naive baselines are scored the same way:

- "geen verandering": the population stays at its level on 1 January of the origin;
- "constante groei": the mean yearly growth of the `window` years before the origin continues.

The errors of the component model also set the bands of future projections (`ErrorBands`):
per horizon and size class the 90th percentile of |pred/obs − 1|.

`backtest(con)` without an origin also scores the age structure (`cohort.check_against_observed`:
the 2019 structure projected to 2025 with migration profiles from 2014 → 2019).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from .. import formatting
from ..errors import TrendstudieError
from . import components

DEFAULT_ORIGINS = (2017, 2018, 2019)
METHODS = ("componentenmodel", "constante groei", "geen verandering")
SIZE_CLASSES = ((0, 25_000, "tot 25.000 inwoners"), (25_000, 100_000, "25.000 tot 100.000 inwoners"),
                (100_000, float("inf"), "100.000 inwoners of meer"))
AGE_CHECK = (2014, 2019, 2025)  # age structure: profile from, start, compared with
BAND_QUANTILE = 0.9
MAX_BAND_HORIZON = 7


@dataclass
class BacktestRow:
    origin: int | None  # None: all origins pooled
    horizon: int
    method: str
    n: int
    median_ape: float
    p90_ape: float
    median_error: float  # signed, percent: positive means the projection was too high


@dataclass
class BacktestTable:
    rows: list[BacktestRow]
    window: int
    errors: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # (origin, horizon) -> signed errors
    origin_population: dict[int, np.ndarray] = field(default_factory=dict)
    ages: list = field(default_factory=list)  # cohort.AgeCheck of the age structure, when scored

    def row(self, origin: int | None, horizon: int, method: str) -> BacktestRow:
        for r in self.rows:
            if r.origin == origin and r.horizon == horizon and r.method == method:
                return r
        raise KeyError((origin, horizon, method))

    def format(self, horizons: tuple[int, ...] | None = None) -> str:
        """A plain-text table in Dutch: median and 90th percentile absolute % error per method."""
        shown = [r for r in self.rows if horizons is None or r.horizon in horizons]
        head = ["Startjaar", "Horizon", "Methode", "Gemeenten", "Mediane fout", "P90 fout", "Mediane afwijking"]
        body = []
        for r in shown:
            body.append([
                "alle" if r.origin is None else str(r.origin),
                f"{r.horizon} jaar", r.method, formatting.number(r.n),
                f"{formatting.number(r.median_ape, 2)}%", f"{formatting.number(r.p90_ape, 2)}%",
                f"{'+' if r.median_error > 0 else ''}{formatting.number(r.median_error, 2)}%",
            ])
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        line = lambda cells: " | ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
        out = [f"Backtest bevolkingsprognose (absolute procentuele fout per gemeente; venster {self.window} jaar)",
               line(head), "-+-".join("-" * w for w in widths)]
        out += [line(b) for b in body]
        for check in self.ages:
            out += ["", *_age_lines(check)]
        return "\n".join(out)

    def markdown(self, horizons: tuple[int, ...] | None = None) -> str:
        head = "| Startjaar | Horizon | Methode | Gemeenten | Mediane fout | P90 fout | Mediane afwijking |"
        out = [head, "|---|---|---|---:|---:|---:|---:|"]
        for r in self.rows:
            if horizons is not None and r.horizon not in horizons:
                continue
            out.append(f"| {'alle' if r.origin is None else r.origin} | {r.horizon} jaar | {r.method} | {r.n} | "
                       f"{formatting.number(r.median_ape, 2)}% | {formatting.number(r.p90_ape, 2)}% | "
                       f"{'+' if r.median_error > 0 else ''}{formatting.number(r.median_error, 2)}% |")
        return "\n".join(out)


def _age_lines(check) -> list[str]:
    """The age-structure backtest in Dutch: mean absolute error of the band shares, and per share
    the 90th percentile against keeping the structure of the start year."""
    n = lambda x: formatting.number(x, 2)  # noqa: E731
    out = [f"Backtest leeftijdsopbouw: {check.origin} → {check.target}, migratieprofielen uit {check.earlier} → "
           f"{check.origin}, {check.n} gemeenten (totale bevolking per jaar zoals waargenomen)",
           f"gemiddelde absolute fout van de aandelen: {n(check.share_mae)} procentpunt in {len(check.bands.names)} "
           f"leeftijdsgroepen, {n(check.share_mae_coarse)} in 5 groepen; opbouw blijft gelijk {n(check.share_mae_constant)}, "
           f"zonder eigen migratieprofielen {n(check.share_mae_no_local)}; grootste fout {n(check.max_share_error)}",
           "P90 fout per aandeel (procentpunt): " + ", ".join(
               f"{ind.removeprefix('aandeel_').replace('_plus', '+').replace('_', '-')} {n(v)}"
               + (f" (gelijk gebleven {n(check.indicator_p90_constant[ind])})" if ind in check.indicator_p90_constant else "")
               for ind, v in check.indicator_p90.items() if ind.startswith("aandeel_"))]
    return out


def _row(origin, horizon, method, pred, obs) -> BacktestRow:
    err = (pred / obs - 1) * 100
    ape = np.abs(err)
    return BacktestRow(origin, horizon, method, int(len(err)), float(np.median(ape)), float(np.percentile(ape, 90)),
                       float(np.median(err)))


def backtest_history(history: components.History, origins=DEFAULT_ORIGINS, window: int = components.DEFAULT_WINDOW,
                     max_horizon: int = 10) -> BacktestTable:
    last = history.last_population_year()
    rows: list[BacktestRow] = []
    table = BacktestTable(rows, window)
    pooled: dict[tuple[int, str], tuple[list, list]] = {}
    for origin in origins:
        if origin >= last:
            raise TrendstudieError(f"Startjaar {origin} laat niets te toetsen over: de laatste waarneming is {last}.")
        start = history.pop(origin)
        before = history.pop(origin - window)
        if np.isnan(start).any() or np.isnan(before).any():
            raise TrendstudieError(f"Voor startjaar {origin} ontbreekt de bevolking van {origin - window} of {origin}.")
        proj = components.project_all(history, origin, min(last, origin + max_horizon), window)
        growth = (start / before) ** (1 / window)
        table.origin_population[origin] = start
        for h in range(1, len(proj.years)):
            obs = history.pop(origin + h)
            preds = {"componentenmodel": proj.population[:, h], "constante groei": start * growth ** h,
                     "geen verandering": start}
            table.errors[(origin, h)] = proj.population[:, h] / obs - 1
            for method in METHODS:
                rows.append(_row(origin, h, method, preds[method], obs))
                p, o = pooled.setdefault((h, method), ([], []))
                p.append(preds[method])
                o.append(obs)
    for (h, method), (p, o) in sorted(pooled.items()):
        if len(origins) > 1 and len(p) == len(origins):
            rows.append(_row(None, h, method, np.concatenate(p), np.concatenate(o)))
    return table


def backtest(con: duckdb.DuckDBPyConnection, origin: int | tuple[int, ...] | None = None,
             window: int = components.DEFAULT_WINDOW) -> BacktestTable:
    """Backtest the component model from one origin, several, or (None) the default ones."""
    origins = DEFAULT_ORIGINS if origin is None else ((origin,) if isinstance(origin, int) else tuple(origin))
    history = components.load_history(con)
    table = backtest_history(history, origins, window)
    if origin is None:
        from . import cohort

        try:
            table.ages.append(cohort.check_against_observed(con, history, *AGE_CHECK))
        except TrendstudieError:  # no age structures in this database: the population backtest stands alone
            pass
    return table


@dataclass
class ErrorBands:
    """Empirical 90th percentile of |pred/obs − 1| per size class and horizon, from the backtest.

    The backtest errors were mostly underestimates (immigration rose after 2019); the bands are
    symmetric on purpose, so they do not carry that one-off surprise into the future as a bias.
    """

    quantiles: dict[tuple[int, int], float]  # (size class index, horizon) -> q
    max_horizon: int

    def interval(self, value: float, start_population: float, horizon: int) -> tuple[float, float]:
        """Symmetric interval value × (1 ∓ q): q is the 90th percentile of |pred/obs − 1|.

        Beyond the backtested horizons the error is taken to grow linearly with the horizon.
        """
        if horizon <= 0:
            return value, value
        h = min(horizon, self.max_horizon)
        q = self.quantiles[(size_class(start_population), h)] * horizon / h
        return value * max(1 - q, 0.0), value * (1 + q)


def size_class(population: float) -> int:
    for i, (low, high, _) in enumerate(SIZE_CLASSES):
        if low <= population < high:
            return i
    return len(SIZE_CLASSES) - 1


def error_bands(table: BacktestTable) -> ErrorBands:
    horizons = sorted({h for _, h in table.errors})
    origins = sorted(table.origin_population)
    usable = [h for h in horizons if all((o, h) in table.errors for o in origins) and h <= MAX_BAND_HORIZON]
    if not usable:
        raise TrendstudieError("De backtest levert geen bruikbare horizonnen voor de onzekerheidsmarges.")
    q: dict[tuple[int, int], float] = {}
    for h in usable:
        errs = np.abs(np.concatenate([table.errors[(o, h)] for o in origins]))
        classes = np.concatenate([[size_class(p) for p in table.origin_population[o]] for o in origins])
        for cls in range(len(SIZE_CLASSES)):
            e = errs[classes == cls]
            q[(cls, h)] = float(np.quantile(e if len(e) >= 20 else errs, BAND_QUANTILE))
    return ErrorBands(q, max(usable))
