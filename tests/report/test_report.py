"""The localised trend study: structure, figures equal to the store, PDF text, batch and skipping."""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from trendstudie import formatting, store
from trendstudie.report.charts_for_report import make_chart
from trendstudie.report.content import Context, Options, build_report
from trendstudie.report.write import write_many, write_one

CASES = {
    "GM0363": "Amsterdam",  # G4
    "GM0193": "Zwolle",  # G40
    "GM1992": "Voorne aan Zee",  # M50, formed by the 2023 herindeling
    "GM1680": "Aa en Hunze",  # small rural gemeente
    "GM1980": "Dijk en Waard",  # recent herindeling (2022)
}


@pytest.fixture(scope="module")
def ctx(built_home):
    return Context(store.connect(built_home / "trendstudie.duckdb"))


@pytest.fixture(scope="module")
def written(ctx, tmp_path_factory):
    out = tmp_path_factory.mktemp("rapporten")
    return out, {code: write_one(ctx, code, out, Options(), pdf=True, manifest={}, chart_maker=make_chart) for code in CASES}


class Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h2, self._in = [], False
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        self._in = tag == "h2"

    def handle_data(self, data):
        if self._in and data.strip():
            self.h2.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in = False


@pytest.mark.parametrize("code", sorted(CASES))
def test_html_has_every_chapter_and_working_anchors(written, code):
    out, ws = written
    html = (out / ws[code].files[0]).read_text(encoding="utf-8")
    p = Headings()
    p.feed(html)
    assert {"Samenvatting", "Demografie", "Veiligheid", "Wonen en ruimte", "Samenhang", "Toekomst", "Methode en bronnen",
            "Bijlage: de cijfers"} <= set(p.h2)
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in p.ids, f"broken internal link #{target}"
    assert CASES[code] in html
    for bad in (r"n\.v\.t\.", r"\bNone\b", r"\bnan\b", r"\bN/A\b", r"\{\{", r"\{%"):
        assert not re.search(bad, html), bad
    # the style sheet as written, not escaped as text (the browser would drop the fonts and markers)
    style = html[html.index("<style>") + 7:html.index("</style>")]
    assert 'font-family: "Source Sans 3"' in style and "&#34;" not in style and "&quot;" not in style


@pytest.mark.parametrize("code", sorted(CASES))
def test_key_figures_in_the_text_equal_the_indicator_values(ctx, written, code):
    out, ws = written
    html = (out / ws[code].files[0]).read_text(encoding="utf-8")
    period, value = ctx.data.latest("bevolking", code)
    assert f"<td class=\"me\">{formatting.number(value, 0)}</td>" in html
    nl = ctx.data.value("bevolking", "NL01", period)
    assert formatting.number(nl, 0) in html
    period, value = ctx.data.latest("woninginbraak_per_1000", code)
    assert formatting.number(value, 1) in html


@pytest.mark.parametrize("code", sorted(CASES))
def test_pdf_text_contains_every_chapter(written, code):
    out, ws = written
    pdf = next(f for f in ws[code].files if f.endswith(".pdf"))
    reader = PdfReader(out / pdf)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for chapter in ("Inhoud", "Samenvatting", "Demografie", "Veiligheid", "Wonen en ruimte", "Samenhang", "Toekomst",
                    "Methode en bronnen", "Bijlage: de cijfers"):
        assert chapter in text, chapter
    assert CASES[code] in text
    assert len(reader.pages) >= 8


