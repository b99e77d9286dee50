"""The raw exports of the bundle (StatLine CSV downloads, their spreadsheet variants, v3
UntypedDataSet and cbsodata CSVs), read through exports.yaml and checked against values read
independently with the csv module."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trendstudie.errors import InputError
from trendstudie.geo.regions import RegionRegistry
from trendstudie.sources.cbsodata_csv import read_cbsodata_csv, read_untyped_csv, read_v3_csv, topic_columns
from trendstudie.sources.exports import load_spec, read_all
from trendstudie.sources.records import Imported, MeasureMeta
from trendstudie.sources.statline_csv import aggregation_for_unit, parse_period, read_statline_csv

DAVE = "raw/Dave01293__EBEProgramming/data/"
SWIENN = "raw/Swienn__ScientificDataAnalysisProject/Data/Regionale_kerncijfers_Nederland_11122025_133649.csv"
DAAN_PRICES = "raw/Daan-Blok__ProgrammingForEconomists/83625NED_UntypedDataSet_05062025_101716.csv"
DAAN_HH = "raw/Daan-Blok__ProgrammingForEconomists/71488ned_UntypedDataSet_05062025_175816.csv"
IJH = "raw/IJHidding__Programming1Project/Data/70072ned_UntypedDataSet_29122019_191739.csv"
RUBEN = "raw/rubennaatje__R-datascience-project-/datasets/70072ned_UntypedDataSet_06062018_000805.csv"
VALENTE = "raw/ValenteMendez__population-dynamics-netherlands/250112_CLEAN_population_regional_NL.csv"

# Independent knowledge of codes (CBS gemeentelijke indeling), not taken from the importer.
CODES = {
    "Aa en Hunze": "GM1680",
    "Bergen (NH.)": "GM0373",
    "Groningen (gemeente)": "GM0014",
    "s-Gravenhage (gemeente)": "GM0518",
    "'s-Gravenhage (gemeente)": "GM0518",
    "Aalburg": "GM0738",  # merged into Altena on 1 January 2019
    "Zwolle": "GM0193",
    "Nederland": "NL01",
}


@pytest.fixture(scope="module")
def registry(bundle: Path) -> RegionRegistry:
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


@pytest.fixture(scope="module")
def imported(bundle: Path, registry) -> Imported:
    return read_all(bundle, registry)


@pytest.fixture(scope="module")
def index(imported):
    return {(o.table_id, o.measure, o.region_code, o.period, o.dims, o.source): o for o in imported.observations}


def rows_of(path: Path, delimiter: str) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=delimiter))


def get(index, table, measure, region, period, source, dims=""):
    return index.get((table, measure, region, period, dims, source))


# --- StatLine spreadsheet variants (Dave01293) --------------------------------------------------


def test_long_spreadsheet_housing_stock(bundle, index):
    src = DAVE + "Voorraad_woningen_en_nieuwbouw.csv"
    rows = rows_of(bundle / src, ",")
    assert rows[0] == ["Regio's", "Perioden", "Beginstand voorraad", "Nieuwbouw", "Eindstand voorraad"]
    checked = 0
    for name, year, begin, new, end in rows[1:-1]:
        if name not in CODES or not begin:
            continue
        for measure, raw in (("BeginstandVoorraad", begin), ("Nieuwbouw", new), ("EindstandVoorraad", end)):
            obs = get(index, "81955NED", measure, CODES[name], f"{year}JJ00", src)
            assert obs is not None and obs.value == float(raw), (name, year, measure)
        checked += 1
    # Aa en Hunze, Bergen (NH.), Groningen, 's-Gravenhage (written without apostrophe), Zwolle: 4 years;
    # Aalburg (dissolved 2019): 2012 and 2016 only.
    assert checked == 5 * 4 + 2
    assert get(index, "81955NED", "Nieuwbouw", "GM0738", "2016JJ00", src).value == 53
    # Aalburg's empty 2020 and 2024 rows are not observations: the gemeente no longer existed.
    assert get(index, "81955NED", "Nieuwbouw", "GM0738", "2020JJ00", src) is None


def test_balance_check_reports_the_suspicious_stock(imported):
    text = " ".join(w for w in imported.warnings if "opvallende" in w)
    # Aa en Hunze 2012: begin 12414 + 14 new, end 11214; Wageningen 2012: 14486 → 18578.
    assert "GM1680 2012JJ00" in text and "GM0289 2012JJ00" in text


@pytest.mark.parametrize(
    "file, table, measure",
    [("Bevolkingsontwikkeling_per_jaar.csv", "37230ned", "BevolkingAanHetEindeVanDePeriode"),
     ("gemiddelde_verkoopprijzen_koopwoningen.csv", "83625NED", "M001534")],
)
def test_wide_spreadsheet_years_as_columns(bundle, index, file, table, measure):
    src = DAVE + file
    rows = rows_of(bundle / src, ",")
    years = rows[0][2:]
    assert years == ["2012", "2016", "2020", "2024"]
    assert rows[-1][0].startswith("Bron")
    seen = set()
    for row in rows[1:-1]:
        if row[0] not in CODES:
            continue
        for year, raw in zip(years, row[2:]):
            obs = get(index, table, measure, CODES[row[0]], f"{year}JJ00", src)
            if raw:
                assert obs is not None and obs.value == float(raw), (row[0], year)
                seen.add(row[0])
            else:
                assert obs is None, (row[0], year)
    assert {"Bergen (NH.)", "Groningen (gemeente)", "s-Gravenhage (gemeente)", "Aalburg"} <= seen


def test_historic_names_without_values_are_skipped_with_a_warning(imported):
    prices = [w for w in imported.warnings if "gemiddelde_verkoopprijzen" in w and "zonder enige waarde" in w]
    assert prices and "Ter Aar" in prices[0] and prices[0].split(": ")[1].startswith("288 ")


# --- StatLine CSV download (Swienn, 70072ned 2025) ------------------------------------------


def test_statline_download_decimal_comma_and_names(bundle, index, imported):
    rows = rows_of(bundle / SWIENN, ";")
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    total = col["Bevolking/Bevolkingssamenstelling op 1 januari/Totale bevolking (aantal)"]
    young = col["Bevolking/Bevolkingssamenstelling op 1 januari/Leeftijd/Leeftijdsgroepen, relatief/Jonger dan 5 jaar (%)"]
    size = col["Bevolking/Particuliere huishoudens/Gemiddelde huishoudensgrootte (personen per 1 huishouden)"]
    by_name = {r[1]: r for r in rows[1:]}
    for name, code in (("Nederland", "NL01"), ("Groningen (gemeente)", "GM0014"), ("Bergen (NH.)", "GM0373"),
                       ("'s-Gravenhage (gemeente)", "GM0518"), ("Zwolle", "GM0193")):
        row = by_name[name]
        assert get(index, "70072ned", "TotaleBevolking", code, "2025JJ00", SWIENN).value == int(row[total])
        assert get(index, "70072ned", "JongerDan5JaarRelatief", code, "2025JJ00", SWIENN).value == pytest.approx(
            float(row[young].replace(",", ".")))
        assert get(index, "70072ned", "GemiddeldeHuishoudensgrootte", code, "2025JJ00", SWIENN).value == pytest.approx(
            float(row[size].replace(",", ".")))
    assert get(index, "70072ned", "JongerDan5JaarRelatief", "NL01", "2025JJ00", SWIENN).value == pytest.approx(4.8)
    meta = next(t for t in imported.tables if t.table_id == "70072ned").measures
    assert (meta["TotaleBevolking"].unit, meta["TotaleBevolking"].aggregation) == ("aantal", "sum")
    assert (meta["JongerDan5JaarRelatief"].unit, meta["JongerDan5JaarRelatief"].aggregation) == ("%", "mean")
    assert meta["GemiddeldeHuishoudensgrootte"].aggregation == "mean"
    # 342 gemeenten + Nederland have values; the 386 historic names are skipped.
    regions = {o.region_code for o in imported.observations if o.source == SWIENN}
    assert len(regions) == 343
    warnings = [w for w in imported.warnings if w.startswith(SWIENN)]
    assert any("31 maatstaf(fen) zonder enige waarde" in w for w in warnings)
    assert not any("zonder koppeling" in w for w in warnings), "every StatLine header of the file is mapped"


def test_one_measure_across_statline_and_v3_files(bundle, index):
    """70072ned 'Totale bevolking' is one measure whether it came from a v3 key or a header."""
    ruben = {r[1].strip(): r for r in rows_of(bundle / RUBEN, ";")[1:]}
    assert get(index, "70072ned", "TotaleBevolking", "GM0363", "2015JJ00", RUBEN).value == int(ruben["GM0363"][3])
    assert get(index, "70072ned", "TotaleBevolking", "GM0518", "2015JJ00", RUBEN).value == 514861
    assert get(index, "70072ned", "TotaleBevolking", "GM0363", "2025JJ00", SWIENN) is not None
    # the second occurrence of a stem (age band in %) is its own measure
    assert get(index, "70072ned", "JongerDan5JaarRelatief", "GM0363", "2015JJ00", RUBEN).value == 6.0
    assert get(index, "70072ned", "JongerDan5Jaar", "GM0363", "2015JJ00", RUBEN).value == 49366
    ijh = {(r[1].strip(), r[2]): r for r in rows_of(bundle / IJH, ";")[1:]}
    assert get(index, "70072ned", "TotaleBevolking", "PV20", "1995JJ00", IJH).value == int(ijh[("PV20", "1995JJ00")][3])
    assert get(index, "70072ned", "GemiddeldAantalInwoners", "PV20", "1995JJ00", IJH).value == 558054.0
    # a repeated stem mapped by occurrence: the second TotaleOppervlakte is the area in km²
    assert get(index, "70072ned", "TotaleOppervlakte", "GM0363", "2015JJ00", RUBEN).value == 219.49


def test_declared_and_undeclared_v3_metadata(imported):
    meta = next(t for t in imported.tables if t.table_id == "70072ned").measures
    assert (meta["TotaleOppervlakte"].unit, meta["TotaleOppervlakte"].aggregation) == ("km²", "sum")
    # averages over inhabitants, although counted in "aantal": never summed over gemeenten
    assert meta["AantalRestaurantsBinnen3Km"].aggregation == "mean"
    assert (meta["GemiddeldeWoningwaarde"].aggregation, meta["GemiddeldeWoningwaarde"].basis) == ("mean", "woningen")
    # a v3 column nobody identified keeps an empty unit and aggregation: not guessed
    assert (meta["Rundvee"].unit, meta["Rundvee"].aggregation) == ("", "")


# --- v3 UntypedDataSet exports --------------------------------------------------------------


def test_untyped_unknown_and_impossible(bundle, index):
    rows = rows_of(bundle / IJH, ";")
    header = rows[0]
    refs = topic_columns(header)
    row = next(r for r in rows[1:] if r[1].strip() == "PV20" and r[2] == "1995JJ00")
    dots = [h for h, v in zip(header, row) if v.strip() == "." and "#" not in refs.get(h, "#")]
    empties = [h for h, v in zip(header, row) if v == "" and "#" not in refs.get(h, "#")]
    assert dots and empties
    for key, reason in ((dots[0], "onbekend"), (empties[0], "onmogelijk")):
        obs = get(index, "70072ned", refs[key], "PV20", "1995JJ00", IJH)
        assert obs is not None and obs.value is None and obs.reason == reason, key
    assert get(index, "70072ned", "NederlandseAchtergrond", "PV20", "1995JJ00", IJH).reason == "onbekend"


def test_untyped_prices_and_dissolved_gemeente(bundle, index):
    rows = rows_of(bundle / DAAN_PRICES, ";")
    values = {(r[1].strip(), r[2]): r[3].strip() for r in rows[1:]}
    for code, year in (("GM0738", "2015JJ00"), ("GM0014", "2024JJ00"), ("GM0518", "2010JJ00"), ("NL01", "1995JJ00")):
        assert values[(code, year)] not in ("", ".")
        assert get(index, "83625NED", "M001534", code, year, DAAN_PRICES).value == float(values[(code, year)])
    # Aalburg (GM0738) ended in 2019: its empty rows afterwards are dropped, not reported missing
    assert values[("GM0738", "2020JJ00")] in ("", ".")
    assert get(index, "83625NED", "M001534", "GM0738", "2020JJ00", DAAN_PRICES) is None


def test_83625ned_raw_files_agree_with_the_v4_mirror(bundle, index):
    """Both raw copies of 83625NED against the OData v4 capture, for every shared region-year."""
    v4 = {}
    for o in json.loads((bundle / "odata-v4/83625NED/Observations.json").read_text(encoding="utf-8-sig"))["value"]:
        assert o["Measure"] == "M001534"
        v4[(o["RegioS"].strip(), o["Perioden"])] = o["Value"]
    for src in (DAAN_PRICES, DAVE + "gemiddelde_verkoopprijzen_koopwoningen.csv"):
        shared, differences = 0, []
        for (table, measure, region, period, _dims, source), obs in index.items():
            if table != "83625NED" or source != src or (region, period) not in v4:
                continue
            shared += 1
            if obs.value != v4[(region, period)]:
                differences.append((region, period, obs.value, v4[(region, period)]))
        assert shared > 1000, src
        assert differences == [], f"{src}: {len(differences)} differences with the v4 mirror: {differences[:20]}"


def test_untyped_dimensions_71488ned(bundle, index):
    rows = rows_of(bundle / DAAN_HH, ";")
    col = rows[0].index("Alleenstaand_4")

    def row(sex, age):
        return next(r for r in rows[1:] if (r[1].strip(), r[2].strip(), r[3].strip(), r[4]) == (sex, age, "PV27", "2010JJ00"))

    total = get(index, "71488ned", "Alleenstaand", "PV27", "2010JJ00", DAAN_HH, dims="Geslacht=4000;Leeftijd=10000")
    assert total is not None and total.value == float(row("4000", "10000")[col])
    # living alone under 5: impossible, published as ""
    assert row("4000", "70100")[col] == ""
    young = get(index, "71488ned", "Alleenstaand", "PV27", "2010JJ00", DAAN_HH, dims="Geslacht=4000;Leeftijd=70100")
    assert young.value is None and young.reason == "onmogelijk"


# --- cbsodata-style CSV (37259ENG by sex) ---------------------------------------------------


def test_cbsodata_regions_with_labels_and_sex(bundle, index, imported):
    rows = rows_of(bundle / VALENTE, ",")
    header = rows[0]
    pos = header.index("PopulationOn1January_1")
    for r in rows[1:]:
        if (r[1], r[3].strip(), r[5]) in {("3000", "GM0518", "2016JJ00"), ("T001038", "GM0820", "2014JJ00"),
                                          ("4000", "NL01", "2023JJ00")}:
            obs = get(index, "37259ENG", "PopulationOn1January", r[3].strip(), r[5], VALENTE, dims=f"Sex={r[1]}")
            assert obs is not None and obs.value == float(r[pos])
    arrivals = get(index, "37259ENG", "ArrivalsDueToIntermunicipalMoves", "GM0518", "2012JJ00", VALENTE,
                   dims="Sex=T001038")
    departures = get(index, "37259ENG", "DeparturesDueToIntermunicipalMoves", "GM0518", "2012JJ00", VALENTE,
                     dims="Sex=T001038")
    assert (arrivals.value, departures.value) == (17538, 18373)
    # density is not published by sex: an empty cell, reason "leeg" (cbsodata does not say why)
    density = get(index, "37259ENG", "PopulationDensity", "NL01", "2012JJ00", VALENTE, dims="Sex=3000")
    assert density.value is None and density.reason == "leeg"
    meta = next(t for t in imported.tables if t.table_id == "37259ENG")
    assert meta.dimensions["Sex"] == {"T001038": "Total male and female", "3000": "Male", "4000": "Female"}


def test_every_listed_file_contributes(imported):
    sources = {o.source for o in imported.observations}
    assert sources == {f.path for f in load_spec().files}
    for t in imported.tables:
        assert all(m.aggregation in ("sum", "mean", "") for m in t.measures.values())


def test_spec_is_validated(tmp_path):
    good = "tables:\n  t1:\n    title: T\n    statline: {A: X}\n    measures: {X: {title: X, unit: aantal}}\n"
    files = "files:\n  - {path: a.csv, reader: statline_csv, table: t1}\n"
    (tmp_path / "ok.yaml").write_text(good + files)
    assert load_spec(tmp_path / "ok.yaml").tables["t1"].measures["X"].meta().aggregation == "sum"
    bad = {
        "undeclared.yaml": good.replace("{A: X}", "{A: Y}") + files,
        "table.yaml": good + files.replace("table: t1", "table: t2"),
        "reader.yaml": good + files.replace("statline_csv", "excel"),
        "syntax.yaml": good + files + "  - [\n",
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError) as exc:
            load_spec(tmp_path / name)
        assert name in str(exc.value)


# --- malformed input: errors name file, line and column --------------------------------------

HEADERS = {"Totale bevolking": "TotaleBevolking", "Gemiddelde grootte": "Grootte"}


def statline(tmp_path, registry, text: str, name="export.csv") -> Imported:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return read_statline_csv(path, registry, table_id="70072ned", headers=HEADERS)


def test_statline_bad_number_names_line_and_column(tmp_path, registry):
    text = '\ufeff"Perioden";"Regio\'s";"A/Totale bevolking (aantal)"\r\n"2020";"Zwolle";128840\r\n"2020";"Aalten";12.5\r\n'
    with pytest.raises(InputError) as exc:
        statline(tmp_path, registry, text.replace("A/", ""))
    assert exc.value.line == 3 and exc.value.column == "Totale bevolking (aantal)"
    assert "export.csv" in str(exc.value) and "regel 3" in str(exc.value)


def test_statline_unknown_name_with_values_is_an_error(tmp_path, registry):
    text = "Regio's;Perioden;Totale bevolking (aantal)\nZwolle;2020;128840\nAtlantis;2020;5\n"
    with pytest.raises(InputError) as exc:
        statline(tmp_path, registry, text)
    assert exc.value.line == 3 and exc.value.column == "Regio's" and "Atlantis" in str(exc.value)


def test_statline_unknown_name_without_values_is_a_warning(tmp_path, registry):
    out = statline(tmp_path, registry, "Regio's;Perioden;Totale bevolking (aantal)\nZwolle;2020*;128840\nAtlantis;2020;\n")
    assert [(o.region_code, o.period, o.status) for o in out.observations] == [("GM0193", "2020JJ00", "Voorlopig")]
    assert any("Atlantis" in w for w in out.warnings)


def test_statline_structure_errors(tmp_path, registry):
    cases = {
        "Regio's;Perioden;Totale bevolking (aantal)\nZwolle;2020\n": (2, None),
        "Regio's;Perioden;Totale bevolking (aantal)\nZwolle;twintig;1\n": (2, "Perioden"),
        "Gemeente;Regio's;Totale bevolking (aantal)\n": (1, None),
        'Regio\'s;Perioden;Totale bevolking (aantal)\n"Zwol"le;2020;1\n': (2, None),
        "": (1, None),
    }
    for text, (line, column) in cases.items():
        with pytest.raises(InputError) as exc:
            statline(tmp_path, registry, text)
        assert (exc.value.line, exc.value.column) == (line, column), text


def test_wide_spreadsheet_footer_and_header_errors(tmp_path, registry):
    text = ("Regio's,Onderwerp,2023,2024*\r\nZwolle,Totale bevolking,130000,133830\r\n"
            "\"Bron: CBS, Kadaster\",,,\r\nNog een regel,,,\r\n")
    out = statline(tmp_path, registry, text)
    assert {(o.period, o.status, o.value) for o in out.observations} == {("2023JJ00", None, 130000.0),
                                                                          ("2024JJ00", "Voorlopig", 133830.0)}
    assert any("na de bronregel (regel 3)" in w for w in out.warnings)
    with pytest.raises(InputError) as exc:
        statline(tmp_path, registry, "Regio's,Onderwerp,2023,Totaal\r\nZwolle,Totale bevolking,1,2\r\n")
    assert (exc.value.line, exc.value.column) == (1, "Totaal")


def test_two_names_for_one_gemeente_is_an_error(tmp_path, registry):
    text = "Regio's;Perioden;Totale bevolking (aantal)\n's-Gravenhage;2020;545838\nDen Haag;2020;545838\n"
    with pytest.raises(InputError) as exc:
        statline(tmp_path, registry, text)
    assert exc.value.line == 3 and "GM0518" in str(exc.value)


def test_not_utf8_names_the_line(tmp_path, registry):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Regio's;Perioden;Totale bevolking (aantal)\nFryslân;2020;1\n".encode("latin-1"))
    with pytest.raises(InputError) as exc:
        read_statline_csv(path, registry, table_id="x", headers=HEADERS)
    assert exc.value.line == 2


def test_untyped_errors_name_line_and_column(tmp_path, registry):
    head = '"ID";"RegioS";"Perioden";"TotaleBevolking_1"\n'
    cases = {
        head + '"0";"GM0363    ";"2015JJ00";"  821752"\n"1";"Amsterdam";"2015JJ00";"1"\n': (3, "RegioS"),
        head + '"0";"GM0363    ";"2015";"1"\n': (2, "Perioden"),
        head + '"0";"GM0363    ";"2015JJ00";"8,5"\n': (2, "TotaleBevolking_1"),
        head + '"0";"GM0363    ";"2015JJ00"\n': (2, None),
        head + '"0";"GM0363    ";"2015JJ00";"1"\n"1";"GM0363";"2015JJ00";"2"\n': (3, None),
        '"ID";"Perioden";"TotaleBevolking_1"\n': (1, None),
    }
    for text, (line, column) in cases.items():
        path = tmp_path / "untyped.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as exc:
            read_v3_csv(path, table_id="70072ned", registry=registry)
        assert (exc.value.line, exc.value.column) == (line, column), text
        assert "untyped.csv" in str(exc.value)


def test_flavours_of_missing_values(tmp_path):
    path = tmp_path / "v3.csv"
    path.write_text('ID,Regions,Periods,A_1,B_2\n0,NL01  ,2015JJ00,,7.5\n', encoding="utf-8")
    out = read_cbsodata_csv(path, table_id="t")
    assert {(o.measure, o.value, o.reason) for o in out.observations} == {("A", None, "leeg"), ("B", 7.5, None)}
    out = read_untyped_csv(path, table_id="t")
    assert {(o.measure, o.reason) for o in out.observations} == {("A", "onmogelijk"), ("B", None)}
    path.write_text('ID,Regions,Periods,A_1\n0,NL01,2015JJ00,.\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_cbsodata_csv(path, table_id="t")
    assert (exc.value.line, exc.value.column) == (2, "A_1")


def test_repeated_stem_needs_a_mapping(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text('"ID";"RegioS";"Perioden";"Mannen_1";"Mannen_2"\n"0";"NL01  ";"2015JJ00";"5";"."\n')
    out = read_v3_csv(path, table_id="t")
    assert out.observations == [] or {o.measure for o in out.observations} == set()
    assert any("Mannen_1" in w for w in out.warnings)
    out = read_v3_csv(path, table_id="t", columns={"Mannen#1": "Mannen", "Mannen#2": "MannenRelatief"},
                      measures={"Mannen": MeasureMeta("Mannen", "aantal", aggregation="sum")})
    assert {(o.measure, o.value, o.reason) for o in out.observations} == {("Mannen", 5.0, None),
                                                                          ("MannenRelatief", None, "onbekend")}
    assert out.tables[0].measures["MannenRelatief"].aggregation == ""


def test_units_and_periods():
    assert aggregation_for_unit("aantal") == "sum"
    assert aggregation_for_unit("per 1 000 inwoners") == "mean"
    assert aggregation_for_unit("personen per 1 huishouden") == "mean"
    assert aggregation_for_unit("euro", "Gemiddelde verkoopprijs") == "mean"
    assert aggregation_for_unit("euro", "Omzet") == ""
    assert parse_period("2024") == ("2024JJ00", None)
    assert parse_period("2023**") == ("2023JJ00", "NaderVoorlopig")
    assert parse_period("2024 3e kwartaal") == ("2024KW03", None)
    assert parse_period("2024 maart") == ("2024MM03", None)
    assert parse_period("Totaal") is None


# --- property: mangled input gives an Imported or an InputError, nothing else ----------------

_SEED_STATLINE = (
    '\ufeff"Perioden";"Regio\'s";"A/Totale bevolking (aantal)";"A/Gemiddelde grootte (personen per 1 huishouden)"\r\n'
    '"2020";"Zwolle";128840;2,21\r\n"2020*";"Bergen (NH.)";29941;.\r\n"2019";"Aalburg";13227;\r\n'
)
_SEED_WIDE = "Regio's,Onderwerp,2012,2016\r\nZwolle,Totale bevolking,122562,125548\r\nAalburg,Totale bevolking,12774,\r\nBron: CBS,,,"
_SEED_UNTYPED = (
    '"ID";"Sex";"RegioS";"Perioden";"TotaleBevolking_1";"Mannen_2"\n'
    '"0";"T001038";"GM0363    ";"2015JJ00";"  821752";"     ."\n"1";"3000";"PV20  ";"1995JJ00";"";"  5.5"\n'
)


PROPERTY_HEADERS = {"A/Totale bevolking": "T", "A/Gemiddelde grootte": "G", "Totale bevolking": "T"}


def test_property_seeds_are_valid(tmp_path, registry):
    """The unmangled seeds parse, so the property test starts from real successes."""
    counts = []
    for i, seed in enumerate((_SEED_STATLINE, _SEED_WIDE, _SEED_UNTYPED)):
        path = tmp_path / f"seed{i}.csv"
        path.write_text(seed, encoding="utf-8", newline="")
        if seed is _SEED_UNTYPED:
            out = read_v3_csv(path, table_id="t", registry=registry)
        else:
            out = read_statline_csv(path, registry, table_id="t", headers=PROPERTY_HEADERS)
        counts.append(len([o for o in out.observations if o.value is not None]))
    assert counts == [4, 3, 2]


_TOKENS = list(";,\"\n\r .*x-0123456789") + [
    "Regio's", "Perioden", "Onderwerp", "RegioS", "Zwolle", "Bron: CBS", "2020", "GM0363", "2015JJ00",
    "TotaleBevolking_1", "Totale bevolking (aantal)", "ID", "Sex", " Label", "Nederland", "Groningen", "\ufeff",
]


@st.composite
def mangled(draw):
    kind = draw(st.sampled_from(["seed", "seed", "bytes", "tokens"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "tokens":
        return "".join(draw(st.lists(st.sampled_from(_TOKENS), max_size=60))).encode("utf-8")
    seed = draw(st.sampled_from([_SEED_STATLINE, _SEED_WIDE, _SEED_UNTYPED]))
    ops = draw(st.lists(st.tuples(st.sampled_from(["cut", "insert", "delete", "swap_sep", "bytes"]),
                                  st.integers(0, 10_000), st.text(max_size=6)), max_size=4))
    data = seed.encode("utf-8")
    for op, at, piece in ops:
        i = at % (len(data) + 1)
        if op == "cut":
            data = data[:i]
        elif op == "insert":
            data = data[:i] + piece.encode("utf-8") + data[i:]
        elif op == "delete":
            data = data[:i] + data[i + 3:]
        elif op == "swap_sep":
            data = data.replace(b";", b",") if i % 2 else data.replace(b",", b";")
        else:
            data = data[:i] + bytes(ord(c) % 256 for c in piece) + data[i:]
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mangled())
def test_mangled_csv_gives_imported_or_input_error(tmp_path, registry, data):
    path = tmp_path / "mangled.csv"
    path.write_bytes(data)
    for read in (
        lambda: read_statline_csv(path, registry, table_id="t", headers=PROPERTY_HEADERS),
        lambda: read_v3_csv(path, table_id="t", registry=registry),
    ):
        try:
            out = read()
        except InputError as exc:
            assert exc.path.endswith("mangled.csv")
            continue
        assert isinstance(out, Imported)
        for o in out.observations:
            assert o.value is None or isinstance(o.value, float)
            assert (o.value is None) == (o.reason is not None)


# --- the figures are read column-wise: the same as cell by cell ------------------------------

_PLAIN_CELLS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12).map(lambda d: f"{d:f}"),
    st.integers(-10**15, 10**15).map(str),
    st.sampled_from(["", ".", "   .", "  12", "+3", "-0", ".5", "5.", "007", "1.10", " 0.1 "]),
)
_OTHER_CELLS = st.one_of(_PLAIN_CELLS, st.sampled_from(["\t4", "4\u00a0", "\u00a05", "1" * 16, "1e3", "x", "1,5"]),
                         st.text(alphabet=" 0123456789.-+", max_size=8))
# A column of plain cells only (read column-wise) or of any cells (then possibly cell by cell).
_COLUMN = st.one_of(st.lists(_PLAIN_CELLS, min_size=1, max_size=6), st.lists(_OTHER_CELLS, min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(columns=st.lists(_COLUMN, min_size=2, max_size=2), untyped=st.booleans())
def test_columnwise_figures_equal_cell_by_cell(tmp_path, columns, untyped):
    """Each measure column is read column-wise where its cells are plain (spaces around a number,
    empty, "." in untyped files) and cell by cell otherwise: either way every figure, reason and
    error is what reading each cell on its own gives, and the Arrow table holds the same rows."""
    from trendstudie.buildcache import observations_table
    from trendstudie.sources.cbsodata_csv import _measure_cell

    rows = min(len(c) for c in columns)
    cells = list(zip(*(c[:rows] for c in columns)))
    lines = ['"ID";"RegioS";"Perioden";"A_1";"B_2"']
    for i, (a, b) in enumerate(cells):
        lines.append(f'"{i}";"GM{363 + i:04d}";"2015JJ00";"{a}";"{b}"')
    path = tmp_path / "figures.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected, errors = [], []
    for row, (a, b) in enumerate(cells, start=2):
        for raw, column in ((a, "A_1"), (b, "B_2")):
            try:
                expected.append(_measure_cell(raw, untyped, path, row, column))
            except InputError as exc:
                errors.append((exc.column, exc.line, exc.message))
    try:
        out = read_v3_csv(path, table_id="t", flavour="untyped" if untyped else "cbsodata")
    except InputError as exc:  # the first bad cell, column by column
        assert (exc.column, exc.line, exc.message) == min(errors)
        return
    assert not errors
    got = [(o.value, o.reason) for o in out.observations]
    assert got == expected
    assert [type(v) for v, _ in got] == [type(v) for v, _ in expected]
    assert out.columns.equals(observations_table(out.observations))


def test_columns_of_the_bundle_exports_equal_their_observations(imported):
    """The exports come as one table in the build's layout; its rows as tuples and back give the
    same table (nothing is lost between the two forms)."""
    from trendstudie.buildcache import OBSERVATION_COLUMNS, observations_table

    assert imported.columns is not None and imported.columns.schema.equals(OBSERVATION_COLUMNS)
    assert observations_table(imported.observations).to_pylist() == imported.columns.to_pylist()
