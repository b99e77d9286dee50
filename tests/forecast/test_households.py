"""Households and housing need, recomputed here from the facts for a few gemeenten."""

from __future__ import annotations

import math

import pytest

from trendstudie.forecast import households, project


def _values(con, code, measure):
    return {int(p[:4]): v for p, v in con.execute(
        "SELECT period, value FROM facts WHERE region_code = ? AND measure = ?", [code, measure]).fetchall()}


@pytest.mark.parametrize("code", ["GM0363", "GM0014", "GM0153", "GM1680"])
def test_housing_projection_recomputed(con, code):
    hh = _values(con, code, "a_hh")
    inw = _values(con, code, "a_inw")
    hh[2015] = _values(con, code, "TotaalAantalParticuliereHuishoudens")[2015]
    inw[2015] = _values(con, code, "TotaleBevolking")[2015]
    stock = _values(con, code, "a_woning")
    years = sorted(hh)
    assert years == [2015, 2020, 2021, 2022, 2023, 2024, 2025]
    # least squares of ln(size) on the year, by the textbook formula
    xs = years
    ys = [math.log(inw[y] / hh[y]) for y in years]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    growth = (stock[2025] - stock[2020]) / 5

    rows = project(con, code, "basis", 2040)
    got = {(r.indicator_id, r.period): r for r in rows}
    for year in (2030, 2040):
        pop = got[("bevolking", f"{year}JJ00")].value
        cumulative = sum(slope * 0.95 ** j for j in range(1, year - 2025 + 1))
        size = max(1.3, inw[2025] / hh[2025] * math.exp(cumulative))
        n_hh = pop / size
        n_stock = stock[2025] + growth * (year - 2025)
        need = n_hh / 0.98
        p = f"{year}JJ00"
        assert got[("gemiddelde_huishoudensgrootte", p)].value == pytest.approx(size)
        assert got[("huishoudens", p)].value == pytest.approx(n_hh)
        assert got[("woningvoorraad", p)].value == pytest.approx(n_stock)
        assert got[("woningbehoefte", p)].value == pytest.approx(need)
        assert got[("woningtekort", p)].value == pytest.approx(need - n_stock)
        r = got[("huishoudens", p)]
        assert r.lower < r.value < r.upper
        assert r.origin == "2025JJ00" and r.method.startswith("huishoudensmodel")


def test_household_size_falls_slower_each_year(con):
    base = households.load_housing(con, "GM0014")
    assert households.size_slope(base.size_years, base.sizes) < 0
    steps = [households.projected_size(base, y) for y in range(2025, 2060)]
    diffs = [a - b for a, b in zip(steps, steps[1:])]
    assert all(d > 0 for d in diffs) and diffs[-1] < diffs[0] / 3
    assert households.projected_size(base, 2020) == base.sizes[-1]
    # no thinning at all keeps the size
    assert households.projected_size(base, 2040, thinning=0.0) == pytest.approx(base.sizes[-1])


def test_shortage_and_scenario_levers():
    base = households.HousingBase("GM9999", [2020, 2025], [2.2, 2.0], 2025, 1000.0, [2020, 2025], [900.0, 1000.0])
    rows = households.project_housing(base, {2030: 2100.0}, thinning=0.0, building=2.0, vacancy=0.0)
    r = rows[0]
    assert (r.size, r.households, r.stock) == (2.0, 1050.0, 1200.0)
    assert r.need == 1050.0 and r.shortage == -150.0


def test_household_and_stock_trends_beat_standing_still(con):
    """From 2022 with only earlier data to 2025, all 342 gemeenten.

    On the bundle: household size 0,56% median error (size unchanged: 1,06%), stock 0,88% (no
    building: 2,38%).
    """
    from trendstudie.forecast.components import current_gemeenten
    check = households.check_housing(con, current_gemeenten(con), origin=2022, target=2025)
    assert check.n == 342
    assert check.size_median < 0.75 * check.size_median_constant
    assert check.stock_median < 0.5 * check.stock_median_constant
    assert check.size_median < 1.0 and check.size_p90 < 2.5
