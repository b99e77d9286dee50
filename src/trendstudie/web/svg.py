"""Small, accessible inline SVG charts for the web pages: a choropleth map, a time series, a
histogram and horizontal bars. Every chart has a <title> and <desc> (its text alternative),
uses presentation attributes only (no inline style, so a strict CSP holds) and stays readable
in greyscale (dash patterns, not only colour, tell series apart).

Each function returns a `Chart(svg, alt)` or None when there is nothing to draw.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from dataclasses import dataclass
from html import escape
from typing import Callable

from .. import formatting

# Sequential palette (light to dark), readable for colour-blind readers; 5 classes.
SEQUENTIAL = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
NO_DATA = "#d9d9d9"
STRENGTH_FILL = {"sterk": "#08519c", "enigszins": "#6baed6", "niet": "#eff3ff", "onbekend": NO_DATA}
LINE_COLOURS = ("#c0392b", "#1f4e79", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#455a64")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4", "3 6")
_ids = itertools.count(1)


@dataclass
class Chart:
    svg: str
    alt: str


def _uid(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def _open(width: float, height: float, title: str, alt: str, css_class: str) -> tuple[str, str]:
    tid, did = _uid("t"), _uid("d")
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" class="{css_class}" '
            f'role="img" aria-labelledby="{tid} {did}" font-family="system-ui, sans-serif" font-size="12">'
            f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(alt)}</desc>')
    return head, "</svg>"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if hi == lo:
        hi = lo + (abs(lo) or 1)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 0.5:
        ticks.append(round(v, 10))
        v += step
        if len(ticks) > 12:
            break
    return ticks


def _tick_decimals(ticks: list[float]) -> int:
    for d in range(0, 4):
        if all(abs(t * 10 ** d - round(t * 10 ** d)) < 1e-6 for t in ticks):
            return d
    return 3


def classes(values: list[float], k: int = 5) -> list[float]:
    """Quantile class breaks (k-1 upper bounds) over the values, unique and sorted."""
    vs = sorted(values)
    if not vs:
        return []
    breaks = []
    for i in range(1, k):
        b = vs[min(len(vs) - 1, int(len(vs) * i / k))]
        if not breaks or b > breaks[-1]:
            breaks.append(b)
    return breaks


def class_of(value: float, breaks: list[float]) -> int:
    for i, b in enumerate(breaks):
        if value < b:
            return i
    return len(breaks)


def choropleth(paths: dict[str, str], width: float, height: float, values: dict[str, float],
               names: dict[str, str], title: str, decimals: int, unit: str,
               highlight: str | None = None) -> Chart | None:
    """A map of the gemeenten coloured by quantile class of `values`, with a legend."""
    if not paths or not values:
        return None
    breaks = classes(list(values.values()))
    palette = SEQUENTIAL[-(len(breaks) + 1):] if len(breaks) + 1 < len(SEQUENTIAL) else SEQUENTIAL
    legend_h = 22 * (len(breaks) + 2) + 10
    total_h = height + legend_h
    lo, hi = min(values.values()), max(values.values())
    alt = (f"Kaart van {len(values)} gemeenten: {title} ({unit}), van {formatting.number(lo, decimals)} "
           f"tot {formatting.number(hi, decimals)}; donkerder is hoger.")
    if highlight and highlight in values:
        alt += f" {names.get(highlight, highlight)}: {formatting.number(values[highlight], decimals)}."
    head, tail = _open(width, total_h, title, alt, "chart map")
    out = [head, '<g stroke="#ffffff" stroke-width="0.3" fill-rule="evenodd">']
    for code, d in paths.items():
        v = values.get(code)
        fill = palette[class_of(v, breaks)] if v is not None else NO_DATA
        label = f"{names.get(code, code)}: {formatting.number(v, decimals) if v is not None else 'geen gegevens'}"
        out.append(f'<path d="{d}" fill="{fill}"><title>{escape(label)}</title></path>')
    out.append("</g>")
    if highlight and highlight in paths:
        out.append(f'<path d="{paths[highlight]}" fill="none" stroke="#d4000f" stroke-width="2" '
                   f'fill-rule="evenodd"><title>{escape(names.get(highlight, highlight))}</title></path>')
    y = height + 14
    bounds = [lo] + breaks + [hi]
    for i, colour in enumerate(palette):
        a, b = bounds[i], bounds[i + 1]
        label = f"{formatting.number(a, decimals)} tot {formatting.number(b, decimals)}" if i < len(palette) - 1 \
            else f"{formatting.number(a, decimals)} en hoger"
        out.append(f'<rect x="4" y="{y:.0f}" width="18" height="14" fill="{colour}" stroke="#555" stroke-width="0.5"/>'
                   f'<text x="28" y="{y + 11:.0f}">{escape(label)}</text>')
        y += 22
    if len(values) < len(paths):
        out.append(f'<rect x="4" y="{y:.0f}" width="18" height="14" fill="{NO_DATA}" stroke="#555" stroke-width="0.5"/>'
                   f'<text x="28" y="{y + 11:.0f}">geen gegevens</text>')
    out.append(tail)
    return Chart("".join(out), alt)


def category_map(paths: dict[str, str], width: float, height: float, category: dict[str, str],
                 fills: dict[str, str], names: dict[str, str], title: str, order: list[str]) -> Chart | None:
    """A map coloured by category (e.g. how strongly a trend applies), with a legend and counts."""
    if not paths:
        return None
    counts = {c: sum(1 for v in category.values() if v == c) for c in order}
    alt = f"Kaart: {title}. " + "; ".join(f"{c}: {counts[c]} gemeenten" for c in order if counts[c]) + "."
    legend_h = 22 * len(order) + 12
    head, tail = _open(width, height + legend_h, title, alt, "chart map")
    out = [head, '<g stroke="#ffffff" stroke-width="0.3" fill-rule="evenodd">']
    for code, d in paths.items():
        cat = category.get(code, order[-1])
        out.append(f'<path d="{d}" fill="{fills.get(cat, NO_DATA)}"><title>{escape(names.get(code, code))}: '
                   f'{escape(cat)}</title></path>')
    out.append("</g>")
    y = height + 12
    for c in order:
        out.append(f'<rect x="4" y="{y:.0f}" width="18" height="14" fill="{fills.get(c, NO_DATA)}" stroke="#555" '
                   f'stroke-width="0.5"/><text x="28" y="{y + 11:.0f}">{escape(c)} ({counts[c]})</text>')
        y += 22
    out.append(tail)
    return Chart("".join(out), alt)


@dataclass
class Line:
    label: str
    points: list[tuple[int, float]]  # (year, value)
    emphasis: bool = False


def time_series(title: str, unit: str, lines: list[Line], decimals: int, width: float = 640,
                height: float = 300) -> Chart | None:
    """Lines over years, one per series, with a legend under the plot."""
    lines = [ln for ln in lines if ln.points]
    if not lines:
        return None
    xs = [x for ln in lines for x, _ in ln.points]
    ys = [y for ln in lines for _, y in ln.points]
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    ticks = nice_ticks(min(ys), max(ys))
    y0, y1 = ticks[0], ticks[-1]
    if y1 == y0:
        y1 = y0 + 1
    left, right, top = 70, 16, 12
    plot_h = height - 40
    legend_rows = math.ceil(len(lines) / 2)
    total_h = height + 20 * legend_rows + 8

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * (plot_h - top)

    parts = []
    for ln in lines:
        first, last = ln.points[0], ln.points[-1]
        parts.append(f"{ln.label}: {formatting.number(first[1], decimals)} in {first[0]}, "
                     f"{formatting.number(last[1], decimals)} in {last[0]}")
    alt = f"{title} ({unit}), {x0}–{x1}. " + "; ".join(parts) + "."
    head, tail = _open(width, total_h, f"{title} ({unit})", alt, "chart line")
    out = [head]
    td = _tick_decimals(ticks)
    for t in ticks:
        y = py(t)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">'
                   f'{formatting.number(t, td)}</text>')
    span = x1 - x0
    step = 1 if span <= 10 else 2 if span <= 20 else 5
    for x in range(x0, x1 + 1):
        if (x - x0) % step == 0 or x == x1:
            out.append(f'<text x="{px(x):.1f}" y="{plot_h + 16:.1f}" text-anchor="middle" fill="#333">{x}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{plot_h:.1f}" y2="{plot_h:.1f}" stroke="#555"/>')
    for i, ln in enumerate(lines):
        colour, dash = LINE_COLOURS[i % len(LINE_COLOURS)], DASHES[i % len(DASHES)]
        sw = 3 if ln.emphasis else 1.6
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ln.points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{sw}"{dash_attr}>'
                   f'<title>{escape(ln.label)}</title></polyline>')
        for x, y in ln.points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{3 if ln.emphasis else 2}" fill="{colour}">'
                       f'<title>{escape(ln.label)} {x}: {formatting.number(y, decimals)}</title></circle>')
        lx = 10 + (i % 2) * (width / 2)
        ly = height + 4 + 20 * (i // 2)
        out.append(f'<line x1="{lx:.0f}" x2="{lx + 28:.0f}" y1="{ly:.0f}" y2="{ly:.0f}" stroke="{colour}" '
                   f'stroke-width="{sw}"{dash_attr}/><text x="{lx + 34:.0f}" y="{ly + 4:.0f}">{escape(ln.label)}</text>')
    out.append(tail)
    return Chart("".join(out), alt)


def histogram(title: str, unit: str, values: list[float], decimals: int, marker: tuple[str, float] | None = None,
              bins: int = 20, width: float = 640, height: float = 220) -> Chart | None:
    """How the gemeenten are distributed over the value range; `marker` marks one gemeente."""
    if len(values) < 2:
        return None
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + 1
    size = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / size))] += 1
    left, right, top, bottom = 40, 16, 10, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    top_count = max(counts)
    alt = (f"Verdeling van {len(values)} gemeenten naar {title.lower()} ({unit}): van "
           f"{formatting.number(lo, decimals)} tot {formatting.number(hi, decimals)}, de meeste gemeenten tussen "
           f"{formatting.number(lo + counts.index(top_count) * size, decimals)} en "
           f"{formatting.number(lo + (counts.index(top_count) + 1) * size, decimals)}.")
    if marker:
        alt += f" {marker[0]}: {formatting.number(marker[1], decimals)}."
    head, tail = _open(width, height, f"Verdeling: {title} ({unit})", alt, "chart histogram")
    out = [head]
    bw = plot_w / bins
    for i, c in enumerate(counts):
        h = c / top_count * plot_h
        a, b = lo + i * size, lo + (i + 1) * size
        out.append(f'<rect x="{left + i * bw + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                   f'fill="#6baed6"><title>{formatting.number(a, decimals)} tot {formatting.number(b, decimals)}: '
                   f'{c} gemeenten</title></rect>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#555"/>')
    for t in nice_ticks(lo, hi, 6):
        if lo <= t <= hi:
            x = left + (t - lo) / (hi - lo) * plot_w
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#333">'
                       f'{formatting.number(t, _tick_decimals([t]))}</text>')
    out.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" fill="#333">{top_count}</text>'
               f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" fill="#333">0</text>')
    if marker:
        x = left + (marker[1] - lo) / (hi - lo) * plot_w
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#d4000f" stroke-width="2"/>'
                   f'<text x="{min(max(x, left + 40), width - right - 40):.1f}" y="{height - 4}" text-anchor="middle" '
                   f'fill="#a00010" font-weight="bold">{escape(marker[0])}</text>')
    out.append(tail)
    return Chart("".join(out), alt)


def bars(title: str, unit: str, items: list[tuple[str, float, bool]], decimals: int,
         width: float = 640) -> Chart | None:
    """Horizontal bars, one per (label, value, emphasis)."""
    if not items:
        return None
    row = 24
    left, right = 190, 90
    height = row * len(items) + 10
    lo = min(0.0, min(v for _, v, _ in items))
    hi = max(0.0, max(v for _, v, _ in items))
    if hi == lo:
        hi = lo + 1
    plot_w = width - left - right

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    alt = f"{title} ({unit}): " + "; ".join(f"{label} {formatting.number(v, decimals)}" for label, v, _ in items) + "."
    head, tail = _open(width, height, f"{title} ({unit})", alt, "chart bars")
    out = [head]
    for i, (label, v, emph) in enumerate(items):
        y = 5 + i * row
        x_a, x_b = sorted((px(0), px(v)))
        short = label if len(label) <= 28 else label[:27] + "…"
        weight = ' font-weight="bold"' if emph else ""
        out.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end"{weight}>{escape(short)}</text>'
                   f'<rect x="{x_a:.1f}" y="{y + 3}" width="{max(x_b - x_a, 1):.1f}" height="{row - 8}" '
                   f'fill="{"#08519c" if emph else "#6baed6"}"><title>{escape(label)}: '
                   f'{formatting.number(v, decimals)}</title></rect>'
                   f'<text x="{x_b + 4:.1f}" y="{y + 15}"{weight}>{formatting.number(v, decimals)}</text>')
    out.append(tail)
    return Chart("".join(out), alt)


def _wrap(text: str, width: int = 24, lines: int = 2) -> list[str]:
    out = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


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
    box_w, box_h, col_w, row_h, top = 168, 46, 214, 54, 30
    first, last = min(cols), max(cols)
    width = (last - first + 1) * col_w + 20
    tallest = max(len(v) for v in cols.values())
    height = top + tallest * row_h + 10
    pos: dict[str, tuple[float, float]] = {}
    for col, ids in cols.items():
        x = 10 + (col - first) * col_w + (col_w - box_w) / 2
        y0 = top + (tallest - len(ids)) * row_h / 2
        for i, n in enumerate(ids):
            pos[n] = (x, y0 + i * row_h)
    n_c = sum(1 for n, c in placed.items() if c < 0)
    n_e = sum(1 for n, c in placed.items() if c > 0)
    alt = (f"Samenhang rond '{titles[center]}': {n_c} oorzaken en {n_e} gevolgen tot {depth} "
           f"{'stap' if depth == 1 else 'stappen'}. " + "; ".join(
               f"{titles[e.source]} {'versterkt' if e.polarity == '+' else 'remt'} {titles[e.target].lower()}"
               for e in edges[:40]) + ".")
    head, tail = _open(width, height, f"Samenhang: {titles[center]}", alt, "chart bowtie")
    head = head.replace("<svg ", f'<svg width="{width:.0f}" height="{height:.0f}" ', 1)
    out = [head, '<defs><marker id="bt-pijl" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                 'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>']
    for col in sorted(cols):
        label = "deze trend" if col == 0 else (f"oorzaken, stap {-col}" if col < 0 else f"gevolgen, stap {col}")
        x = 10 + (col - first) * col_w + col_w / 2
        out.append(f'<text x="{x:.0f}" y="16" text-anchor="middle" fill="#555">{label}</text>')
    for e in edges:
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        sx, sy, ex, ey = x1 + box_w, y1 + box_h / 2, x2, y2 + box_h / 2
        dash = ' stroke-dasharray="5 4"' if e.polarity == "-" else ""
        out.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex - 2:.1f}" y2="{ey:.1f}" stroke="#555" stroke-width="1.1"'
                   f'{dash} marker-end="url(#bt-pijl)"><title>{escape(e.mechanism)}</title></line>')
    for n, (x, y) in pos.items():
        lines = _wrap(titles[n], 25, 3)
        fill, stroke = ("#08519c", "#08519c") if n == center else ("#f4f6f8", "#333")
        colour = "#ffffff" if n == center else "#1a1a1a"
        box = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w}" height="{box_h}" rx="5" fill="{fill}" stroke="{stroke}"/>'
               + "".join(f'<text x="{x + box_w / 2:.1f}" y="{y + box_h / 2 + 4 - 6.5 * (len(lines) - 1) + 13 * j:.1f}" '
                         f'text-anchor="middle" font-size="11" fill="{colour}">{escape(t)}</text>'
                         for j, t in enumerate(lines)))
        if href and n != center:
            out.append(f'<a href="{escape(href(n))}"><title>{escape(titles[n])}</title>{box}</a>')
        else:
            out.append(f"<g><title>{escape(titles[n])}</title>{box}</g>")
    out.append(tail)
    return Chart("".join(out), alt)
