"""The trend radar and the impact × uncertainty matrix as standalone SVG (pure functions).

Radar: one sector per domain, rings for the horizon (inner: binnen 5 jaar), circle size for the
median impact, shade for the median uncertainty (darker is more uncertain). Matrix: uncertainty
across, impact up, the midlines at 3. Every mark carries its numbers as data attributes and a
<title>, and is numbered as in the legend beside it. Only presentation attributes are used (the
site's CSP forbids inline styles).
"""

from __future__ import annotations

import math
from html import escape

from ..charts.draw import wrap_words
from ..indicators.registry import DOMAINS
from .aggregate import ItemResult

HORIZON_LABELS = ("binnen 5 jaar", "5-10 jaar", "na 10 jaar")
LIGHT, DARK = (198, 219, 239), (8, 48, 107)


def shade(uncertainty: float) -> str:
    """Light blue for 1 (certain) to dark blue for 5 (very uncertain)."""
    t = min(max((uncertainty - 1) / 4, 0.0), 1.0)
    r, g, b = (round(LIGHT[i] + (DARK[i] - LIGHT[i]) * t) for i in range(3))
    return f"#{r:02x}{g:02x}{b:02x}"


def _fmt(x: float | None) -> str:
    return "–" if x is None else (f"{x:.1f}".replace(".", ",") if x != int(x) else str(int(x)))


def _num(x: float) -> str:
    return f"{x:.1f}"


def ring_of(horizon: float | None) -> int:
    """0, 1 or 2 for a median horizon 1..3 (halves round up); no horizon: the outer ring."""
    if horizon is None:
        return 2
    return min(max(int(math.floor(horizon + 0.5)) - 1, 0), 2)


def _title(n: int, r: ItemResult) -> str:
    return (f"{n}. {r.item.titel} — impact {_fmt(r.median('impact'))}, onzekerheid {_fmt(r.median('onzekerheid'))}, "
            f"horizon {HORIZON_LABELS[ring_of(r.median('horizon'))]} (medianen)")


def numbered(items: list[ItemResult]) -> list[tuple[int, ItemResult]]:
    """The items with a median impact and uncertainty, numbered 1.. in their order."""
    out = []
    for r in items:
        if r.median("impact") is not None and r.median("onzekerheid") is not None:
            out.append((len(out) + 1, r))
    return out


