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


def _boxes_and_tips(svg: str):
    root = ET.fromstring(svg)
    boxes, labels, tips = [], [], []
    for g in root.iter():
        if g.tag == NS + "rect" and g.get("class") == "node":
            boxes.append(tuple(float(g.get(k)) for k in ("x", "y", "width", "height")))
        if g.tag == NS + "polygon" and g.get("class") == "arrow":
            tips.append(tuple(float(v) for v in g.get("points").split()[0].split(",")))
    for parent in root.iter():  # each box with the text lines drawn after it, in the same group
        kids = list(parent)
        for i, k in enumerate(kids):
            if k.tag == NS + "rect" and k.get("class") == "node":
                box = tuple(float(k.get(a)) for a in ("x", "y", "width", "height"))
                for t in kids[i + 1:]:
                    if t.tag != NS + "text":
                        break
                    labels.append((box, float(t.get("x")), float(t.get("y")), t.text or ""))
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


def test_gemeente_page_and_explorer_diagrams(client):
    page = client.get("/gemeente/GM0193").text
    svgs = re.findall(r'<figure class="diagram">(?:<div[^>]*>)?(<svg.*?</svg>)', page, re.S)
    assert svgs, "the gemeente page has a samenhang diagram"
    for svg in svgs:
        _check(svg)
    page = client.get("/samenhang/vergrijzing?diepte=2").text
    svg = re.search(r"(<svg[^>]*class=\"chart bowtie\".*?</svg>)", page, re.S).group(1)
    assert _check(svg) > 10
    assert client.get("/svg/samenhang/vergrijzing.svg").status_code == 200