def test_data_appendix_matches_the_store(ctx, written):
    out, ws = written
    csv_name = next(f for f in ws["GM0193"].files if f.endswith("-data.csv"))
    with open(out / csv_name, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == ["indicator_id", "title", "unit", "region_code", "region_name", "period", "value",
                                      "status", "harmonised", "provenance"]
    assert all(r["harmonised"] in ("ja", "nee") for r in rows)
    for r in rows:
        assert float(r["value"]) == pytest.approx(ctx.data.value(r["indicator_id"], r["region_code"], r["period"]))
        assert r["title"] == ctx.data.meta[r["indicator_id"]].title
    assert len({(r["indicator_id"], r["region_code"], r["period"]) for r in rows}) == len(rows)
    # not only the tables' last year: the series the charts and sentences cite, every year ...
    years = {r["period"] for r in rows if (r["indicator_id"], r["region_code"]) == ("bevolking", "GM0193")}
    assert years == {p for p, _ in ctx.data.series("bevolking", "GM0193")}
    assert {"G40", "NL01"} <= {r["region_code"] for r in rows if r["indicator_id"] == "bevolking"}
    assert next(r for r in rows if r["region_code"] == "GM0193")["region_name"] == "Zwolle"
    # ... and all gemeenten of a ranking
    per_period = {}
    for r in rows:
        if r["region_code"].startswith("GM"):
            per_period.setdefault((r["indicator_id"], r["period"]), set()).add(r["region_code"])
    assert max(len(codes) for codes in per_period.values()) >= 300


def test_a_trend_needs_its_data(ctx):
    """Trends whose indicators are missing never appear with an empty block."""
    report = build_report(ctx, "GM0193")
    for chapter in report.chapters:
        for t in chapter.trends:
            assert t.evidence, t.id
            assert t.strength in ("sterk", "enigszins")


def test_options_limit_domains_and_years(ctx):
    report = build_report(ctx, "GM0193", Options(domains=("veiligheid",), from_year=2020, title="Eigen editie"))
    assert report.title == "Eigen editie"
    # (a 'Verkenning' chapter joins when another test ran a verkenning on this store)
    assert [c.title for c in report.chapters if c.title != "Verkenning"] == [
        "Veiligheid", "Samenhang", "Uitdagingen, afwegingen en agendapunten", "Toekomst"]
    years = {int(r["period"][:4]) for r in report.data_rows}
    assert min(years) >= 2020


def test_batch_writes_an_index_and_skips_unchanged(built_home, tmp_path):
    db = built_home / "trendstudie.duckdb"
    codes = ["GM0014", "GM0193", "GM0200"]
    first = write_many(db, codes, tmp_path, Options(), pdf=False, workers=2)
    assert [w.skipped for w in first] == [False] * 3
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(c in index for c in codes)
    second = write_many(db, codes, tmp_path, Options(), pdf=False, workers=2)
    assert all(w.skipped for w in second)
    (tmp_path / first[0].files[0]).unlink()
    third = write_many(db, codes, tmp_path, Options(), pdf=False, workers=1)
    assert sum(not w.skipped for w in third) == 1


@pytest.mark.parametrize("code", sorted(CASES))
def test_pdf_is_25_to_40_pages(written, code):
    """Issue 15, point 6: a good study is 25-40 pages. Amsterdam has the most trends that play and
    the longest report (41 pages before the layout was tightened)."""
    out, ws = written
    pdf = next(f for f in ws[code].files if f.endswith(".pdf"))
    pages = len(PdfReader(out / pdf).pages)
    assert 25 <= pages <= 40, f"{CASES[code]}: {pages} pagina's"


@pytest.mark.parametrize("code", ["GM0269", "GM0703", "GM0935", "GM1883"])
def test_the_shortest_and_longest_reports_are_25_to_40_pages(ctx, code):
    """The extremes of a run over all 342: Oldebroek and Reimerswaal, where few trends play (25
    pages), Maastricht and Sittard-Geleen, where the most play (40; 42 before the layout was
    tightened)."""
    import io

    from trendstudie.report.pdf import render_pdf

    pdf = render_pdf(build_report(ctx, code, Options(), make_chart))
    assert 25 <= len(PdfReader(io.BytesIO(pdf)).pages) <= 40


@pytest.mark.parametrize("code", ["GM0193", "GM0935"])
def test_the_samenhang_diagram_stays_in_its_chapter(ctx, code):
    """The diagram floats to the top or bottom of a page, but never past the next chapter's heading
    (it once landed under 'Uitdagingen, afwegingen en agendapunten', as if it showed those)."""
    import io

    from trendstudie.report.pdf import render_pdf

    report = build_report(ctx, code, Options(), make_chart)
    at = next(i for i, c in enumerate(report.chapters) if any("Verbanden tussen de trends" in f.caption for f in c.figures))
    following = report.chapters[at + 1].title if at + 1 < len(report.chapters) else None
    assert following, "the samenhang chapter is followed by another"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages)
    caption = text.index("Verbanden tussen de trends")
    contents, heading = [m.start() for m in re.finditer(re.escape(following), text)][:2]  # the contents list first
    assert contents < caption < heading


