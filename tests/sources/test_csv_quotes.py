"""An unclosed quote in any CSV the program reads is a Dutch message naming the file, the line where
the quote opens and its field, never a traceback (nor the end of the file as the place)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trendstudie.errors import InputError
from trendstudie.geo import groups as G
from trendstudie.geo.regions import RegionRegistry
from trendstudie.sources import misc_csv
from trendstudie.sources.cbsodata_csv import read_cbsodata_csv
from trendstudie.sources.statline_csv import read_statline_csv
from trendstudie.sources.tidy import read_tidy
from trendstudie.textfile import csv_rows

UNCLOSED = 'het aanhalingsteken (") in dit veld wordt op deze regel niet gesloten'


@pytest.fixture(scope="module")
def registry(bundle: Path) -> RegionRegistry:
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


def tidy_file(folder: Path, rows: list[str]) -> Path:
    (folder / "t.meta.json").write_text(json.dumps({"table_id": "t1", "measures": {"M": {"unit": "aantal"}}}))
    path = folder / "t.csv"
    path.write_text("table_id,measure,region_code,period,value,status\n" + "".join(r + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("rows", [
    # a short file: the parser reaches the end of the data inside the quote
    [f"t1,M,GM0193,{y}JJ00,{y},".replace(",2014,", ',"2014,') for y in range(2012, 2020)],
    # a long file: the quoted field would grow past csv's field size limit (the traceback in the issue)
    [f"t1,M,GM0193,{y}JJ00,1," for y in range(1000, 2014)] + ['t1,M,GM0193,2014JJ00,"1,']
    + [f"t1,M,GM0193,{y}JJ00,1," for y in range(2015, 9999)],
    # the quote is "closed" by a quote further down, which then breaks the line after it
    ['t1,M,GM0193,2013JJ00,1,', 't1,M,GM0193,2014JJ00,"1,', 't1,M,GM0193,2015JJ00,1,"Voorlopig"'],
])
def test_tidy_csv_names_the_line_and_field_of_an_unclosed_quote(tmp_path, rows):
    line = next(i for i, r in enumerate(rows, start=2) if '"1,' in r or '"2014,' in r)
    with pytest.raises(InputError) as exc:
        read_tidy(tidy_file(tmp_path, rows))
    assert (exc.value.line, exc.value.column) == (line, 5), str(exc.value)
    assert UNCLOSED in str(exc.value) and f"t.csv, regel {line}, kolom 5" in str(exc.value)


def test_a_quote_that_spans_lines_on_purpose_is_fine_and_a_bad_close_is_explained(tmp_path):
    assert [c for _, _, c in csv_rows('a;b\n"x\ny";2\n', "f.csv", ";")] == [["a", "b"], ["x\ny", "2"]]
    with pytest.raises(InputError) as exc:
        list(csv_rows('a;b\n1;2\n"Zwol"le;3\n', "f.csv", ";"))
    assert exc.value.line == 3 and "na een afsluitend aanhalingsteken" in str(exc.value)


def test_statline_download_with_an_unclosed_quote(tmp_path, registry):
    path = tmp_path / "export.csv"
    path.write_text('"Regio\'s";"Perioden";"Totale bevolking (aantal)"\r\n"Zwolle";"2020";128840\r\n'
                    '"Aalten;"2020";27000\r\n"Kampen";"2020";54000\r\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_statline_csv(path, registry, table_id="70072ned", headers={"Totale bevolking": "TotaleBevolking"})
    assert (exc.value.line, exc.value.column) == (3, 1) and UNCLOSED in str(exc.value)  # "Aalten; lacks its close


def test_cbsodata_csv_with_an_unclosed_quote(tmp_path):
    path = tmp_path / "v3.csv"
    path.write_text('ID,Regions,Periods,A_1\n0,NL01,2015JJ00,1\n1,"NL01,2016JJ00,2\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_cbsodata_csv(path, table_id="t")
    assert (exc.value.line, exc.value.column) == (3, 2) and "v3.csv" in str(exc.value)


def test_misc_csv_with_an_unclosed_quote(tmp_path, registry):
    path = tmp_path / "hh.csv"
    path.write_text("# Bron: CBS 71486NED\nGemeente,Jaar," + ",".join(misc_csv.HUISHOUDENS_MEASURES) + "\n"
                    '"Zwolle,2020,' + ",".join(["1.0"] * 10) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        misc_csv.read_huishoudens_samenstelling(path, registry)
    assert (exc.value.line, exc.value.column) == (3, 1) and UNCLOSED in str(exc.value)


def test_user_group_csv_with_an_unclosed_quote(tmp_path, registry):
    path = tmp_path / "groepen.csv"
    path.write_text('groep;titel;lid\nburen;"Buren van Leiden;Leiden\nburen;;Oegstgeest\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        G.load_user_groups(path, registry)
    assert (exc.value.line, exc.value.column) == (2, 2) and UNCLOSED in str(exc.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.text(alphabet='ab,"\r\n;x1', max_size=30), min_size=1, max_size=8),
       delimiter=st.sampled_from([",", ";"]))
def test_any_quoting_gives_rows_or_an_input_error(rows, delimiter):
    text = "\n".join(rows)
    try:
        for first, last, cells in csv_rows(text, "x.csv", delimiter):
            assert 1 <= first <= last
    except InputError as exc:
        assert exc.path == "x.csv" and exc.line is not None and exc.line >= 1
