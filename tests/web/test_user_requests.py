"""What users asked for (issue 16, point 6): every scenario in Toekomst, sortable rankings without
JavaScript, exported charts that carry title, unit, year and source, one word for a strength."""

from __future__ import annotations

import html
import re

import pytest

from trendstudie.forecast import load_scenarios


def _section(page: str, anchor: str) -> str:
    m = re.search(rf'<section id="{anchor}"[^>]*>(.*?)</section>', page, re.S)
    assert m, f"no section #{anchor}"
    return m.group(1)


def _chart_scenarios(fragment: str) -> set[str]:
    """The scenarios drawn as lines in a fan chart (data-label of each scenario group)."""
    return {html.unescape(x) for x in re.findall(r'<g class="scenario" data-label="([^"]+)"', fragment)}


# --- 1. every scenario in Toekomst -----------------------------------------------------------

def test_gemeente_page_toekomst_shows_every_scenario(client):
    scenarios = load_scenarios()
    assert "spreiding" in scenarios  # Zwolle's highest, left out before
    toekomst = _section(client.get("/gemeente/GM0193").text, "toekomst")
    others = {s.titel for sid, s in scenarios.items() if sid != "basis"}
    short = {s.kort or s.titel for sid, s in scenarios.items() if sid != "basis"}
    assert _chart_scenarios(toekomst) == others | short  # the wide drawing, and the phone's with short names
    text = html.unescape(re.sub(r"<[^>]+>", " ", toekomst))
    for s in scenarios.values():
        assert s.titel in text, s.titel
    assert "'spreiding, sturing en deconcentratie'" in text  # also in the words under the chart
    assert 'class="chart-narrow"' in toekomst  # laid out again for phones (the prognose page's chart)


def test_report_toekomst_shows_every_scenario(client):
    report = client.get("/gemeente/GM0193/rapport.html").text
    m = re.search(r'<h2 id="h-toekomst">.*?(?=<h2 |\Z)', report, re.S)
    assert m
    toekomst = m.group(0)
    scenarios = load_scenarios()
    others = {s.titel for sid, s in scenarios.items() if sid != "basis"}
    short = {s.kort or s.titel for sid, s in scenarios.items() if sid != "basis"}
    assert _chart_scenarios(toekomst) == others | short  # the wide drawing, and the phone's with short names
    text = html.unescape(re.sub(r"<[^>]+>", " ", toekomst))
    for s in load_scenarios().values():
        assert s.titel.lower() in text.lower(), s.titel


def test_prognose_page_fan_has_every_other_scenario(client):
    page = client.get("/gemeente/GM0193/prognose", params={"scenario": "spreiding"}).text
    others = [s for sid, s in load_scenarios().items() if sid != "spreiding"]
    assert _chart_scenarios(page) == {s.titel for s in others} | {s.kort or s.titel for s in others}


def test_scenario_sentence_names_every_scenario():
    from trendstudie.report.scenario_fan import scenario_sentence

    text = scenario_sentence()
    for sid, s in load_scenarios().items():
        assert (f"'{s.titel.lower()}'" in text) == (sid != "basis")


# --- 2. sortable rankings --------------------------------------------------------------------

def _ranking(page: str) -> tuple[list[str], list[int], str]:
    table = re.search(r'<section aria-labelledby="h-rang">.*?</table>', page, re.S).group(0)
    names = [html.unescape(n) for n in re.findall(r'<th scope="row"><a href="/gemeente/GM\d{4}">([^<]+)</a>', table)]
    positions = [int(p) for p in re.findall(r'<tr[^>]*><td class="num">(\d+)</td>', table)]
    return names, positions, table