@pytest.mark.parametrize("code", ["GM0193", "GM0935"])
def test_the_samenhang_diagram_prints_at_9_pt_or_more(ctx, code):
    """The samenhang diagram is laid out for an A4 column (charts.diagram.PRINT_WIDTH) and printed at
    its own size: every text on its pages is 9 pt or more (the page footer, 8 pt, aside); before,
    the whole graph was shrunk to the column and printed at some 3 pt."""
    import io

    from trendstudie.report.pdf import render_pdf

    report = build_report(ctx, code, Options(), make_chart)
    reader = PdfReader(io.BytesIO(render_pdf(report)))
    pages = [(i, p) for i, p in enumerate(reader.pages) if "Verbanden tussen de trends" in p.extract_text()]
    assert pages, "the report has a samenhang diagram"
    for i, page in pages:
        sizes: list[tuple[float, str]] = []

        def visit(text, cm, tm, font, size):
            if text.strip() and text.strip() not in (report.title, str(i + 1)):
                c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
                sizes.append((size * (c * c + d * d) ** 0.5, text.strip()))

        page.extract_text(visitor_text=visit)
        assert len(sizes) > 50 and min(sizes)[0] >= 8.95, (i + 1, min(sizes))


@pytest.mark.parametrize("code", ["GM0014", "GM0935"])
def test_no_chart_twice_and_rankings_on_what_the_verdict_weighs(ctx, code):
    """Trends judged on the same indicator share their chart once; a ranking of all gemeenten is of
    an indicator a condition of the trend's rule judges (not this year's growth beside a verdict on
    five years' growth)."""
    report = build_report(ctx, code, Options(future=False), chart_maker=make_chart)
    rules = {r.trend: r for r in ctx.rules}
    captions = []
    for chapter in report.chapters:
        for block in chapter.trends:
            captions += [f.caption for f in (block.figure, block.rank) if f]
            if block.rank:
                judged = {ctx.data.meta[c.indicator].title for c in rules[block.id].conditions()}
                assert block.rank.caption.split(" in alle ")[0] in judged, block.rank.caption
    assert captions and len(captions) == len(set(captions))


def _last_lines(reader: PdfReader) -> list[str]:
    """Each page's last line of text above its footer (the report's title and the page number)."""
    out = []
    for n, page in enumerate(reader.pages, 1):
        lines = [ln.strip() for ln in page.extract_text().splitlines() if ln.strip()]
        if lines and lines[-1].endswith(str(n)):
            lines = lines[:-1]
        out.append(lines[-1] if lines else "")
    return out


@pytest.mark.parametrize("code", sorted(CASES))
def test_no_page_ends_with_a_heading(written, code):
    """A reviewer found 'Opgaven', 'Wat ertegen spreekt', 'Speelt hier minder' (bold lines over a
    list) and a trend's heading with its verdict ('speelt sterk volgens de cijfers') as the last
    line of a page, their text on the next: each is kept with what follows."""
    out, ws = written
    pdf = next(f for f in ws[code].files if f.endswith(".pdf"))
    name = CASES[code]
    headings = {"Opgaven", "Wat ertegen spreekt", "Speelt hier minder", f"Wat in de cijfers van {name} ervoor spreekt"}
    verdict = re.compile(r"^speelt (sterk|enigszins)\s+(volgens de cijfers|volgens de typering|landelijke trend)$")
    for n, line in enumerate(_last_lines(PdfReader(out / pdf)), 1):
        assert line not in headings and not verdict.match(line) and "➢" not in line, (name, n, line)


