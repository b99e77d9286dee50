"""The causal diagram of a gemeente's strong trends, laid out by Graphviz (see graph_layout.py):
boxes that never overlap and fit their text, arrows that end on their box, each marked + or −
(dashed: braking), readable in greyscale."""

from __future__ import annotations

from ..knowledge.model import Edge
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
