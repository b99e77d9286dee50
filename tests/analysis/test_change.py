"""Change and trend over series with gaps: windows, CAGR by formula, directions, no exceptions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from trendstudie.analysis.change import change, change_between, clean, period_time, theil_sen, trend


def yearly(values, start=2015):
    return [(f"{start + i}JJ00", v) for i, v in enumerate(values)]


def test_period_time():
    assert period_time("2024JJ00") == 2024.0
    assert period_time("2024KW03") == 2024.5
    assert period_time("2024MM07") == 2024.5
    assert period_time("2024XX01") is None
    assert period_time("abc") is None


def test_change_over_five_years_with_cagr_by_formula():
    series = yearly([100, 104, 108, 111, 115, 121, 130])  # 2015..2021
    ch = change(series, 5)
    assert ch.periods == ("2016JJ00", "2021JJ00")
    assert ch.start_value == 104 and ch.end_value == 130
    assert ch.absolute == pytest.approx(26)
    assert ch.percent == pytest.approx(25.0)
    assert ch.cagr == pytest.approx(((130 / 104) ** (1 / 5) - 1) * 100)
    assert ch.years == 5


def test_change_falls_back_to_longest_window_within_five_years():
    # published in 2014, 2015, 2019, 2022: the five-year change to 2022 starts in 2019
    series = [("2014JJ00", 10.0), ("2015JJ00", 11.0), ("2019JJ00", 12.0), ("2022JJ00", 15.0)]
    ch = change(series, 5)
    assert ch.periods == ("2019JJ00", "2022JJ00") and ch.years == 3
    assert ch.cagr == pytest.approx(((15 / 12) ** (1 / 3) - 1) * 100)
    # and nothing within five years before the end gives no change
    assert change([("2014JJ00", 1.0), ("2025JJ00", 2.0)], 5) is None


def test_change_with_explicit_end_and_between():
    series = yearly([1, 2, 3, 4, 5, 6, 7, 8])
    assert change(series, 2, end="2019JJ00").periods == ("2017JJ00", "2019JJ00")
    assert change(series, 2, end="2030JJ00") is None
    ch = change_between(series, "2015JJ00", "2022JJ00")
    assert ch.absolute == 7 and ch.percent == pytest.approx(700)
    assert change_between(series, "2022JJ00", "2015JJ00") is None
    assert change_between(series, "2015JJ00", "2040JJ00") is None


def test_change_of_non_positive_values_has_no_percent_or_cagr():
    ch = change(yearly([-2.0, 1.0]), 5)
    assert ch.absolute == 3 and ch.percent is None and ch.cagr is None
    ch = change(yearly([0.0, 1.0]), 5)
    assert ch.percent is None and ch.cagr is None
    ch = change(yearly([2.0, 0.0]), 5)
    assert ch.percent == -100 and ch.cagr is None


@pytest.mark.parametrize("series", [[], None, [("2020JJ00", 1.0)], [("2020JJ00", None), ("2021JJ00", 2.0)],
                                    [("2020JJ00", float("nan")), ("2021JJ00", 2.0)], [("rubbish", 1), ("2021JJ00", 2)],
                                    [("2020JJ00", "x"), ("2021JJ00", 2)], [None, 3]])
def test_sparse_or_broken_series_give_none(series):
    assert change(series) is None
    assert trend(series) is None


def test_clean_sorts_and_drops_missing():
    assert [p for p, _, _ in clean([("2021JJ00", 1), ("2019JJ00", 2), ("2020JJ00", None)])] == ["2019JJ00", "2021JJ00"]


def test_theil_sen_is_robust_to_one_outlier():
    times = [0, 1, 2, 3, 4, 5]
    values = [0, 1, 2, 30, 4, 5]
    assert theil_sen(times, values) == pytest.approx(1.0)


def test_trend_directions():
    assert trend(yearly([100, 102, 104, 106, 108, 110])).direction == "stijgend"
    assert trend(yearly([110, 108, 106, 104, 102, 100])).direction == "dalend"
    assert trend(yearly([100, 100.2, 99.9, 100.1, 100, 100.1])).direction == "stabiel"
    # flat fit, big swings
    assert trend(yearly([100, 130, 100, 130, 100, 130, 100])).direction == "wisselend"
    # rising slope but most steps go down: not a robust rise
    t = trend(yearly([100, 99, 130, 129, 160, 159]))
    assert t.slope > 0 and t.agreement < 0.6 and t.direction == "wisselend"


def test_trend_uses_only_the_last_points_and_reports_them():
    series = yearly([200, 150, 100, 101, 102, 103, 104, 105, 106, 107])
    t = trend(series, points=6)
    assert t.direction == "stijgend"
    assert t.periods == ("2019JJ00", "2024JJ00") and t.n_points == 6
    assert trend(series, points=2) is None  # fewer than three points


def test_trend_slope_is_per_year_across_gaps():
    t = trend([("2014JJ00", 10.0), ("2019JJ00", 15.0), ("2025JJ00", 21.0)])
    assert t.slope == pytest.approx(1.0)
    assert t.fitted_change == pytest.approx(11.0)


def test_zwolle_population_change_from_the_store(con):
    from trendstudie.analysis import Values
    series = Values(con).series("bevolking", "GM0193")
    raw = dict(con.execute("SELECT period, value FROM indicator_values WHERE indicator_id = 'bevolking' "
                           "AND region_code = 'GM0193'").fetchall())
    last = max(raw)
    first = f"{int(last[:4]) - 5}JJ00"
    ch = change(series, 5)
    assert ch.periods == (first, last)
    assert ch.cagr == pytest.approx(((raw[last] / raw[first]) ** (1 / 5) - 1) * 100)
    assert ch.absolute == raw[last] - raw[first]


points = st.lists(st.tuples(st.integers(1990, 2030).map(lambda y: f"{y}JJ00"),
                            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32))),
                  max_size=12)


@given(points)
def test_never_raises_on_arbitrary_sparse_series(series):
    ch = change(series)
    if ch is not None:
        assert math.isclose(ch.absolute, ch.end_value - ch.start_value, rel_tol=1e-9, abs_tol=1e-9) or math.isinf(ch.absolute)
        assert period_time(ch.start_period) < period_time(ch.end_period)
    t = trend(series)
    if t is not None:
        assert t.direction in ("stijgend", "dalend", "stabiel", "wisselend")


@given(st.lists(st.floats(0.1, 1e6), min_size=3, max_size=10, unique=True))
def test_strictly_increasing_series_rise(values):
    values = sorted(values)
    series = yearly(values)
    t = trend(series)
    if abs(t.fitted_change) > 0.01 * t.level:
        assert t.direction == "stijgend"
    else:
        assert t.direction in ("stabiel", "wisselend")
