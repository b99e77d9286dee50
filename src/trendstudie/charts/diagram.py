"""Causal diagrams, laid out by Graphviz (see graph_layout.py): boxes that never overlap and fit
their text, arrows that end on their box, each marked + or − (dashed: braking), readable in
greyscale. `causal_diagram`: the strong trends of a gemeente (report and gemeente page);
`bowtie`: the causes and effects around one entry (samenhang page)."""

from __future__ import annotations

import re
from typing import Callable

from ..knowledge.model import Edge
from .draw import Chart
from .graph_layout import MARGIN, NARROWER_WRAPS, Link, Node, draw, fitted_layout, layout, stack


PRINT_WIDTH = 640  # px: an A4 column (17 cm = 482 pt) at 0.75 pt a px, so 12 px text prints at 9 pt
PRINT_HEIGHT = 600  # px (450 pt): what leaves room on its page for the text around it
PHONE_WIDTH = 320  # px: a 360 px phone's column


def causal_diagram(nodes: dict[str, str], edges: list[Edge], size: int = 640, max_width: float | None = None
                   ) -> tuple[str, str] | None:
    """SVG and its text alternative; None when there is nothing to draw. Without `max_width` the
    drawing takes the size its layout needs (`size` is kept for callers); with it, one drawing
    laid out for that width at full text size (see `causal_diagrams`)."""
    parts = causal_diagrams(nodes, edges, max_width) if max_width else None
    if parts:
        return parts[0][:2]  # without a height: one drawing
    used = sorted({e.source for e in edges} | {e.target for e in edges})
    if not used:
        return None
    alt = _alt(nodes, edges)
    return draw([Node(n, nodes[n]) for n in used], _links(edges), alt, alt, rankdir="TB"), alt


def causal_diagrams(nodes: dict[str, str], edges: list[Edge], max_width: float, max_height: float | None = None
                    ) -> list[tuple[str, str, list[Edge]]]:
    """The diagram laid out for a medium: drawings no wider than `max_width` (and, where one
    diagram fits, no taller than `max_height`) at full text size. The whole graph where one of
    dot's layouts fits; else one small diagram per trend with the trends it drives (in the order
    of `edges`: put the most important first), side by side
    and under each other, in as many drawings (a printed page each) as `max_height` asks. A trend
    that drives others and is driven itself then appears in more than one small diagram. Each
    drawing comes with its text alternative and the links it draws."""
    used = sorted({e.source for e in edges} | {e.target for e in edges})
    if not used:
        return []
    boxes = [Node(n, nodes[n]) for n in used]
    whole = fitted_layout(boxes, _links(edges), max_width, max_height)
    if whole is not None:
        alt = _alt(nodes, edges)
        return [(draw(boxes, _links(edges), alt, alt, laid_out=whole), alt, list(edges))]
    columns = max(1, int((max_width + GAP) // (STAR_WIDTH + GAP)))
    stars = _stars(nodes, edges, (max_width - GAP * (columns - 1)) / columns, max_height)
    pages: list[list[tuple[str, list[Edge], float]]] = []
    for star in stars:  # into the first drawing it still fits in (first fit), else a new one
        for page in pages:
            if max_height is None or _height(stack([svg for svg, _, _ in page + [star]], max_width, "", "")) <= max_height:
                page.append(star)
                break
        else:
            pages.append([star])
    out = []
    for page in pages:
        own = [e for _, es, _ in page for e in es]
        out.append((stack([svg for svg, _, _ in page], max_width, _alt(nodes, own), _alt(nodes, own)), _alt(nodes, own),
                    own))
    return out


def _height(svg: str) -> float:
    return float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))


STAR_TARGETS = 4  # a trend driving more, whose diagram would be taller than a page, gets one per this many
STAR_WIDTH = 300  # px: the narrowest small diagram (two boxes and an arrow); a phone fits one
GAP = 12


def _alt(nodes: dict[str, str], edges) -> str:
    return "Verbanden: " + "; ".join(
        f"{nodes[e.source]} {'versterkt' if e.polarity == '+' else 'remt'} {nodes[e.target].lower()}" for e in edges) + "."


def _links(edges) -> list[Link]:
    return [Link(e.source, e.target, e.polarity, e.mechanism) for e in edges]


