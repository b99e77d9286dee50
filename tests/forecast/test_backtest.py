"""Backtest of the component model on the real bundle: the 5-year comparison with naive baselines."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from trendstudie.forecast.backtest import backtest_history, error_bands
from trendstudie.forecast import components


@pytest.fixture(scope="module")
def history(con):
    return components.load_history(con)


@pytest.fixture(scope="module")
def table(history):
    return backtest_history(history)


def test_backtest_covers_all_gemeenten_and_origins(table):
    assert {r.origin for r in table.rows} == {2017, 2018, 2019, None}
    for origin in (2017, 2018, 2019):
        assert table.row(origin, 5, "componentenmodel").n == 342
    assert table.row(None, 5, "componentenmodel").n == 3 * 342
    # 2019 reaches 1 January 2026, the last observed year: horizon 7 and no further
    assert max(r.horizon for r in table.rows if r.origin == 2019) == 7


@pytest.mark.parametrize("origin", [2017, 2018, 2019, None])
def test_component_model_beats_constant_growth_at_five_years(table, origin):
    comp = table.row(origin, 5, "componentenmodel")
    growth = table.row(origin, 5, "constante groei")
    still = table.row(origin, 5, "geen verandering")
    assert comp.median_ape < growth.median_ape
    assert comp.median_ape < still.median_ape
    assert comp.median_ape < 2.0  # per gemeente, five years ahead


def test_backtest_values_recomputed_for_the_naive_baselines(table, history):
    # no change from 2019, compared with 1 January 2024, computed here without the module
    start, obs = history.pop(2019), history.pop(2024)
    ape = np.abs(start / obs - 1) * 100
    row = table.row(2019, 5, "geen verandering")
    assert row.median_ape == pytest.approx(float(np.median(ape)))
    growth = (start / history.pop(2014)) ** (1 / 5)
    ape = np.abs(start * growth ** 5 / obs - 1) * 100
    assert table.row(2019, 5, "constante groei").p90_ape == pytest.approx(float(np.percentile(ape, 90)))


def test_backtest_uses_only_data_before_the_origin(history):
    """Scrambling everything from the origin on must not change the projection from that origin."""
    spoiled = copy.deepcopy(history)
    origin = 2019
    spoiled.population[:, spoiled.pop_years > origin] *= 3.0
    for arr in spoiled.flows.values():
        arr[:, spoiled.flow_years >= origin] = np.nan
    a = components.project_all(history, origin, 2024)
    b = components.project_all(spoiled, origin, 2024)
    np.testing.assert_array_equal(a.population, b.population)


def test_format_is_a_dutch_table(table):
    text = table.format(horizons=(5,))
    assert "Mediane fout" in text and "componentenmodel" in text and "constante groei" in text
    assert "5 jaar" in text and "1 jaar" not in text
    row = table.row(None, 5, "componentenmodel")
    assert f"{row.median_ape:.2f}".replace(".", ",") + "%" in text
    assert "1.026" in text  # thousands separator: three origins × 342 gemeenten
    md = table.markdown(horizons=(5,))
    assert md.startswith("| Startjaar |") and md.count("\n") == 2 + 4 * 3 - 1


def test_error_bands_grow_with_horizon_and_size(table):
    bands = error_bands(table)
    assert bands.max_horizon == 7
    for cls in range(3):
        assert bands.quantiles[(cls, 1)] < bands.quantiles[(cls, 5)] < bands.quantiles[(cls, 7)]
    # small gemeenten are harder to project than large ones
    assert bands.quantiles[(0, 5)] > bands.quantiles[(2, 5)]
    lo, hi = bands.interval(10_000.0, 10_000.0, 14)
    q = bands.quantiles[(0, 7)] * 2
    assert (lo, hi) == pytest.approx((10_000 * (1 - q), 10_000 * (1 + q)))
    assert bands.interval(5.0, 10_000.0, 0) == (5.0, 5.0)


def test_backtest_is_deterministic(history, table):
    again = backtest_history(history)
    assert [(r.origin, r.horizon, r.method, r.median_ape, r.p90_ape) for r in again.rows] == \
        [(r.origin, r.horizon, r.method, r.median_ape, r.p90_ape) for r in table.rows]


def test_unusable_origin_is_explained(history):
    from trendstudie.errors import TrendstudieError
    with pytest.raises(TrendstudieError, match="2026"):
        backtest_history(history, origins=(2026,))
    with pytest.raises(TrendstudieError, match="ontbreekt de bevolking"):
        backtest_history(history, origins=(2015,))


def test_single_origin_has_no_pooled_rows(history):
    one = backtest_history(history, origins=(2019,))
    assert {r.origin for r in one.rows} == {2019}
    assert "alle" not in one.format()
