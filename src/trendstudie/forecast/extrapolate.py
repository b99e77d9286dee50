"""Trend extrapolation for indicators without a demographic model: damped-trend exponential smoothing.

Holt's linear method with a damped trend (ETS(A,Ad,N) in Hyndman's notation): level and trend are
updated each year with weights alpha and beta, the trend fades by phi per year ahead. The
parameters are chosen on a fixed grid by the smallest sum of squared one-step-ahead errors, so the
result is deterministic. The prediction interval uses the ETS(A,Ad,N) variance

    var(h) = sigma² · (1 + Σ_{j=1}^{h−1} c_j²),  c_j = alpha · (1 + beta · phi · (1 − phi^j) / (1 − phi))

with sigma² the mean squared one-step error. This is labelled "trendextrapolatie" everywhere:
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
PHIS = (0.8, 0.9, 0.98)


@dataclass
class Fit:
    alpha: float
    beta: float
    phi: float
    level: float
    trend: float
    sigma: float
    last_year: int


def _run(y: np.ndarray, alpha: float, beta: float, phi: float) -> tuple[float, float, float]:
    level, trend = y[0], y[1] - y[0]
    sse = 0.0
    for obs in y[1:]:
        forecast = level + phi * trend
        err = obs - forecast
        sse += err * err
        new_level = forecast + alpha * err
        trend = phi * trend + alpha * beta * err
        level = new_level
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
    best = None
    for alpha, beta, phi in product(ALPHAS, BETAS, PHIS):
        sse, level, trend = _run(y, alpha, beta, phi)
        if best is None or sse < best[0] - 1e-12:
            best = (sse, alpha, beta, phi, level, trend)
    sse, alpha, beta, phi, level, trend = best
    sigma = math.sqrt(sse / (len(y) - 1))
    return Fit(alpha, beta, phi, level, trend, sigma, run[-1][0])


def forecast(f: Fit, horizon: int, lower_bound: float | None = None,
             upper_bound: float | None = None) -> tuple[float, float, float]:
    """Point forecast and 90% interval `horizon` years after the last observation."""
    damp = sum(f.phi ** i for i in range(1, horizon + 1))
    point = f.level + damp * f.trend
    var = 1.0 + sum((f.alpha * (1 + f.beta * f.phi * (1 - f.phi ** j) / (1 - f.phi))) ** 2 for j in range(1, horizon))
    half = Z90 * f.sigma * math.sqrt(var)
    lo, hi = point - half, point + half
    clip = lambda v: min(max(v, lower_bound if lower_bound is not None else -math.inf),  # noqa: E731
                         upper_bound if upper_bound is not None else math.inf)
    return clip(point), clip(lo), clip(hi)
