"""The one table writer (trendstudie.tables): CSV, JSON and XLSX agree with each other, round-trip,
and never hand a spreadsheet a formula to run."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from trendstudie import tables

COLUMNS = ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
ROWS = [
    ["bevolking", "GM0193", "2026JJ00", 134147.0, "Definitief", False],
    ["bevolkingsgroei", "GM0193", "2026JJ00", 0.25184963754577383, None, True],
    ["aandeel_65plus", "GM1992", "2021JJ00", None, "Voorlopig", True],
    ["saldo", "GM0363", "2020JJ00", -12.5, "", False],
]


def _xlsx_rows(data: bytes, sheet: str | None = None) -> list[list]:
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_csv_as_every_download_wrote_it():
    # one way for the CLI export, the web downloads, the API and the report appendix
    assert tables.to_csv(COLUMNS, ROWS) == (
        "indicator_id,region_code,period,value,status,harmonised\n"
        "bevolking,GM0193,2026JJ00,134147,Definitief,false\n"
        "bevolkingsgroei,GM0193,2026JJ00,0.251849637546,,true\n"
        "aandeel_65plus,GM1992,2021JJ00,,Voorlopig,true\n"
        "saldo,GM0363,2020JJ00,-12.5,,false\n")


def test_cells():
    assert [tables.cell(v) for v in (None, True, False, 3, 3.0, 1e-7, 2.5, float("nan"), float("inf"), "x")] == \
        ["", "true", "false", "3", "3", "1e-07", "2.5", "", "", "x"]
    assert tables.cell(0.25184963754577383) == "0.251849637546"  # the data appendix keeps the precision
    assert tables.cell(0.1 + 0.2) == "0.3"  # but not floating-point noise


def test_json_round_trip_and_null_for_non_finite():
    text = tables.to_json(COLUMNS, ROWS + [["x", "GM0001", "2020JJ00", float("nan"), None, False]])
    back = json.loads(text)
    assert back[0] == dict(zip(COLUMNS, ROWS[0])) and back[-1]["value"] is None
    assert tables.to_json(["a"], [[1]], compact=True) == '[{"a":1}]'


def test_xlsx_round_trip():
    rows = _xlsx_rows(tables.to_xlsx(COLUMNS, ROWS, "indicatoren"))
    assert rows[0] == COLUMNS
    assert rows[1] == ROWS[0] and rows[2][3] == pytest.approx(ROWS[1][3]) and rows[3][3] is None
    assert load_workbook(io.BytesIO(tables.to_xlsx(COLUMNS, ROWS, "indicatoren"))).sheetnames == ["indicatoren"]


def test_several_sheets():
    data = tables.to_xlsx_sheets([tables.Sheet("Antwoorden", ["a"], [[1]]), tables.Sheet("Per item", ["b"], [["x"]])])
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Antwoorden", "Per item"]
    assert _xlsx_rows(data, "Per item") == [["b"], ["x"]]


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1",
                                  '=HYPERLINK("http://x","klik")'])
def test_formulas_are_never_run(text):
    """CSV injection: text that starts like a formula is written with an apostrophe in front, in
    CSV and in XLSX (where openpyxl would otherwise store it as a formula); JSON keeps it as it is."""
    rows = [["naam", text, -1.5]]
    parsed = list(csv.reader(io.StringIO(tables.to_csv(["a", "b", "c"], rows), newline="")))
    assert parsed[1] == ["naam", "'" + text.replace("\r", "\n"), "-1.5"]  # a negative number stays a number
    wb = load_workbook(io.BytesIO(tables.to_xlsx(["a", "b", "c"], rows)))
    cell = wb.worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value == "'" + text.replace("\r", "\n")  # XML reads \r as \n
    assert wb.worksheets[0]["C2"].value == -1.5
    assert json.loads(tables.to_json(["a", "b", "c"], rows))[0]["b"] == text


def test_write_dispatch_and_unknown_format():
    assert tables.write("csv", ["a"], [[1]]) == "a\n1\n"
    assert isinstance(tables.write("xlsx", ["a"], [[1]]), bytes)
    with pytest.raises(ValueError):
        tables.write("xml", ["a"], [[1]])


def test_rows_of_dicts_and_objects():
    class R:
        a, b = 1, "x"

    assert tables.rows_of([{"a": 1}, R()], ["a", "b"]) == [[1, None], [1, "x"]]


text_cells = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                       st.floats(allow_nan=False, allow_infinity=False, width=32),
                       st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12))


@given(st.lists(st.lists(text_cells, min_size=3, max_size=3), max_size=8))
def test_csv_round_trip(rows):
    """Every row comes back from the CSV as the writer's cells: no field is lost, split or merged."""
    parsed = list(csv.reader(io.StringIO(tables.to_csv(["a", "b", "c"], rows), newline="")))
    assert parsed[0] == ["a", "b", "c"]
    assert parsed[1:] == [[tables.cell(v) for v in r] for r in rows]
