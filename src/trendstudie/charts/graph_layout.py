"""Causal diagrams laid out by Graphviz (dot), drawn here as accessible SVG.

Graphviz places the boxes (sized here from their wrapped text, so no label is clipped), routes
the edges around them and puts each edge's '+'/'−' where it collides with nothing; this module
reads dot's JSON output and draws boxes, splines and arrowheads whose tips sit on the box edge.
Needs the `dot` program (Debian: `apt-get install graphviz`) and the `graphviz` Python package;
long Dutch words in narrow boxes are hyphenated with pyphen's nl_NL patterns.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from html import escape
from typing import Callable

from ..errors import TrendstudieError

FONT = "Liberation Sans, Arial, Helvetica, DejaVu Sans, sans-serif"
FONT_SIZE = 12
LINE_HEIGHT = 15
CHAR_WIDTH = 0.62  # a generous average glyph width in em: boxes are wide enough for any sans font
PAD_X, PAD_Y = 10, 8
WRAP = 24  # characters per line
NARROWER_WRAPS = (20, 16, 14, 12)  # tried, in this order, when a diagram must fit a width
MAX_LINES = 4
MARGIN = 10  # around the drawing


@dataclass
class Node:
    id: str
    title: str
    emphasis: bool = False
    href: str | None = None
    rank: int | None = None  # nodes with the same rank share a column (left to right) or row


@dataclass
class Link:
    source: str
    target: str
    polarity: str  # '+' or '-'
    mechanism: str = ""


@dataclass
class Placed:
    """A laid-out box: top-left corner, size, and its text lines."""

    node: Node
    x: float
    y: float
    w: float
    h: float
    lines: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def _dutch():
    import pyphen

    return pyphen.Pyphen(lang="nl_NL")


def _head(word: str, room: int) -> str | None:
    """The longest start of `word` at a Dutch hyphenation point that fits `room` with its hyphen."""
    return next((h for h, _ in _dutch().iterate(word) if len(h) + 1 <= room), None) if room > 3 else None


def wrap(text: str, width: int = WRAP, lines: int = MAX_LINES) -> list[str]:
    """Lines of at most `width` characters; a word longer than a line is hyphenated the Dutch way
    (pyphen's nl_NL patterns: 'Huishoudens-' 'verdunning'), and only cut where that cannot help."""
    out: list[str] = []
    cur = ""
    words = text.split()
    while words:
        word = words.pop(0)
        if len(cur) + bool(cur) + len(word) <= width:
            cur = f"{cur} {word}" if cur else word
            continue
        if len(word) > width:
            head = _head(word, width - len(cur) - bool(cur)) or (None if cur else word[: width - 1])
            if head:
                cur, word = (f"{cur} {head}-" if cur else f"{head}-"), word[len(head):]
        words.insert(0, word)
        out.append(cur)
        cur = ""
    if cur:
        out.append(cur)
    out = out or [text]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * CHAR_WIDTH


def box_size(lines: list[str]) -> tuple[float, float]:
    return (max(text_width(t) for t in lines) + 2 * PAD_X, len(lines) * LINE_HEIGHT + 2 * PAD_Y)


def _dot_json(source: str) -> dict:
    return json.loads(_dot_output(source))


@functools.lru_cache(maxsize=1024)  # many gemeenten share a diagram: dot runs once per distinct graph
def _dot_output(source: str) -> bytes:
    try:
        import graphviz
    except ImportError as exc:  # pragma: no cover - a missing install, said plainly
        raise TrendstudieError("Het Python-pakket 'graphviz' ontbreekt: pip install graphviz") from exc
    try:
        return graphviz.Source(source).pipe(format="json", engine="dot")
    except graphviz.ExecutableNotFound as exc:
        raise TrendstudieError("Graphviz ('dot') is niet geïnstalleerd; installeer het met: apt-get install graphviz") from exc


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


Layout = tuple[float, float, list[Placed], list[dict]]


def fitted_layout(nodes: list[Node], links: list[Link], max_width: float, max_height: float | None = None,
                  rankdirs: tuple[str, ...] = ("TB", "LR")) -> Layout | None:
    """The first of dot's layouts that fits `max_width` (and `max_height`) with its margins: top
    to bottom, then left to right, each with the text wrapped at 24 characters, then shorter (boxes
    narrower, taller) and the rows closer; None when none fits."""
    for wrap_at in (WRAP, *NARROWER_WRAPS):
        for rankdir in rankdirs:
            lay = layout(nodes, links, rankdir, wrap_at, compact=wrap_at != WRAP)
            if lay[0] + 2 * MARGIN <= max_width and (max_height is None or lay[1] + MARGIN <= max_height):
                return lay
    return None


def layout(nodes: list[Node], links: list[Link], rankdir: str = "TB", wrap_at: int = WRAP,
           compact: bool = False) -> Layout:
    """Ask dot for positions: (width, height, boxes, edges with 'points', 'tip' and 'label_at');
    titles wrapped at `wrap_at` characters, boxes and rows closer together when `compact` (room
    enough still for the '+'/'−' on each arrow)."""
    wrapped = {n.id: wrap(n.title, wrap_at, 2 * MAX_LINES if compact else MAX_LINES) for n in nodes}
    sep = "nodesep=0.12, ranksep=0.35" if compact else "nodesep=0.35, ranksep=0.55"
    lines = [f"digraph G {{ graph [rankdir={rankdir}, {sep}, splines=true, pad=0.15];",
             f'node [shape=box, fixedsize=true, fontsize={FONT_SIZE}, fontname="Helvetica"];',
             'edge [fontsize=14, fontname="Helvetica", arrowsize=0.8];']
    for n in nodes:
        w, h = box_size(wrapped[n.id])
        lines.append(f"{_q(n.id)} [width={w / 72:.3f}, height={h / 72:.3f}, label=\"\"];")
    by_rank: dict[int, list[str]] = {}
    for n in nodes:
        if n.rank is not None:
            by_rank.setdefault(n.rank, []).append(n.id)
    for r in sorted(by_rank):
        lines.append("{ rank=same; " + " ".join(_q(i) for i in by_rank[r]) + " }")
    ranks = sorted(by_rank)
    for a, b in zip(ranks, ranks[1:]):  # keep the columns in order even where no edge joins them
        lines.append(f"{_q(by_rank[a][0])} -> {_q(by_rank[b][0])} [style=invis, weight=0];")
    for i, e in enumerate(links):
        lines.append(f"{_q(e.source)} -> {_q(e.target)} [id=e{i}];")
    lines.append("}")
    g = _dot_json("\n".join(lines))
    x0, y0, x1, y1 = (float(v) for v in g["bb"].split(","))
    width, height = x1 - x0, y1 - y0

    def pt(text: str) -> tuple[float, float]:
        x, y = (float(v) for v in text.split(",")[-2:])
        return x - x0, height - (y - y0)

    by_name = {n.id: n for n in nodes}
    placed = []
    gv_names = {}
    for obj in g.get("objects", []):
        if obj.get("name") not in by_name:
            continue
        n = by_name[obj["name"]]
        gv_names[obj["_gvid"]] = n.id
        cx, cy = pt(obj["pos"])
        w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
        placed.append(Placed(n, cx - w / 2, cy - h / 2, w, h, wrapped[n.id]))
    edges = []
    for obj in g.get("edges", []):
        if obj.get("style") == "invis" or not str(obj.get("id", "")).startswith("e"):
            continue
        link = links[int(obj["id"][1:])]
        pos = obj["pos"].split()
        tip = None
        pts = []
        for item in pos:
            if item.startswith("e,"):
                tip = pt(item[2:])
            elif not item.startswith("s,"):
                pts.append(pt(item))
        edges.append({"link": link, "points": pts, "tip": tip or pts[-1], "label_at": _middle(pts)})
    return width, height, placed, edges


def _middle(pts: list[tuple[float, float]]) -> tuple[float, float]:
    """The point halfway along a cubic B-spline's middle segment (where the + or − goes)."""
    k = (len(pts) - 1) // 3
    i = 3 * (k // 2)
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = pts[i:i + 4] if k else (pts[0], pts[0], pts[-1], pts[-1])
    return ((ax + 3 * bx + 3 * cx + dx) / 8, (ay + 3 * by + 3 * cy + dy) / 8)


def _arrowhead(base: tuple[float, float], tip: tuple[float, float], size: float = 9) -> str:
    bx, by = base
    tx, ty = tip
    dx, dy = tx - bx, ty - by
    length = (dx * dx + dy * dy) ** 0.5 or 1
    ux, uy = dx / length, dy / length
    sx, sy = tx - ux * size, ty - uy * size
    px, py = -uy * size * 0.45, ux * size * 0.45
    return f"{tx:.1f},{ty:.1f} {sx + px:.1f},{sy + py:.1f} {sx - px:.1f},{sy - py:.1f}"


def draw(nodes: list[Node], links: list[Link], title: str, alt: str, rankdir: str = "TB",
         headings: Callable[[list[Placed]], list[tuple[float, str]]] | None = None, css_class: str = "diagram",
         laid_out: Layout | None = None) -> str:
    """The SVG of the laid-out diagram (dot's layout in `rankdir`, or `laid_out`); `headings` may
    add column headings (x, text) above it."""
    width, height, placed, edges = laid_out or layout(nodes, links, rankdir)
    margin = MARGIN
    top = (24 if headings else 0) + margin
    width += 2 * margin
    height += margin
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height + top:.0f}" '
            f'width="{width:.0f}" height="{height + top:.0f}" class="{css_class}" role="img" aria-label="{escape(alt)}" '
            f'font-family="{FONT}" font-size="{FONT_SIZE}"><title>{escape(title)}</title><desc>{escape(alt)}</desc>')
    out = [head]
    if headings:
        for x, text in headings(placed):
            out.append(f'<text x="{x + margin:.1f}" y="15" text-anchor="middle" fill="#555">{escape(text)}</text>')
    out.append(f'<g transform="translate({margin} {top})">')
    for e in edges:
        link: Link = e["link"]
        pts = e["points"]
        d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}" + "".join(
            f" C{a[0]:.1f},{a[1]:.1f} {b[0]:.1f},{b[1]:.1f} {c[0]:.1f},{c[1]:.1f}"
            for a, b, c in zip(pts[1::3], pts[2::3], pts[3::3]))
        dash = ' stroke-dasharray="5 4"' if link.polarity == "-" else ""
        verb = "versterkt" if link.polarity == "+" else "remt"
        out.append(f'<g class="edge"><title>{escape(link.mechanism or verb)}</title>'
                   f'<path d="{d}" fill="none" stroke="#444" stroke-width="1.3"{dash}/>'
                   f'<polygon class="arrow" points="{_arrowhead(pts[-1], e["tip"])}" fill="#333"/>')
        lx, ly = e["label_at"]
        out.append(f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="8" fill="#fff" stroke="#444"/>'
                   f'<text x="{lx:.1f}" y="{ly + 4.5:.1f}" text-anchor="middle" font-weight="bold">'
                   f'{"+" if link.polarity == "+" else "−"}</text></g>')
    for p in placed:
        fill, stroke, colour = ("#08519c", "#08519c", "#ffffff") if p.node.emphasis else ("#f2f2f2", "#222", "#1a1a1a")
        first = p.y + p.h / 2 - (len(p.lines) - 1) * LINE_HEIGHT / 2 + 4
        box = (f'<rect class="node" x="{p.x:.1f}" y="{p.y:.1f}" width="{p.w:.1f}" height="{p.h:.1f}" rx="6" '
               f'fill="{fill}" stroke="{stroke}"/>'
               + "".join(f'<text x="{p.x + p.w / 2:.1f}" y="{first + LINE_HEIGHT * j:.1f}" text-anchor="middle" '
                         f'fill="{colour}">{escape(t)}</text>' for j, t in enumerate(p.lines)))
        if p.node.href:
            out.append(f'<a href="{escape(p.node.href)}"><title>{escape(p.node.title)}</title>{box}</a>')
        else:
            out.append(f"<g><title>{escape(p.node.title)}</title>{box}</g>")
    out.append("</g></svg>")
    return "".join(out)


def stack(svgs: list[str], max_width: float, title: str, alt: str, gap: float = 12) -> str:
    """Drawings (from `draw`) in as many columns as fit `max_width`, each under the shortest column
    so far (little white space), at their own size, as groups of one SVG."""
    import re

    sizes = [tuple(float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()) for svg in svgs]
    column_w = max(w for w, _ in sizes)
    heights = [0.0] * max(1, int((max_width + gap) // (column_w + gap)))
    placed = []
    for svg, (w, h) in zip(svgs, sizes):
        col = heights.index(min(heights))
        x, y = col * (column_w + gap), heights[col] + (gap if heights[col] else 0.0)
        heights[col] = y + h
        inner = svg[svg.index(">") + 1: svg.rindex("</svg>")]  # a group, not a nested <svg> that CSS would size
        placed.append(f'<g class="part" transform="translate({x:.0f} {y:.0f})">{inner}</g>')
    width = (column_w + gap) * sum(1 for h in heights if h) - gap
    height = max(heights)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" class="diagram" role="img" aria-label="{escape(alt)}" font-family="{FONT}" '
            f'font-size="{FONT_SIZE}"><title>{escape(title)}</title><desc>{escape(alt)}</desc>'
            + "".join(placed) + "</svg>")
