"""Component model: rates recomputed from the facts, accounting identities, national consistency."""

from __future__ import annotations

import numpy as np
import pytest

from trendstudie.forecast import components, scenarios


@pytest.fixture(scope="module")
def history(con):
    return components.load_history(con)


def _fact(con, measure, code, year, table="37259ENG", dims="Sex=T001038"):
    row = con.execute("SELECT value FROM facts WHERE table_id = ? AND measure = ? AND dims = ? AND region_code = ? "
                      "AND period = ?", [table, measure, dims, code, f"{year}JJ00"]).fetchone()
    return row[0]


def test_history_has_342_gemeenten_from_2012_to_2026(history):
    assert len(history.codes) == 342
    assert history.pop_years[0] == 2012 and history.last_population_year() == 2026
    assert list(history.flow_years) == list(range(2012, 2024))
    # Amsterdam absorbed Weesp on 24 March 2022; 37259 publishes 2022's flows for Amsterdam with
    # Weesp included, and harmonisation keeps them (no Weesp figure is waited for)
    births = history.flow("births", 2022)[history.index("GM0363")]
    assert not np.isnan(births) and births > 9000


@pytest.mark.parametrize("code", ["GM0014", "GM0153", "GM0599"])
def test_rates_recomputed_from_facts(con, history, code):
    """Birth and departure rates and the immigration share at origin 2019, from SQL sums over 2014–2018."""
    rates = components.estimate(history, 2019, window=5)
    assert rates.window == (2014, 2018)
    i = history.index(code)
    births = sum(_fact(con, "LiveBornChildren", code, y) for y in range(2014, 2019))
    departures = sum(_fact(con, "DeparturesDueToIntermunicipalMoves", code, y) for y in range(2014, 2019))
    exposure = sum(_fact(con, "PopulationOn1January", code, y) for y in range(2014, 2019))
    assert rates.birth[i] == pytest.approx(births / exposure)
    assert rates.departure[i] == pytest.approx(departures / exposure)
    imm_nl = con.execute("SELECT sum(value) FROM facts WHERE table_id = '37259ENG' AND measure = 'DueToImmigration' "
                         "AND dims = 'Sex=T001038' AND region_code LIKE 'GM%' AND period BETWEEN '2014JJ00' AND '2018JJ00'"
                         ).fetchone()[0]
    imm = sum(_fact(con, "DueToImmigration", code, y) for y in range(2014, 2019))
    assert rates.immigration_share[i] == pytest.approx(imm / imm_nl)
    assert rates.immigration_level == pytest.approx(imm_nl / 5)


def test_rates_reproduce_the_observed_growth_in_the_window(history):
    """Corrections absorb what the flows leave unexplained: over the window the rates give the real change."""
    rates = components.estimate(history, 2019, window=5)
    years = range(2014, 2019)
    exposure = sum(history.pop(y) for y in years)
    implied = exposure * (rates.birth - rates.death - rates.emigration - rates.departure + rates.correction)
    implied += rates.immigration_share * rates.immigration_level * 5
    arrivals = sum(history.flow("arrivals", y) for y in years)
    observed = history.pop(2019) - history.pop(2014)
    np.testing.assert_allclose(implied + arrivals, observed, rtol=1e-9, atol=1e-6)


def test_domestic_moves_net_to_zero_and_gemeenten_add_up(history):
    proj = components.project_all(history, 2026, 2050)
    np.testing.assert_allclose(proj.flows["arrivals"].sum(axis=0), proj.flows["departures"].sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(proj.population.sum(axis=0), proj.national, rtol=1e-12)
    assert proj.national_gap < 0.001  # before alignment the sum of gemeenten is within 0.1% of the national run
    assert proj.population[:, 0].sum() == history.pop(2026).sum()
    # the national run is the same model on national totals: 1 January 2027 by hand
    r = proj.rates.national
    expected = history.pop(2026).sum() * (1 + r["births"] - r["deaths"] - r["emigration"] + r["correction"]) \
        + proj.rates.immigration_level
    assert proj.national[1] == pytest.approx(expected)


def test_one_year_identity_for_a_gemeente(history):
    proj = components.project_all(history, 2026, 2027)
    i = history.index("GM0599")
    f = {k: v[i, 0] for k, v in proj.flows.items()}
    raw = history.pop(2026)[i] + f["births"] - f["deaths"] + f["immigration"] - f["emigration"] \
        + f["arrivals"] - f["departures"] + f["corrections"]
    # only the proportional alignment to the national run separates the two
    assert proj.population[i, 1] == pytest.approx(raw, rel=1e-3)


def test_hcss_scenarios_move_people_not_the_national_total(con, history):
    members = scenarios.group_membership(con, history.codes)
    all_ = scenarios.load_scenarios()
    runs = {sid: components.project_all(history, 2026, 2040, adjust=scenarios.adjustments(all_[sid], history.codes, members))
            for sid in ("basis", "metropolisering", "spreiding", "de-urbanisatie", "hoog", "laag")}
    g4 = [history.index(c) for c in sorted(members["G4"])]
    for sid in ("metropolisering", "spreiding", "de-urbanisatie"):
        np.testing.assert_allclose(runs[sid].national, runs["basis"].national)
    share = {sid: run.population[g4, -1].sum() / run.national[-1] for sid, run in runs.items()}
    assert share["metropolisering"] > share["basis"] > share["spreiding"] > share["de-urbanisatie"]
    assert runs["hoog"].national[-1] > runs["basis"].national[-1] > runs["laag"].national[-1]


def test_projection_is_deterministic(history):
    a = components.project_all(history, 2026, 2040)
    b = components.project_all(history, 2026, 2040)
    np.testing.assert_array_equal(a.population, b.population)


def test_future_immigration_level_is_the_national_mean_of_2019_to_2023(con, history):
    rates = components.estimate(history, 2026)
    assert rates.window == (2019, 2023)
    nl = con.execute("SELECT avg(value) FROM facts WHERE table_id = '37259ENG' AND measure = 'DueToImmigration' "
                     "AND dims = 'Sex=T001038' AND region_code = 'NL01' AND period BETWEEN '2019JJ00' AND '2023JJ00'"
                     ).fetchone()[0]
    assert rates.immigration_level == pytest.approx(nl)
    # Amsterdam's share over the whole window, 2022 included (Weesp inside Amsterdam from then on)
    i = history.index("GM0363")
    years = (2019, 2020, 2021, 2022, 2023)
    share = sum(history.flow("immigration", y)[i] for y in years) / sum(np.nansum(history.flow("immigration", y))
                                                                      for y in years)
    assert rates.immigration_share[i] == pytest.approx(share)
