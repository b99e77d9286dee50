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
    """Households from the national headship rates by age (71488ned) and the gemeente's projected
    age structure, the stock from its trend, recomputed here from the facts and the age path."""
    import numpy as np

    from trendstudie import forecast
    from trendstudie.forecast import cohort, components
    from trendstudie.forecast.scenarios import get_scenario

    hh = _values(con, code, "a_hh")
    inw = _values(con, code, "a_inw")
    stock = _values(con, code, "a_woning")
    growth = (stock[2025] - stock[2020]) / 5

    # headship: a person living alone or as a single parent heads a household, a partner half of one
    def rates(year):
        def by_age(measure):
            values = dict(con.execute("SELECT dims, value FROM facts WHERE table_id = '71488ned' AND measure = ? "
                                      "AND region_code = 'NL01' AND period = ?", [measure, f"{year}JJ00"]).fetchall())
            return np.array([values.get(d) or 0.0 for d in cohort.REFERENCE_AGES])
        heads = by_age("Alleenstaand") + by_age("TotaalSamenwonendePersonen") / 2 + by_age("OuderInEenouderhuishouden")
        return heads / by_age("TotaalPersonenInHuishoudens")

    years = list(range(2014, 2025))
    slope = np.polyfit(years, np.log(np.maximum(np.stack([rates(y) for y in years]), 1e-300)), 1)[0]
    slope[:3] = 0.0  # nobody under 15 heads a household

    history = components.load_history(con)
    proj = components.project_all(history, 2026, 2040)
    ages, paths = forecast._all_ages(con, history, get_scenario("basis"), proj)
    five = cohort.aggregate(paths[:, history.index(code)], cohort.FIVE)

    def per_person(year):
        k = year - 2024
        h = rates(2024) * np.exp(slope * 0.95 * (1 - 0.95 ** k) / 0.05)
        return (five[ages.index(year)] * h).sum() / five[ages.index(year)].sum()

    rows = project(con, code, "basis", 2040)
    got = {(r.indicator_id, r.period): r for r in rows}
    for year in (2030, 2040):
        pop = got[("bevolking", f"{year}JJ00")].value
        size = inw[2025] / hh[2025] * per_person(2025) / per_person(year)
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


def test_own_size_trend_without_age_structure(con):
    """Without an age structure a gemeente's own damped log-linear size trend is used."""
    code = "GM0014"
    hh = _values(con, code, "a_hh")
    inw = _values(con, code, "a_inw")
    hh[2015] = _values(con, code, "TotaalAantalParticuliereHuishoudens")[2015]
    inw[2015] = _values(con, code, "TotaleBevolking")[2015]
    years = sorted(hh)
    assert years == [2015, 2020, 2021, 2022, 2023, 2024, 2025]
    # least squares of ln(size) on the year, by the textbook formula
    ys = [math.log(inw[y] / hh[y]) for y in years]
    mx, my = sum(years) / len(years), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(years, ys)) / sum((x - mx) ** 2 for x in years)
    base = households.load_housing(con, code)
    row = households.project_housing(base, {2040: 250_000.0})[0]
    cumulative = sum(slope * 0.95 ** j for j in range(1, 16))
    assert row.size == pytest.approx(max(1.3, inw[2025] / hh[2025] * math.exp(cumulative)))
    assert row.households == pytest.approx(250_000.0 / row.size)


def test_headship_rates_give_the_national_households(con):
    """The headship rates times the national five-year bands give the households of Nederland
    (KWB, all gemeenten) within 1% (the rest are other multi-person households)."""
    from trendstudie.forecast import cohort

    rates = households.headship_rates(con, 2024)
    assert (rates[:3] == 0).all() and 0.5 < rates[8] < 0.7 and rates[4] < rates[6]
    implied = (cohort.national_five_year(con, 2024) * rates).sum()
    observed = con.execute("SELECT sum(value) FROM facts WHERE measure = 'a_hh' AND period = '2024JJ00' "
                           "AND region_code LIKE 'GM%'").fetchone()[0]
    assert implied == pytest.approx(observed, rel=0.01)
    headship = households.load_headship(con, 2025)
    assert headship.year == 2024
    assert headship.slope[4] < 0 < headship.slope[18]  # young adults leave home later, the very old live alone longer


def test_headship_beats_the_own_size_trend(con):
    """Household size from 2020 … 2023 to 2025 with only earlier data, all 342 gemeenten.

    On the bundle, median absolute error from 2020: headship model 0,70%, the gemeente's own
    damped trend 0,86%, size unchanged 1,83% (90th percentile 1,75% against 2,37%)."""
    from trendstudie.forecast import components

    checks = households.check_headship(con, components.load_history(con))
    assert [c.origin for c in checks] == [2020, 2021, 2022, 2023]
    for c in checks:
        assert c.n == 342
        assert c.median <= c.median_trend and c.median < 0.6 * c.median_constant
        assert c.p90 <= 1.01 * c.p90_trend
    assert checks[0].median < 0.85 * checks[0].median_trend


def test_households_follow_the_population_in_an_old_gemeente(con):
    """Vaals is already old: households grew 14% by 2040 against 4% more inhabitants when the
    jump of its household size 2015 → 2020 (new student housing) was extrapolated as a trend.
    With its age structure the two grow alike."""
    got = {(r.indicator_id, r.period): r.value for r in project(con, "GM0981", "basis", 2040)}
    pop = _values(con, "GM0981", "a_inw")[2025]
    hh = _values(con, "GM0981", "a_hh")[2025]
    growth_pop = got[("bevolking", "2040JJ00")] / pop - 1
    growth_hh = got[("huishoudens", "2040JJ00")] / hh - 1
    assert abs(growth_hh - growth_pop) < 0.02


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
