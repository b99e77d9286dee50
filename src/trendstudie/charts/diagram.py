"""Causal diagrams, laid out by Graphviz (see graph_layout.py): boxes that never overlap and fit
their text, arrows that end on their box, each marked + or − (dashed: braking), readable in
greyscale. `causal_diagram`: the strong trends of a gemeente (report and gemeente page);
`bowtie`: the causes and effects around one entry (samenhang page)."""

from __future__ import annotations

from typing import Callable

from ..knowledge.model import Edge
from .draw import Chart
from .graph_layout import Link, Node, draw


def causal_diagram(nodes: dict[str, str], edges: list[Edge], size: int = 640) -> tuple[str, str] | None:
    """SVG and its text alternative; None when there is nothing to draw. (`size` is kept for
    callers; the drawing takes the size its layout needs.)"""
    used = sorted({e.source for e in edges} | {e.target for e in edges})
    if not used:
        return None
    alt = "Verbanden: " + "; ".join(
        f"{nodes[e.source]} {'versterkt' if e.polarity == '+' else 'remt'} {nodes[e.target].lower()}" for e in edges) + "."
    svg = draw([Node(n, nodes[n]) for n in used],
               [Link(e.source, e.target, e.polarity, e.mechanism) for e in edges], alt, alt, rankdir="TB")
    return svg, alt


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
