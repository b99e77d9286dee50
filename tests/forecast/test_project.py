"""project(): the rows the CLI and report get, for a gemeente and a scenario."""

from __future__ import annotations

import pytest

from trendstudie.errors import TrendstudieError
from trendstudie.forecast import METHODS, project


@pytest.fixture(scope="module")
def rows(con):
    return project(con, "GM0344", "basis", 2050)


def test_rows_cover_the_models(rows):
    by = {}
    for r in rows:
        by.setdefault(r.indicator_id, []).append(r)
    assert [r.period for r in by["bevolking"]] == [f"{y}JJ00" for y in range(2027, 2051)]
    assert {r.method for r in by["bevolking"]} == {METHODS["components"]}
    assert {r.method for r in by["aandeel_65_plus"]} == {METHODS["cohort"]}
    assert {r.method for r in by["woningtekort"]} == {METHODS["households"]}
    trend = [r for r in rows if r.method == METHODS["trend"]]
    assert trend and all(int(r.period[:4]) - int(r.origin[:4]) <= 10 for r in trend)
    assert {r.region_code for r in rows} == {"GM0344"} and {r.scenario for r in rows} == {"basis"}


def test_intervals_contain_the_value_and_widen(rows):
    for r in rows:
        if r.lower is not None:
            assert r.lower <= r.value <= r.upper, r
    pop = [r for r in rows if r.indicator_id == "bevolking"]
    widths = [(r.upper - r.lower) / r.value for r in pop]
    assert all(b >= a for a, b in zip(widths, widths[1:]))
    assert pop[0].origin == "2026JJ00"


def test_age_shares_add_up(rows):
    for period in ("2030JJ00", "2050JJ00"):
        total = sum(r.value for r in rows if r.period == period and r.indicator_id in
                    ("aandeel_0_15", "aandeel_15_25", "aandeel_25_45", "aandeel_45_65", "aandeel_65_plus"))
        assert total == pytest.approx(100.0)


def test_deterministic(con, rows):
    assert project(con, "GM0344", "basis", 2050) == rows


def test_bad_requests_are_explained(con):
    with pytest.raises(TrendstudieError, match="geen huidige gemeente"):
        project(con, "GM0001", "basis", 2040)
    with pytest.raises(TrendstudieError, match="eindjaar"):
        project(con, "GM0344", "basis", 2026)
    with pytest.raises(TrendstudieError, match="Onbekend scenario"):
        project(con, "GM0344", "midden", 2040)


def test_groups_are_sums_of_their_gemeenten(con):
    g4 = ("GM0344", "GM0363", "GM0518", "GM0599")
    group = {(r.indicator_id, r.period): r for r in project(con, "G4", "spreiding", 2035)}
    parts = [{(r.indicator_id, r.period): r for r in project(con, c, "spreiding", 2035)} for c in g4]
    for ind in ("bevolking", "huishoudens", "woningvoorraad", "woningtekort"):
        assert group[(ind, "2035JJ00")].value == pytest.approx(sum(p[(ind, "2035JJ00")].value for p in parts))
    # shares of a group come from its summed bands: between the smallest and largest member
    share = group[("aandeel_65_plus", "2035JJ00")].value
    members = [p[("aandeel_65_plus", "2035JJ00")].value for p in parts]
    assert min(members) < share < max(members)
    assert {r.region_code for r in group.values()} == {"G4"}


def test_nederland_is_the_national_run(con):
    from trendstudie.forecast import components
    rows = {(r.indicator_id, r.period): r for r in project(con, "NL01", "hoog", 2040)}
    history = components.load_history(con)
    r = rows[("bevolking", "2040JJ00")]
    assert r.lower < r.value < r.upper
    # 65+ grows nationally from its 2025 share (ageing), also in the high-migration scenario
    observed = con.execute("SELECT value FROM indicator_values WHERE indicator_id = 'aandeel_65_plus' "
                           "AND region_code = 'NL01' AND period = '2025JJ00'").fetchone()[0]
    assert rows[("aandeel_65_plus", "2040JJ00")].value > observed
    assert r.value > history.pop(2026).sum()


def _shares(con, code, scenario="basis", until=2040):
    rows = project(con, code, scenario, until)
    return {(r.indicator_id, int(r.period[:4])): r.value for r in rows}


def _observed(con, code, indicator, year=2025):
    return con.execute("SELECT value FROM indicator_values WHERE indicator_id = ? AND region_code = ? AND period = ?",
                       [indicator, code, f"{year}JJ00"]).fetchone()[0]


@pytest.mark.parametrize("code", ["GM0014", "GM0503", "GM0268", "GM0289"])  # Groningen, Delft, Nijmegen, Wageningen
def test_student_towns_keep_their_young_adults(con, code):
    """A new cohort of students moves in every year and graduates leave: the 15-25 share stays
    near its level (it used to fall from 22.0% to 9.0% in Groningen by 2040, with 0-15 rising
    from 11.4% to 18.0%), as in PBL/CBS projections."""
    got = _shares(con, code)
    for year in (2030, 2040):
        assert abs(got[("aandeel_15_25", year)] - _observed(con, code, "aandeel_15_25")) < 2.5, year
        assert abs(got[("aandeel_0_15", year)] - _observed(con, code, "aandeel_0_15")) < 2.5, year
        assert abs(got[("aandeel_45_65", year)] - _observed(con, code, "aandeel_45_65")) < 4, year


@pytest.mark.parametrize("code", ["GM0363", "GM0193", "GM0981", "GM1979", "GM0765", "NL01"])
def test_age_shares_change_gradually(con, code):
    """No share moves more than 6 points in 15 years anywhere in this set (a big city, a G40 town,
    a border gemeente, shrinking rural ones, Nederland: the baby boom leaving 45-65 is the largest
    move), the youngest shares hardly move, and 80+ grows everywhere."""
    got = _shares(con, code)
    for ind in ("aandeel_0_15", "aandeel_15_25", "aandeel_25_45", "aandeel_45_65", "aandeel_65_plus"):
        assert abs(got[(ind, 2040)] - _observed(con, code, ind)) < 6, ind
    for ind in ("aandeel_0_15", "aandeel_15_25"):
        assert abs(got[(ind, 2040)] - _observed(con, code, ind)) < 3, ind
    assert got[("aandeel_80_plus", 2040)] > _observed(con, code, "aandeel_80_plus")


def test_age_structure_adds_up_to_the_component_model(con):
    """Every year and every gemeente: the single years add up to the component model's total, and
    the five shares to 100%, in every scenario (also far ahead and when gemeenten shrink)."""
    import numpy as np

    from trendstudie import forecast
    from trendstudie.forecast import components
    from trendstudie.forecast.scenarios import adjustments, get_scenario, group_membership

    history = components.load_history(con)
    members = group_membership(con, history.codes)
    for sid in ("basis", "laag", "de-urbanisatie"):
        scenario = get_scenario(sid)
        proj = components.project_all(history, 2026, 2070, adjust=adjustments(scenario, history.codes, members))
        years, paths = forecast._all_ages(con, history, scenario, proj)
        assert years[0] == 2025 and years[-1] == 2070
        assert (paths >= 0).all()
        np.testing.assert_allclose(paths[1:].sum(axis=-1), proj.population.T, rtol=1e-9)
    for period in (2030, 2050):
        rows = _shares(con, "GM0014", "laag", 2050)
        assert sum(rows[(ind, period)] for ind in ("aandeel_0_15", "aandeel_15_25", "aandeel_25_45", "aandeel_45_65",
                                                    "aandeel_65_plus")) == pytest.approx(100.0)
