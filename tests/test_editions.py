"""Editions and changes (issue 17, point 3): a copy of the bundle with a few changed values, a new
period and a provisional figure made definitive is built over the shared store; `wijzigingen`
then lists exactly those cells, the verdicts they changed and nothing else; the feeds are valid
Atom; the gemeente page and the report name only real changes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from editions_bundle import ADDED, DEFINITIVE, NEW_PERIOD, REVISED, changed_bundle
from helpers import changed_copy
from trendstudie import editions
from trendstudie.cli import app
from trendstudie.errors import TrendstudieError
from trendstudie.knowledge.verdict import indicators_used

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def edited(built_home, bundle, tmp_path_factory):
    """(home with editions 1 and 2, the store of edition 1): edition 1 is the shared store,
    edition 2 the build of the changed bundle."""
    from trendstudie.build import build
    from trendstudie.config import settings

    root = tmp_path_factory.mktemp("editions")
    home = root / "home"
    home.mkdir()
    old = built_home / "trendstudie.duckdb"
    shutil.copy(old, home / "trendstudie.duckdb")
    first = editions.record(home, home / "trendstudie.duckdb", None)
    assert first is not None and first.nummer == 1 and first.total == 0
    build(settings(home=home, bundle=changed_bundle(bundle, root / "bundle")))
    return home, old


def cli(home, *args, ok=True):
    result = CliRunner().invoke(app, list(args), env={"TRENDSTUDIE_HOME": str(home)})
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_first_edition_has_no_changes(built_home, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "trendstudie.duckdb").symlink_to(built_home / "trendstudie.duckdb")
    bad = cli(home, "wijzigingen", ok=False)
    assert isinstance(bad.exception, TrendstudieError) and "nog geen edities" in str(bad.exception)
    assert editions.stamp(home) == ""
    e = editions.record(home, home / "trendstudie.duckdb", None)
    assert editions.stamp(home)  # the web's ETag and the reports' inputs change with it
    assert e.nummer == 1 and e.vorige is None and e.total == 0
    assert {s.tabel for s in e.bronnen} >= {"03759ned", "83625NED"}
    assert any(s.gewijzigd for s in e.bronnen if s.tabel == "83625NED")  # CBS's modification date
    assert "tabel 83625NED" in e.vingerafdrukken
    assert "de eerste editie" in cli(home, "wijzigingen").output
    from trendstudie.commands.wijzigingen import after_build

    assert after_build(home, home / "trendstudie.duckdb").startswith("Editie 1 vastgelegd (de eerste")
    assert json.loads(cli(home, "wijzigingen", "--format", "json").output)["wijzigingen"] == []
    # the same store again is no new edition
    assert editions.record(home, home / "trendstudie.duckdb", home / "trendstudie.duckdb") is None
    assert len(editions.history(home)) == 1


def test_wijzigingen_lists_exactly_the_changed_cells(edited):
    home, _ = edited
    doc = json.loads(cli(home, "wijzigingen", "--format", "json").output)
    assert doc["edities"] == [2] and doc["sinds"] == 1
    rows = doc["wijzigingen"]
    cells = {(r["onderwerp"], r["dims"] or "", r["region_code"], r["period"]): r
             for r in rows if r["soort"] in ("waarde", "periode") and not r["afgeleid"]}
    expected = {(f"{t}/{m}", d, region, period) for t, m, d, region, period in [*REVISED, *ADDED, DEFINITIVE]}
    assert set(cells) == expected
    assert len([r for r in rows if r["soort"] in ("waarde", "periode") and not r["afgeleid"]]) == len(expected)
    # besides the source cells only what trendstudie sums from them: here the national total of
    # the crime table (CBS's own national figure of the price table is published, so it stays)
    derived = [r for r in rows if r["afgeleid"]]
    (t, m, d, region, period), (old, new) = next((k, v) for k, v in REVISED.items() if k[0] == "47018NED")
    assert [(r["onderwerp"], r["dims"], r["region_code"], r["period"]) for r in derived] == [(f"{t}/{m}", d, "NL01", period)]
    assert derived[0]["nieuw"] - derived[0]["oud"] == new - old
    assert "door trendstudie samengeteld" in derived[0]["label"]
    for (t, m, d, region, period), (old, new) in REVISED.items():
        r = cells[(f"{t}/{m}", d, region, period)]
        assert r["soort"] == "waarde" and r["oud"] == old and r["nieuw"] == new
    for (t, m, d, region, period), new in ADDED.items():
        r = cells[(f"{t}/{m}", d, region, period)]
        assert r["soort"] == "periode" and r["oud"] is None and r["nieuw"] == new and r["period"] == NEW_PERIOD
        assert r["nieuw_status"] == "Voorlopig" and r["label"].startswith("Nieuw: Gemiddelde verkoopprijs")
    t, m, d, region, period = DEFINITIVE
    r = cells[(f"{t}/{m}", d, region, period)]
    assert r["soort"] == "waarde" and r["oud"] == r["nieuw"]
    assert (r["oud_status"], r["nieuw_status"]) == ("Voorlopig", "Definitief")
    assert "voorlopig → definitief" in r["label"]
    assert {r["soort"] for r in rows} <= set(editions.KINDS)


def test_verdict_changes_are_exactly_those_of_the_localiser(edited):
    """Every recorded verdict change is what the Localiser says on the old and the new store,
    and gemeenten without a recorded change have the same verdicts in both."""
    from trendstudie.reader import Reader

    home, old_db = edited
    rows = [c for c in editions.changes(home) if c.soort == "oordeel"]
    changed = {(c.region_code, c.onderwerp): (c.oud_tekst, c.nieuw_tekst) for c in rows}
    old, new = Reader(old_db), Reader(home / "trendstudie.duckdb")
    try:
        touched = sorted({code for code, _ in changed} | {"GM0193", "GM0363", "GM0014", "GM0344", "GM0599"})
        for code in touched:
            before = {v.trend: v.strength for v in old.verdicts(code)}
            after = {v.trend: v.strength for v in new.verdicts(code)}
            differ = {(code, t): (before.get(t), after.get(t)) for t in before.keys() | after.keys()
                      if before.get(t) != after.get(t)}
            assert differ == {k: v for k, v in changed.items() if k[0] == code}
    finally:
        old.close()
        new.close()
    for c in rows:
        assert c.label.endswith(f"{c.oud_tekst} → {c.nieuw_tekst}")


def test_projection_changes_left_the_margin(edited):
    home, _ = edited
    for c in editions.changes(home):
        if c.soort == "prognose":
            assert "buiten de marge" in c.label and c.period.endswith("JJ00")
            assert c.oud != c.nieuw


def test_editions_list_since_and_errors(edited):
    from trendstudie.commands.wijzigingen import after_build

    home, _ = edited
    assert after_build(home, home / "trendstudie.duckdb").startswith("Editie 2 vastgelegd: ")
    text = cli(home, "wijzigingen", "--edities").output
    assert "Editie 1" in text and "Editie 2" in text
    listed = json.loads(cli(home, "edities", "--format", "json").output)["edities"]
    assert [e["editie"] for e in listed] == [1, 2] and listed[1]["vorige"] == 1
    assert listed[1]["wijzigingen"]["waarde"] == len(REVISED) + 2  # and the derived national total
    assert listed[1]["wijzigingen"]["periode"] == len(ADDED)
    since = json.loads(cli(home, "wijzigingen", "--sinds", "1", "--format", "json").output)
    latest = json.loads(cli(home, "wijzigingen", "--format", "json").output)
    assert since["wijzigingen"] == latest["wijzigingen"]
    assert json.loads(cli(home, "wijzigingen", "--sinds", "2", "--format", "json").output)["wijzigingen"] == []
    bad = cli(home, "wijzigingen", "--sinds", "7", ok=False)
    assert isinstance(bad.exception, TrendstudieError) and "Editie 7 bestaat niet" in str(bad.exception)
    bad = cli(home, "wijzigingen", "--format", "xml", ok=False)
    assert "Onbekend formaat" in str(bad.exception)
    # one gemeente, by name; text and CSV
    zwolle = json.loads(cli(home, "wijzigingen", "Zwolle", "--format", "json").output)
    assert zwolle["gemeente"] == "GM0193" and zwolle["wijzigingen"]
    assert {r["region_code"] for r in zwolle["wijzigingen"]} == {"GM0193"}
    text = cli(home, "wijzigingen", "Zwolle").output
    assert "Editie 2" in text and "Zwolle (GM0193)" in text and "500.000" in text
    csv_text = cli(home, "wijzigingen", "GM0193", "--format", "csv").output.splitlines()
    assert csv_text[0] == ",".join(editions.COLUMNS) and len(csv_text) == len(zwolle["wijzigingen"]) + 1


@pytest.fixture(scope="module")
def client(edited):
    from fastapi.testclient import TestClient

    from trendstudie.web import create_app

    home, _ = edited
    return TestClient(create_app(home / "trendstudie.duckdb"), raise_server_exceptions=False)


def _valid_atom(body: bytes) -> ET.Element:
    """RFC 4287 essentials: a feed with id, title, updated, author; entries with id, title, updated,
    a link and content; ids unique; dates RFC 3339. And feedparser reads it without complaint."""
    import feedparser

    root = ET.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    ids = [root.findtext(f"{ATOM}id")]
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "content"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        ids.append(entry.findtext(f"{ATOM}id"))
    assert len(ids) == len(set(ids))
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    for e in parsed.entries:
        assert e.updated_parsed is not None and e.id and e.link
    return root


def test_atom_feeds_validate(client, edited):
    import feedparser

    home, _ = edited
    r = client.get("/gemeente/GM0193/wijzigingen.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    _valid_atom(r.content)
    parsed = feedparser.parse(r.content)
    assert len(parsed.entries) == 1 and "editie 2" in parsed.entries[0].title
    content = parsed.entries[0].content[0].value  # the escaped HTML, unescaped by the parser
    for c in editions.changes(home, "GM0193"):
        assert c.label.replace("&", "&amp;").replace("<", "&lt;") in content
    r = client.get("/wijzigingen.atom")
    assert r.status_code == 200
    _valid_atom(r.content)
    assert "Zwolle (GM0193)" in feedparser.parse(r.content).entries[0].content[0].value
    assert client.get("/gemeente/GM9999/wijzigingen.atom").status_code == 404


def test_atom_escapes_text():
    """Titles from the data with markup characters stay text in the feed."""
    from types import SimpleNamespace

    from trendstudie.web import routes_wijzigingen as rw

    e = editions.Edition(nummer=3, gebouwd="2026-01-02T03:04:05+00:00", vastgelegd="2026-01-02T03:05:00+00:00",
                         bronnen=[], vingerafdrukken={}, vingerafdruk="x", vorige=2)
    web = SimpleNamespace(current=e)
    request = SimpleNamespace(base_url="http://h/", url=SimpleNamespace(path="/wijzigingen.atom"))
    label = 'A & B <script>alert("x")</script> → ]]>'
    entry = rw._entry("tag:trendstudie,2026-01-02:x", f"Titel {label}", e, "/?a=1&b=2", [label])
    body = rw._feed(request, "tag:trendstudie,2026-01-01:f", "F & G", "/", web, [entry]).body
    root = _valid_atom(body)
    entry_el = root.find(f"{ATOM}entry")
    assert entry_el.findtext(f"{ATOM}title") == f"Titel {label}"
    assert root.findtext(f"{ATOM}title") == "F & G"
    assert entry_el.find(f"{ATOM}link").get("href") == "http://h/?a=1&b=2"
    assert "&lt;script&gt;" in entry_el.findtext(f"{ATOM}content")  # the HTML content shows the text, runs nothing


def test_gemeente_page_shows_only_real_changes(client, edited):
    home, _ = edited
    page = client.get("/gemeente/GM0193").text
    assert "Nieuw sinds de vorige editie" in page and "/gemeente/GM0193/wijzigingen.atom" in page
    assert "450.763 → 500.000" in page
    quiet = next(code for code in ("GM0014", "GM0344", "GM0599", "GM0518")
                 if not editions.changes(home, code))
    quiet_page = client.get(f"/gemeente/{quiet}").text
    assert "Nieuw sinds de vorige editie" not in quiet_page
    # without changes the page still says so and leads to the wijzigingen page
    assert "Geen wijzigingen voor" in quiet_page and f'href="/gemeente/{quiet}/wijzigingen"' in quiet_page
    all_page = client.get("/gemeente/GM0193/wijzigingen").text
    assert "Editie 2" in all_page and "Editie 1" in all_page


def test_api_wijzigingen(client, edited):
    home, _ = edited
    r = client.get("/api/v1/gemeenten/GM0193/wijzigingen")
    assert r.status_code == 200
    doc = r.json()
    cli_doc = json.loads(cli(home, "wijzigingen", "GM0193", "--format", "json").output)
    assert doc["wijzigingen"] == cli_doc["wijzigingen"] and doc["edities"] == [2] and doc["naam"] == "Zwolle"
    assert client.get("/api/v1/gemeenten/GM0193/wijzigingen?sinds=1").json()["wijzigingen"] == doc["wijzigingen"]
    missing = client.get("/api/v1/gemeenten/GM0193/wijzigingen?sinds=9")
    assert missing.status_code == 404 and "Editie 9 bestaat niet" in missing.json()["fout"]
    assert client.get("/api/v1/gemeenten/GM0193/wijzigingen?format=csv").text.startswith(",".join(editions.COLUMNS))
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/gemeenten/{code}/wijzigingen" in schema["paths"]


def test_report_names_only_real_changes(edited):
    from trendstudie.reader import Reader
    from trendstudie.report.content import Context, Options, build_report
    from trendstudie.report.html import render_html
    from trendstudie.report.write import inputs_key

    home, _ = edited
    ctx = Context(Reader(home / "trendstudie.duckdb"))
    opts = Options(future=False)
    report = build_report(ctx, "GM0193", opts)
    mine = editions.changes(home, "GM0193")
    assert report.nieuw is not None and report.nieuw.editie == 2
    assert set(report.nieuw.items) <= {c.label for c in mine}
    assert len(report.nieuw.items) + report.nieuw.meer == len(mine)
    html = render_html(report)
    assert "Nieuw sinds de vorige editie" in html and "450.763 → 500.000" in html
    quiet = next(code for code in ("GM0014", "GM0344", "GM0599", "GM0518") if not editions.changes(home, code))
    assert build_report(ctx, quiet, opts).nieuw is None
    # a new edition re-renders the report: its inputs change
    before = inputs_key(ctx, "GM0193", opts, False)
    index = editions.folder(home) / editions.INDEX
    import os

    st = index.stat()
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert inputs_key(ctx, "GM0193", opts, False) != before


def test_api_wijzigingen_conforms_to_its_openapi(edited, tmp_path):
    """Schemathesis (all checks) on the changes endpoint of a store that has changes."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    pytest.importorskip("schemathesis")
    home, _ = edited
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys; from trendstudie.web import serve; "
            "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], 1, prepare=False)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(home / "trendstudie.duckdb")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/v1/info", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
            assert proc.poll() is None, "server stopped"
        cmd = [sys.executable, "-m", "schemathesis.cli", "run", base + "/api/v1/openapi.json", "--checks", "all",
               "--max-examples", "30", "--seed", "17", "--workers", "1", "--request-timeout", "300",
               "--max-response-time", "300", "--generation-database", "none", "--no-color",
               "--report-dir", str(tmp_path), "--include-path-regex", "wijzigingen"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        out = run.stdout + run.stderr
        assert run.returncode == 0, out[-4000:]
        assert "Tested: 1" in out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_projection_and_verdict_diffs(built_home):
    """Only a projection outside the previous 90% margin counts; only a verdict of another strength."""
    import pyarrow as pa

    db = built_home / "trendstudie.duckdb"
    before = pa.Table.from_pylist([
        {"region_code": "GM0193", "indicator_id": "bevolking", "period": "2040JJ00", "value": 100.0, "lower": 90.0, "upper": 110.0},
        {"region_code": "GM0363", "indicator_id": "bevolking", "period": "2040JJ00", "value": 100.0, "lower": 90.0, "upper": 110.0},
    ], schema=editions.PROJECTION_SCHEMA)
    after = pa.Table.from_pylist([
        {"region_code": "GM0193", "indicator_id": "bevolking", "period": "2040JJ00", "value": 109.0, "lower": 99.0, "upper": 119.0},
        {"region_code": "GM0363", "indicator_id": "bevolking", "period": "2040JJ00", "value": 111.0, "lower": 101.0, "upper": 121.0},
        {"region_code": "GM0014", "indicator_id": "bevolking", "period": "2040JJ00", "value": 500.0, "lower": 1.0, "upper": 900.0},
    ], schema=editions.PROJECTION_SCHEMA)
    rows = editions.diff_projections(before, after, db)
    assert [(r["region_code"], r["oud"], r["nieuw"]) for r in rows] == [("GM0363", 100.0, 111.0)]
    assert "buiten de marge van de vorige prognose (90 tot 110)" in rows[0]["label"]
    old = pa.Table.from_pylist([{"region_code": "GM0193", "trend": "vergrijzing", "sterkte": "enigszins"},
                                {"region_code": "GM0193", "trend": "ondermijning", "sterkte": "niet"}],
                               schema=editions.VERDICT_SCHEMA)
    new = pa.Table.from_pylist([{"region_code": "GM0193", "trend": "vergrijzing", "sterkte": "sterk"},
                                {"region_code": "GM0193", "trend": "ondermijning", "sterkte": "niet"}],
                               schema=editions.VERDICT_SCHEMA)
    rows = editions.diff_verdicts(old, new, db)
    assert [(r["onderwerp"], r["oud_tekst"], r["nieuw_tekst"]) for r in rows] == [("vergrijzing", "enigszins", "sterk")]
    assert rows[0]["label"].endswith(": enigszins → sterk")


def test_verdicts_of_some_trends_are_the_localisers(built_home):
    """Judging only some trends, on the values of only the indicators they use, gives the strengths
    the whole Localiser (`trends`) gives: for trends with a derived indicator, a small-counts guard,
    a typology rule over figures, and those of house prices."""
    from trendstudie.knowledge.localise import own_rules
    from trendstudie.reader import Reader

    db = built_home / "trendstudie.duckdb"
    kb, rules = editions._knowledge()
    reader = Reader(db)
    try:
        used = indicators_used(kb, rules, own_rules(reader.con))
        derived = {d.id for d in rules.derived}
        picks = {
            next(t for t, inds in sorted(used.items()) if inds & derived),
            next(t for t, inds in sorted(used.items()) if inds & set(rules.small_counts)),
            next(t.id for t in kb.trends.values() if any("regels" in kb.scopes[s.scope].match for s in t.scopes)),
            *(t for t, inds in used.items() if "gemiddelde_verkoopprijs" in inds),
        }
        part = editions.compute_verdicts(db, trends=picks)
        got = {(r, t): s for r, t, s in zip(*(part.column(c).to_pylist() for c in ("region_code", "trend", "sterkte")))}
        want = {(code, v.trend): v.strength for code in reader.localiser.gemeenten
                for v in reader.verdicts(code) if v.trend in picks}
    finally:
        reader.close()
    assert len(picks) >= 4 and got == want


def test_affected_trends_are_those_of_the_changed_indicator(built_home, tmp_path):
    import duckdb

    from trendstudie.knowledge.localise import own_rules

    old = built_home / "trendstudie.duckdb"
    new = changed_copy(old, tmp_path / "nieuw.duckdb",
                       "UPDATE indicator_values SET value = value * 2 WHERE indicator_id = 'gemiddelde_verkoopprijs' "
                       "AND region_code = 'GM0193'")
    con = duckdb.connect(str(new))
    try:
        prints = editions._describe(con)[2]
        kb, rules = editions._knowledge()
        used = indicators_used(kb, rules, own_rules(con))
    finally:
        con.close()
    before = editions._store_prints(old)
    trends = editions.affected_trends(old, new, before, prints)
    assert trends and trends == {t for t, inds in used.items() if "gemiddelde_verkoopprijs" in inds}
    # a change every verdict shares (a gemeente's name may be cited anywhere): all of them
    con = duckdb.connect(str(new))
    try:
        con.execute("UPDATE regions SET name = name || ' (herzien)' WHERE code = 'GM0193'")
        con.execute("CHECKPOINT")
        prints = editions._describe(con)[2]
    finally:
        con.close()
    assert editions.affected_trends(old, new, before, prints) is None


def _changed(source, target, sql: str, stamp: str) -> None:
    changed_copy(source, target, sql, f"UPDATE build_info SET value = '{stamp}' WHERE key = 'built_at'")


def test_kept_verdicts_take_in_the_changed_trends(built_home, tmp_path):
    """After an edition that judged every verdict (and kept them), a change of one indicator judges
    only its trends again and keeps the rest: the kept verdicts are then every verdict of the new
    store as the Localiser gives them, and the recorded changes are the Localiser's differences."""
    import pyarrow.parquet as pq

    from trendstudie.reader import Reader

    home = tmp_path / "home"
    home.mkdir()
    v0, v1, v2 = (tmp_path / f"v{i}.duckdb" for i in range(3))
    shutil.copy(built_home / "trendstudie.duckdb", v0)
    editions.record(home, v0, None)
    _changed(v0, v1, "UPDATE regions SET name = name || ' (herzien)' WHERE code = 'GM0193'", "2030-01-01T00:00:00+00:00")
    assert editions.record(home, v1, v0).oordelen is not None  # every verdict judged: kept
    _changed(v1, v2, "UPDATE indicator_values SET value = value * 3 WHERE indicator_id = 'gemiddelde_verkoopprijs' "
                     "AND region_code = 'GM0193'", "2030-01-02T00:00:00+00:00")
    e = editions.record(home, v2, v1)
    assert e.oordelen is not None
    kept = pq.read_table(editions.folder(home) / e.oordelen.bestand)
    kept = set(zip(*(kept.column(c).to_pylist() for c in ("region_code", "trend", "sterkte"))))

    def localiser(db):
        reader = Reader(db)
        try:
            return {(code, v.trend, v.strength) for code in reader.localiser.gemeenten for v in reader.verdicts(code)}
        finally:
            reader.close()

    before, after = localiser(v1), localiser(v2)
    assert kept == after
    old, new = {(r, t): s for r, t, s in before}, {(r, t): s for r, t, s in after}
    assert {(c.region_code, c.onderwerp): (c.oud_tekst, c.nieuw_tekst) for c in editions.changes(home)
            if c.soort == "oordeel"} == {k: (old[k], new[k]) for k in old if old[k] != new[k]}