def _stars(nodes: dict[str, str], edges: list[Edge], max_width: float, max_height: float | None = None
           ) -> list[tuple[str, list[Edge], float]]:
    """One diagram per trend that drives others, (svg, its arrows, height): the trend on the left,
    what it drives on the right; in the order of the edges (the most important first). A trend
    that drives more than STAR_TARGETS others keeps them in one diagram where that is no taller
    than `max_height` (a printed page); else it gets more diagrams of STAR_TARGETS each."""
    by_source: dict[str, list[Edge]] = {}
    for e in edges:
        by_source.setdefault(e.source, []).append(e)
    first = {e.source: i for i, e in reversed(list(enumerate(edges)))}
    out = []
    for source, all_own in sorted(by_source.items(), key=lambda kv: first[kv[0]]):
        whole = _star(nodes, source, all_own, max_width)
        if len(all_own) <= STAR_TARGETS or max_height is None or whole[2] <= max_height:
            out.append(whole)
            continue
        out.extend(_star(nodes, source, all_own[k:k + STAR_TARGETS], max_width)
                   for k in range(0, len(all_own), STAR_TARGETS))
    return out


def _star(nodes: dict[str, str], source: str, own: list[Edge], max_width: float) -> tuple[str, list[Edge], float]:
    boxes = [Node(source, nodes[source], rank=0)] + [Node(e.target, nodes[e.target], rank=1) for e in own]
    lay = (fitted_layout(boxes, _links(own), max_width, rankdirs=("LR",))
           or layout(boxes, _links(own), "LR", NARROWER_WRAPS[-1], compact=True))
    title = f"{nodes[source]}: " + "; ".join(
        f"{'versterkt' if e.polarity == '+' else 'remt'} {nodes[e.target].lower()}" for e in own)
    return draw(boxes, _links(own), title, title, laid_out=lay), own, lay[1] + MARGIN


def bowtie(center: str, titles: dict[str, str], cause_steps: list, effect_steps: list, depth: int,
           href: Callable[[str], str] | None = None) -> Chart | None:
    """The causal neighbourhood of one entry as columns: causes to the left (one column per step),
    the entry in the middle, effects to the right; arrows between neighbouring columns, '+' or
    '−' on each (dashed: braking). Boxes link to their own explorer page when `href` is given."""
    cols: dict[int, list[str]] = {0: [center]}
    placed = {center: 0}
    edges = []
    for steps, sign in ((cause_steps, -1), (effect_steps, 1)):
        for s in sorted(steps, key=lambda s: s.depth):
            if s.depth > depth:
                continue
            far = s.edge.source if sign < 0 else s.edge.target
            near = s.edge.target if sign < 0 else s.edge.source
            if near not in placed:
                continue
            if far not in placed:
                col = placed[near] + sign
                if abs(col) != s.depth or len(cols.get(col, [])) >= 18:
                    continue
                cols.setdefault(col, []).append(far)
                placed[far] = col
            a, b = (far, near) if sign < 0 else (near, far)
            if placed[b] - placed[a] == 1:
                edges.append(s.edge)
    if len(placed) < 2:
        return None
    n_c = sum(1 for n, c in placed.items() if c < 0)
    n_e = sum(1 for n, c in placed.items() if c > 0)
    alt = (f"Samenhang rond '{titles[center]}': {n_c} oorzaken en {n_e} gevolgen tot {depth} "
           f"{'stap' if depth == 1 else 'stappen'}. " + "; ".join(
               f"{titles[e.source]} {'versterkt' if e.polarity == '+' else 'remt'} {titles[e.target].lower()}"
               for e in edges[:40]) + ".")
    nodes = [Node(n, titles[n], emphasis=n == center, href=href(n) if href and n != center else None, rank=col)
             for col in sorted(cols) for n in cols[col]]

    def headings(boxes) -> list[tuple[float, str]]:
        out = []
        for col in sorted(cols):
            xs = [b.x + b.w / 2 for b in boxes if b.node.rank == col]
            label = "deze trend" if col == 0 else (f"oorzaken, stap {-col}" if col < 0 else f"gevolgen, stap {col}")
            out.append((sum(xs) / len(xs), label))
        return out

    svg = draw(nodes, [Link(e.source, e.target, e.polarity, e.mechanism) for e in edges],
               f"Samenhang: {titles[center]}", alt, rankdir="LR", headings=headings, css_class="chart bowtie")
    return Chart(svg, alt)
