"""The Dutch pages: content from the store, escaping, security headers, 404/422 pages, downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest

from trendstudie import formatting


def test_home_lists_every_gemeente(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.text.count('href="/gemeente/GM') >= 342
    assert '<html lang="nl">' in r.text and 'role="search"' in r.text


def test_security_headers(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"]
    assert "<script" not in r.text  # the site works without JavaScript
    assert ' style="' not in r.text  # a strict CSP would block inline styles


def test_search_exact_name_redirects(client):
    r = client.get("/zoek", params={"q": "zwolle"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/gemeente/GM0193"
    r = client.get("/zoek", params={"q": "GM0363"}, follow_redirects=False)
    assert r.headers["location"] == "/gemeente/GM0363"
    r = client.get("/zoek", params={"q": "'s-Gravenhage"}, follow_redirects=False)
    assert r.headers["location"] == "/gemeente/GM0518"


def test_search_fuzzy_and_prefix(client):
    r = client.get("/zoek", params={"q": "Zwole"})  # misspelt
    assert r.status_code == 200 and "/gemeente/GM0193" in r.text
    r = client.get("/zoek", params={"q": "Bergen"})  # ambiguous: Bergen (L.) and Bergen (NH.)
    assert "/gemeente/GM0893" in r.text and "/gemeente/GM0373" in r.text


def test_search_former_gemeente_leads_to_successor(client):
    r = client.get("/zoek", params={"q": "Haarlemmerliede en Spaarnwoude"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/gemeente/GM0394"  # merged into Haarlemmermeer in 2019


def test_search_escapes_input(client):
    r = client.get("/zoek", params={"q": "<script>alert(1)</script>"})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text


def test_gemeente_page_shows_store_figures(client, app):
    d = app.state.data
    r = client.get("/gemeente/GM0193")
    assert r.status_code == 200
    period, pop = d.data.latest("bevolking", "GM0193")
    assert f"{formatting.number(pop, 0)} inwoners op 1 januari {period[:4]}" in r.text
    assert "Wonen en ruimte" in r.text and "G40" in r.text
    playing = [v for v in d.verdicts["GM0193"] if v.strength in ("sterk", "enigszins") and v.basis != "landelijk"]
    assert playing and all(f'id="trend-{v.trend}"' in r.text for v in playing)
    by_figures = [v for v in playing if v.basis == "cijfers"]
    assert by_figures[0].evidence[0].split(":")[0] in r.text
    assert "volgens de typering" in r.text.lower() and "Landelijke trends die ook Zwolle raken" in r.text
    assert "Wie handelt:" in r.text and 'id="uitdagingen"' in r.text
    assert "/gemeente/GM0193/rapport.pdf" in r.text
    # every svg has a title (text alternative)
    svgs = re.findall(r"<svg[^>]*>(.*?)</svg>", r.text, flags=re.S)
    assert svgs and all("<title" in s for s in svgs)


def test_gemeente_page_lays_out_the_samenhang_diagram_for_screens_only(client, app, monkeypatch):
    """The page's samenhang diagram is laid out for a screen (with a phone layout beside it); the
    print layout, which the page would throw away, is not made for it."""
    from trendstudie.charts import diagram
    from trendstudie.report.content import Options, build_report
    from trendstudie.web.charts import samenhang_for_screens

    d = app.state.data
    chapter = next(c for c in build_report(d.ctx, "GM0150", Options(screen=True)).chapters if c.anchor == "samenhang")
    assert chapter.figures == [] and chapter.graph is not None and chapter.graph[1]
    widths = []
    real = diagram.causal_diagrams
    monkeypatch.setattr(diagram, "causal_diagrams",
                        lambda nodes, edges, max_width, max_height=None: widths.append(max_width)
                        or real(nodes, edges, max_width, max_height))
    samenhang_for_screens(chapter)
    assert len(chapter.figures) == 1 and chapter.figures[0].svg.startswith("<svg") and chapter.figures[0].narrow
    assert diagram.PRINT_WIDTH not in widths and len(widths) == 2
    printed = next(c for c in build_report(d.ctx, "GM0150", Options()).chapters if c.anchor == "samenhang")
    assert len(printed.figures) == 1 and printed.graph == chapter.graph
    r = client.get("/gemeente/GM0150")
    section = r.text[r.text.index('<section id="samenhang"'):]
    section = section[:section.index("</section>")]
    assert section.count('<figure class="diagram">') == 1 and "<svg" in section


def test_samenhang_for_screens_leaves_out_a_diagram_it_cannot_draw(app, monkeypatch):
    """A drawing problem (Graphviz failing) leaves the page's diagram out instead of failing the page."""
    from trendstudie.charts import diagram
    from trendstudie.report.content import Options, build_report
    from trendstudie.web.charts import samenhang_for_screens

    chapter = next(c for c in build_report(app.state.data.ctx, "GM0150", Options(screen=True)).chapters
                   if c.anchor == "samenhang")

    def broken(*args, **kwargs):
        raise RuntimeError("dot is stuk")

    monkeypatch.setattr(diagram, "causal_diagrams", broken)
    samenhang_for_screens(chapter)
    assert chapter.figures == [] and chapter.paragraphs