def _text_positions(pdf: bytes) -> list[tuple[int, float, str]]:
    """(page, distance from the page's top, text) of every piece of text, in reading order."""
    import io

    out = []
    for n, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, 1):
        height = float(page.mediabox.height)

        def visit(text, cm, tm, font, size, n=n, height=height):
            if text.strip():
                out.append((n, height - (tm[4] * cm[1] + tm[5] * cm[3] + cm[5]), text.strip()))

        page.extract_text(visitor_text=visit)
    return out


@pytest.mark.parametrize("code", ["GM0014", "GM0088", "GM0193", "GM1992"])
def test_the_samenhang_diagram_stands_under_its_heading_and_above_the_next(ctx, code):
    """The diagram floats, but never above its own chapter's heading (Groningen: it stood at the
    top of the page, over '10 Samenhang') and never under the next chapter's heading."""
    from trendstudie.report.pdf import render_pdf

    report = build_report(ctx, code, Options(), make_chart)
    at = next(i for i, c in enumerate(report.chapters) if any("Verbanden tussen de trends" in f.caption for f in c.figures))
    this, following = report.chapters[at].title, report.chapters[at + 1].title
    texts = _text_positions(render_pdf(report))
    after_contents = [t for t in texts if t[0] > 2]
    heading = next((p, y) for p, y, t in after_contents if t == this)
    caption = next((p, y) for p, y, t in after_contents if "Verbanden tussen de trends" in t)
    nxt = next((p, y) for p, y, t in after_contents if t == following)
    assert heading < caption < nxt, (heading, caption, nxt)


def test_few_strong_trends_chart_the_best_supported_of_the_rest():
    """Every trend that plays strongly by the figures gets a chart; where fewer than MIN_CHARTS do,
    the ones that play somewhat with the most evidence fill up to MIN_CHARTS (Reimerswaal, with one
    strong trend, had a single chart and 24 pages)."""
    from types import SimpleNamespace as V

    from trendstudie.report.content import MIN_CHARTS, _charted

    def verdict(trend, strength, evidence, basis="cijfers", note=None):
        return V(trend=trend, strength=strength, basis=basis, finding=object(), evidence=["x"] * evidence, note=note)

    verdicts = [verdict("s1", "sterk", 1), verdict("e3", "enigszins", 3), verdict("e1", "enigszins", 1),
                verdict("e2", "enigszins", 2), verdict("old", "enigszins", 5, note="oud"),
                verdict("typed", "enigszins", 4, basis="typering")]
    verdicts += [verdict(f"z{i}", "enigszins", 1) for i in range(5)]
    chosen = _charted({v.trend: v for v in verdicts})
    assert len(chosen) == MIN_CHARTS and {"s1", "e3", "e2"} <= chosen and not chosen & {"old", "typed"}
    many = {f"s{i}": verdict(f"s{i}", "sterk", 1) for i in range(MIN_CHARTS + 2)} | {"e3": verdicts[1]}
    assert _charted(many) == set(many) - {"e3"}


def test_the_sources_are_those_the_figures_come_from(ctx):
    """Methode en bronnen lists the tables of the report's indicators and of the prognosis models,
    not every table of the database (the Leefbaarometer of Amstelveen's wijken is none of Zwolle's)."""
    from trendstudie.forecast import source_tables

    report = build_report(ctx, "GM0193", Options())
    listed = {t for t, _ in report.sources}
    tables = {m.id: set(m.tables) for m in ctx.indicators}
    cited = set().union(*(tables.get(r["indicator_id"], set()) for r in report.data_rows))
    assert cited <= listed and source_tables() & set(dict(ctx.sources)) <= listed
    assert listed <= set(dict(ctx.sources)) and "LBM3" not in listed
