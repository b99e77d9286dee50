"""The reader of own files (sources/eigen.py) on its own: shapes, numbers, periods and names,
without a database (the region registry comes from the bundle's RegioSCodes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from trendstudie.errors import InputError
from trendstudie.geo.regions import RegionRegistry
from trendstudie.sources import eigen


@pytest.fixture(scope="module")
def registry(bundle):
    return RegionRegistry.from_regioscodes(bundle / "odata-v4" / "03759ned" / "RegioSCodes.json")


def _read(registry, tmp_path, text, name="f.csv", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return eigen.read_file(path, registry, naam="t", **kw)


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda x: round(x, 3)))
def test_dutch_and_english_numbers_read_back(x):
    dutch = f"{x:,.3f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert eigen._parse_number(dutch, ",") == pytest.approx(x, abs=1e-9)
    assert eigen._parse_number(f"{x:.3f}", ".") == pytest.approx(x, abs=1e-9)


@pytest.mark.parametrize("text", ["12a", "1,2,3", "1.2.3,4,5", "--1", "nan", "inf", "1e400"])
def test_what_is_not_a_number_is_refused(text):
    assert eigen._parse_number(text, ",") is None


def test_statline_labels_with_topic_rows_and_a_units_row(registry, tmp_path):
    text = ('"Regionale kerncijfers Nederland"\n'
            '"";"";"Bevolking";"Bevolking"\n'
            '"Regio\'s";"Perioden";"Totale bevolking";"Jonger dan 20 jaar"\n'
            '"";"";"aantal";"%"\n'
            '"Bergen (L.)";"2022 2e kwartaal";"13.112";"18,4"\n'
            '"Bergen (NH.)";"2022**";".";"x"\n'
            '"Bron: CBS"\n')
    p = _read(registry, tmp_path, text)
    assert p.shape == "statline-labels" and p.title == "Regionale kerncijfers Nederland"
    assert p.soorten == {"totale_bevolking": "aantal", "jonger_dan_20_jaar": "aandeel"}
    obs = {(o.region_code, o.measure): o for o in p.imported.observations}
    assert obs[("GM0893", "totale_bevolking")].value == 13112 and obs[("GM0893", "totale_bevolking")].period == "2022KW02"
    assert obs[("GM0893", "jonger_dan_20_jaar")].value == 18.4
    missing = obs[("GM0373", "jonger_dan_20_jaar")]
    assert missing.value is None and missing.reason == "geheim" and missing.status == "NaderVoorlopig"
    assert obs[("GM0373", "totale_bevolking")].reason == "onbekend"


def test_untyped_with_a_dimension_column(registry, tmp_path):
    text = ('"ID";"Geslacht";"RegioS";"Perioden";"TotaleBevolking_1";"Mannen_2"\n'
            '"0";"T001038   ";"GM0193    ";"2021JJ00";"  130000";"   64000.5"\n'
            '"1";"3000      ";"GM0193    ";"2021JJ00";"   64000";"       ."\n')
    p = _read(registry, tmp_path, text, soort="aantal")
    assert p.shape == "statline-codes"
    dims = {o.dims for o in p.imported.observations}
    assert dims == {"Geslacht=T001038", "Geslacht=3000"}
    assert {o.measure for o in p.imported.observations} == {"TotaleBevolking", "Mannen"}
    assert any(o.value == 64000.5 for o in p.imported.observations)


def test_codes_and_numbers_as_region(registry, tmp_path):
    p = _read(registry, tmp_path, "gemeentecode,jaar,aantal\n193,2021,5\nGM0363,2021,6\nPV23,2021,7\n", soort="aantal")
    assert {o.region_code for o in p.imported.observations} == {"GM0193", "GM0363", "PV23"}


def test_a_name_is_resolved_in_the_year_of_its_value(registry, tmp_path):
    # Súdwest-Fryslân (GM1900) since 2011; Brielle until 2023
    p = _read(registry, tmp_path, "gemeente;periode;waarde\nSudwest Fryslan;2015;1\nBrielle;2019;2\n", soort="aantal")
    assert [o.region_code for o in p.imported.observations] == ["GM1900", "GM0501"]


def test_excel_with_a_title_above_the_table(registry, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Jeugdzorg per gemeente, eigen registratie"])
    ws.append([])
    ws.append(["Gemeente", "Jaar", "Cliënten (aantal)"])
    ws.append(["Zwolle", 2023, 812])
    ws.append(["Den Haag", "2024*", "4.233"])
    wb.save(tmp_path / "j.xlsx")
    p = eigen.read_file(tmp_path / "j.xlsx", registry, naam="jeugdzorg")
    assert p.title == "Jeugdzorg per gemeente, eigen registratie" and p.soorten == {"clienten": "aantal"}
    values = {(o.region_code, o.period): (o.value, o.status) for o in p.imported.observations}
    assert values == {("GM0193", "2023JJ00"): (812, None), ("GM0518", "2024JJ00"): (4233, "Voorlopig")}


def test_excel_sheet_must_exist(registry, tmp_path):
    wb = Workbook()
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(InputError, match="geen blad 'Cijfers'"):
        eigen.read_file(tmp_path / "x.xlsx", registry, naam="x", sheet="Cijfers")


def test_no_header_row_says_what_it_looks_for(registry, tmp_path):
    with pytest.raises(InputError, match="geen kopregel gevonden"):
        _read(registry, tmp_path, "a;b;c\n1;2;3\n")


@pytest.mark.parametrize("name", ["Jeugdzorg", "a b", "", "x" * 41, "eigen:x"])
def test_names_of_imports_are_plain(name):
    with pytest.raises(Exception, match="Ongeldige naam"):
        eigen.check_name(name)


def test_a_title_with_commas_does_not_fool_the_separator(registry, tmp_path):
    text = ("Bevolking, kerncijfers; eigen selectie, 2024\n\ngemeente;periode;waarde\n"
            "Zwolle;2023;1,5\nBergen (NH.);2023;2,25\n")
    p = _read(registry, tmp_path, text, soort="gemiddelde")
    assert [o.value for o in p.imported.observations] == [1.5, 2.25]
    assert p.title == "Bevolking, kerncijfers; eigen selectie, 2024"