def test_unknown_and_former_gemeente_pages(client):
    r = client.get("/gemeente/GM9999")
    assert r.status_code == 404 and "Er is geen gemeente met code GM9999" in r.text and 'lang="nl"' in r.text
    r = client.get("/gemeente/GM0001")
    assert r.status_code == 404 and "geen gemeente meer" in r.text
    r = client.get("/gemeente/GM0193' OR 1=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/zoek?q=GM0193")  # a search, not a query
    r = client.get("/gemeente/<script>")
    assert r.status_code == 422 and "<script>" not in r.text


def test_a_name_in_the_address_bar_leads_to_the_gemeente(client):
    r = client.get("/gemeente/vaals", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/gemeente/GM0981"
    r = client.get("/gemeente/Nergensdorp", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/zoek?q=Nergensdorp"


def test_the_province_column_is_not_headed_like_the_gemeente(client):
    html = client.get("/gemeente/GM0014").text
    assert ">Prov. Groningen</abbr>" in html
    r = client.get("/bestaat/niet")
    assert r.status_code == 404 and "bestaat niet" in r.text


def test_compare_page(client, app):
    d = app.state.data
    r = client.get("/vergelijk", params=[("gemeente", "Zwolle"), ("gemeente", "Deventer"), ("groep", "G40"),
                                        ("indicator", "aandeel_65_plus")])
    assert r.status_code == 200
    assert "/gemeente/GM0193" in r.text and "/gemeente/GM0150" in r.text
    period, v = d.data.latest("aandeel_65_plus", "GM0150")
    assert formatting.number(v, 1) in r.text
    r = client.get("/vergelijk", params=[("gemeente", "Nergensdorp")])
    assert r.status_code == 200 and "Geen gemeente gevonden" in r.text
    r = client.get("/vergelijk", params=[("gemeente", "<script>")])
    assert r.status_code == 422 and "<script>" not in r.text
    many = [("gemeente", c) for c in ("GM0193", "GM0150", "GM0363", "GM0599", "GM0344", "GM0518", "GM0014")]
    r = client.get("/vergelijk", params=many)
    assert "Hoogstens 6 gemeenten" in r.text


def test_indicator_page(client, app):
    d = app.state.data
    r = client.get("/indicator/aandeel_65_plus", params={"gemeente": "GM0193"})
    assert r.status_code == 200
    ranking = d.ranking("aandeel_65_plus", d.periods["aandeel_65_plus"][-1])
    top_code, top_value = ranking[0]
    assert d.gemeenten[top_code].name in r.text and formatting.number(top_value, 1) in r.text
    assert "Kaart" in r.text and "Ranglijst" in r.text and "Verdeling" in r.text
    r = client.get("/indicator/aandeel_65_plus", params={"periode": "1900JJ00"})
    assert r.status_code == 404
    r = client.get("/indicator/aandeel_65_plus", params={"periode": "2024JJ0"})
    assert r.status_code == 422 and "CBS-periode" in r.text


def test_indicator_without_data_is_a_clear_404(client, app):
    missing = [m.id for m in app.state.data.indicators.values() if not app.state.data.periods.get(m.id)]
    if missing:
        r = client.get(f"/indicator/{missing[0]}")
        assert r.status_code == 404 and "geen gegevens" in r.text


def test_trend_and_samenhang_pages(client, app):
    r = client.get("/trend/vergrijzing")
    assert r.status_code == 200
    counts = app.state.data.trend_counts("vergrijzing")
    assert f"Sterk in {counts['sterk']} gemeenten" in r.text and "Bronnen" in r.text
    # the rule in words, as trendstudie.knowledge.localise words it (reasons included)
    from markupsafe import escape

    from trendstudie.knowledge.localise import rule_in_words

    reader = app.state.data.reader
    rule = next(r for r in reader.rules if r.trend == "vergrijzing")
    assert "Zo geven de cijfers het oordeel" in r.text and str(escape(rule.reden)) in r.text
    for step in rule_in_words(rule, reader.data):
        assert f"{escape(step.label)}:" in r.text
        assert all(f"<li>{escape(line)}</li>" in r.text for line in step.conditions)
    r = client.get("/samenhang/vergrijzing", params={"diepte": 3})
    assert r.status_code == 200 and "Oorzaken" in r.text
    assert client.get("/samenhang/vergrijzing", params={"diepte": 5}).status_code == 422
    assert client.get("/trend/bestaat-niet").status_code == 404
    assert client.get("/trends").status_code == 200
    assert client.get("/indicatoren").status_code == 200


def test_downloads(client, database):
    r = client.get("/download/indicatoren.csv", params={"gemeente": "Zwolle", "indicator": "bevolking"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
    assert {x["region_code"] for x in rows} == {"GM0193"}
    r = client.get("/download/indicatoren.xlsx", params={"groep": "G4", "indicator": "bevolking"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = client.get("/download/indicatoren.json", params={"groep": "G4", "indicator": "bevolking"})
    assert {x["region_code"] for x in r.json()} == {"GM0344", "GM0363", "GM0518", "GM0599"}
    assert {x["harmonised"] for x in rows} == {"false"}  # Zwolle's population as published
    r = client.get("/gemeente/GM0193/data.csv")
    assert r.status_code == 200 and r.text.splitlines()[0].endswith(",status,provenance,harmonised")
    r = client.get("/gemeente/GM1992/data.csv")  # Voorne aan Zee (2023): earlier years reconstructed
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {x["harmonised"] for x in rows if x["indicator_id"] == "bevolking" and x["period"] < "2023"} == {"true"}
    assert client.get("/download/indicatoren.csv", params={"groep": "X<"}).status_code == 404
    assert client.get("/downloads").status_code == 200
    r = client.get("/download/indicatoren", params={"gemeente": "Zwolle", "groep": "", "indicator": "bevolking",
                                                   "formaat": "xlsx"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/download/indicatoren.xlsx?gemeente=Zwolle&indicator=bevolking"
    assert client.get("/download/indicatoren", params={"formaat": "pdf"}).status_code == 422


@pytest.mark.parametrize("url", ["/svg/kaart/bevolking.svg?gemeente=GM0193", "/svg/verdeling/bevolking.svg",
                                 "/svg/reeks/bevolking.svg?gemeente=GM0193", "/svg/trend/vergrijzing.svg",
                                 "/svg/samenhang/vergrijzing.svg?diepte=2"])
def test_svg_downloads(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.startswith("<?xml") and "<title" in r.text


def test_report_on_demand(client):
    r = client.get("/gemeente/GM0193/rapport.html")
    assert r.status_code == 200 and "Trendstudie Zwolle" in r.text
    assert "style-src 'unsafe-inline'" in r.headers["content-security-policy"]
    r = client.get("/gemeente/GM0193/rapport.pdf")
    assert r.status_code == 200 and r.content[:4] == b"%PDF"
    assert client.get("/gemeente/GM0193/rapport.doc").status_code == 422
    # the served report links its data files beside itself, as on disk: those links work
    html = client.get("/gemeente/GM0193/rapport.html").text
    links = re.findall(r'href="(GM0193-[a-z-]+-data\.(?:csv|xlsx))"', html)
    assert len(links) == 2
    for name in links:
        r = client.get(f"/gemeente/GM0193/{name}")
        assert r.status_code == 200 and len(r.content) > 100
    assert "indicator_id" in client.get(f"/gemeente/GM0193/{links[0]}").text
    assert client.get("/gemeente/GM0193/iets-anders.csv").status_code == 404
    assert client.get("/gemeente/GM0193/prognose").status_code == 200  # named pages still win


def test_responses_are_cached_per_build_and_shared_on_disk(client, app, database):
    """A page is rendered once per build: the second request is served from the cache, and a
    second app over the same database (another worker) finds it on disk."""
    from fastapi.testclient import TestClient

    from trendstudie.web import create_app

    first = client.get("/gemeente/GM0014")
    assert first.status_code == 200
    cache = app.state.cache
    assert cache.directory is not None and any(cache.directory.glob("*.resp"))
    again = client.get("/gemeente/GM0014")
    assert again.content == first.content
    other = create_app(database)
    # same build and program, so the same cache directory (pinned: the program fingerprint would
    # change if someone edited a source file between the two start-ups)
    other.state.cache.directory = cache.directory
    other.state.data.gemeenten.clear()  # would 404 if the page were rendered again instead of read from disk
    r = TestClient(other, raise_server_exceptions=False).get("/gemeente/GM0014")
    assert r.status_code == 200 and r.content == first.content
    gz = client.get("/gemeente/GM0014", headers={"Accept-Encoding": "gzip"})
    assert gz.headers.get("content-encoding") == "gzip" and gz.content == first.content


@pytest.mark.parametrize("url", ["/", "/gemeente/GM0193", "/vergelijk?gemeente=Zwolle&gemeente=Deventer&groep=G40",
                                 "/indicator/bevolking?gemeente=GM0193", "/trend/vergrijzing", "/samenhang/vergrijzing",
                                 "/downloads", "/trends", "/indicatoren", "/zoek?q=ber", "/api",
                                 "/gemeente/GM0193/prognose?scenario=hoog&tot=2050", "/vergelijk?gemeente=Zwolle&groep=PV23"])
def test_page_structure_is_accessible(client, url):
    """One h1, no skipped heading levels, unique ids, every SVG labelled, every input labelled."""
    from collections import Counter

    t = client.get(url).text
    headings = [int(h) for h in re.findall(r"<h([1-6])", t)]
    assert headings.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(headings, headings[1:]))
    ids = Counter(re.findall(r'\sid="([^"]+)"', t))
    assert not [k for k, v in ids.items() if v > 1]
    assert not re.findall(r"<svg(?![^>]*aria-label)[^>]*>", t)
    for field in re.findall(r'<(?:input|select)[^>]*\sid="([^"]+)"', t):
        assert f'for="{field}"' in t, field
    assert not re.findall(r"<(?:input|select)(?![^>]*\sid=)[^>]*>", t)


def test_head_requests(client):
    r = client.head("/gemeente/GM0193")
    assert r.status_code == 200 and r.content == b"" and r.headers["content-type"].startswith("text/html")
    assert client.head("/api/v1/groups").status_code == 200
    assert client.head("/gemeente/GM9999").status_code == 404


def test_series_of_a_count_compares_growth_not_totals(client, con):
    """Inwoners of Zwolle next to those of Nederland would be a flat line at the bottom: counts are
    drawn as an index (the latest first year = 100), rates and shares as they are."""
    counts = client.get("/svg/reeks/bevolking.svg?gemeente=GM0193")
    assert counts.status_code == 200
    first = con.execute("SELECT min(period) FROM indicator_values WHERE indicator_id = 'bevolking' "
                        "AND region_code IN ('GM0193', 'NL01', 'G4', 'G40', 'M50') GROUP BY region_code "
                        "ORDER BY 1 DESC LIMIT 1").fetchone()[0][:4]
    assert f"index ({first} = 100)" in counts.text
    rate = client.get("/svg/reeks/woninginbraak_per_1000.svg?gemeente=GM0193")
    assert rate.status_code == 200 and "index (" not in rate.text and "per 1.000 inwoners" in rate.text


def test_counts_under_a_trend_are_drawn_as_an_index_against_the_groups(client):
    """Groningen's inhabitants against Nederland's 18 million would be a flat line at zero."""
    captions = re.findall(r"Inwoners in Groningen en vergelijkbare gemeenten[^<]*", client.get("/gemeente/GM0014").text)
    assert captions and all("(index, " in c and "= 100)" in c for c in captions)


def test_indicator_list_counts_what_has_figures(client, app):
    """The register lists every indicator; the lead and the home page count those with figures in
    this database, and one without says what it needs and how to get it."""
    d = app.state.data
    available = sum(1 for i in d.indicators if d.periods.get(i))
    missing = [m for m in d.indicators.values() if not d.periods.get(m.id) and m.missing]
    page = client.get("/indicatoren").text
    assert f"{len(d.indicators)} indicatoren" in page
    if missing:
        assert f"{available} daarvan hebben cijfers in deze database" in page
        assert "nog geen cijfers: vraagt CBS-gegevens" in page and "<code>trendstudie sync</code>" in page
    assert f"{available} indicatoren met cijfers in deze database" in client.get("/").text


def test_trends_list_keeps_the_space_before_the_dash(client):
    # the templates' trim_blocks ate the line break before the dash: "controlestaat— landelijke trend"
    text = re.sub(r"<[^>]+>", "", client.get("/trends").text)
    assert "— landelijke trend" in text
    assert not re.findall(r"\S—", text), re.findall(r".{30}\S—.{20}", text)[:5]


def test_trend_page_links_to_samenhang_only_where_there_are_relations(client, app):
    d = app.state.data
    linked = 0
    for trend_id in d.kb.trends:
        has_link = f'href="/samenhang/{trend_id}"' in client.get(f"/trend/{trend_id}").text
        empty = "geen verbanden" in client.get(f"/samenhang/{trend_id}").text
        assert has_link != empty, f"/trend/{trend_id}: link to samenhang {has_link}, samenhang empty {empty}"
        linked += has_link
    assert linked > len(d.kb.trends) / 2
    assert 'href="/samenhang/brede-welvaart"' not in client.get("/trend/brede-welvaart").text


def test_gemeente_page_always_links_to_its_changes(client):
    # the first edition: nothing to compare with, and still the way to the wijzigingen page
    page = client.get("/gemeente/GM0193").text
    assert 'href="/gemeente/GM0193/wijzigingen"' in page
    assert "Dit is de eerste editie" in page or "Geen wijzigingen voor" in page or "Nieuw sinds de vorige editie" in page


def test_compare_keeps_a_typo_and_says_where_a_former_gemeente_went(client):
    r = client.get("/vergelijk", params=[("gemeente", "Zwole"), ("gemeente", "Deventer")])
    assert "&#39;Zwole&#39; is niet eenduidig" in r.text
    assert re.findall(r'name="gemeente" value="([^"]*)"', r.text)[:3] == ["Zwole", "Deventer", ""]  # to correct, not to type again
    r = client.get("/vergelijk", params=[("gemeente", "Hellevoetsluis"), ("gemeente", "Zwolle")])
    notice = re.search(r'<div class="notice-message" role="status">(.*?)</div>', r.text, re.S).group(1)
    assert "Hellevoetsluis" in notice and "2023" in notice and "Getoond: Voorne aan Zee." in notice
    assert re.findall(r'name="gemeente" value="([^"]*)"', r.text)[:2] == ["Voorne aan Zee", "Zwolle"]
    assert "notice-message" not in client.get("/vergelijk", params={"gemeente": "Zwolle"}).text
