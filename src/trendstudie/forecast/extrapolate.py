"""Trend extrapolation for indicators without a demographic model: damped-trend exponential smoothing.

Holt's linear method with a damped trend (ETS(A,Ad,N) in Hyndman's notation): level and trend are
updated each year with weights alpha and beta, the trend fades by phi per year ahead. The
parameters are chosen on a fixed grid by the smallest sum of squared one-step-ahead errors, so the
result is deterministic. The prediction interval uses the ETS(A,Ad,N) variance

    var(h) = sigma² · (1 + Σ_{j=1}^{h−1} c_j²),  c_j = alpha · (1 + beta · phi · (1 − phi^j) / (1 − phi))

with sigma² the mean squared one-step error. The trend is damped strongly (phi 0.5–0.8): in the
backtest (`check`) weaker damping extrapolated the falling crime of the 2010s too far and lost to
simply keeping the last value. This is labelled "trendextrapolatie" everywhere:
it continues the past, it does not explain it. Series need at least `MIN_POINTS` consecutive
yearly values and are extrapolated at most `MAX_AHEAD` years past the last observation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np

MIN_POINTS = 5
MAX_AHEAD = 10
Z90 = 1.6448536269514722  # two-sided 90% interval, the same width as the population bands
ALPHAS = (0.2, 0.4, 0.6, 0.8, 1.0)
BETAS = (0.05, 0.1, 0.2, 0.4)
PHIS = (0.5, 0.7, 0.8)  # strong damping: with weaker damping (0.9, 0.98) the backtest lost to 'no change'


@dataclass
class Fit:
    alpha: float
    beta: float
    phi: float
    level: float
    trend: float
    sigma: float
    last_year: int


_GRID = None


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    global _GRID
    key = (ALPHAS, BETAS, PHIS)
    if _GRID is None or _GRID[0] != key:
        combos = np.array(list(product(ALPHAS, BETAS, PHIS)), float)
        _GRID = (key, (combos[:, 0], combos[:, 1], combos[:, 2]))
    return _GRID[1]


def _run(y: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray):
    """Run the recursions for every parameter combination at once; returns (sse, level, trend) arrays."""
    level = np.full(alpha.shape, y[0])
    trend = np.full(alpha.shape, y[1] - y[0])
    sse = np.zeros(alpha.shape)
    for obs in y[1:]:
        forecast = level + phi * trend
        err = obs - forecast
        sse += err * err
        level = forecast + alpha * err
        trend = phi * trend + alpha * beta * err
    return sse, level, trend


def fit(years: list[int], values: list[float]) -> Fit | None:
    """Fit on the last run of consecutive years; None when it is shorter than MIN_POINTS."""
    pairs = sorted(zip(years, values))
    run = [pairs[-1]]
    for prev in reversed(pairs[:-1]):
        if prev[0] != run[0][0] - 1:
            break
        run.insert(0, prev)
    if len(run) < MIN_POINTS:
        return None
    y = np.array([v for _, v in run], float)
    alpha, beta, phi = _grid()
    sse, level, trend = _run(y, alpha, beta, phi)
    # the first combination (in grid order) with the smallest error, ties within 1e-12 going to the earlier one
    k = int(np.flatnonzero(sse <= sse.min() + 1e-12)[0])
    sigma = math.sqrt(sse[k] / (len(y) - 1))
    return Fit(float(alpha[k]), float(beta[k]), float(phi[k]), float(level[k]), float(trend[k]), sigma, run[-1][0])


def forecast(f: Fit, horizon: int, lower_bound: float | None = None,
             upper_bound: float | None = None) -> tuple[float, float, float]:
    """Point forecast and 90% interval `horizon` (≥ 1) years after the last observation."""
    return forecasts(f, horizon, lower_bound, upper_bound)[-1]


def forecasts(f: Fit, horizon: int, lower_bound: float | None = None,
              upper_bound: float | None = None) -> list[tuple[float, float, float]]:
    """Point forecast and 90% interval for the horizons 1 … `horizon`, clipped to the bounds:
    point(h) = level + (phi + … + phi^h) · trend, var(h) as in the module docstring (running sums)."""
    lo_clip = -math.inf if lower_bound is None else lower_bound
    hi_clip = math.inf if upper_bound is None else upper_bound
    out = []
    damp, var, phi_j = 0.0, 1.0, 1.0
    for h in range(1, horizon + 1):
        if h > 1:  # var adds the term j = h - 1
            var += (f.alpha * (1 + f.beta * f.phi * (1 - phi_j) / (1 - f.phi))) ** 2
        phi_j *= f.phi
        damp += phi_j
        point = f.level + damp * f.trend
        half = Z90 * f.sigma * math.sqrt(var)
        out.append(tuple(min(max(v, lo_clip), hi_clip) for v in (point, point - half, point + half)))
    return out


@dataclass
class IndicatorCheck:
    indicator_id: str
    horizon: int
    n: int
    median_error: float  # median absolute error of the extrapolation, in the indicator's unit
    median_error_naive: float  # same for "the last value stays"
    coverage: float  # share of observations inside the 90% interval


def check(con, skip: set[str] | frozenset[str] = frozenset(), cases=((2019, 3), (2020, 5))) -> list[IndicatorCheck]:
    """Backtest the extrapolation on every gemeente series: fit up to the origin, compare `horizon` years on."""
    series: dict[tuple[str, str], dict[int, float]] = {}
    for ind, code, period, value in con.execute(
            "SELECT indicator_id, region_code, period, value FROM indicator_values WHERE region_code LIKE 'GM%' "
            "AND period LIKE '%JJ00' ORDER BY indicator_id, region_code, period").fetchall():
        if ind not in skip:
            series.setdefault((ind, code), {})[int(period[:4])] = value
    acc: dict[tuple[str, int], list[tuple[float, float, bool]]] = {}
    for (ind, _), points in series.items():
        for origin, horizon in cases:
            if origin + horizon not in points:
                continue
            past = sorted((y, v) for y, v in points.items() if y <= origin)
            f = fit([y for y, _ in past], [v for _, v in past]) if past else None
            if f is None or f.last_year != origin:
                continue
            value, lo, hi = forecast(f, horizon)
            obs = points[origin + horizon]
            acc.setdefault((ind, horizon), []).append((abs(value - obs), abs(past[-1][1] - obs), lo <= obs <= hi))
    out = []
    for (ind, horizon), rows in sorted(acc.items()):
        out.append(IndicatorCheck(ind, horizon, len(rows), float(np.median([r[0] for r in rows])),
                                  float(np.median([r[1] for r in rows])), float(np.mean([r[2] for r in rows]))))
    return out
