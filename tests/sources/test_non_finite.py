"""Non-finite and absurdly large numbers (nan, inf, Infinity, 1e999, -1e308) are refused by every
importer with file, line and column, so nothing becomes inf or NaN in a merged gemeente."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trendstudie.errors import InputError, TrendstudieError
from trendstudie.geo.regions import RegionRegistry
from trendstudie.geo.shapes import load_features
from trendstudie.sources import kwb, misc_csv
from trendstudie.sources.cbsodata_csv import read_cbsodata_csv, read_v3_csv
from trendstudie.sources.external import parse_value
from trendstudie.sources.mirror import read_table
from trendstudie.sources.records import MAX_MAGNITUDE, number_problem
from trendstudie.sources.statline_csv import read_statline_csv
from trendstudie.sources.tidy import read_tidy
from trendstudie.textfile import parse_json

BAD_TEXT = ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1e999", "-1e308", "1e16"]
BAD_JSON = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]


def test_the_bound_keeps_sums_over_all_gemeenten_finite():
    assert number_problem(MAX_MAGNITUDE) is None and number_problem(-MAX_MAGNITUDE) is None
    assert number_problem(MAX_MAGNITUDE * 1.01) and number_problem(10 ** 400)
    assert number_problem(float("nan")) and number_problem(float("-inf"))


@pytest.mark.parametrize("raw", BAD_JSON)
def test_json_names_line_and_column_of_a_non_finite_number(raw):
    text = '{\n  "value": [\n    {"Title": "NaN Infinity", "Value": ' + raw + "}\n  ]\n}"
    with pytest.raises(InputError) as exc:
        parse_json(text, "Observations.json")
    column = text.splitlines()[2].rindex(raw) + 1
    assert (exc.value.line, exc.value.column) == (3, column), str(exc.value)
    assert f"Observations.json, regel 3, kolom {column}" in str(exc.value) and raw in str(exc.value)


# --- tidy CSV ---------------------------------------------------------------------------------

def write_tidy(folder: Path, value: str) -> Path:
    (folder / "t.meta.json").write_text(json.dumps({"table_id": "t1", "measures": {"M": {"unit": "aantal"}}}))
    path = folder / "t.csv"
    path.write_text("table_id,measure,region_code,period,value,status\n"
                    "t1,M,GM0193,2020JJ00,5,\n"
                    f"t1,M,GM0193,2021JJ00,{value},\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("raw", BAD_TEXT)
def test_tidy_csv_refuses_non_finite_values(tmp_path, raw):
    with pytest.raises(InputError) as exc:
        read_tidy(write_tidy(tmp_path, raw))
    assert exc.value.line == 3 and exc.value.column == "5 (value)" and "t.csv" in str(exc.value)


def test_tidy_csv_refuses_what_python_would_read_as_a_number(tmp_path):
    for raw in ("1_000", " nan ", "0x10"):
        with pytest.raises(InputError, match="geen getal"):
            read_tidy(write_tidy(tmp_path, raw))
    assert read_tidy(write_tidy(tmp_path, "-1.5e3")).observations[1].value == -1500.0


def test_tidy_meta_json_refuses_nan(tmp_path):
    path = write_tidy(tmp_path, "1")
    text = '{"table_id": "t1", "measures": {"M": {"decimals": NaN}}}'
    (tmp_path / "t.meta.json").write_text(text)
    with pytest.raises(InputError) as exc:
        read_tidy(path)
    assert f"t.meta.json, regel 1, kolom {text.index('NaN') + 1}" in str(exc.value)


# --- OData v4 mirror (what sync writes and the bundle holds) ----------------------------------

def write_mirror(folder: Path, observations: str) -> Path:
    table = folder / "t1"
    table.mkdir(exist_ok=True)
    (table / "Properties.json").write_text('{"Identifier": "t1", "Title": "T"}')
    (table / "Dimensions.json").write_text(json.dumps({"value": [
        {"Identifier": "RegioS", "Kind": "GeoDimension"}, {"Identifier": "Perioden", "Kind": "TimeDimension"}]}))
    (table / "MeasureCodes.json").write_text('{"value": [{"Identifier": "M", "Unit": "aantal"}]}')
    (table / "Observations.json").write_text(observations)
    return table


@pytest.mark.parametrize("raw", BAD_JSON)
def test_mirror_refuses_non_finite_values_with_line_and_column(tmp_path, raw):
    obs = ('{"value": [\n{"Measure": "M", "RegioS": "GM0193", "Perioden": "2020JJ00", "Value": 1},\n'
           '{"Measure": "M", "RegioS": "GM0193", "Perioden": "2021JJ00", "Value": ' + raw + '}\n]}')
    with pytest.raises(InputError) as exc:
        read_table(write_mirror(tmp_path, obs))
    column = obs.splitlines()[2].index(raw) + 1
    assert exc.value.path.endswith("Observations.json") and (exc.value.line, exc.value.column) == (3, column)


@pytest.mark.parametrize("raw", ["-1e308", "1e16", "1" * 400])
def test_mirror_refuses_values_beyond_the_bound(tmp_path, raw):
    obs = '{"value": [{"Measure": "M", "RegioS": "GM0193", "Perioden": "2021JJ00", "Value": ' + raw + '}]}'
    with pytest.raises(InputError, match="buiten bereik") as exc:
        read_table(write_mirror(tmp_path, obs))
    assert "observatie 1" in str(exc.value) and exc.value.column == "Value"


# --- StatLine downloads, cbsodata / v3 CSV, misc CSV, KWB, Klimaatmonitor, GeoJSON ---------------

@pytest.fixture(scope="module")
def registry(bundle: Path) -> RegionRegistry:
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


@pytest.mark.parametrize("raw", ["nan", "inf", "Infinity", "-1e308"])
def test_statline_csv_refuses_non_finite_values(tmp_path, registry, raw):
    path = tmp_path / "export.csv"
    path.write_text(f"Regio's,Perioden,Totale bevolking (aantal)\nZwolle,2020,1\nAalten,2020,{raw}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_statline_csv(path, registry, table_id="70072ned", headers={"Totale bevolking": "TotaleBevolking"})
    assert (exc.value.line, exc.value.column) == (3, "Totale bevolking (aantal)")


@pytest.mark.parametrize("raw", ["nan", "inf", "Infinity", "-1e308", "1e999"])
def test_cbsodata_and_v3_csv_refuse_non_finite_values(tmp_path, raw):
    path = tmp_path / "v3.csv"
    path.write_text(f"ID,Regions,Periods,A_1\n0,NL01,2015JJ00,1\n1,NL01,2016JJ00,{raw}\n", encoding="utf-8")
    for read in (read_cbsodata_csv, read_v3_csv):
        with pytest.raises(InputError) as exc:
            read(path, table_id="t")
        assert (exc.value.line, exc.value.column) == (3, "A_1"), read


@pytest.mark.parametrize("raw", ["nan", "inf", "Infinity", "-1e308", "1e999"])
def test_misc_csv_numbers_refuse_non_finite_values(raw):
    with pytest.raises(InputError) as exc:
        misc_csv.parse_number(raw, "auto.csv", 7, "personenautos")
    assert "auto.csv, regel 7, kolom personenautos" in str(exc.value)


def test_households_file_refuses_infinity(tmp_path, registry):
    path = tmp_path / "hh.csv"
    path.write_text("# Bron: CBS 71486NED\nGemeente,Jaar," + ",".join(misc_csv.HUISHOUDENS_MEASURES) + "\n"
                    "Zwolle,2020," + ",".join(["1.0"] * 9 + ["inf"]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        misc_csv.read_huishoudens_samenstelling(path, registry)
    assert exc.value.line == 3


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "1e999", "-1e308", '"nan"', '"-1e308"'])
def test_kwb_v3_refuses_non_finite_values(tmp_path, raw):
    (tmp_path / "props.json").write_text(json.dumps({"value": [
        {"Type": "Topic", "Key": "Huishoudens_5", "Title": "Huishoudens", "Unit": "aantal", "Datatype": "Long"}]}))
    (tmp_path / "info.json").write_text(json.dumps([{"Identifier": "85618NED", "Title": "KWB 2023", "Period": "2023"}]))
    (tmp_path / "data.json").write_text('{"GM0363": {"Huishoudens_5": ' + raw + "}}")
    with pytest.raises(InputError) as exc:
        kwb.read_kwb_v3(tmp_path / "data.json", tmp_path / "props.json", tmp_path / "info.json")
    assert "data.json" in str(exc.value) and (exc.value.line is not None or exc.value.column == "Huishoudens_5")


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), "nan", "Infinity", "-1e308", "1e999", 1e300])
def test_klimaatmonitor_values_refuse_non_finite_values(raw):
    with pytest.raises(TrendstudieError, match="Klimaatmonitor, GM0193"):
        parse_value(raw, "Klimaatmonitor, GM0193")
    assert parse_value("12,5", "x") == 12.5


def test_geojson_refuses_nan_coordinates(tmp_path):
    path = tmp_path / "g.geojson"
    text = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"statcode": '
            '"GM0193"},\n "geometry": {"type": "Polygon", "coordinates": [[[6.0, NaN]]]}}]}')
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_features(path)
    assert (exc.value.line, exc.value.column) == (2, text.splitlines()[1].index("NaN") + 1)
