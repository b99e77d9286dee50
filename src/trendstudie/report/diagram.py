"""The causal diagram of a gemeente's strong trends, drawn directly as SVG (no layout engine).

Nodes sit on a circle in a fixed order (by id), edges are straight arrows marked + or −, so the
drawing is deterministic, small, and readable in greyscale (negative links dashed)."""

from __future__ import annotations

import math
import textwrap
from html import escape

from ..knowledge.model import Edge


def _wrap(text: str, width: int = 22) -> list[str]:
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    return lines[:3] if len(lines) <= 3 else lines[:2] + [lines[2] + " …"]


def causal_diagram(nodes: dict[str, str], edges: list[Edge], size: int = 640) -> tuple[str, str] | None:
    """SVG and its text alternative; None when there is nothing to draw."""
    used = sorted({e.source for e in edges} | {e.target for e in edges})
    if not used:
        return None
    cx = cy = size / 2
    radius = size / 2 - 95
    pos = {}
    for i, n in enumerate(used):
        angle = -math.pi / 2 + 2 * math.pi * i / len(used)
        pos[n] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    alt = "Verbanden: " + "; ".join(
        f"{nodes[e.source]} {'versterkt' if e.polarity == '+' else 'remt'} {nodes[e.target].lower()}" for e in edges) + "."
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" aria-label="{escape(alt)}" '
             f'font-family="sans-serif" font-size="11"><title>{escape(alt)}</title>',
             '<defs><marker id="pijl" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>']
    for e in edges:
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        dx, dy = x2 - x1, y2 - y1
        dist = math.hypot(dx, dy) or 1
        shrink = 38
        sx, sy = x1 + dx / dist * shrink, y1 + dy / dist * shrink
        ex, ey = x2 - dx / dist * shrink, y2 - dy / dist * shrink
        dash = ' stroke-dasharray="5 4"' if e.polarity == "-" else ""
        parts.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#333" stroke-width="1.3"'
                     f'{dash} marker-end="url(#pijl)"><title>{escape(e.mechanism)}</title></line>')
        mx, my = (sx + ex) / 2, (sy + ey) / 2
        parts.append(f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="7" fill="#fff" stroke="#333"/>'
                     f'<text x="{mx:.1f}" y="{my + 4:.1f}" text-anchor="middle" font-weight="bold">'
                     f'{"+" if e.polarity == "+" else "−"}</text>')
    for n in used:
        x, y = pos[n]
        lines = _wrap(nodes[n])
        h = 14 * len(lines) + 10
        parts.append(f'<rect x="{x - 78:.1f}" y="{y - h / 2:.1f}" width="156" height="{h}" rx="6" fill="#f2f2f2" '
                     f'stroke="#222"/>')
        for j, line in enumerate(lines):
            ty = y - h / 2 + 17 + 14 * j
            parts.append(f'<text x="{x:.1f}" y="{ty:.1f}" text-anchor="middle">{escape(line)}</text>')
    parts.append("</svg>")
    return "".join(parts), alt
