"""Importers for the remaining raw/ shapes: KWB extracts, household composition, cars per
household, Leefbaarometer, gemeentelijke indeling; and read_all over them.

Expected values are read independently here with the csv/json modules from the real files."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trendstudie.errors import InputError
from trendstudie.geo.regions import RegionRegistry
from trendstudie.geo import shapes
from trendstudie.sources import kwb, misc_csv, more
from trendstudie.sources.records import Imported, is_period

KWB2019 = more.KWB_2019
HOUSING = more.KWB_HOUSING
V3 = more.KWB_V3_DIR
HH = more.HUISHOUDENS
CARS = more.AUTOBEZIT
LBM = more.LEEFBAAROMETER
IND21, IND23 = more.INDELINGEN


@pytest.fixture(scope="module")
def registry(bundle: Path) -> RegionRegistry:
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


def by_key(imported: Imported) -> dict[tuple[str, str, str, str], float | None]:
    return {(o.table_id, o.measure, o.region_code, o.period): o.value for o in imported.observations}


def dict_rows(path: Path, **kwargs) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh, **kwargs))


# --- KWB 2019 ---------------------------------------------------------------------------------


def test_kwb_2019_values_and_variable_names(bundle, registry):
    imported = kwb.read_kwb_2019(bundle / KWB2019, registry, bundle)
    got = by_key(imported)
    rows = {r["unique_id"]: r for r in dict_rows(bundle / KWB2019)}
    assert len(rows) == 355
    assert got[("84583NED", "a_inw", "GM0363", "2019JJ00")] == 862965
    for code in ("GM0363", "GM0003", "GM0518", "GM1978"):
        for column, (measure, _) in kwb.KWB2019_COLUMNS.items():
            assert got[("84583NED", measure, code, "2019JJ00")] == float(rows[code][column])
    assert len(imported.observations) == 355 * 12
    assert imported.warnings == []  # every code agrees with its name on 1 January 2019
    table = imported.tables[0]
    assert table.table_id == "84583NED" and table.measures["a_65_oo"].aggregation == "sum"
    assert all(o.source == KWB2019 for o in imported.observations)


def test_kwb_2019_code_name_disagreement_is_reported(bundle, registry, tmp_path):
    lines = (bundle / KWB2019).read_text(encoding="utf-8").splitlines()
    amsterdam = next(i for i, line in enumerate(lines) if ",GM0363," in line)
    lines[amsterdam] = lines[amsterdam].replace("Amsterdam,", "Rotterdam,", 1)
    path = tmp_path / "kwb-2019.csv"
    path.write_text("\n".join(lines[:1] + lines[amsterdam:amsterdam + 1]) + "\n", encoding="utf-8")
    imported = kwb.read_kwb_2019(path, registry)
    assert len(imported.warnings) == 1
    assert "GM0363" in imported.warnings[0] and "GM0599" in imported.warnings[0]
    assert by_key(imported)[("84583NED", "a_inw", "GM0363", "2019JJ00")] == 862965  # code kept


# --- KWB 2020-2025 (housing) -------------------------------------------------------------------


def test_kwb_housing_editions_woz_and_dropped_columns(bundle, registry):
    imported = kwb.read_kwb_housing(bundle / HOUSING, registry, bundle)
    got = by_key(imported)
    rows = dict_rows(bundle / HOUSING)
    assert sorted(t.table_id for t in imported.tables) == sorted(kwb.KWB_TABLES[y] for y in range(2020, 2026))
    for row in rows:
        if row["gwb_code"] in ("GM0363", "GM0518", "GM0302", "GM1680"):
            table, period = kwb.KWB_TABLES[int(row["year"])], f"{row['year']}JJ00"
            assert got[(table, "a_woning", row["gwb_code"], period)] == float(row["a_woning"])
            assert got[(table, "a_hh", row["gwb_code"], period)] == float(row["a_hh"])
            # the WOZ decision: the publisher's x1000 is undone, unit as CBS publishes it
            assert got[(table, "g_wozbag", row["gwb_code"], period)] == float(row["g_wozbag"]) / 1000
    assert got[("84799NED", "g_wozbag", "GM0363", "2020JJ00")] == 416
    assert got[("84799NED", "g_wozbag", "GM0302", "2020JJ00")] == 300  # published as '3e+05'
    assert all(t.measures["g_wozbag"].unit == "x 1 000 euro" for t in imported.tables)
    measures = {o.measure for o in imported.observations}
    assert measures.isdisjoint(kwb.PUBLISHER_COLUMNS) and "a_hh" in measures
    assert any("housing_pressure" in w and "weggelaten" in w for w in imported.warnings)
    assert any("wetenschappelijke notatie" in w for w in imported.warnings)
    # code/name agreement holds for every edition
    assert not [w for w in imported.warnings if "spreken elkaar tegen" in w or "bestond niet" in w]
    assert len({(o.region_code, o.period) for o in imported.observations}) == len(rows) == 2078


def test_kwb_housing_households_equal_71486ned(bundle, registry):
    """KWB 2020 households per gemeente equal 71486NED on 1 January 2020 (two sources, one figure)."""
    housing = by_key(kwb.read_kwb_housing(bundle / HOUSING, registry))
    households = misc_csv.read_huishoudens_samenstelling(bundle / HH, registry)
    pairs = [(o.value, housing[("84799NED", "a_hh", o.region_code, "2020JJ00")])
             for o in households.observations if o.measure == "nHH"]
    assert len(pairs) == 355 and sum(a for a, _ in pairs) == sum(b for _, b in pairs) == 7_997_800
    # two border pairs (Blaricum/Laren, Haarlem/Haarlemmermeer) differ by a few households between
    # the two CBS tables, in opposite directions; every other gemeente is identical
    differing = [(a, b) for a, b in pairs if a != b]
    assert len(differing) == 4 and all(abs(a - b) <= 5 for a, b in differing)


# --- KWB 2024 v3 ----------------------------------------------------------------------------------


def test_kwb_v3_keys_mapped_through_data_properties(bundle, registry):
    base = bundle / V3
    imported = kwb.read_kwb_v3(base / "stripped_filtered_data_2024.json", base / "DataProperties.json",
                               base / "TableInfos.json", registry, bundle)
    raw = json.loads((base / "stripped_filtered_data_2024.json").read_text(encoding="utf-8"))
    props = {p["Key"]: p for p in json.loads((base / "DataProperties.json").read_text(encoding="utf-8"))
             if p.get("Type") == "Topic"}
    got = by_key(imported)
    assert got[("85984NED", "AantalInwoners", "GM0363", "2024JJ00")] == raw["GM0363"]["AantalInwoners_5"] == 931298
    for code in ("GM0363", "GM1680", "WK168000", "WK0363AA"):
        for key, value in raw[code].items():
            assert got[("85984NED", key.rsplit("_", 1)[0], code, "2024JJ00")] == value
    table = imported.tables[0]
    assert (table.table_id, table.title, table.modified) == ("85984NED", "Kerncijfers wijken en buurten 2024",
                                                             "2025-03-27T02:00:00")
    for key in raw["GM0363"]:
        meta = table.measures[key.rsplit("_", 1)[0]]
        assert (meta.title, meta.unit) == (props[key]["Title"], props[key]["Unit"])
    assert table.measures["AantalInwoners"].aggregation == "sum"
    assert table.measures["Bevolkingsdichtheid"].aggregation == ""  # per km²: recompute, never weight
    assert table.measures["Woningvoorraad"].basis == "woningen"
    missing = [o for o in imported.observations if o.value is None]
    assert missing and all(o.reason for o in missing)
    assert len(missing) == sum(1 for r in raw.values() for v in r.values() if v is None)
    gm = {o.region_code for o in imported.observations if o.region_code.startswith("GM")}
    assert sorted(gm) == registry.current_gemeenten()
    assert len({o.region_code for o in imported.observations}) == len(raw) == 3735
    # the same figure in the KWB 2024 edition of the housing extract
    housing = by_key(kwb.read_kwb_housing(bundle / HOUSING, registry))
    for code in gm:
        assert housing[("85984NED", "a_inw", code, "2024JJ00")] == got[("85984NED", "AantalInwoners", code, "2024JJ00")]


def test_kwb_v3_follows_properties_not_suffixes(tmp_path):
    (tmp_path / "props.json").write_text(json.dumps({"value": [
        {"Type": "Topic", "Key": "Huishoudens_5", "Title": "Huishoudens totaal", "Unit": "aantal",
         "Decimals": 0, "PresentationType": "Absolute", "Datatype": "Long"},
        {"Type": "Topic", "Key": "Gemeentenaam_1", "Title": "Gemeentenaam", "Unit": "naam", "Datatype": "String"},
    ]}), encoding="utf-8")
    (tmp_path / "info.json").write_text(json.dumps([{"Identifier": "85618NED", "Title": "KWB 2023",
                                                      "Period": "2023"}]), encoding="utf-8")
    (tmp_path / "data.json").write_text(json.dumps({"GM0363": {"Huishoudens_5": 12, "Gemeentenaam_1": "x",
                                                               "Onbekend_9": 3}}), encoding="utf-8")
    imported = kwb.read_kwb_v3(tmp_path / "data.json", tmp_path / "props.json", tmp_path / "info.json")
    assert [(o.table_id, o.measure, o.region_code, o.period, o.value) for o in imported.observations] == [
        ("85618NED", "Huishoudens", "GM0363", "2023JJ00", 12.0)]
    assert imported.tables[0].measures["Huishoudens"].title == "Huishoudens totaal"
    assert any("Onbekend_9" in w for w in imported.warnings)


# --- 71486NED households, names only --------------------------------------------------------------


def test_households_by_name_resolved_through_registry(bundle, registry):
    imported = misc_csv.read_huishoudens_samenstelling(bundle / HH, registry, bundle)
    got = by_key(imported)
    lines = [line for line in (bundle / HH).read_text(encoding="utf-8-sig").splitlines() if not line.startswith("#")]
    rows = {r["Gemeente"]: r for r in csv.DictReader(lines)}
    for name, code in (("'s-Gravenhage (gemeente)", "GM0518"), ("Bergen (NH.)", "GM0373"),
                       ("Bergen (L.)", "GM0893"), ("Hengelo (O.)", "GM0164"), ("Amsterdam", "GM0363")):
        for measure in misc_csv.HUISHOUDENS_MEASURES:
            assert got[("71486NED", measure, code, "2020JJ00")] == float(rows[name][measure])
    assert got[("71486NED", "nHH", "GM0518", "2020JJ00")] == 268306
    codes = {o.region_code for o in imported.observations}
    assert sorted(codes) == registry.gemeenten_on(date(2020, 1, 1))  # 355, historic names skipped
    assert len(rows) == 600 and imported.warnings == []
    table = imported.tables[0]
    assert table.table_id == "71486NED" and table.measures["nHH"].title == "Totaal particuliere huishoudens"


def test_households_unknown_name_with_data_is_reported(tmp_path, registry):
    path = tmp_path / "hh.csv"
    path.write_text("# Bron: CBS 71486NED\nGemeente,Jaar," + ",".join(misc_csv.HUISHOUDENS_MEASURES) + "\n"
                    "Atlantis,2020," + ",".join(["1.0"] * 10) + "\n"
                    "Den Haag,2020," + ",".join(["2.0"] * 10) + "\n", encoding="utf-8")
    imported = misc_csv.read_huishoudens_samenstelling(path, registry)
    assert {o.region_code for o in imported.observations} == {"GM0518"}
    assert any("Atlantis" in w and "regel 3" in w for w in imported.warnings)


# --- cars per household --------------------------------------------------------------------------


def test_cars_per_household_decimal_comma_and_codes(bundle, registry):
    imported = misc_csv.read_autobezit(bundle / CARS, registry, bundle)
    got = by_key(imported)
    with open(bundle / CARS, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh, delimiter=";") if len(r) == 3 and r[1].startswith("GM")]
    assert len(rows) == 342
    for name, code, value in rows:
        assert got[("CBSRDW_AUTOBEZIT", "PersonenautosPerHuishouden", code, "2023JJ00")] == float(value.replace(",", "."))
    assert got[("CBSRDW_AUTOBEZIT", "PersonenautosPerHuishouden", "GM0014", "2023JJ00")] == 0.6
    assert sorted(c for _, c, _ in rows) == registry.gemeenten_on(date(2023, 1, 1))
    assert imported.warnings == []  # 'Groningen (gemeente)', 'Hengelo (O.)', ... all agree with their codes
    assert imported.tables[0].catalog == "CBS/RDW"


def test_cars_name_code_disagreement(tmp_path, registry):
    path = tmp_path / "auto.csv"
    head = ("\ufeffTabel 1. Auto's per huishouden, 1 januari 2023;;\r\n;;\r\n"
            "Gemeentenaam;Gemeentecode;Personenauto's per huishouden (afgerond)\r\nBergen (NH.);GM0893;1,3\r\n")
    tail = ";;\r\nBron: CBS/RDW;;\r\n"
    path.write_bytes((head + "Bergen (L.);GM0893;1,2\r\n" + tail).encode())
    with pytest.raises(InputError) as err:  # the same code twice
        misc_csv.read_autobezit(path, registry)
    assert err.value.line == 5
    path.write_bytes((head + tail).encode())
    imported = misc_csv.read_autobezit(path, registry)
    assert imported.observations[0].value == 1.3
    assert len(imported.warnings) == 1 and "GM0893" in imported.warnings[0] and "GM0373" in imported.warnings[0]


# --- Leefbaarometer ---------------------------------------------------------------------------------


def test_leefbaarometer_wijk_rows(bundle, registry):
    imported = misc_csv.read_leefbaarometer(bundle / LBM, registry, bundle)
    got = by_key(imported)
    rows = dict_rows(bundle / LBM)
    assert len(rows) == 56
    for row in rows:
        for measure in misc_csv.LBM_MEASURES:
            assert got[("LBM3", measure, row["wk_code"], f"{row['jaar']}JJ00")] == float(row[measure])
    assert got[("LBM3", "lbm", "WK036201", "2014JJ00")] == pytest.approx(4.270599604867483)
    assert {o.region_code[:6] for o in imported.observations} == {"WK0362"}
    assert len({o.region_code for o in imported.observations}) == 14
    assert len(imported.warnings) == 1 and "'1'" in imported.warnings[0]  # the row-index column


# --- gemeentelijke indeling ------------------------------------------------------------------------


def test_indeling_lists_agree_with_registry(bundle, registry):
    rows23 = misc_csv.read_gemeentelijke_indeling(bundle / IND23)
    rows21 = misc_csv.read_gemeentelijke_indeling(bundle / IND21)
    assert len(rows23) == 342 and len(rows21) == 352
    assert misc_csv.check_gemeentelijke_indeling(rows23, registry, 2023) == []
    assert misc_csv.check_gemeentelijke_indeling(rows21, registry, 2021) == []
    assert sorted(c for c, _, _ in rows23) == registry.gemeenten_on(date(2023, 1, 1))
    raw = {r["GemeentecodeGM"]: r for r in dict_rows(bundle / IND23)}
    assert ("GM0820", "Nuenen, Gerwen en Nederwetten", "PV30") in rows23
    assert all((raw[c]["Gemeentenaam"], raw[c]["ProvinciecodePV"]) == (n, p) for c, n, p in rows23)
    # the 2021 list on the 2023 classification: Weesp (GM0457) had gone, Voorne aan Zee not yet there
    messages = misc_csv.check_gemeentelijke_indeling(rows21, registry, 2023)
    assert any(m.startswith("GM0457 (Weesp) staat in de lijst") for m in messages)
    assert any(m.startswith("GM1992") and "ontbreekt" in m for m in messages)


def test_indeling_check_reports_name_and_province(registry):
    rows = [("GM0363", "Amsterdam", "PV27"), ("GM0518", "Rotterdam", "PV28"), ("GM0014", "Groningen", "PV21")]
    messages = misc_csv.check_gemeentelijke_indeling(rows, registry, 2023)
    assert any("GM0518" in m and "GM0599" in m for m in messages)
    assert any("GM0014" in m and "PV21" in m and "PV20" in m for m in messages)
    assert sum("ontbreekt in de lijst" in m for m in messages) == 339


# --- malformed input --------------------------------------------------------------------------------

HEADER_2019 = "region,unique_id,population,men,women,b_00_14,b_15_24,b_25_44,b_45_64,b_65_oo,unmarried,married,divorced,widowed\r\n"


@pytest.mark.parametrize("name,text,reader,line", [
    ("kwb.csv", HEADER_2019 + "Appingedam,GM0003,1,1,0,1,0,0,0,0,1,0,0,0\r\nDelfzijl,GM0010,veel,1,1,1,1,0,0,0,1,1,0,0\r\n",
     lambda p, r: kwb.read_kwb_2019(p, r), 3),
    ("kwb.csv", HEADER_2019 + "Appingedam,GM0003,1,1\r\n", lambda p, r: kwb.read_kwb_2019(p, r), 2),
    ("kwb.csv", "region,population\r\n", lambda p, r: kwb.read_kwb_2019(p, r), 1),
    ("housing.csv", '"year","gwb_code","gm_naam","recs","a_woning"\n2031,"GM0003","Appingedam","Gemeente",5\n',
     lambda p, r: kwb.read_kwb_housing(p, r), 2),
    ("auto.csv", "Tabel 1, 1 januari 2023;;\n;;\nGemeentenaam;Gemeentecode;Personenauto's per huishouden\n"
                 "Almere;GM0034;0,9\nVeendam;GM0047;1,1.5\n", lambda p, r: misc_csv.read_autobezit(p, r), 5),
    ("hh.csv", "# x\nGemeente,Jaar," + ",".join(misc_csv.HUISHOUDENS_MEASURES) + "\nAlmere,2020,1,2\n",
     lambda p, r: misc_csv.read_huishoudens_samenstelling(p, r), 3),
    ("lbm.csv", "wk_code,wk_naam,jaar,lbm,afw,fys,onv,soc,vrz,won\nWK0362,X,2014,1,0,0,0,0,0,0\n",
     lambda p, r: misc_csv.read_leefbaarometer(p, r), 2),
    ("ind.csv", "Gemeentecode,GemeentecodeGM,Gemeentenaam,Provinciecode,ProvinciecodePV,Provincienaam\r\n"
                "0363,GM0363,Amsterdam,27,PV27,Noord-Holland\r\n0518,GM0599,Rotterdam,28,PV28,Zuid-Holland\r\n",
     lambda p, r: misc_csv.read_gemeentelijke_indeling(p), 3),
    ("ind.csv", 'Gemeentecode,GemeentecodeGM\r\n"0363,GM0363\r\n', lambda p, r: misc_csv.read_gemeentelijke_indeling(p), 2),
])
def test_malformed_files_name_file_and_line(tmp_path, registry, name, text, reader, line):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        reader(path, registry)
    assert err.value.path == str(path) and err.value.line == line
    assert str(path) in str(err.value) and f"regel {line}" in str(err.value)


HEADER_READERS = {
    "kwb 2019": (HEADER_2019.strip(), lambda p, r: kwb.read_kwb_2019(p, r)),
    "kwb woningen": ("year,gwb_code,gm_naam,recs,a_woning", lambda p, r: kwb.read_kwb_housing(p, r)),
    "kaart 2014": ("CBSCODE,Gemeentenaam,Inwoners,Mannen,Vrouwen," + ",".join(shapes.AGE_BANDS_2014),
                   lambda p, r: shapes.read_attributes_2014(p, r)),
    "leefbaarometer": ("wk_code,wk_naam,jaar," + ",".join(misc_csv.LBM_MEASURES),
                       lambda p, r: misc_csv.read_leefbaarometer(p, r)),
    "indeling": (",".join(misc_csv.INDELING_COLUMNS), lambda p, r: misc_csv.read_gemeentelijke_indeling(p)),
}


@pytest.mark.parametrize("which", sorted(HEADER_READERS))
def test_header_problems_are_named_alike(tmp_path, registry, which):
    """The readers of one-header CSV files share one check: an empty file, a required column
    missing and a column given twice are each refused naming the file, the header's line and
    the columns."""
    header, reader = HEADER_READERS[which]
    first, *rest = header.split(",")
    path = tmp_path / "bestand.csv"
    for text, line, message in [
        ("", 1, "leeg bestand"),
        (",".join(rest) + "\n", 1, f"kolom(men) ontbreken: {first}"),
        (f"{header},{rest[0]}\n", 1, f"kolom(men) dubbel: {rest[0]}"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as err:
            reader(path, registry)
        assert (err.value.path, err.value.line) == (str(path), line)
        assert message in str(err.value) and f"regel {line}" in str(err.value)


def test_invalid_utf8_and_json_errors_name_the_line(tmp_path, bundle):
    path = tmp_path / "kwb.csv"
    path.write_bytes(HEADER_2019.encode() + b"Appingedam,GM0003,1\xff\r\n")
    with pytest.raises(InputError) as err:
        kwb.read_kwb_2019(path)
    assert err.value.line == 2
    data = tmp_path / "data.json"
    data.write_text('{\n  "GM0363": {\n    "AantalInwoners_5": 12,\n  }\n}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        kwb.read_kwb_v3(data, bundle / V3 / "DataProperties.json", bundle / V3 / "TableInfos.json")
    assert err.value.line == 4 and err.value.path == str(data)
    data.write_text('{"GM0363": {"AantalInwoners_5": "veel"}}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        kwb.read_kwb_v3(data, bundle / V3 / "DataProperties.json", bundle / V3 / "TableInfos.json")
    assert err.value.column == "AantalInwoners_5"


# --- property test: mangled input --------------------------------------------------------------------


def _head(bundle: Path, relative: str, n: int) -> bytes:
    return b"".join((bundle / relative).read_bytes().splitlines(keepends=True)[:n])


SAMPLES = {
    "kwb2019": (KWB2019, 4, lambda p, r: kwb.read_kwb_2019(p, r)),
    "housing": (HOUSING, 4, lambda p, r: kwb.read_kwb_housing(p, r)),
    "hh": (HH, 18, lambda p, r: misc_csv.read_huishoudens_samenstelling(p, r)),
    "cars": (CARS, 6, lambda p, r: misc_csv.read_autobezit(p, r)),
    "lbm": (LBM, 4, lambda p, r: misc_csv.read_leefbaarometer(p, r)),
    "ind": (IND23, 4, lambda p, r: misc_csv.read_gemeentelijke_indeling(p)),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(SAMPLES)),
       edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3),
                                st.sampled_from([b"", b",", b";", b'"', b"\n", b"\r", b"x", b"9", b"\xff", b"#",
                                                 b"GM0363", b"e+", b"1,5", b"\xef\xbb\xbf", b"'s-", b"\x00"])),
                      min_size=1, max_size=4))
def test_mangled_input_gives_imported_or_input_error(bundle, registry, which, edits):
    relative, n, reader = SAMPLES[which]
    data = bytearray(_head(bundle, relative, n))
    for position, length, insert in edits:
        position %= len(data) + 1
        data[position:position + length] = insert
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(relative).name
        path.write_bytes(bytes(data))
        try:
            result = reader(path, registry)
        except InputError as exc:
            assert exc.path == str(path)
            return
    if isinstance(result, Imported):
        for o in result.observations:
            assert is_period(o.period) and o.region_code[:2] in ("GM", "WK")
            assert o.value is None or o.value == o.value  # never NaN
    else:
        assert all(len(row) == 3 for row in result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                            lambda children: st.lists(children, max_size=3)
                            | st.dictionaries(st.sampled_from(["GM0363", "WK036201", "AantalInwoners_5",
                                                               "Mannen_6", "x"]), children, max_size=3),
                            max_leaves=10))
def test_mangled_v3_json_gives_imported_or_input_error(bundle, payload):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        try:
            kwb.read_kwb_v3(path, bundle / V3 / "DataProperties.json", bundle / V3 / "TableInfos.json")
        except InputError as exc:
            assert exc.path == str(path)


# --- read_all ---------------------------------------------------------------------------------------


def test_read_all_covers_every_file(bundle, registry):
    imported = more.read_all(bundle, registry)
    tables = {o.table_id for o in imported.observations}
    assert tables == {"84583NED", "84799NED", "85039NED", "85318NED", "85618NED", "85984NED", "86165NED",
                      "71486NED", "CBSRDW_AUTOBEZIT", "LBM3", "NL_Gemeenten2014"}
    keys = [(o.table_id, o.measure, o.region_code, o.period, o.dims) for o in imported.observations]
    assert len(keys) == len(set(keys))
    assert all(is_period(o.period) for o in imported.observations)
    assert all(o.region_code in registry.regions for o in imported.observations if o.region_code.startswith("GM"))
    sources = {o.source for o in imported.observations}
    assert all((bundle / s).is_file() for s in sources) and len(sources) == 7
    # classification lists and the 2024 map agree with CBS: no discrepancy warnings
    assert not [w for w in imported.warnings if "gemeenten-alfabetisch" in w or "nl_gemeenten" in w]


def test_read_all_on_a_partial_bundle_warns(tmp_path, bundle, registry):
    target = tmp_path / more.AUTOBEZIT
    target.parent.mkdir(parents=True)
    shutil.copy(bundle / more.AUTOBEZIT, target)
    imported = more.read_all(tmp_path, registry)
    assert {o.table_id for o in imported.observations} == {"CBSRDW_AUTOBEZIT"}
    assert all(o.source == more.AUTOBEZIT for o in imported.observations)
    assert sum("ontbreekt in de bundel" in w for w in imported.warnings) == 11


def test_numbers_out_of_range_are_refused(tmp_path):
    path = tmp_path / "kwb.csv"
    path.write_text(HEADER_2019 + "Appingedam,GM0003,1e999,1,0,1,0,0,0,0,1,0,0,0\r\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        kwb.read_kwb_2019(path)
    assert (err.value.line, err.value.column) == (2, "population")
