"""The herindeling parser and the conversion of old codes to today's, on CBS's real texts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from trendstudie.errors import InputError
from trendstudie.geo.herindeling import Conversion, Transfer, parse_description
from trendstudie.geo.regions import RegionRegistry


@pytest.fixture(scope="module")
def raw(bundle):
    rows = json.loads((bundle / "odata-v4/03759ned/RegioSCodes.json").read_text(encoding="utf-8"))["value"]
    return {r["Identifier"].strip(): r for r in rows}


@pytest.fixture(scope="module")
def registry(bundle):
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


def test_every_gemeente_code_since_1988_is_registered(registry, raw):
    gm = [c for c in raw if c.startswith("GM")]
    assert len(gm) == 835
    assert all(c in registry.regions for c in gm)


@pytest.mark.parametrize("day, count", [(date(2012, 1, 1), 415), (date(2019, 1, 1), 355), (date(2021, 1, 1), 352),
                                        (date(2023, 1, 1), 342), (date(2026, 1, 1), 342)])
def test_number_of_gemeenten_on_a_date(registry, day, count):
    # CBS's published counts of gemeenten on 1 January of each year.
    assert len(registry.gemeenten_on(day)) == count


def test_current_gemeenten_equal_the_2023_list(registry, bundle):
    import csv
    with open(bundle / "raw/edugis-repo__cbsbuurtwijkgemeente/gemeenten-alfabetisch-2023.csv", encoding="utf-8") as f:
        codes = {row["GemeentecodeGM"] for row in csv.DictReader(f)}
    assert set(registry.current_gemeenten()) == codes


def test_voorne_aan_zee_is_formed_from_three(raw):
    hist = parse_description("GM1992", raw["GM1992"]["Description"])
    assert hist.valid_from == date(2023, 1, 1)
    got = {(t.from_code, t.inhabitants, t.dwellings, t.hectares) for t in hist.transfers}
    assert got == {("GM0501", 18024, 8301, 2755.0), ("GM0530", 40930, 18200, 4106.0), ("GM0614", 14991, 6987, 5316.0)}


def test_weesp_ends_mid_year_and_goes_to_amsterdam(registry):
    weesp = registry.regions["GM0457"]
    assert weesp.valid_to == date(2022, 3, 24)
    t = [t for t in registry.transfers if t.from_code == "GM0457" and t.to_code == "GM0363"]
    assert len(t) == 1 and t[0].inhabitants == 20766 and t[0].kind == "herindeling"


def test_a_merger_does_not_list_the_surviving_gemeente_as_its_own_source(raw):
    hist = parse_description("GM0014", raw["GM0014"]["Description"])
    assert all(t.from_code != t.to_code for t in hist.transfers)
    sources_2019 = {t.from_code for t in hist.transfers if t.date == date(2019, 1, 1)}
    assert sources_2019 == {"GM0009", "GM0017"}


def test_rename_with_new_code_ends_the_old_code(registry):
    assert registry.regions["GM1921"].valid_to == date(2015, 7, 1)
    assert registry.regions["GM1940"].valid_from == date(2015, 7, 1)


def test_singular_forms_and_missing_parts_are_read(raw):
    hist = parse_description("GM0202", raw["GM0202"]["Description"])  # '... 1 woning en 2 inwoners'
    t = [t for t in hist.transfers if t.date == date(1996, 1, 1)][0]
    assert (t.hectares, t.dwellings, t.inhabitants) == (None, 1, 2)


def test_haaren_split_goes_to_four_by_inhabitants(registry):
    conv = registry.conversion(lambda code, when, basis: None)
    w = conv.weights("GM0788", date(2020, 1, 1)).shares
    total = 2149 + 5827 + 1442 + 4900
    assert w == pytest.approx({"GM0757": 2149 / total, "GM0824": 5827 / total, "GM0855": 1442 / total, "GM0865": 4900 / total})


def test_boundary_change_moves_a_share_by_the_size_lookup():
    transfers = [Transfer(date(2014, 1, 1), "GM0394", "GM0363", "grenswijziging", 1, 0, 170)]
    conv = Conversion(transfers, {"GM0394": None, "GM0363": None}, lambda c, d, b: 100_000.0 if c == "GM0394" else None)
    w = conv.weights("GM0394", date(2013, 1, 1)).shares
    assert w == pytest.approx({"GM0363": 0.0017, "GM0394": 0.9983})
    assert conv.weights("GM0394", date(2014, 1, 1)).shares == {"GM0394": 1.0}


def test_unknown_line_is_an_error_naming_code_and_line():
    with pytest.raises(InputError) as e:
        parse_description("GM9999", "Begindatum voor 1830\r\nIets heel anders\r\n")
    assert "GM9999" in str(e.value) and "regel 2" in str(e.value)


def test_bad_date_is_an_error():
    with pytest.raises(InputError, match="ongeldige datum"):
        parse_description("GM9999", "Opgeheven per 31-02-2020, overgegaan naar:\n- X (GM0001),\n... 1 hectare met 1 woning en 1 inwoner")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mangled_descriptions_parse_or_fail_clearly(raw, data):
    text = raw[data.draw(st.sampled_from(sorted(c for c in raw if c.startswith("GM"))))]["Description"]
    lines = text.split("\r\n")
    op = data.draw(st.sampled_from(["drop", "swap", "garble", "truncate", "digits"]))
    if op == "drop" and lines:
        del lines[data.draw(st.integers(0, len(lines) - 1))]
    elif op == "swap" and len(lines) > 1:
        i = data.draw(st.integers(0, len(lines) - 2))
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif op == "garble":
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = data.draw(st.text(max_size=60))
    elif op == "truncate":
        lines = "\r\n".join(lines)[: data.draw(st.integers(0, len(text)))].split("\r\n")
    else:
        lines = [l.replace("0", data.draw(st.sampled_from(["9", "", "x", "00"]))) for l in lines]
    try:
        hist = parse_description("GM0001", "\r\n".join(lines))
    except InputError as e:
        assert "GM0001" in str(e)
    else:
        assert all(t.from_code != t.to_code for t in hist.transfers)
