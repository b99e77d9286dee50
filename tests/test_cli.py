"""The CLI commands on the built store: output formats, stable columns, values equal to the store."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from trendstudie.cli import app
from trendstudie.errors import TrendstudieError
from trendstudie.forecast import project
from trendstudie.indicators.registry import DOMAINS
from trendstudie.knowledge import model


@pytest.fixture(scope="module")
def cli(built_home):
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, ["--help"] if not args else list(args), env={"TRENDSTUDIE_HOME": str(built_home)})
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    return run


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_indicatoren_lists_each_indicator_once_by_domain(cli, con):
    text = cli("indicatoren").output
    registry = [r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()]
    listed = re.findall(r"^  (\w+): ", text, flags=re.M)
    assert sorted(listed) == sorted(registry)
    headers = [line for line in text.splitlines() if line in DOMAINS]
    assert len(headers) == len(set(headers))  # each domain one block
    assert headers == sorted(headers, key=DOMAINS.index)


def test_every_indicator_is_computed_or_listed_as_missing_with_its_live_table(cli, con):
    text = cli("indicatoren", "--ontbrekend").output
    computed = {r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM indicator_values").fetchall()}
    for ind, live in con.execute("SELECT indicator_id, live FROM indicators").fetchall():
        line = next((ln for ln in text.splitlines() if ln.startswith(f"  {ind}: ")), None)
        if ind in computed:
            assert line is None, ind
        else:
            assert line is not None, f"{ind} is neither computed nor listed by --ontbrekend"
            assert live and live.split()[0] in line, (ind, live, line)
    assert any(ind not in computed for ind in re.findall(r"^  (\w+): ", text, flags=re.M))


def test_unknown_domain_is_refused(cli):
    result = cli("indicatoren", "--domein", "sport", ok=False)
    assert isinstance(result.exception, TrendstudieError) and "sport" in str(result.exception)


def test_export_csv_json_and_xlsx_carry_the_stored_values(cli, con, tmp_path):
    args = ("export", "--regions", "Zwolle", "--regions", "GM1992", "--indicators", "bevolking",
            "--indicators", "woninginbraak_per_1000")
    got = rows_of(cli(*args).output)
    assert list(got[0]) == ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
    want = con.execute(
        "SELECT indicator_id, region_code, period, value, status, harmonised FROM indicator_values "
        "WHERE region_code IN ('GM0193', 'GM1992') AND indicator_id IN ('bevolking', 'woninginbraak_per_1000')").fetchall()
    assert len(got) == len(want) > 20
    stored = {(i, r, p): (v, st, h) for i, r, p, v, st, h in want}
    for row in got:
        value, status, harmonised = stored[row["indicator_id"], row["region_code"], row["period"]]
        assert float(row["value"]) == pytest.approx(value, abs=5e-7)  # written to 6 decimals
        assert (row["status"] or None, row["harmonised"]) == (status, "true" if harmonised else "false")
    # Voorne aan Zee (2023) before the merger: reconstructed from Brielle, Hellevoetsluis and Westvoorne
    assert {r["harmonised"] for r in got if r["region_code"] == "GM1992" and r["period"] < "2023"} == {"true"}
    assert {r["harmonised"] for r in got if r["region_code"] == "GM0193" and r["indicator_id"] == "bevolking"
            and r["period"] >= "2019"} == {"false"}
    assert any(r["status"] == "Voorlopig" for r in got if r["indicator_id"] == "woninginbraak_per_1000")
    as_json = json.loads(cli(*args, "--format", "json").output)
    assert [(r["indicator_id"], r["region_code"], r["period"], r["harmonised"]) for r in as_json] == \
        [(r["indicator_id"], r["region_code"], r["period"], r["harmonised"] == "true") for r in got]
    path = tmp_path / "export.xlsx"
    cli(*args, "--format", "xlsx", "--uit", str(path))
    sheet = list(load_workbook(path).active.values)
    assert sheet[0] == ("indicator_id", "region_code", "period", "value", "status", "harmonised")
    assert len(sheet) - 1 == len(got)


def test_export_of_a_group_has_its_members(cli, con):
    got = rows_of(cli("export", "--group", "G40", "--indicators", "bevolking").output)
    members = {r[0] for r in con.execute("SELECT region_code FROM group_members WHERE group_id = 'G40'").fetchall()}
    assert {r["region_code"] for r in got} == members and len(members) == 40


def test_export_needs_a_file_for_xlsx(cli):
    result = cli("export", "--regions", "Zwolle", "--format", "xlsx", ok=False)
    assert isinstance(result.exception, TrendstudieError) and "--uit" in str(result.exception)


def test_profiel_in_text_and_json(cli, con):
    text = cli("profiel", "Zwolle").output
    assert text.startswith("Zwolle (GM0193), provincie Overijssel")
    assert "Demografie" in text and "Veiligheid" in text
    data = json.loads(cli("profiel", "GM0193", "--format", "json", "--domein", "demografie").output)
    assert [d["domain"] for d in data["domains"]] == ["demografie"]
    bevolking = next(i for i in data["domains"][0]["indicators"] if i["indicator_id"] == "bevolking")
    period, latest = con.execute("SELECT period, value FROM indicator_values WHERE indicator_id = 'bevolking' "
                                 "AND region_code = 'GM0193' ORDER BY period DESC LIMIT 1").fetchone()
    assert (bevolking["latest"]["period"], bevolking["latest"]["value"]) == (period, latest)
    assert f"{int(latest):,}".replace(",", ".") in text  # the text shows the same figure, Dutch style


def test_trends_json_judges_every_trend_with_its_basis_and_filters_by_domain(cli):
    kb = model.load()
    found = json.loads(cli("trends", "GM0193", "--format", "json").output)
    assert sorted(f["trend"] for f in found) == sorted(kb.trends)  # every trend and force, once
    assert {f["sterkte"] for f in found} <= {"sterk", "enigszins", "niet", "onbekend"}
    assert {f["basis"] for f in found} <= {"cijfers", "typering", "landelijk", None}
    for f in found:
        assert (f["basis"] is None) == (f["sterkte"] == "onbekend"), f
        if f["basis"] == "cijfers" and f["sterkte"] != "niet":
            assert f["onderbouwing"], f  # a judgement from figures always comes with its evidence
        if f["basis"] in ("typering", "landelijk"):
            assert f["onderbouwing"] == [] and f["reden"], f
    known = sum(f["sterkte"] != "onbekend" for f in found) / len(found)
    assert known >= 0.9  # the goal of the localisation: nine in ten trends have a basis
    wonen = json.loads(cli("trends", "Zwolle", "--domein", "wonen en ruimte", "--format", "json").output)
    assert wonen and {f["domein"] for f in wonen} == {"wonen en ruimte"}
    text = cli("trends", "Zwolle").output
    assert "Trends in Zwolle (GM0193)" in text and "➢" in text and "op grond van typering" in text


def test_trends_alle_is_one_document_keyed_by_gemeente_and_equals_the_single_calls(cli):
    doc = json.loads(cli("trends", "--alle", "--format", "json").output)
    assert len(doc) == 342 and "GM0193" in doc
    single = json.loads(cli("trends", "GM0193", "--format", "json").output)
    assert doc["GM0193"] == single
    for code, verdicts in doc.items():
        assert sum(v["sterkte"] != "onbekend" for v in verdicts) / len(verdicts) >= 0.9, code
    assert cli("trends", "--alle", ok=False).exit_code != 0  # text for 342 gemeenten is not offered


def test_merged_gemeente_verdicts_say_the_figures_were_reconstructed(cli):
    found = json.loads(cli("trends", "GM1992", "--format", "json").output)  # Voorne aan Zee, 2023
    labelled = [f for f in found if f["basis"] == "cijfers" and any(l.startswith("Herberekend") for l in f["labels"])]
    assert labelled
    assert all("Voorne aan Zee" in l for f in labelled for l in f["labels"] if l.startswith("Herberekend"))


def test_labels_name_only_the_years_the_evidence_cites(cli, con):
    """A label says which cited figures are reconstructed or provisional, never a year nobody cites;
    and the predecessors are named (Amsterdam took Weesp in on 24 March 2022)."""
    from trendstudie.analysis.labels import cited_years

    flagged = {(r, int(p[:4])): h for r, p, h in con.execute(
        "SELECT region_code, period, bool_or(harmonised) FROM indicator_values GROUP BY ALL").fetchall()}
    for code in ("GM1992", "GM0363"):
        found = json.loads(cli("trends", code, "--format", "json").output)
        for f in found:
            if f["basis"] != "cijfers":
                continue
            cited = cited_years(f["onderbouwing"] + f["tegenbewijs"] + [f["kanttekening"]])
            for label in f["labels"]:
                assert cited_years([label]) - {2022, 2023} <= cited, (code, f["trend"], label)  # merger years aside
            if any(flagged.get((code, y)) for y in cited if y < 2022):
                assert any(l.startswith("Herberekend") for l in f["labels"]), (code, f["trend"])
    amsterdam = json.loads(cli("trends", "GM0363", "--format", "json").output)
    labels = {l for f in amsterdam for l in f["labels"] if l.startswith("Herberekend: de cijfers van 2015 ")}
    assert labels == {"Herberekend: de cijfers van 2015 zijn voor Amsterdam van nu samengesteld uit die van "
                      "Amsterdam en Weesp (herindeling van 2022)."}


def test_a_verdict_that_a_trend_does_not_play_on_old_figures_says_so(cli):
    """Not only 'speelt' verdicts: one that a trend does not play, resting only on 2015 figures, says so too."""
    found = json.loads(cli("trends", "GM1992", "--format", "json").output)
    f = next(f for f in found if f["trend"] == "onbenut-arbeidspotentieel")
    assert f["sterkte"] == "niet" and all("2015" in e for e in f["onderbouwing"])
    assert f["kanttekening"] == "Dit oordeel rust alleen op cijfers uit 2015; nieuwere zijn er voor deze indicatoren niet."
    text = cli("trends", "GM1992").output
    assert "   ! Dit oordeel rust alleen op cijfers uit 2015; nieuwere zijn er voor deze indicatoren niet." in text


def test_profiel_labels_reconstructed_figures_in_text_and_json(cli):
    text = cli("profiel", "Voorne aan Zee", "--domein", "demografie").output
    assert ("Herberekend: de cijfers van 2021 zijn voor Voorne aan Zee van nu samengesteld uit die van Brielle, "
            "Hellevoetsluis en Westvoorne (herindeling van 2023).") in text.replace("\n    ", " ")
    data = json.loads(cli("profiel", "GM1992", "--format", "json").output)
    inw = next(i for d in data["domains"] for i in d["indicators"] if i["indicator_id"] == "bevolking")
    assert inw["latest"]["harmonised"] is False and any(l.startswith("Herberekend: de cijfers van 2021") for l in inw["labels"])
    zwolle = json.loads(cli("profiel", "GM0193", "--format", "json").output)
    assert not any(l.startswith("Herberekend") for d in zwolle["domains"] for i in d["indicators"]
                   if i["indicator_id"] == "bevolking" for l in i["labels"])


def test_trend_shows_citations_causes_and_opgaven(cli):
    text = cli("trend", "vergrijzing").output
    assert "Bronnen:" in text and "Gevolgen:" in text
    years = {int(y) for y in re.findall(r"^  (\d{4}): ", text, flags=re.M)}
    assert len(years) >= 3  # a trend that recurs over a decade of studies
    # how a gemeente's figures judge it, in words, with the reasons of the rule file
    rule = text[text.index("Wanneer speelt deze trend in een gemeente?"):text.index("Bronnen:")]
    assert "Sterk als al deze voorwaarden gelden:" in rule and "Anders enigszins als een van deze geldt:" in rule
    assert "- Aandeel 65 jaar en ouder hoger dan Nederland" in rule
    for typo in ("vergrijz", "vergrijsing"):  # part of an id, or a misspelling
        result = cli("trend", typo, ok=False)
        assert "Bedoelt u" in str(result.exception) and "vergrijzing" in str(result.exception)


def test_samenhang_walks_to_the_chosen_depth(cli):
    one = cli("samenhang", "vergrijzing", "--diepte", "1").output
    two = cli("samenhang", "vergrijzing", "--diepte", "2").output
    assert "Oorzaken" in one and "Gevolgen" in one
    assert len(two.splitlines()) > len(one.splitlines())
    assert cli("samenhang", "vergrijzing", "--diepte", "9", ok=False).exit_code == 2  # typer's range check
    assert "Bedoelt u" in str(cli("samenhang", "vergrijsing", ok=False).exception)


def test_prognose_csv_equals_the_engine(cli, con):
    got = rows_of(cli("prognose", "Zwolle", "--tot", "2035", "--scenario", "hoog").output)
    assert list(got[0]) == ["indicator_id", "region_code", "period", "value", "lower", "upper", "scenario"]
    want = {(r.indicator_id, r.period): r for r in project(con, "GM0193", "hoog", 2035)}
    assert len(got) == len(want)
    for row in got:
        r = want[row["indicator_id"], row["period"]]
        assert float(row["value"]) == pytest.approx(r.value, rel=1e-6)
        assert row["scenario"] == "hoog"
        assert (row["lower"] == "") == (r.lower is None)
    pop = [r for r in got if r["indicator_id"] == "bevolking"]
    assert pop[-1]["period"] == "2035JJ00" and float(pop[-1]["lower"]) < float(pop[-1]["value"]) < float(pop[-1]["upper"])
    as_json = json.loads(cli("prognose", "GM0193", "--tot", "2030", "--format", "json", "--als", "immigratie=1,2").output)
    assert {r["scenario"] for r in as_json} == {"basis-variant"} and all("method" in r for r in as_json)


def test_backtest_prints_the_error_table(cli):
    text = cli("backtest", "--oorsprong", "2019").output
    five = [line for line in text.splitlines() if line.startswith("2019") and "| 5 jaar" in line]
    methods = {line.split("|")[2].strip(): float(line.split("|")[4].strip().rstrip("%").replace(",", ".")) for line in five}
    assert set(methods) == {"componentenmodel", "constante groei", "geen verandering"}
    assert methods["componentenmodel"] < methods["constante groei"]


def test_rapport_writes_html_and_data_appendix(cli, tmp_path):
    cli("rapport", "Zwolle", "--uit", str(tmp_path), "--geen-pdf")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "GM0193-zwolle.html" in names and "GM0193-zwolle-data.csv" in names and "GM0193-zwolle-data.xlsx" in names
    assert not any(n.endswith(".pdf") for n in names)
    html = (tmp_path / "GM0193-zwolle.html").read_text(encoding="utf-8")
    assert "<h1" in html and "Zwolle" in html
