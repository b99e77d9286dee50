"""The samenhang diagrams are laid out by Graphviz: no two boxes overlap, every label fits its
box, and every arrow ends on the edge of a box (web gemeente page, the explorer, the report)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from types import SimpleNamespace

from trendstudie.charts import graph_layout
from trendstudie.charts import causal_diagram

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
NS = "{http://www.w3.org/2000/svg}"


def _offsets(root: ET.Element) -> dict[ET.Element, tuple[float, float]]:
    """Each element's offset from the drawing's origin: small diagrams side by side are groups
    moved by translate(x y) (charts.graph_layout.stack)."""
    out = {}

    def walk(el, dx, dy):
        m = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", el.get("transform") or "")
        if m and el.get("class") == "part":
            dx, dy = dx + float(m[1]), dy + float(m[2])
        out[el] = (dx, dy)
        for k in el:
            walk(k, dx, dy)
    walk(root, 0.0, 0.0)
    return out


def _boxes_and_tips(svg: str):
    root = ET.fromstring(svg)
    off = _offsets(root)
    boxes, labels, tips = [], [], []
    for g in root.iter():
        dx, dy = off[g]
        if g.tag == NS + "rect" and g.get("class") == "node":
            x, y, w, h = (float(g.get(k)) for k in ("x", "y", "width", "height"))
            boxes.append((x + dx, y + dy, w, h))
        if g.tag == NS + "polygon" and g.get("class") == "arrow":
            tx, ty = (float(v) for v in g.get("points").split()[0].split(","))
            tips.append((tx + dx, ty + dy))
    for parent in root.iter():  # each box with the text lines drawn after it, in the same group
        kids = list(parent)
        dx, dy = off[parent]
        for i, k in enumerate(kids):
            if k.tag == NS + "rect" and k.get("class") == "node":
                x, y, w, h = (float(k.get(a)) for a in ("x", "y", "width", "height"))
                box = (x + dx, y + dy, w, h)
                for t in kids[i + 1:]:
                    if t.tag != NS + "text":
                        break
                    labels.append((box, float(t.get("x")) + dx, float(t.get("y")) + dy, t.text or ""))
    return boxes, labels, tips


def _check(svg: str, size: float = graph_layout.FONT_SIZE) -> int:
    boxes, labels, tips = _boxes_and_tips(svg)
    assert boxes and labels
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            overlap = x1 < x2 + w2 and x2 < x1 + w1 and y1 < y2 + h2 and y2 < y1 + h1
            assert not overlap, f"boxes overlap: {(x1, y1, w1, h1)} and {(x2, y2, w2, h2)}"
    for (x, y, w, h), cx, ty, text in labels:
        half = len(text) * size * 0.6 / 2  # a wide sans estimate of the rendered width
        assert x + 4 <= cx - half and cx + half <= x + w - 4, f"label {text!r} does not fit its box"
        assert y + size * 0.8 <= ty <= y + h - 2, f"label {text!r} is outside its box"
    for tx, ty in tips:
        near = min(min(abs(tx - x), abs(tx - x - w)) if y - 1 <= ty <= y + h + 1 else 99
                   for x, y, w, h in boxes)
        near = min(near, min(min(abs(ty - y), abs(ty - y - h)) if x - 1 <= tx <= x + w + 1 else 99
                             for x, y, w, h in boxes))
        assert near <= 2.0, f"an arrow ends in empty space at {(tx, ty)}"
    return len(boxes)


def test_long_titles_and_many_links_lay_out_cleanly():
    titles = {f"t{i}": t for i, t in enumerate([
        "Kennisintensieve economie concentreert zich in sterke regio's", "Vergrijzing en dubbele vergrijzing",
        "Oplopend woningtekort", "Economie", "Huishoudensverdunning: sterke groei van alleenwonenden",
        "Armoede, schulden en bestaansonzekerheid", "Een titel met eenzeerlangwoordzonderspatiesdatnietpastinéénregel",
        "Stijgende zorg- en ondersteuningsvraag"])}
    pairs = [(0, 3), (1, 2), (1, 4), (4, 2), (3, 5), (5, 6), (6, 0), (7, 2), (1, 7), (2, 5), (3, 2)]
    edges = [SimpleNamespace(source=f"t{a}", target=f"t{b}", polarity="+" if i % 3 else "-", mechanism="omdat")
             for i, (a, b) in enumerate(pairs)]
    svg, alt = causal_diagram(titles, edges)
    assert _check(svg) == 8
    assert "Economie" in svg and "Verbanden:" in alt


def _many_links():
    """A hub with many effects, a second one, a chain: too wide for a page or a phone as one graph."""
    words = ["Oplopend woningtekort", "Kennisintensieve economie concentreert zich in sterke regio's",
             "Huishoudensverdunning: sterke groei van alleenwonenden", "Vergrijzing en dubbele vergrijzing",
             "Sterk stijgende huizenprijzen", "Stagnerende doorstroming: outsiders zijn de dupe",
             "Verdubbeling van dak- en thuisloosheid", "Verdergaande binnenstedelijke verdichting",
             "Segregatie en uitsortering naar opleiding, inkomen en herkomst", "Overbewoning en illegale (onder)verhuur",
             "Urban age, steden als motor van groei en innovatie", "The war of talent, concurrentie om kenniswerkers",
             "Armoede, schulden en bestaansonzekerheid", "Traditionele criminaliteit en onveiligheidsgevoel dalen",
             "Werken volgt wonen", "Woningvoorraad past kwalitatief niet bij de vraag"]
    titles = {f"t{i}": t for i, t in enumerate(words)}
    pairs = [(0, i) for i in range(4, 10)] + [(1, i) for i in (10, 11, 12, 0)] + [(2, 0), (2, 14), (2, 15),
                                                                                (3, 13), (3, 2), (3, 0), (11, 1)]
    return titles, [SimpleNamespace(source=f"t{a}", target=f"t{b}", polarity="-" if i % 5 == 4 else "+",
                                    mechanism="omdat") for i, (a, b) in enumerate(pairs)]


@pytest.mark.parametrize("width, height", [(640, 860), (320, None), (1100, None)])
def test_diagrams_laid_out_for_a_width_fit_it_at_full_text_size(width, height):
    """For print (an A4 column, at most a page tall), a phone and a laptop: every drawing fits the
    width (and height) at 12 px text, with clean boxes and arrows; every link is drawn once."""
    from trendstudie.charts.diagram import causal_diagrams

    titles, edges = _many_links()
    parts = causal_diagrams(titles, edges, width, height)
    assert parts
    drawn = 0
    for svg, alt, _ in parts:
        root = ET.fromstring(svg)
        w, h = (float(v) for v in root.get("viewBox").split()[2:])
        assert w <= width and (height is None or h <= height), (w, h)
        assert root.get("font-size") == str(graph_layout.FONT_SIZE)
        drawn += len([p for p in root.iter(NS + "polygon") if p.get("class") == "arrow"])
        _check(svg)
    assert drawn == len(edges)
    if height is None:
        assert len(parts) == 1


def test_long_dutch_words_are_hyphenated_not_cut():
    assert graph_layout.wrap("Huishoudensverdunning: sterke groei van alleenwonenden", 14, 8) == [
        "Huishoudens-", "verdunning:", "sterke groei", "van", "alleenwonenden"]
    assert graph_layout.wrap("Oplopend woningtekort") == ["Oplopend woningtekort"]


def test_gemeente_page_and_explorer_diagrams(client):
    page = client.get("/gemeente/GM0193").text
    figure = re.search(r'<figure class="diagram">(.*?)</figure>', page, re.S).group(1)
    svgs = re.findall(r"(<svg.*?</svg>)", figure, re.S)
    assert len(svgs) == 2, "the gemeente page has a samenhang diagram, for wide screens and for phones"
    for svg in svgs:
        _check(svg)
    page = client.get("/samenhang/vergrijzing?diepte=2").text
    svg = re.search(r"(<svg[^>]*class=\"chart bowtie\".*?</svg>)", page, re.S).group(1)
    assert _check(svg) > 10
    assert client.get("/svg/samenhang/vergrijzing.svg").status_code == 200


def test_a_trend_driving_many_keeps_one_diagram_where_the_page_allows():
    """The hub of _many_links drives six trends: one small diagram holds all six where it fits the
    page's height (and on screens, which scroll); only where it would not is it split in diagrams
    of STAR_TARGETS."""
    from trendstudie.charts.diagram import STAR_TARGETS, _stars

    titles, edges = _many_links()
    hub = [e for e in edges if e.source == "t0"]
    assert len(hub) > STAR_TARGETS
    for height in (None, 860):
        stars = [own for _, own, _ in _stars(titles, edges, 320, height) if own[0].source == "t0"]
        assert stars == [hub]
    tall = max(h for _, own, h in _stars(titles, edges, 320) if own[0].source == "t0")
    split = [own for _, own, _ in _stars(titles, edges, 320, tall - 1) if own[0].source == "t0"]
    assert [len(own) for own in split] == [STAR_TARGETS, len(hub) - STAR_TARGETS]
    assert [e for own in split for e in own] == hub
