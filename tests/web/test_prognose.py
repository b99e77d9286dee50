"""The prognose page, its downloads and API, PNG charts and comparing a gemeente with a group.

Projections are checked against `trendstudie.forecast.project` called directly with the chosen
end year (the web cuts a longer run), so truncation errors would show."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from trendstudie import formatting
from trendstudie.forecast import MAX_UNTIL, project

COLUMNS = ["indicator_id", "region_code", "period", "value", "lower", "upper", "scenario"]


def rows_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _csv_value(v):
    """A number as it reads back from the CSV (twelve significant digits), or '' for none."""
    return "" if v is None else pytest.approx(v, rel=1e-11)


@pytest.mark.parametrize("code,scenario,until", [("GM0193", "basis", 2040), ("GM0014", "hoog", 2033),
                                                 ("GM0363", "metropolisering", 2050), ("G40", "laag", 2030)])
def test_api_projection_equals_the_forecast(client, con, code, scenario, until):
    want = project(con, code, scenario, until)
    r = client.get(f"/api/v1/prognose/{code}", params={"scenario": scenario, "tot": until})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    got = r.json()
    assert [(x["indicator_id"], x["period"]) for x in got] == [(w.indicator_id, w.period) for w in want]
    for x, w in zip(got, want):
        assert x["value"] == pytest.approx(w.value, rel=1e-9)
        assert (x["lower"] is None) == (w.lower is None) and (x["upper"] is None) == (w.upper is None)
        assert x["scenario"] == scenario and x["method"] == w.method and x["origin"] == w.origin
    assert max(int(x["period"][:4]) for x in got) == until
    r = client.get(f"/api/v1/prognose/{code}", params={"scenario": scenario, "tot": until, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = rows_csv(r.text)
    assert list(rows[0]) == COLUMNS
    assert [[float(row[c]) if c in ("value", "lower", "upper") and row[c] else row[c] for c in COLUMNS]
            for row in rows] == [
        [w.indicator_id, w.region_code, w.period, _csv_value(w.value), _csv_value(w.lower), _csv_value(w.upper),
         w.scenario] for w in want]


@pytest.mark.parametrize("url,status,text", [
    ("/api/v1/prognose/GM0193?tot=2020", 422, "Ongeldig eindjaar 2020"),
    (f"/api/v1/prognose/GM0193?tot={MAX_UNTIL + 1}", 422, f"uiterlijk {MAX_UNTIL}"),
    ("/api/v1/prognose/GM0193?tot=twintig", 422, "'tot'"),
    ("/api/v1/prognose/GM0193?tot=2040.5", 422, "'tot'"),
    ("/api/v1/prognose/GM0193?scenario=extreem", 422, "'basis', 'hoog', 'laag'"),
    ("/api/v1/prognose/GM0193?scenario=Hoog", 422, "'scenario'"),
    ("/api/v1/prognose/GM0193?scenaro=hoog", 422, "Onbekende queryparameter 'scenaro'"),
    ("/api/v1/prognose/GM0193?format=xml", 422, "'format'"),
    ("/api/v1/prognose/GM9999", 404, "Onbekende gemeente of groep GM9999"),
    ("/api/v1/prognose/GM0001", 404, "geen huidige gemeente"),
    ("/api/v1/prognose/G41", 404, "Onbekende gemeente of groep"),
    ("/api/v1/prognose/GM0193' OR 1=1", 422, "padparameter 'gebied'"),
    ("/api/v1/prognose/%3Cscript%3E", 422, "padparameter 'gebied'"),
])
def test_api_projection_bad_parameters(client, url, status, text):
    r = client.get(url)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"  # never HTML, so an echoed '<script>' is inert
    assert text in r.json()["fout"]


def test_api_projection_is_in_the_openapi_description(client):
    spec = client.get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/prognose/{gebied}"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) == {"gebied", "scenario", "tot", "format"}
    assert params["tot"]["schema"]["maximum"] == MAX_UNTIL
    assert set(params["scenario"]["schema"]["enum"]) == {"basis", "hoog", "laag", "metropolisering", "spreiding",
                                                          "de-urbanisatie"}


def test_prognose_page(client, app, con):
    d = app.state.data
    r = client.get("/gemeente/GM0193/prognose", params={"scenario": "hoog", "tot": 2050})
    assert r.status_code == 200
    t = r.text
    rows = {(x.indicator_id, x.period): x for x in project(con, "GM0193", "hoog", 2050)}
    pop = rows[("bevolking", "2050JJ00")]
    assert (f"telt Zwolle op 1 januari 2050 naar verwachting {formatting.number(pop.value, 0)} inwoners" in t)
    assert f"{formatting.number(pop.lower, 0)} – {formatting.number(pop.upper, 0)}" in t  # the band in the table
    for ind in ("huishoudens", "woningbehoefte", "woningtekort"):
        assert formatting.number(rows[(ind, "2035JJ00")].value, 0) in t, ind
    assert formatting.number(rows[("aandeel_65_plus", "2045JJ00")].value, 1) in t
    assert [int(y) for y in re.findall(r"1 jan\. (\d{4})</th>", t)][:5] == [2030, 2035, 2040, 2045, 2050]
    # the form: every scenario a radio button, the chosen one checked; the end year with its bounds
    assert len(re.findall(r'type="radio"[^>]*name="scenario"', t)) == 6
    assert re.search(r'value="hoog" checked', t)
    assert f'max="{MAX_UNTIL}"' in t and 'name="tot" value="2050"' in t
    # method and the backtest error the band comes from
    from trendstudie.forecast import backtest

    five = backtest(con).row(None, 5, "componentenmodel")
    assert f"minder dan {formatting.number(five.median_ape, 1)}%" in t and "90%-interval uit de backtest" in t
    # chart (fan) with downloads, and the data downloads
    assert '<svg' in t and "Inwoners van Zwolle: scenario Hoog" in t
    for link in ("/svg/prognose/GM0193.svg?scenario=hoog&amp;tot=2050", "/svg/prognose/GM0193.png?scenario=hoog&amp;tot=2050",
                 "/gemeente/GM0193/prognose.csv?scenario=hoog&amp;tot=2050",
                 "/gemeente/GM0193/prognose.json?scenario=hoog&amp;tot=2050"):
        assert link in t, link
    # all scenarios side by side, each linked
    for sid in ("basis", "laag", "metropolisering", "spreiding", "de-urbanisatie"):
        assert f"/gemeente/GM0193/prognose?scenario={sid}&amp;tot=2050" in t
    assert d.gemeenten["GM0193"].province_name in t  # breadcrumb


def test_prognose_page_defaults_and_short_horizon(client, con):
    r = client.get("/gemeente/GM0014/prognose")
    assert r.status_code == 200 and 'value="basis" checked' in r.text and 'name="tot" value="2040"' in r.text
    r = client.get("/gemeente/GM0014/prognose", params={"tot": 2028})
    assert r.status_code == 200
    assert re.findall(r"1 jan\. (\d{4})</th>", r.text) == ["2028", "2028"]  # housing and age tables


@pytest.mark.parametrize("params,status,text", [
    ({"tot": 2020}, 422, "Ongeldig eindjaar 2020"),
    ({"tot": MAX_UNTIL + 1}, 422, "Ongeldige invoer"),
    ({"tot": "2040abc"}, 422, "eindjaar"),
    ({"scenario": "<script>alert(1)</script>"}, 422, "&#39;spreiding&#39; of &#39;de-urbanisatie&#39;"),
])
def test_prognose_page_rejects_bad_values_with_a_dutch_page(client, params, status, text):
    r = client.get("/gemeente/GM0193/prognose", params=params)
    assert r.status_code == status and r.headers["content-type"].startswith("text/html")
    assert text in r.text and "<script>alert" not in r.text and 'lang="nl"' in r.text
    assert r.headers["cache-control"] == "no-store"


def test_prognose_page_unknown_gemeente(client):
    assert client.get("/gemeente/GM9999/prognose").status_code == 404
    r = client.get("/gemeente/GM0001/prognose")
    assert r.status_code == 404 and "geen gemeente meer" in r.text


def test_prognose_downloads(client, con):
    want = project(con, "GM0193", "laag", 2035)
    r = client.get("/gemeente/GM0193/prognose.csv", params={"scenario": "laag", "tot": 2035})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "prognose-GM0193-Zwolle-laag-2035.csv" in r.headers["content-disposition"]
    rows = rows_csv(r.text)
    assert list(rows[0]) == COLUMNS and len(rows) == len(want)
    assert float(rows[0]["value"]) == _csv_value(want[0].value)
    r = client.get("/gemeente/GM0193/prognose.json", params={"scenario": "laag", "tot": 2035})
    data = json.loads(r.text)
    assert list(data[0]) == COLUMNS + ["method", "origin"] and len(data) == len(want)
    r = client.get("/gemeente/GM0193/prognose.xlsx", params={"scenario": "laag", "tot": 2035})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert client.get("/gemeente/GM0193/prognose.pdf").status_code == 422
    assert client.get("/gemeente/GM0193/prognose.csv", params={"tot": 1999}).status_code == 422


PNG_URLS = ["/svg/kaart/bevolking.png?gemeente=GM0193", "/svg/verdeling/bevolking.png", "/svg/reeks/bevolking.png?gemeente=GM0193",
            "/svg/trend/vergrijzing.png", "/svg/samenhang/vergrijzing.png?diepte=2",
            "/svg/prognose/GM0193.png?scenario=spreiding&tot=2045"]


@pytest.mark.parametrize("url", PNG_URLS)
def test_png_downloads(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.headers["content-disposition"].startswith("attachment") and '.png"' in r.headers["content-disposition"]
    assert r.headers["etag"] and r.headers["cache-control"] == "public, max-age=300"
    assert "content-encoding" not in r.headers  # PNG is compressed already
    width = int.from_bytes(r.content[16:20], "big")
    svg = client.get(url.replace(".png", ".svg"))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    root = re.search(r"<svg[^>]*>", svg.text)[0]
    size = re.search(r'\swidth="([0-9.]+)"', root) or re.search(r'viewBox="[-0-9.]+ [-0-9.]+ ([0-9.]+)', root)
    assert abs(width - 2 * float(size[1])) <= 1  # twice the SVG's size
    again = client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_svg_prognose_and_bad_chart_formats(client):
    r = client.get("/svg/prognose/GM0193.svg", params={"scenario": "hoog", "tot": 2050})
    assert r.status_code == 200 and "Inwoners van Zwolle: scenario Hoog" in r.text
    assert client.get("/svg/kaart/bevolking.gif").status_code == 422
    r = client.get("/svg/prognose/GM0193.jpg")
    assert r.status_code == 422 and "&#39;svg&#39; of &#39;png&#39;" in r.text
    assert client.get("/svg/prognose/GM9999.png").status_code == 404
    assert client.get("/svg/prognose/GM0193.png", params={"tot": 3000}).status_code == 422


def test_pages_link_to_png_and_prognose(client):
    t = client.get("/indicator/bevolking", params={"gemeente": "GM0193"}).text
    assert "/svg/kaart/bevolking.png?" in t and "/svg/verdeling/bevolking.png?" in t and "/svg/reeks/bevolking.png" in t
    assert "/svg/trend/vergrijzing.png" in client.get("/trend/vergrijzing").text
    assert "/svg/samenhang/vergrijzing.png?diepte=2" in client.get("/samenhang/vergrijzing").text
    t = client.get("/gemeente/GM0193").text
    assert t.count('href="/gemeente/GM0193/prognose"') >= 3  # actions, contents, the Toekomst section


def test_compare_a_gemeente_with_a_group(client, app):
    """Zwolle against the G40 and against its province: a column for the group (in Zwolle's period)
    and Zwolle's position among the group's members."""
    d = app.state.data
    r = client.get("/vergelijk", params={"gemeente": "Zwolle", "groep": "G40", "indicator": "aandeel_65_plus"})
    assert r.status_code == 200
    t = r.text
    assert "G40-stedennetwerk</th>" in t
    period, value = d.data.latest("aandeel_65_plus", "GM0193")
    members = [c for c in d.group_members["G40"] if d.data.value("aandeel_65_plus", c, period) is not None]
    rank = 1 + sum(1 for c in members if d.data.value("aandeel_65_plus", c, period) > value)
    assert f"{rank} van {len(members)}" in t
    assert formatting.number(d.data.value("aandeel_65_plus", "G40", period), 1) in t
    assert "Alle leden van G40-stedennetwerk" in t  # the bar chart of every member
    # quick links to the gemeente's own groups (its province, size class, Nederland)
    assert "/vergelijk?gemeente=GM0193&amp;groep=PV23&amp;indicator=aandeel_65_plus" in t
    assert "/vergelijk?gemeente=GM0193&amp;groep=NL01&amp;indicator=aandeel_65_plus" in t
    r = client.get("/vergelijk", params={"gemeente": "GM0193", "groep": "PV23"})
    assert r.status_code == 200 and "Provincie Overijssel</th>" in r.text
    assert re.search(r"\d+ van 25<", r.text)  # Overijssel has 25 gemeenten
    assert client.get("/vergelijk", params={"gemeente": "GM0193", "groep": "PV99"}).status_code == 404
    assert client.get("/vergelijk", params={"gemeente": "GM0193", "groep": "<b>"}).status_code == 422


def test_bad_area_code_names_groups_too(client):
    r = client.get("/api/v1/prognose/gm0193")
    assert r.status_code == 422 and "groepscode" in r.json()["fout"] and "G40" in r.json()["fout"]
