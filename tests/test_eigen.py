"""Own files (`trendstudie importeer`): files of every shape, made here from the bundle's own
population figures as CBS published them (former gemeenten under their own names), imported,
built once, and read back through `facts` and `export` harmonised — equal to what the store
has for the same gemeenten from CBS itself."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from trendstudie.cli import app
from trendstudie.errors import TrendstudieError
from helpers import first_rows

POP = ("03759ned", "M000352", "BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000")
# Voorne aan Zee (GM1992, 2023) from Brielle, Hellevoetsluis and Westvoorne; name variants.
CODES = ["GM0501", "GM0530", "GM0614", "GM1992", "GM0518", "GM0373", "GM1900", "GM0193"]
WRITTEN = {"GM0518": "'s-Gravenhage (gemeente)", "GM0373": "Bergen (NH.)", "GM1900": "Súdwest-Fryslân"}
YEARS = range(2019, 2027)


@pytest.fixture(scope="module")
def published(con):
    """{(code, year): inhabitants} as CBS published them (each year on that year's gemeenten)."""
    rows = con.execute(
        "SELECT region_code, period, value FROM observations WHERE table_id = ? AND measure = ? AND dims = ? "
        "AND value IS NOT NULL AND region_code IN (" + ",".join("?" * len(CODES)) + ")", [*POP, *CODES]).fetchall()
    return {(c, int(p[:4])): v for c, p, v in rows}


@pytest.fixture(scope="module")
def names(con):
    return dict(con.execute("SELECT code, name FROM regions").fetchall())


def cbs_facts(con, codes=("GM1992", "GM0518", "GM0373", "GM1900", "GM0193")):
    rows = con.execute(
        "SELECT region_code, period, value FROM facts WHERE table_id = ? AND measure = ? AND dims = ? AND value IS NOT NULL "
        "AND region_code IN (" + ",".join("?" * len(codes)) + ")", [*POP, *codes]).fetchall()
    return {(c, p): v for c, p, v in rows}


def _write(path, rows, delimiter=";"):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL).writerows(rows)


def _dutch(v: float, decimals: int = 0) -> str:
    return f"{v:.{decimals}f}".replace(".", ",")


