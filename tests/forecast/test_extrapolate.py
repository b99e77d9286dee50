"""Damped-trend exponential smoothing: fits, intervals, bounds, deterministic."""

from __future__ import annotations

import math

import pytest

from trendstudie.forecast import extrapolate


def test_too_short_or_broken_series_are_not_extrapolated():
    assert extrapolate.fit([2020, 2021, 2022, 2023], [1, 2, 3, 4]) is None
    # the last consecutive run counts: 2015 is cut off by the gap
    assert extrapolate.fit([2015, 2020, 2021, 2022, 2023], [9, 1, 2, 3, 4]) is None
    f = extrapolate.fit([2015, 2019, 2020, 2021, 2022, 2023], [9, 1, 2, 3, 4, 5])
    assert f is not None and f.last_year == 2023


def test_constant_series_stays_constant_with_no_spread():
    f = extrapolate.fit(list(range(2012, 2024)), [7.5] * 12)
    value, lo, hi = extrapolate.forecast(f, 5)
    assert value == pytest.approx(7.5) and lo == pytest.approx(7.5) and hi == pytest.approx(7.5)


def test_linear_series_continues_but_damped():
    years = list(range(2012, 2024))
    f = extrapolate.fit(years, [10 + 2 * (y - 2012) for y in years])
    value, lo, hi = extrapolate.forecast(f, 3)
    last = 10 + 2 * 11
    assert last < value <= last + 6 + 1e-9  # the trend goes on, never faster than it was
    assert lo <= value <= hi


def test_interval_widens_with_horizon_and_respects_bounds():
    years = list(range(2012, 2024))
    values = [50, 53, 49, 55, 52, 58, 54, 60, 57, 63, 59, 65]
    f = extrapolate.fit(years, values)
    widths = [hi - lo for _, lo, hi in (extrapolate.forecast(f, h) for h in range(1, 11))]
    assert all(b > a for a, b in zip(widths, widths[1:]))
    value, lo, hi = extrapolate.forecast(f, 10, lower_bound=0.0, upper_bound=60.0)
    assert value <= 60.0 and hi <= 60.0 and lo >= 0.0
    assert extrapolate.fit(years, values) == f  # deterministic


def test_backtest_of_the_extrapolation_gates_what_is_shown(con):
    """Fit up to 2019/2020, compare 3/5 years on across all gemeenten, against 'the last value stays'."""
    import numpy as np

    from trendstudie.forecast import METHODS, MODEL_INDICATORS, project
    results = extrapolate.check(con, skip=MODEL_INDICATORS)
    assert {r.n for r in results} == {342}
    ratios = [r.median_error / r.median_error_naive for r in results]
    assert float(np.median(ratios)) < 1.0  # the strongly damped trend is, in the median, no worse than no change
    by = {(r.indicator_id, r.horizon): r for r in results}
    # house prices jumped after 2020: the interval did not hold, so no extrapolation is offered
    assert by[("gemiddelde_verkoopprijs", 3)].coverage < 0.5
    shown = {r.indicator_id for r in project(con, "GM0363", "basis", 2040) if r.method == METHODS["trend"]}
    assert "gemiddelde_verkoopprijs" not in shown and "misdrijven_per_1000" not in shown
    assert "woninginbraak_per_1000" in shown


@pytest.mark.parametrize("bounds", [(None, None), (0.0, 100.0), (40.0, 41.0)])
def test_forecasts_in_one_pass_equal_forecast_per_horizon(bounds):
    f = extrapolate.fit(list(range(2010, 2022)), [30, 31.5, 31, 33, 34.2, 34, 36, 37.5, 37, 39, 40.1, 41])
    assert f is not None
    path = extrapolate.forecasts(f, 25, *bounds)
    assert len(path) == 25
    lo_b, hi_b = (-math.inf if bounds[0] is None else bounds[0]), (math.inf if bounds[1] is None else bounds[1])
    for h, got in enumerate(path, start=1):
        # the closed form of the module docstring, summed afresh for each horizon
        point = f.level + sum(f.phi ** i for i in range(1, h + 1)) * f.trend
        c = [f.alpha * (1 + f.beta * f.phi * (1 - f.phi ** j) / (1 - f.phi)) for j in range(1, h)]
        half = extrapolate.Z90 * f.sigma * math.sqrt(1 + sum(x * x for x in c))
        want = tuple(min(max(v, lo_b), hi_b) for v in (point, point - half, point + half))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        assert extrapolate.forecast(f, h, *bounds) == pytest.approx(want, rel=1e-12, abs=1e-12)
