"""Change over time, as pure functions over a series `[(period, value), ...]`.

Periods are CBS codes (`2024JJ00`, `2024KW02`, `2024MM03`). A series may have gaps (a table
published only every few years) and missing values (`None`, NaN); both are skipped. Nothing
here raises on sparse data: too little data gives `None`, and the caller drops the sentence.

Change over a window (`change`): the window ends at the latest period (or a given one) and
starts at the earliest available period no more than `years` earlier, so a five-year change
falls back to the longest available change within five years. It reports the periods used,
the absolute change, the percentage change (only when the start value is positive) and the
compound annual growth rate (only when both values are positive and the periods differ).

Trend direction (`trend`) over the last `points` values:

1. The Theil–Sen slope (median of all pairwise slopes, per year) gives a robust size of the
   movement; the fitted change over the window is slope × span in years.
2. The level is the median absolute value of the window. When the fitted change is at most
   `STABLE_TOLERANCE` (1%) of that level and the typical step between consecutive points is
   small as well, the series is 'stabiel'. A flat fit with large steps is 'wisselend'.
3. Otherwise the sign of the slope decides 'stijgend' or 'dalend', but only when most of the
   steps between consecutive points (at least `AGREEMENT` = 60%) go the same way; if not, the
   series is 'wisselend'.

At least `MIN_POINTS` (3) values are needed for a trend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import median
from typing import Iterable, Literal, Sequence

STABLE_TOLERANCE = 0.01
AGREEMENT = 0.6
MIN_POINTS = 3

Direction = Literal["stijgend", "dalend", "stabiel", "wisselend"]


def period_time(code: str) -> float | None:
    """A period code as a point in time in years: 2024JJ00 → 2024.0, 2024KW03 → 2024.5,
    2024MM07 → 2024.5. Unknown codes give None."""
    if not isinstance(code, str) or len(code) != 8:
        return None
    return _period_time(code)


@lru_cache(maxsize=4096)  # a few hundred distinct periods, asked for millions of times
def _period_time(code: str) -> float | None:
    if not code[:4].isdigit() or not code[6:].isdigit():
        return None
    year, kind, n = int(code[:4]), code[4:6], int(code[6:])
    if kind == "JJ":
        return float(year)
    if kind == "KW" and 1 <= n <= 4:
        return year + (n - 1) / 4
    if kind == "MM" and 1 <= n <= 12:
        return year + (n - 1) / 12
    return None


def clean(series: Iterable[tuple[str, float | None]]) -> list[tuple[str, float, float]]:
    """Valid points as (period, time, value), sorted by time; missing values and unknown
    periods are dropped; a period given twice keeps its last value."""
    points: dict[str, tuple[str, float, float]] = {}
    for item in series or ():
        try:
            period, value = item[0], item[1]
        except (TypeError, IndexError):
            continue
        t = period_time(period)
        if t is None or value is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if math.isnan(v) or math.isinf(v):
            continue
        points[period] = (period, t, v)
    return sorted(points.values(), key=lambda p: p[1])


@dataclass(frozen=True)
class Change:
    """The change between two periods of one series."""

    start_period: str
    end_period: str
    start_value: float
    end_value: float
    years: float
    absolute: float
    percent: float | None  # None when the start value is not positive
    cagr: float | None  # compound annual growth in %, None when a value is not positive

    @property
    def periods(self) -> tuple[str, str]:
        return (self.start_period, self.end_period)


def _make_change(start: tuple[str, float, float], end: tuple[str, float, float]) -> Change:
    (p0, t0, v0), (p1, t1, v1) = start, end
    years = t1 - t0
    percent = (v1 - v0) / v0 * 100 if v0 > 0 else None
    cagr = ((v1 / v0) ** (1 / years) - 1) * 100 if v0 > 0 and v1 > 0 and years > 0 else None
    return Change(p0, p1, v0, v1, years, v1 - v0, percent, cagr)


def change_between(series: Iterable[tuple[str, float | None]], start: str, end: str) -> Change | None:
    """The change from period `start` to period `end`; None if either has no value."""
    points = {p: (p, t, v) for p, t, v in clean(series)}
    if start not in points or end not in points or points[start][1] >= points[end][1]:
        return None
    return _make_change(points[start], points[end])


def change(series: Iterable[tuple[str, float | None]], years: float = 5, end: str | None = None) -> Change | None:
    """The change over (at most) `years` up to `end` (default: the latest period with a value).

    The start is the earliest period at most `years` before the end; with a gap this is a
    shorter window. None if there is no earlier period within the window.
    """
    points = clean(series)
    if end is not None:
        points = [p for p in points if p[1] <= (period_time(end) or -math.inf)]
        if not points or points[-1][0] != end:
            return None
    if len(points) < 2:
        return None
    last = points[-1]
    candidates = [p for p in points[:-1] if last[1] - p[1] <= years + 1e-9]
    if not candidates:
        return None
    return _make_change(candidates[0], last)


def theil_sen(times: Sequence[float], values: Sequence[float]) -> float | None:
    """The Theil–Sen slope: the median of the slopes between all pairs of points."""
    slopes = [
        (values[j] - values[i]) / (times[j] - times[i])
        for i in range(len(times)) for j in range(i + 1, len(times))
        if times[j] != times[i]
    ]
    return median(slopes) if slopes else None


@dataclass(frozen=True)
class Trend:
    """The direction of the last points of a series, with the evidence for it."""

    direction: Direction
    slope: float  # Theil–Sen slope, in units per year
    fitted_change: float  # slope × span of the window in years
    level: float  # median absolute value in the window
    agreement: float  # share of consecutive steps that go the way of the slope (0..1)
    start_period: str
    end_period: str
    n_points: int

    @property
    def periods(self) -> tuple[str, str]:
        return (self.start_period, self.end_period)


def trend(series: Iterable[tuple[str, float | None]], points: int = 6, end: str | None = None) -> Trend | None:
    """The trend direction over the last `points` values (up to `end`); None if fewer than
    MIN_POINTS values are available."""
    data = clean(series)
    if end is not None:
        limit = period_time(end)
        data = [p for p in data if limit is not None and p[1] <= limit]
    data = data[-points:] if points > 0 else []
    if len(data) < MIN_POINTS:
        return None
    times = [t for _, t, _ in data]
    values = [v for _, _, v in data]
    slope = theil_sen(times, values)
    if slope is None:
        return None
    span = times[-1] - times[0]
    fitted = slope * span
    level = median(abs(v) for v in values)
    steps = [b - a for a, b in zip(values, values[1:])]
    typical_step = median(abs(s) for s in steps)
    tolerance = STABLE_TOLERANCE * level
    if abs(fitted) <= tolerance:
        direction: Direction = "stabiel" if typical_step <= tolerance else "wisselend"
        same = sum(1 for s in steps if abs(s) <= tolerance) / len(steps)
    else:
        sign = 1 if slope > 0 else -1
        same = sum(1 for s in steps if s * sign > 0) / len(steps)
        if same >= AGREEMENT:
            direction = "stijgend" if sign > 0 else "dalend"
        else:
            direction = "wisselend"
    return Trend(direction, slope, fitted, level, same, data[0][0], data[-1][0], len(data))