def radar(items: list[ItemResult], title: str, size: int = 640) -> str:
    margin = 90  # room for the sector names left and right
    c = size / 2
    outer = c - 50
    ring_w = outer / 3
    w = size + 2 * margin
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{-margin} 0 {w} {size}" width="{w}" height="{size}" '
             f'role="img" aria-labelledby="radar-t" class="radar"><title id="radar-t">{escape(title)}</title>',
             f'<rect x="{-margin}" width="{w}" height="{size}" fill="#ffffff"/>']
    for k in range(3, 0, -1):
        parts.append(f'<circle cx="{c}" cy="{c}" r="{_num(ring_w * k)}" fill="{("#f7f9fc", "#eef3f9", "#e3ebf5")[k - 1]}" '
                     f'stroke="#9aa9bb" stroke-width="1"/>')
        parts.append(f'<text x="{c + 4}" y="{_num(c - ring_w * k + 14)}" font-size="11" fill="#44546a">'
                     f'{escape(HORIZON_LABELS[k - 1])}</text>')
    n_sec = len(DOMAINS)
    for i, d in enumerate(DOMAINS):
        a = -math.pi / 2 + 2 * math.pi * i / n_sec
        parts.append(f'<line x1="{c}" y1="{c}" x2="{_num(c + outer * math.cos(a))}" y2="{_num(c + outer * math.sin(a))}" '
                     f'stroke="#9aa9bb" stroke-width="1"/>')
        mid = a + math.pi / n_sec
        lx, ly = c + (outer + 16) * math.cos(mid), c + (outer + 16) * math.sin(mid) + 4
        anchor = "middle" if abs(math.cos(mid)) < 0.3 else ("start" if math.cos(mid) > 0 else "end")
        # a long name on two lines ("economie en" / "arbeidsmarkt"): on one it ran out of the drawing
        lines = d.rsplit(" ", 1) if len(d) > 14 else [d]
        y0 = ly - 7 * (len(lines) - 1)
        spans = "".join(f'<tspan x="{_num(lx)}" y="{_num(y0 + 14 * k)}">{escape(t)}</tspan>' for k, t in enumerate(lines))
        parts.append(f'<text font-size="12" text-anchor="{anchor}" fill="#1f2d3d" class="sector">{spans}</text>')
    shown = numbered(items)
    by_domain: dict[str, list[tuple[int, ItemResult]]] = {}
    for n, r in shown:
        by_domain.setdefault(r.item.domein if r.item.domein in DOMAINS else DOMAINS[0], []).append((n, r))
    for i, d in enumerate(DOMAINS):
        group = by_domain.get(d, [])
        a0 = -math.pi / 2 + 2 * math.pi * i / n_sec
        for j, (n, r) in enumerate(group):
            a = a0 + 2 * math.pi / n_sec * (j + 1) / (len(group) + 1)
            ring = ring_of(r.median("horizon"))
            rr = ring_w * ring + ring_w * (0.3 + 0.4 * ((j % 3) / 2))
            x, y = c + rr * math.cos(a), c + rr * math.sin(a)
            imp, unc = r.median("impact"), r.median("onzekerheid")
            radius = 4 + 3 * imp
            text_fill = "#ffffff" if unc >= 3 else "#0b1f33"
            parts.append(f'<g class="item" data-item="{r.item.id}" data-impact="{imp}" data-onzekerheid="{unc}" '
                         f'data-ring="{ring + 1}"><title>{escape(_title(n, r))}</title>'
                         f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(radius)}" fill="{shade(unc)}" '
                         f'stroke="#0b1f33" stroke-width="1"/>'
                         f'<text x="{_num(x)}" y="{_num(y + 4)}" font-size="11" text-anchor="middle" '
                         f'fill="{text_fill}">{n}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def matrix(items: list[ItemResult], title: str, width: int = 600, height: int = 480) -> str:
    left, right, top, bottom = 60, 20, 20, 50
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + (v - 1) / 4 * pw

    def sy(v: float) -> float:
        return top + ph - (v - 1) / 4 * ph

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-labelledby="matrix-t" class="matrix"><title id="matrix-t">{escape(title)}</title>',
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#f7f9fc" stroke="#9aa9bb"/>',
             f'<line x1="{sx(3)}" y1="{top}" x2="{sx(3)}" y2="{top + ph}" stroke="#9aa9bb" stroke-dasharray="4 3"/>',
             f'<line x1="{left}" y1="{sy(3)}" x2="{left + pw}" y2="{sy(3)}" stroke="#9aa9bb" stroke-dasharray="4 3"/>']
    for v in range(1, 6):
        parts.append(f'<text x="{_num(sx(v))}" y="{top + ph + 16}" font-size="11" text-anchor="middle" fill="#44546a">{v}</text>')
        parts.append(f'<text x="{left - 8}" y="{_num(sy(v) + 4)}" font-size="11" text-anchor="end" fill="#44546a">{v}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 10}" font-size="12" text-anchor="middle" fill="#1f2d3d">'
                 f'onzekerheid (mediaan) →</text>')
    parts.append(f'<text x="16" y="{top + ph / 2}" font-size="12" text-anchor="middle" fill="#1f2d3d" '
                 f'transform="rotate(-90 16 {top + ph / 2})">impact (mediaan) →</text>')
    parts.append(f'<text x="{left + 6}" y="{top + 14}" font-size="11" fill="#44546a">basisscenario: grote impact, weinig onzeker</text>')
    parts.append(f'<text x="{left + pw - 6}" y="{top + 14}" font-size="11" text-anchor="end" fill="#44546a">'
                 f'scenario-assen: grote impact, onzeker</text>')
    seen: dict[tuple[float, float], int] = {}
    for n, r in numbered(items):
        imp, unc = r.median("impact"), r.median("onzekerheid")
        k = seen.get((imp, unc), 0)
        seen[(imp, unc)] = k + 1
        dx, dy = (k % 4) * 14 - (6 if k else 0), (k // 4) * 14
        x, y = sx(unc) + dx, sy(imp) + dy
        parts.append(f'<g class="item" data-item="{r.item.id}" data-impact="{imp}" data-onzekerheid="{unc}">'
                     f'<title>{escape(_title(n, r))}</title>'
                     f'<circle cx="{_num(x)}" cy="{_num(y)}" r="9" fill="{shade(unc)}" stroke="#0b1f33"/>'
                     f'<text x="{_num(x)}" y="{_num(y + 4)}" font-size="10" text-anchor="middle" '
                     f'fill="{"#ffffff" if unc >= 3 else "#0b1f33"}">{n}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def frame_svg(axis_a: str, axis_b: str, quadrants: list[tuple[str, str, str]], title: str,
              width: int = 640, height: int = 480) -> str:
    """The 2×2 frame: axis A across (sterk right), axis B up (sterk top); each quadrant its title
    and projection scenario. `quadrants` in the order (hoog,hoog), (hoog,laag), (laag,hoog), (laag,laag)
    as (title, projection label, figures line)."""
    cx, cy = width / 2, height / 2
    pos = {0: (cx, 0), 1: (cx, cy), 2: (0, 0), 3: (0, cy)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 56}" width="{width}" '
             f'height="{height + 56}" role="img" aria-labelledby="kader-t" class="kader">'
             f'<title id="kader-t">{escape(title)}</title><rect width="{width}" height="{height + 56}" fill="#ffffff"/>']
    fills = ("#e3ebf5", "#eef3f9", "#eef3f9", "#f7f9fc")
    for i, (qt, proj, figs) in enumerate(quadrants):
        x, y = pos[i]
        parts.append(f'<g class="kwadrant" data-kwadrant="{i + 1}"><rect x="{x + 2}" y="{y + 2}" width="{cx - 4}" '
                     f'height="{cy - 4}" fill="{fills[i]}" stroke="#9aa9bb"/>')
        lines = _wrap(qt, 40)[:4]
        for k, line in enumerate(lines):
            parts.append(f'<text x="{x + 14}" y="{y + 28 + 17 * k}" font-size="13" fill="#1f2d3d">{escape(line)}</text>')
        parts.append(f'<text x="{x + 14}" y="{y + cy - 40}" font-size="12" fill="#44546a">Prognose: {escape(proj)}</text>')
        parts.append(f'<text x="{x + 14}" y="{y + cy - 20}" font-size="11" fill="#44546a">{escape(figs)}</text></g>')
    parts.append(f'<text x="{cx}" y="{height + 28}" font-size="12" text-anchor="middle" fill="#1f2d3d">'
                 f'← {escape(axis_a)}: zwak · sterk →</text>')
    parts.append(f'<text x="{cx}" y="{height + 46}" font-size="12" text-anchor="middle" fill="#1f2d3d">'
                 f'{escape(axis_b)}: sterk (boven) · zwak (onder)</text>')
    parts.append("</svg>")
    return "".join(parts)


def _wrap(text: str, width: int) -> list[str]:
    return wrap_words(text, lambda line: len(line) > width)
