"""Phrases in Dutch: thresholds on their boundaries, Dutch numbers, no sentence without data."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from trendstudie.analysis.change import Change, change
from trendstudie.analysis.phrases import (assessment, change_assessment, change_phrase, change_rank_phrase,
                                          format_number, format_percent, rank_phrase, ratio_phrase, ratio_words,
                                          trend_phrase)
from trendstudie.analysis.change import trend


@pytest.mark.parametrize("value, decimals, unit, expected", [
    (1234567.891, 1, None, "1.234.567,9"),
    (1234.5, 0, "inwoners", "1.235 inwoners"),
    (12.345, 1, "%", "12,3%"),
    (0.523, 2, "% per jaar", "0,52% per jaar"),
    (312000, 0, "euro", "€ 312.000"),
    (32.1, 1, "x 1.000 euro", "€ 32.100"),
    (5.24, 1, "per 1.000 inwoners", "5,2 per 1.000 inwoners"),
    (-3.25, 1, "per 1.000 inwoners", "-3,3 per 1.000 inwoners"),
    (-0.01, 1, "", "0,0"),
])
def test_format_number(value, decimals, unit, expected):
    assert format_number(value, decimals, unit) == expected


def test_format_number_without_data():
    assert format_number(None, 1, "%") is None
    assert format_number(float("nan"), 1, "%") is None


def test_format_percent():
    assert format_percent(18.0) == "+18,0%"
    assert format_percent(-3.21) == "-3,2%"
    assert format_percent(0.0) == "0,0%"


@pytest.mark.parametrize("r, expected", [
    (1.0, "ongeveer gelijk aan"),
    (1.05, "ongeveer gelijk aan"),  # boundary: still equal
    (0.95, "ongeveer gelijk aan"),
    (1.0501, "iets hoger dan"),
    (0.9499, "iets lager dan"),
    (1.15, "iets hoger dan"),
    (0.85, "iets lager dan"),
    (1.23, "ongeveer 25% hoger dan"),
    (1.225, "ongeveer 25% hoger dan"),  # half rounds up, not to even
    (1.16, "ongeveer 15% hoger dan"),
    (1.34, "ongeveer 35% hoger dan"),
    (1.35, "bijna anderhalf keer zo hoog als"),
    (0.84, "ongeveer 15% lager dan"),
    (0.55, "ongeveer 45% lager dan"),
    (0.5499, "ruim de helft van"),  # 10% above one half
    (0.70, "ongeveer 30% lager dan"),
    (1.5, "anderhalf keer zo hoog als"),
    (2.0, "twee keer zo hoog als"),  # exactly twice
    (1.95, "ongeveer twee keer zo hoog als"),
    (2.05, "ongeveer twee keer zo hoog als"),
    (2.2, "ruim twee keer zo hoog als"),
    (1.8, "bijna twee keer zo hoog als"),
    (2.8, "bijna drie keer zo hoog als"),
    (2.5, "tweeënhalf keer zo hoog als"),
    (10.0, "tien keer zo hoog als"),
    (11.0, "meer dan tien keer zo hoog als"),
    (0.5, "de helft van"),
    (0.52, "ongeveer de helft van"),
    (0.45, "bijna de helft van"),
    (1 / 3, "een derde van"),
    (0.26, "ongeveer een kwart van"),
    (0.1, "een tiende van"),
    (0.05, "minder dan een tiende van"),
])
def test_ratio_words_boundaries(r, expected):
    assert ratio_words(r) == expected


def test_ratio_words_never_for_non_positive():
    assert ratio_words(0) is None
    assert ratio_words(-2) is None
    assert ratio_words(float("nan")) is None


def test_ratio_phrase_with_labels_and_judgement():
    assert ratio_phrase(2.2, 1.0, "het G40-gemiddelde") == "ruim twee keer zo hoog als het G40-gemiddelde"
    assert ratio_phrase(101, 100, "Nederland") == "ongeveer gelijk aan Nederland"
    assert ratio_phrase(9, 10, "Nederland", direction="hoger is slechter") == "iets lager dan Nederland (gunstig)"
    assert ratio_phrase(9, 10, "Nederland", direction="hoger is beter") == "iets lager dan Nederland (ongunstig)"
    assert ratio_phrase(9, 10, "Nederland", direction="neutraal") == "iets lager dan Nederland"
    # about equal never gets a judgement
    assert ratio_phrase(10.2, 10, "Nederland", direction="hoger is beter") == "ongeveer gelijk aan Nederland"


def test_ratio_phrase_zero_negative_and_tiny_denominators_give_differences():
    # zero value: no ratio
    assert ratio_phrase(0, 2.5, "Nederland", 1, "per 1.000 inwoners") == "2,5 per 1.000 inwoners lager dan Nederland"
    # negative values
    assert ratio_phrase(-3.2, 1.5, "het G40-gemiddelde", 1, "per 1.000 inwoners") == \
        "4,7 per 1.000 inwoners lager dan het G40-gemiddelde"
    assert ratio_phrase(2.0, -1.0, "Nederland", 1, "per 1.000 inwoners") == "3,0 per 1.000 inwoners hoger dan Nederland"
    # a reference that shows as 0,0 at one decimal: a ratio of 200 would be nonsense
    assert ratio_phrase(2.0, 0.01, "Nederland", 1, "per 1.000 inwoners") == "2,0 per 1.000 inwoners hoger dan Nederland"
    # ... but at two decimals 0,01 is a real number
    assert ratio_phrase(2.0, 0.01, "Nederland", 2, "%") == "meer dan tien keer zo hoog als Nederland"
    # shares differ in procentpunt
    assert ratio_phrase(2.0, 5.0, "Nederland", 1, "%", ratio=False) == "3,0 procentpunt lager dan Nederland"
    # the difference vanishes at the decimals shown
    assert ratio_phrase(0.0, 0.01, "Nederland", 1, "%") == "gelijk aan Nederland"
    assert ratio_phrase(-1.0, -1.0, "Nederland", 1, "%") == "gelijk aan Nederland"


def test_no_data_no_phrase():
    assert ratio_phrase(None, 1.0, "Nederland") is None
    assert ratio_phrase(1.0, None, "Nederland") is None
    assert ratio_phrase(1.0, float("nan"), "Nederland") is None
    assert ratio_phrase(1.0, 1.0, "") is None
    assert change_phrase(None) is None
    assert trend_phrase(None) is None


def test_assessment():
    assert assessment(12, 10, "hoger is beter") == "gunstig"
    assert assessment(12, 10, "hoger is slechter") == "ongunstig"
    assert assessment(12, 10, "neutraal") is None
    assert assessment(10.4, 10, "hoger is beter") is None
    assert assessment(-2, 1, "hoger is beter", 1) == "ongunstig"
    assert assessment(None, 1, "hoger is beter") is None


@pytest.mark.parametrize("rank, n, ties, expected", [
    (1, 43, 0, "de hoogste van alle M50-gemeenten"),
    (43, 43, 0, "de laagste van alle M50-gemeenten"),
    (2, 43, 0, "de op één na hoogste van de 43 M50-gemeenten"),
    (42, 43, 0, "de op één na laagste van de 43 M50-gemeenten"),
    (3, 43, 0, "op plaats 3 van de 43 M50-gemeenten"),
    (1, 43, 1, "gedeeld de hoogste van alle M50-gemeenten"),
    (42, 43, 1, "gedeeld de laagste van alle M50-gemeenten"),
    (3, 43, 2, "gedeeld op plaats 3 van de 43 M50-gemeenten"),
    (1, 2, 0, "de hoogste van alle M50-gemeenten"),
])
def test_rank_phrase(rank, n, ties, expected):
    assert rank_phrase(rank, n, "M50-gemeenten", ties) == expected


def test_rank_phrase_without_a_group():
    assert rank_phrase(1, 1, "M50-gemeenten") is None
    assert rank_phrase(None, 40, "G40-gemeenten") is None
    assert rank_phrase(41, 40, "G40-gemeenten") is None
    assert rank_phrase(0, 40, "G40-gemeenten") is None


def test_change_phrase():
    ch = change([("2021JJ00", 1234.0), ("2026JJ00", 1456.0)])
    assert change_phrase(ch, 0, "") == "tussen 2021 en 2026 gestegen van 1.234 naar 1.456 (+18,0%)"
    assert change_phrase(ch, 0, "inwoners", with_periods=False) == "gestegen van 1.234 naar 1.456 inwoners (+18,0%)"
    down = change([("2020JJ00", 16.2), ("2025JJ00", 14.6)])
    assert change_phrase(down, 1, "%") == "tussen 2020 en 2025 gedaald van 16,2% naar 14,6% (-1,6 procentpunt)"
    neg = change([("2018JJ00", -1.5), ("2023JJ00", 2.0)])
    assert change_phrase(neg, 1, "per 1.000 inwoners") == "tussen 2018 en 2023 gestegen van -1,5 naar 2,0 per 1.000 inwoners"
    same = change([("2018JJ00", 5.01), ("2023JJ00", 4.99)])
    assert change_phrase(same, 0, "per 1.000 inwoners") == "tussen 2018 en 2023 gelijk gebleven op 5 per 1.000 inwoners"
    # a change that shows only at more decimals is shown with them
    small = change([("2020JJ00", 0.83), ("2025JJ00", 0.78)])
    assert change_phrase(small, 1, "per 1.000 inwoners").startswith("tussen 2020 en 2025 gedaald van 0,83 naar 0,78")
    euro = change([("2020JJ00", 300000.0), ("2025JJ00", 450000.0)])
    assert change_phrase(euro, 0, "euro") == "tussen 2020 en 2025 gestegen van € 300.000 naar € 450.000 (+50,0%)"


def test_change_assessment():
    up = Change("2020JJ00", "2025JJ00", 1.0, 2.0, 5, 1.0, 100.0, 14.9)
    assert change_assessment(up, "hoger is beter") == "gunstig"
    assert change_assessment(up, "hoger is slechter") == "ongunstig"
    assert change_assessment(up, "neutraal") is None
    assert change_assessment(None, "hoger is beter") is None


def test_change_rank_phrase():
    assert change_rank_phrase(1, 43, "M50-gemeenten", 3.2) == "sneller gegroeid dan alle andere M50-gemeenten"
    assert change_rank_phrase(1, 43, "M50-gemeenten", -0.5) == "minder gekrompen dan alle andere M50-gemeenten"
    assert change_rank_phrase(43, 43, "M50-gemeenten", -3.0) == "sterker gekrompen dan alle andere M50-gemeenten"
    assert change_rank_phrase(43, 43, "M50-gemeenten", 1.0) == "langzamer gegroeid dan alle andere M50-gemeenten"
    assert change_rank_phrase(1, 40, "G40-gemeenten", 2.0, growth=False) == "sterker gestegen dan alle andere G40-gemeenten"
    assert change_rank_phrase(40, 40, "G40-gemeenten", -2.0, growth=False) == "sterker gedaald dan alle andere G40-gemeenten"
    assert change_rank_phrase(3, 40, "G40-gemeenten", 2.0) == "qua groei op plaats 3 van de 40 G40-gemeenten"
    assert change_rank_phrase(1, 40, "G40-gemeenten", 2.0, ties=1) == "qua groei gedeeld op plaats 1 van de 40 G40-gemeenten"
    assert change_rank_phrase(1, 1, "G40-gemeenten", 2.0) is None
    assert change_rank_phrase(1, 40, "G40-gemeenten", None) is None


def test_trend_phrase():
    t = trend([("2019JJ00", 1.0), ("2020JJ00", 2.0), ("2021JJ00", 3.0)])
    assert trend_phrase(t) == "stijgend tussen 2019 en 2021"


finite = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(finite, finite, st.integers(0, 3), st.sampled_from(["", "%", "euro", "per 1.000 inwoners", "x 1.000 euro"]),
       st.sampled_from(["hoger is beter", "hoger is slechter", "neutraal", None]))
def test_phrases_never_raise_or_print_placeholders(value, reference, decimals, unit, direction):
    text = ratio_phrase(value, reference, "Nederland", decimals, unit, direction)
    if text is not None:
        assert "n.v.t" not in text and "None" not in text and "nan" not in text.lower()
        assert text.endswith("Nederland") or text.endswith("gunstig)")


def test_change_phrase_without_percentage_for_balances():
    ch = change([("2018JJ00", 6.1), ("2023JJ00", 2.0)])
    assert change_phrase(ch, 1, "per 1.000 inwoners", percent=False) == \
        "tussen 2018 en 2023 gedaald van 6,1 naar 2,0 per 1.000 inwoners"


def test_never_a_change_between_equal_printed_numbers():
    """0,001 to 0,0012 is +20%, but even with two more decimals both read 0,00: 'gelijk gebleven', not
    'gestegen van 0,00 naar 0,00'."""
    tiny = Change("2020JJ00", "2025JJ00", 0.001, 0.0012, 5, 0.0002, 20.0, 3.7)
    assert change_phrase(tiny, decimals=0).startswith("tussen 2020 en 2025 gelijk gebleven op")
