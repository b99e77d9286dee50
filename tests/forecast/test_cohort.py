"""Age bands: the mechanics on small arrays, and the projection against the later observed age structure."""

from __future__ import annotations

import numpy as np
import pytest

from trendstudie.errors import TrendstudieError
from trendstudie.forecast import cohort, components


@pytest.fixture(scope="module")
def history(con):
    return components.load_history(con)


def test_bands_add_up_to_the_population(con, history):
    for year in (2014, 2015, 2019, 2025):
        bands, pop = cohort.load_bands(con, year, history.codes)
        assert pop.shape == (342, len(bands.names))
        # different tables and harmonisation weights: a handful of inhabitants apart at most
        np.testing.assert_allclose(pop.sum(axis=1), history.pop(year), rtol=5e-4)
    _, fine = cohort.load_bands(con, 2015, history.codes)
    assert cohort.to_coarse(fine).shape == (342, 5)
    with pytest.raises(TrendstudieError, match="2014, 2015, 2019, 2025"):
        cohort.load_bands(con, 2017, history.codes)


def test_ageing_fraction_is_one_over_width_for_flat_densities():
    bands = cohort.COARSE
    width = np.array([15, 10, 20, 20, cohort.OPEN_WIDTH], float)
    pop = (width * 1000)[None, :]  # the same number of people at every age
    frac = cohort.ageing_fraction(pop, bands)
    np.testing.assert_allclose(frac[0, :-1], 1 / width[:-1])
    assert frac[0, -1] == 0


def test_step_conserves_people_without_births_deaths_or_migration():
    bands = cohort.FINE
    rng = np.random.default_rng(7)
    pop = rng.uniform(1000, 5000, size=(4, len(bands.names)))
    p = cohort.CohortParameters(bands, np.zeros_like(pop), np.zeros(4), np.zeros_like(pop))
    nxt = cohort.step(pop, p)
    np.testing.assert_allclose(nxt.sum(axis=1), pop.sum(axis=1))
    assert (nxt[:, 0] < pop[:, 0]).all()  # nobody is born, some children turn five


def test_step_by_hand():
    bands = cohort.COARSE
    pop = np.array([[1500.0, 1000.0, 2000.0, 2000.0, 2000.0]])  # 100 per year of age everywhere
    mort = np.array([[0.0, 0.0, 0.0, 0.1, 0.0]])
    p = cohort.CohortParameters(bands, mort, np.array([0.05]), np.array([[0.0, 0.01, 0.0, 0.0, 0.0]]))
    nxt = cohort.step(pop, p, ageing="uniform")
    # 0-14: −1/15 ageing out, +5% of 25-44 born; 15-24: +100 in, −100 out, +1% migration of 1000
    expected = [1500 - 100 + 100, 1000 + 100 - 100 + 10, 2000 + 100 - 100, 1800 - 90 + 100, 2000 + 90]
    np.testing.assert_allclose(nxt[0], expected)


def test_mortality_matches_the_crude_death_rate():
    bands = cohort.FINE
    pop = np.array([[900.0, 900, 900, 900, 900, 4000, 4500, 2500, 800]])
    m = cohort.mortality_for(bands, pop, np.array([0.009]))
    assert (m * pop).sum() == pytest.approx(0.009 * pop.sum())


def test_age_structure_2019_to_2025_against_observed(con, history):
    """KWB 2019 bands projected six years, profiles from 2014→2019, against 70072ned 2025.

    Result on the bundle: mean absolute error of the five band shares 0.84 percentage points
    per gemeente (keeping the 2019 structure: 1.33); largest single error under 4 points.
    """
    rates = components.estimate(history, 2019)
    check = cohort.check_against_observed(con, history, rates, earlier=2014, origin=2019, target=2025)
    assert check.bands is cohort.COARSE
    assert check.share_mae < 0.9
    assert check.share_mae < 0.75 * check.share_mae_constant
    assert check.max_share_error < 4.5
    assert np.abs(check.national_share_error).max() < 1.5
    assert (check.band_mape < 7).all()


def test_age_structure_2015_to_2025_against_observed(con, history):
    """Fine bands over ten years: 0.75 points (keeping 2015's structure: 1.13; uniform ages within bands: 1.02)."""
    rates = components.estimate(history, 2015, window=3)
    check = cohort.check_against_observed(con, history, rates, earlier=2014, origin=2015, target=2025)
    assert check.bands is cohort.FINE
    assert check.share_mae < 0.8
    assert check.share_mae < check.share_mae_constant
    assert check.share_mae < check.share_mae_uniform
    assert check.share_mae < check.share_mae_no_local


def test_shares_per_registry_indicator():
    pop = np.array([[10.0, 10, 10, 10, 10, 20, 15, 10, 5]])
    s = cohort.shares(pop, cohort.FINE)
    assert s["aandeel_0_15"][0] == pytest.approx(30.0)
    assert s["aandeel_65_plus"][0] == pytest.approx(15.0)
    assert s["aandeel_80_plus"][0] == pytest.approx(5.0)
    assert "aandeel_80_plus" not in cohort.shares(cohort.to_coarse(pop), cohort.COARSE)


@pytest.mark.parametrize("code", ["GM0344", "GM0080"])
def test_shares_of_observed_bands_match_the_registry(con, history, code):
    """The projection's indicators are defined as the registry defines them (checked on 2025)."""
    bands, pop = cohort.load_bands(con, 2025, history.codes)
    got = cohort.shares(pop[history.index(code)][None, :], bands)
    want = dict(con.execute("SELECT indicator_id, value FROM indicator_values WHERE region_code = ? "
                            "AND period = '2025JJ00'", [code]).fetchall())
    for ind in ("aandeel_0_15", "aandeel_65_plus", "aandeel_80_plus", "grijze_druk", "groene_druk"):
        assert got[ind][0] == pytest.approx(want[ind], rel=1e-9), ind