@pytest.fixture(scope="module")
def files(tmp_path_factory, published, names):
    d = tmp_path_factory.mktemp("eigen-bestanden")
    name = lambda c: WRITTEN.get(c, names[c])  # noqa: E731
    cells = sorted(published)
    # 1. plain long, ';', with a status column ('voorlopig' for 2026) and 'Den Haag' for 2025
    rows = [["gemeente", "periode", "waarde", "status"]]
    for c, y in cells:
        written = "Den Haag" if (c, y) == ("GM0518", 2025) else name(c)
        rows.append([written, str(y), _dutch(published[(c, y)]), "voorlopig" if y == 2026 else ""])
    _write(d / "lang.csv", rows)
    # 2. plain long, ',', quoted names, periods as CBS codes, a missing value ('x' = secret)
    rows = [["Gemeente", "Jaar", "inwoners"]] + [[name(c), f"{y}JJ00", str(int(published[(c, y)]))] for c, y in cells]
    rows.append(["Zwolle", "2018JJ00", "x"])
    _write(d / "komma.csv", rows, delimiter=",")
    # 3. StatLine download with labels: title block, units in the header, '2026*' provisional,
    #    decimal comma in a share without numerator and denominator (kept on its boundaries)
    lines = ['"Bevolking; eigen selectie uit StatLine"', '""',
             '"Regio\'s";"Perioden";"Totale bevolking (aantal)";"Groei sinds 2019 (%)"']
    for c, y in cells:
        base = published.get((c, 2019))
        share = _dutch(published[(c, y)] / base * 100, 2) if base else "."
        lines.append(f'"{name(c)}";"{y}{"*" if y == 2026 else ""}";"{_dutch(published[(c, y)])}";"{share}"')
    lines += ['"Bron: CBS"', '"Gewijzigd op: 1 januari 2026"']
    (d / "statline.csv").write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    # 4. StatLine download with codes (untyped): padded codes, decimal point, '.' unknown
    lines = ['"ID";"RegioS";"Perioden";"TotaleBevolking_1"']
    for i, (c, y) in enumerate(cells):
        lines.append(f'"{i}";"{c}    ";"{y}JJ00";"{int(published[(c, y)]):>10}"')
    lines.append(f'"{len(cells)}";"GM0193    ";"2018JJ00";"       ."')
    (d / "codes.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    # 5. Excel, the data on the second sheet (--blad), numbers as numbers
    wb = Workbook()
    wb.active.title = "Toelichting"
    wb.active.append(["Zie het blad Cijfers"])
    ws = wb.create_sheet("Cijfers")
    ws.append(["Gemeente", "Periode", "Aantal inwoners"])
    for c, y in cells:
        ws.append([name(c), y, published[(c, y)]])
    wb.save(d / "werkblad.xlsx")
    # 6. a share with numerator and denominator: inhabitants against those of 2019
    rows = [["gemeente", "periode", "waarde", "teller", "noemer"]]
    for c, y in cells:
        base = published.get((c, 2019))
        if base:
            rows.append([name(c), str(y), _dutch(published[(c, y)] / base * 100, 6), _dutch(published[(c, y)]),
                         _dutch(base)])
    _write(d / "aandeel.csv", rows)
    # 7. a prognosis, wide, years as columns, reaching back into observed years
    rows = [["gemeente"] + [str(y) for y in range(2023, 2041)]]
    for c in ("GM1992", "GM0193"):
        rows.append([names[c]] + [str(round(published[(c, 2023)] * (1.01 ** (y - 2023)))) for y in range(2023, 2041)])
    _write(d / "prognose.csv", rows)
    return d


@pytest.fixture(scope="module")
def imported_home(tmp_path_factory, files, bundle):
    """One home with every file imported (without rebuilding each time), then one build."""
    home = tmp_path_factory.mktemp("eigen-home")
    (home / "eigen-indicatoren.yaml").write_text(EIGEN_INDICATOREN, encoding="utf-8")
    runner = CliRunner()
    env = {"TRENDSTUDIE_HOME": str(home), "TRENDSTUDIE_BUNDLE": str(bundle)}
    for args in (["lang.csv", "--soort", "aantal"], ["komma.csv", "--soort", "aantal"], ["statline.csv"],
                 ["codes.csv", "--soort", "aantal"], ["werkblad.xlsx", "--blad", "Cijfers", "--soort", "aantal"],
                 ["aandeel.csv", "--soort", "aandeel"],
                 ["prognose.csv", "--soort", "aantal", "--prognose", "bevolking", "--naam", "provincie-2023"]):
        result = runner.invoke(app, ["importeer", str(files / args[0]), *args[1:], "--niet-bouwen"], env=env)
        assert result.exit_code == 0, (args, result.output, result.exception)
    result = runner.invoke(app, ["build"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return home


EIGEN_INDICATOREN = """
indicators:
- id: eigen_inwoners
  title: Inwoners volgens het eigen bestand
  description: Inwoners op 1 januari, uit een eigen import.
  domain: demografie
  unit: inwoners
  variants:
  - inputs:
      inw:
      - table: eigen:lang
        measure: waarde
    formula: inw
  citation: Eigen bestand lang.csv
regels:
- trend: bevolkingsgroei-steden
  indicators: [eigen_inwoners]
  sterk:
  - {indicator: eigen_inwoners, verandering: stijgend, jaren: 5}
"""


@pytest.fixture(scope="module")
def run(imported_home):
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args), env={"TRENDSTUDIE_HOME": str(imported_home), "TRENDSTUDIE_BUNDLE": ""})
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    invoke.home = imported_home
    return invoke


def _facts(run, table, measure, *extra):
    text = run("facts", "--table", table, "--measure", measure, *extra).stdout
    return {(r["region_code"], r["period"]): r for r in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize("table,measure", [
    ("eigen:lang", "waarde"), ("eigen:komma", "inwoners"), ("eigen:statline", "totale_bevolking"),
    ("eigen:codes", "TotaleBevolking"), ("eigen:werkblad", "aantal_inwoners"),
])
def test_every_shape_gives_back_the_cbs_values_harmonised(run, con, table, measure):
    got = _facts(run, table, measure)
    expected = cbs_facts(con)
    assert {k for k in got if k[0].startswith("GM")} == set(expected)
    for key, value in expected.items():
        assert float(got[key]["value"]) == value, key
    # Voorne aan Zee before 2023 is the sum of Brielle, Hellevoetsluis and Westvoorne, exactly
    assert got[("GM1992", "2020JJ00")]["harmonised"] == "true"
    assert got[("GM1992", "2020JJ00")]["value"] == "72144"
    assert got[("GM0193", "2024JJ00")]["harmonised"] == "false"


def test_provisional_figures_keep_their_status(run):
    for table, measure in (("eigen:lang", "waarde"), ("eigen:statline", "totale_bevolking")):
        got = _facts(run, table, measure, "--region", "Zwolle")
        assert got[("GM0193", "2026JJ00")]["status"] == "Voorlopig"
        assert got[("GM0193", "2025JJ00")]["status"] == ""


def test_former_gemeenten_are_summed_exactly_and_kept_as_published(run, published):
    got = _facts(run, "eigen:lang", "waarde", "--region", "GM1992")
    for y in range(2019, 2023):
        assert float(got[("GM1992", f"{y}JJ00")]["value"]) == sum(published[(c, y)] for c in ("GM0501", "GM0530", "GM0614"))
    as_published = _facts(run, "eigen:lang", "waarde", "--region", "Brielle", "--as-published")
    assert float(as_published[("GM0501", "2020JJ00")]["value"]) == published[("GM0501", 2020)]


def test_a_share_is_recomputed_from_numerator_and_denominator(run, published):
    got = _facts(run, "eigen:aandeel", "waarde", "--region", "GM1992")
    parts = ("GM0501", "GM0530", "GM0614")
    expected = sum(published[(c, 2021)] for c in parts) / sum(published[(c, 2019)] for c in parts) * 100
    assert float(got[("GM1992", "2021JJ00")]["value"]) == pytest.approx(expected, abs=1e-6)  # facts prints 6 decimals
    assert got[("GM1992", "2021JJ00")]["harmonised"] == "true"


def test_a_share_without_numerator_and_denominator_stays_on_its_boundaries(run, published):
    got = _facts(run, "eigen:statline", "groei_sinds_2019", "--as-published", "--region", "Brielle")
    assert float(got[("GM0501", "2021JJ00")]["value"]) == round(published[("GM0501", 2021)] / published[("GM0501", 2019)] * 100, 2)
    harmonised = _facts(run, "eigen:statline", "groei_sinds_2019", "--region", "GM1992")
    assert harmonised[("GM1992", "2021JJ00")]["value"] == ""  # not summed, not averaged: missing today …
    former, today = first_rows(
        run.home, "SELECT value, harmonised, method, reason FROM facts WHERE table_id = 'eigen:statline' "
                  "AND measure = 'groei_sinds_2019' AND region_code = 'GM0501' AND period = '2021JJ00'",
        "SELECT method, reason FROM facts WHERE table_id = 'eigen:statline' AND measure = "
        "'groei_sinds_2019' AND region_code = 'GM1992' AND period = '2021JJ00'")
    assert former[1] is False and former[2] == "zoals gepubliceerd" and "indeling van toen" in former[3]
    assert today[0] == "ontbreekt" and "teller en noemer" in today[1]  # … and marked so


def test_own_indicator_appears_in_export_equal_to_the_cbs_indicator(run):
    mine = list(csv.DictReader(io.StringIO(run("export", "--region", "Voorne aan Zee", "--indicator",
                                               "eigen_inwoners").stdout)))
    theirs = {r["period"]: r["value"] for r in csv.DictReader(io.StringIO(
        run("export", "--region", "Voorne aan Zee", "--indicator", "bevolking").stdout))}
    assert mine and all(r["indicator_id"] == "eigen_inwoners" for r in mine)
    for r in mine:
        assert r["value"] == theirs[r["period"]]
    assert "eigen bron" in run("indicatoren").stdout
    profile = json.loads(run("profiel", "Voorne aan Zee", "--format", "json").stdout)
    titles = [i["title"] for d in profile["domains"] for i in d["indicators"]]
    assert "Inwoners volgens het eigen bestand (eigen bron)" in titles


def test_lijst_names_every_import_with_its_file(run):
    text = run("importeer", "--lijst").stdout
    for name, file in (("lang", "lang.csv"), ("werkblad", "werkblad.xlsx"), ("provincie-2023", "prognose.csv")):
        assert f"{name}\teigen:{name}\t" in text and file in text


# --- errors: one Dutch message with file, line or cell, and what was expected -------------------


@pytest.fixture(scope="module")
def bare(tmp_path_factory, bundle):
    """A home without a database: importeer reads the bundle's regions; nothing may be written."""
    home = tmp_path_factory.mktemp("eigen-leeg")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, ["importeer", *args], env={"TRENDSTUDIE_HOME": str(home),
                                                            "TRENDSTUDIE_BUNDLE": str(bundle)})
    invoke.home = home
    return invoke


def _refused(bare, path, *args):
    result = bare(str(path), *args)
    assert isinstance(result.exception, TrendstudieError), (result.output, result.exception)
    assert not (bare.home / "imports").exists() or not any((bare.home / "imports").iterdir())
    return str(result.exception)


def test_unknown_name_is_refused_with_line_and_name(bare, tmp_path):
    path = tmp_path / "onbekend.csv"
    path.write_text("gemeente;periode;waarde\nZwolle;2021;1\nAtlantis;2021;2\n", encoding="utf-8")
    text = _refused(bare, path, "--soort", "aantal")
    assert "onbekend.csv, regel 3" in text and "'Atlantis'" in text and "gemeente" in text


def test_typo_gets_a_suggestion(bare, tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("gemeente;periode;waarde\nZwole;2021;1\n", encoding="utf-8")
    assert "Zwolle" in _refused(bare, path, "--soort", "aantal")


def test_repeated_cell_names_both_lines(bare, tmp_path):
    path = tmp_path / "dubbel.csv"
    path.write_text("gemeente;periode;waarde\nDen Haag;2021;1\nZwolle;2021;1\n's-Gravenhage;2021;2\n", encoding="utf-8")
    text = _refused(bare, path, "--soort", "aantal")
    assert "regel 4" in text and "dubbele waarde" in text and "regel 2" in text and "GM0518" in text


def test_non_numeric_value_names_line_and_column(bare, tmp_path):
    path = tmp_path / "tekst.csv"
    path.write_text("gemeente;periode;waarde\nZwolle;2021;12a\n", encoding="utf-8")
    text = _refused(bare, path, "--soort", "aantal")
    assert "regel 2, kolom waarde" in text and "'12a' is geen getal" in text


def test_unreadable_period_names_line_and_what_was_expected(bare, tmp_path):
    path = tmp_path / "periode.csv"
    path.write_text("gemeente;periode;waarde\nZwolle;vorig jaar;1\n", encoding="utf-8")
    text = _refused(bare, path, "--soort", "aantal")
    assert "regel 2, kolom periode" in text and "'vorig jaar'" in text and "2021JJ00" in text


def test_excel_errors_name_the_cell(bare, tmp_path):
    wb = Workbook()
    wb.active.append(["gemeente", "jaar", "aantal"])
    wb.active.append(["Zwolle", 2021, 5])
    wb.active.append(["Zwolle", 2022, "veel"])
    wb.save(tmp_path / "fout.xlsx")
    text = _refused(bare, tmp_path / "fout.xlsx", "--soort", "aantal")
    assert "cel C3" in text and "'veel' is geen getal" in text


def test_kind_must_be_known(bare, tmp_path):
    path = tmp_path / "soort.csv"
    path.write_text("gemeente;periode;waarde\nZwolle;2021;1\n", encoding="utf-8")
    assert "--soort" in _refused(bare, path)


def test_controle_reports_without_storing(bare, tmp_path):
    path = tmp_path / "proef.csv"
    path.write_text("gemeente;periode;waarde\nBrielle;2020;1\nHellevoetsluis;2020;2\nWestvoorne;2020;3\n", encoding="utf-8")
    result = bare(str(path), "--soort", "aantal", "--controle")
    assert result.exit_code == 0, result.output
    assert "3 voormalige gemeenten" in result.output and "1 samengeteld" in result.output
    assert "Niets bewaard" in result.output
    assert not (bare.home / "imports").exists()


def test_lijst_and_verwijder_without_rebuilding(tmp_path):
    from trendstudie import eigen

    runner = CliRunner()
    env = {"TRENDSTUDIE_HOME": str(tmp_path), "TRENDSTUDIE_BUNDLE": ""}
    assert "Geen imports" in runner.invoke(app, ["importeer", "--lijst"], env=env).output
    result = runner.invoke(app, ["importeer", "--verwijder", "niets"], env=env)
    assert isinstance(result.exception, TrendstudieError) and "geen import 'niets'" in str(result.exception)
    assert eigen.listing(tmp_path) == []


# --- prognoses beside ours ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_con(imported_home):
    from trendstudie import store

    c = store.connect(imported_home / "trendstudie.duckdb")
    yield c
    c.close()


def test_imported_prognosis_beside_ours_with_its_error_in_observed_years(own_con, published):
    from trendstudie.forecast import project
    from trendstudie.forecast.others import other_prognoses

    ours = project(own_con, "GM1992", "basis", 2040)
    [other] = other_prognoses(own_con, "GM1992", 2040, ours)
    assert other.naam == "provincie-2023" and other.kind == "bevolking"
    by = {r.year: r for r in other.rows}
    assert set(by) == set(range(2023, 2041))
    # the file reaches back to 2023-2026: its error against what CBS counted, computed here independently
    for y in range(2023, 2027):
        theirs = round(published[("GM1992", 2023)] * 1.01 ** (y - 2023))
        assert by[y].theirs == theirs and by[y].observed == published[("GM1992", y)]
        assert by[y].error == pytest.approx((theirs - published[("GM1992", y)]) / published[("GM1992", y)] * 100)
    assert by[2023].error == 0
    projected = {int(r.period[:4]): r.value for r in ours if r.indicator_id == "bevolking"}
    assert by[2040].ours == projected[2040]
    text = " ".join(other.sentences("Voorne aan Zee"))
    assert "provincie-2023" in text or other.titel in text
    assert "2023–2026" in text and "naast" in text


def test_report_toekomst_and_web_show_the_other_prognosis(own_con, imported_home):
    from fastapi.testclient import TestClient

    from trendstudie.forecast import project
    from trendstudie.forecast.others import toekomst_part
    from trendstudie.web import create_app

    paras, table = toekomst_part(own_con, "GM0193", "Zwolle", project(own_con, "GM0193", "basis", 2040), 2040)
    assert paras and table["header"][0] == "Prognose"
    assert any("(eigen bron)" in row[0] for row in table["rows"])
    client = TestClient(create_app(imported_home / "trendstudie.duckdb"), raise_server_exceptions=False)
    page = client.get("/gemeente/GM0193/prognose")
    assert page.status_code == 200 and "Andere prognoses" in page.text and "prognose.csv" in page.text
    downloads = client.get("/downloads")
    assert downloads.status_code == 200 and "Eigen bronnen" in downloads.text
    for file in ("lang.csv", "werkblad.xlsx", "prognose.csv"):
        assert file in downloads.text
    api = client.get("/api/v1/facts", params={"table": "eigen:lang", "measure": "waarde", "region": "GM1992",
                                              "format": "csv"})
    assert api.status_code == 200 and "GM1992,2020JJ00,72144" in api.text


def test_own_rule_judges_a_trend_on_an_own_indicator(run):
    verdicts = json.loads(run("trends", "Voorne aan Zee", "--format", "json").stdout)
    [v] = [v for v in verdicts if v["trend"] == "bevolkingsgroei-steden"]
    assert v["indicatoren"] == ["eigen_inwoners"] and v["sterkte"] == "sterk"
    assert any("eigen bron" in e for e in v["onderbouwing"])


def test_the_trend_shows_the_own_rule_that_judges_it(run):
    """`trendstudie trend` (like the trend page) words the rule the verdicts use: the user's own."""
    text = run("trend", "bevolkingsgroei-steden").stdout
    rule = text[text.index("Wanneer speelt deze trend in een gemeente?"):text.index("Bronnen:")]
    assert "- Inwoners volgens het eigen bestand (eigen bron) gestegen over 5 jaar" in rule
    assert "sterker gestegen dan in Nederland" not in rule  # the product's rule, which this one replaces