def test_indicator_ranking_sorts_by_links(client):
    from trendstudie.geo.regions import normalise_name

    base, pos, table = _ranking(client.get("/indicator/bevolking").text)
    assert len(base) == 342 and pos == list(range(1, 343))
    assert 'aria-sort="descending"' in table and table.count("aria-sort=") == 1
    # the header links (no JavaScript): name A-Z, and the value the other way round
    links = dict((html.unescape(label), html.unescape(href)) for href, label in
                 re.findall(r'<a class="sort" href="([^"]+)">([^<]+)<', table))
    assert links["Gemeente"] == "/indicator/bevolking?sorteer=naam&richting=op#h-rang"
    assert links["inwoners"] == "/indicator/bevolking?sorteer=waarde&richting=op#h-rang"

    names, positions, table = _ranking(client.get("/indicator/bevolking?sorteer=naam&richting=op").text)
    assert names == sorted(base, key=normalise_name) and 'aria-sort="ascending"' in table
    assert sorted(positions) == list(range(1, 343))  # the position stays the position by value
    assert positions[names.index(base[0])] == 1
    names, _, table = _ranking(client.get("/indicator/bevolking?sorteer=naam&richting=af").text)
    assert names == sorted(base, key=normalise_name, reverse=True) and 'aria-sort="descending"' in table
    names, positions, _ = _ranking(client.get("/indicator/bevolking?sorteer=waarde&richting=op").text)
    assert names == base[::-1] and positions == list(range(342, 0, -1))
    # only 'richting': the value, that way
    assert _ranking(client.get("/indicator/bevolking?richting=op").text)[0] == base[::-1]


