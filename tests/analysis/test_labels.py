"""Labels of reconstructed and provisional figures: one source (indicator_values' harmonised and
status columns, which the report's data appendix reads too), checked on real gemeenten."""

from __future__ import annotations

import pytest

from trendstudie.analysis.labels import FigureFlags, cited_years, status_word, years_text


@pytest.fixture(scope="module")
def flags(con) -> FigureFlags:
    return FigureFlags(con)


def test_cited_years_are_years_not_numbers():
    text = ["Inwoners: 2.019 in 2019, hoger dan Nederland (20,19).", None,
            "Gedaald van 24,8 in 2015 naar 13,6 per 1.000 inwoners in 2025 (-45,1%).", "2023-2025 samen"]
    assert cited_years(text) == {2015, 2019, 2023, 2025}


def test_years_and_status_in_words():
    assert years_text([2012, 2013, 2014]) == "2012 tot en met 2014"
    assert years_text([2019, 2020]) == "2019 en 2020"
    assert years_text([2015, 2019, 2021]) == "2015, 2019 en 2021"
    assert status_word("NaderVoorlopig") == "nader voorlopig" and status_word(None) is None


def test_flags_equal_the_store(con, flags):
    for ind, region, period, harmonised, status in con.execute(
            "SELECT indicator_id, region_code, period, harmonised, status FROM indicator_values "
            "WHERE region_code IN ('GM1992', 'GM0193', 'GM0363')").fetchall():
        assert flags.is_reconstructed(ind, region, period) == bool(harmonised)
        assert flags.is_provisional(ind, region, period) == (status in ("Voorlopig", "NaderVoorlopig"))
        assert flags.status_of(ind, region, period) == status


def test_a_new_gemeente_names_the_gemeenten_it_was_made_from(flags):
    assert flags.labels(["bevolking"], "GM1992", years={2021, 2024}) == [
        "Herberekend: de cijfers van 2021 zijn voor Voorne aan Zee van nu samengesteld uit die van Brielle, "
        "Hellevoetsluis en Westvoorne (herindeling van 2023)."]
    assert flags.labels(["bevolking"], "GM1992", years={2024, 2025}) == []  # after the merger: as published


def test_each_year_gets_its_own_reason(con, flags):
    """Groningen took in Ten Boer and Haren in 2019: figures of before are made from theirs; a
    five-year price change of 2023 rests partly on a 2018 price of before the merger."""
    years = {int(p[:4]) for p, in con.execute(
        "SELECT period FROM indicator_values WHERE indicator_id = 'verkoopprijs_groei_5j' AND region_code = 'GM0014' "
        "AND harmonised").fetchall()}
    assert {2018, 2023} <= years
    labels = flags.labels(["verkoopprijs_groei_5j"], "GM0014", years={2018, 2023})
    assert labels == [
        "Herberekend: de cijfers van 2018 zijn voor Groningen van nu samengesteld uit die van Groningen, Ten Boer en "
        "Haren (herindeling van 2019).",
        "Herberekend: de cijfers van 2023 rusten deels op cijfers van eerdere jaren van vóór de herindeling van 2019, "
        "omgerekend naar Groningen van nu."]


def test_a_boundary_change_is_not_called_a_merger(flags):
    """Leeuwarden's 2019 figures are recalculated for the 2021 boundary change with Waadhoeke."""
    labels = flags.labels(["bevolking"], "GM0080", years={2019})
    assert labels == ["Herberekend: de cijfers van 2019 zijn omgerekend naar de grenzen van Leeuwarden van nu "
                      "(grenswijziging van 2021)."]


def test_provisional_crime_figures_are_labelled(flags):
    labels = flags.labels(["misdrijven_per_1000"], "GM0193", years={2023, 2024, 2025})
    assert labels == ["Voorlopig: de cijfers van 2024 en 2025 zijn voorlopig en kunnen nog veranderen."]
    assert flags.labels(["misdrijven_per_1000"], "GM0193", years={2024, 2025}, said_provisional=[2025]) == [
        "Voorlopig: de cijfers van 2024 zijn voorlopig en kunnen nog veranderen."]