def test_sort_parameters_are_known_and_kept(client):
    # known to the canonical-URL logic: kept; an unknown parameter beside them is still dropped
    r = client.get("/indicator/bevolking?sorteer=naam&richting=af&utm_source=x", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/indicator/bevolking?sorteer=naam&richting=af"
    # the default order has one URL
    r = client.get("/indicator/bevolking?periode=2020JJ00&sorteer=waarde&richting=af", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/indicator/bevolking?periode=2020JJ00"
    # the period form keeps the order
    page = client.get("/indicator/bevolking?sorteer=naam&richting=af").text
    assert '<input type="hidden" name="sorteer" value="naam">' in page
    # a sorted page is cached under its own URL: a second request gives the same order
    assert _ranking(client.get("/indicator/bevolking?sorteer=naam&richting=af").text)[0] == _ranking(page)[0]


@pytest.mark.parametrize("query,word", [("sorteer=prijs", "sorteer=waarde"), ("richting=omhoog", "richting=op"),
                                        ("sorteer=", "sorteer=naam")])
def test_invalid_sort_is_a_dutch_400(client, query, word):
    r = client.get(f"/indicator/bevolking?{query}")
    assert r.status_code == 400 and "Traceback" not in r.text
    assert word in html.unescape(r.text) and "kies" in r.text


def test_group_members_on_vergelijk_sort_by_name(client):
    page = client.get("/vergelijk?gemeente=GM0193&groep=G40&sorteer=naam&richting=op").text
    details = re.search(r'<details id="leden" open>.*?</details>', page, re.S).group(0)
    assert 'aria-current="true">op naam, van A tot Z</a>' in details
    labels = re.findall(r'<text[^>]*text-anchor="end"[^>]*>([^<]+)</text>', details) or \
        re.findall(r"<text[^>]*>([A-Z'][^<0-9]+)</text>", details)
    assert labels and labels[:3] == sorted(labels[:3])
    assert client.get("/vergelijk?gemeente=GM0193&groep=G40&richting=x").status_code == 400


# --- 3. exported charts carry title, unit, year and source -----------------------------------

def _visible(svg: str) -> str:
    """The text an exported image shows (its <text> elements), not its <title> or aria-label."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)))


@pytest.mark.parametrize("kind,indicator", [("kaart", "aandeel_65_plus"), ("kaart", "woninginbraak_per_1000"),
                                            ("verdeling", "bevolking"), ("reeks", "woninginbraak_per_1000"),
                                            ("reeks", "aandeel_65_plus")])
def test_exported_indicator_svg_carries_title_unit_year_and_source(client, kind, indicator):
    d = client.app.state.data
    m, period = d.indicators[indicator], d.periods[indicator][-1]
    r = client.get(f"/svg/{kind}/{indicator}.svg", params={"gemeente": "GM0193"})
    assert r.status_code == 200
    shown = re.sub(r"\s+", " ", _visible(r.text))
    assert m.title in shown
    assert f"Eenheid: {m.unit}." in shown
    if kind == "reeks":
        assert re.search(rf"Jaren: 20\d\d–{period[:4]}\.", shown)
    else:
        assert f"Periode: {period[:4]}." in shown
    assert f"Bron: {m.citation}" in shown  # 'CBS StatLine, tabel …' or 'Politie, … via CBS'
    assert r.text.count("<svg") == 2  # the chart of the page is inside, unchanged


@pytest.mark.parametrize("url,title,unit,year,source", [
    ("/svg/trend/vergrijzing.svg", "Waar speelt 'Vergrijzing en dubbele vergrijzing'?", "oordeel per gemeente",
     r"Cijfers tot en met 20\d\d", "Bron: CBS StatLine"),
    ("/svg/prognose/GM0193.svg?scenario=spreiding&tot=2045", "Inwoners van Zwolle: scenario Spreiding", "inwoners",
     r"prognose 20\d\d–2045", "Bron: CBS StatLine, tabel 03759ned"),
])
def test_exported_svg_carries_title_unit_year_and_source(client, url, title, unit, year, source):
    r = client.get(url)
    assert r.status_code == 200
    shown = re.sub(r"\s+", " ", _visible(r.text))
    assert title in shown
    assert f"Eenheid: {unit}" in shown
    assert re.search(year, shown)
    assert source in shown


def test_exported_series_names_its_index_and_years(client):
    shown = _visible(client.get("/svg/reeks/bevolking.svg?gemeente=GM0193").text)
    assert re.search(r"Eenheid: index, (\d{4}) = 100\. Jaren: \1–\d{4}\.", shown)
    assert "Bron: CBS StatLine, tabel 03759ned" in shown


def test_exported_samenhang_names_the_studies(client):
    shown = _visible(client.get("/svg/samenhang/vergrijzing.svg").text)
    assert "Samenhang rond 'Vergrijzing en dubbele vergrijzing'" in shown
    assert re.search(r"Bron: \d trendstudies \(20\d\d–20\d\d\)", shown)


def test_exported_png_is_the_framed_svg(client):
    png = client.get("/svg/kaart/bevolking.png").content
    svg = client.get("/svg/kaart/bevolking.svg").text
    height = int.from_bytes(png[20:24], "big")
    framed = float(re.search(r'<svg[^>]*\sheight="([0-9.]+)"', svg)[1])
    assert abs(height - 2 * framed) <= 1  # the frame with title and source is in the PNG too


def test_title_a_chart_draws_is_not_drawn_twice(client):
    shown = _visible(client.get("/svg/prognose/GM0193.svg").text)
    assert shown.count("Inwoners van Zwolle: scenario Basis") == 1


# --- 4. one word for a strength; the search field fits ---------------------------------------

def test_enigszins_not_matig_in_pages_and_api(client):
    for url in ("/gemeente/GM0193", "/trend/vergrijzing", "/trends", "/api/v1/gemeenten/GM0193/findings",
                "/api/v1/trends/vergrijzing", "/api/v1/trends/vergrijzing/gemeenten", "/svg/trend/vergrijzing.svg",
                "/gemeente/GM0193/rapport.html"):
        r = client.get(url)
        assert r.status_code == 200, url
        # 'matig stedelijk' is CBS's name of a degree of urbanisation, not a verdict
        assert not re.findall(r"\bmatig\b(?! stedelijk)", html.unescape(r.text).lower()), url


@pytest.mark.parametrize("args", [("trends", "Zwolle"), ("trends", "Zwolle", "--format", "json"),
                                  ("trend", "vergrijzing")])
def test_enigszins_not_matig_in_the_cli(built_home, args):
    from typer.testing import CliRunner

    from trendstudie.cli import app

    result = CliRunner().invoke(app, list(args), env={"TRENDSTUDIE_HOME": str(built_home)})
    assert result.exit_code == 0, result.output
    assert not re.findall(r"\bmatig\b(?! stedelijk)", result.output.lower())
    if args[0] == "trends":
        assert "enigszins" in result.output


def test_a_phone_fan_names_scenarios_short_and_a_derived_scenario_not_by_its_parent():
    from trendstudie.forecast.scenarios import parse_scenarios
    from trendstudie.report.scenario_fan import population_lines

    class Row:
        def __init__(self, sid):
            self.indicator_id, self.period, self.value, self.lower, self.upper = "bevolking", "2030JJ00", 1.0, 0.9, 1.1

    _, wide = population_lines(lambda sid: [Row(sid)])
    _, narrow = population_lines(lambda sid: [Row(sid)], short=True)
    assert "Spreiding, sturing en deconcentratie" in wide and "Spreiding" in narrow
    assert len(wide) == len(narrow) == len(load_scenarios()) - 1
    own = parse_scenarios("scenarios:\n  - id: mijn\n    basis: spreiding\n    titel: Mijn variant\n", "eigen.yaml",
                          load_scenarios())
    assert own["mijn"].kort is None and own["mijn"].aantrekking == load_scenarios()["spreiding"].aantrekking
