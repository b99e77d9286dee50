"""The charts of the web pages, built from the loaded data and drawn by the one chart library
(`trendstudie.charts`, the same as the report's: the web looks like the study).

Shared by the pages (inline SVG) and the /svg/ download routes, so a downloaded SVG is exactly
the chart on the page. `chart_html` (the `grafiek` filter) puts a chart on a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Callable

from markupsafe import Markup

from .. import charts as lib
from .. import formatting
from ..charts.theme import STRENGTH_FILLS
from ..formatting import COUNT_UNITS
from ..knowledge.localise import Finding
from ..knowledge.verdict import STRENGTHS
from ..report.content import SAMENHANG_CAPTION, Figure
from .data import WebData

SERIES_GROUPS = ("NL01", "G4", "G40", "M50")
WIDE, NARROW = 640, 320  # the chart's width on a wide screen, and laid out again for a phone


@dataclass
class Responsive:
    """A chart drawn twice: `svg` for wide screens (and downloads), `narrow` for phones."""

    svg: str
    alt: str
    narrow: str | None = None
    unit: str = ""  # the unit drawn (an index for counts of several areas): exports name it
    years: tuple[int, int] | None = None


def both(make: Callable[[float], object]) -> Responsive | None:
    """`make(width)` at the wide and at the narrow width. A drawing problem in one chart must not
    take the page down: the chart is left out then (or only its phone layout)."""
    try:
        wide = make(WIDE)
    except Exception:
        return None
    if wide is None:
        return None
    try:
        narrow = make(NARROW)
    except Exception:
        narrow = None
    return Responsive(wide.svg, wide.alt, narrow.svg if narrow is not None else None)


def _time_series(title: str, unit: str, lines: list[lib.Series], decimals: int, index_base: int | None = None):
    return both(lambda width: lib.time_series(title, unit, lines, decimals, index_base=index_base, width=width,
                                              height=340 if width >= WIDE else 300))


def _map(draw: Callable[[float | None], lib.Chart | None]) -> Responsive | None:
    """A map for wide screens and, for phones, the same map scaled to the phone's width with its
    legend under it (shrunk as a whole, the 626 px map's legend would be 6 px on a phone)."""
    return both(lambda width: draw(None if width >= WIDE else NARROW))


def indicator_map(d: WebData, indicator: str, period: str, highlight: str | None = None) -> Responsive | None:
    if d.map is None:
        return None
    m = d.indicators[indicator]
    values = {c: v for c, v in d.ranking(indicator, period)}
    names = {c: g.name for c, g in d.gemeenten.items()}
    return _map(lambda narrow: lib.map_svg(None, highlight, values, f"{m.title}, {formatting.period(period)}", m.unit,
                                           names=names, decimals=m.decimals, projected=d.map, narrow=narrow))


def distribution(d: WebData, indicator: str, period: str, highlight: str | None = None) -> Responsive | None:
    m = d.indicators[indicator]
    values = [v for _, v in d.ranking(indicator, period)]
    marker = None
    if highlight and highlight in d.gemeenten:
        v = d.data.value(indicator, highlight, period)
        if v is not None:
            marker = (d.gemeenten[highlight].name, v)
    return both(lambda width: lib.histogram(f"{m.title}, {formatting.period(period)}", m.unit, values, m.decimals,
                                            marker, width=width))


def series(d: WebData, indicator: str, codes: list[str], groups: tuple[str, ...] = SERIES_GROUPS) -> Responsive | None:
    """Time series of gemeenten (emphasised) and groups."""
    m = d.indicators[indicator]
    lines = []
    for code in codes:
        pts = [(int(p[:4]), v) for p, v in d.data.series(indicator, code) if p.endswith("JJ00")]
        if pts:
            lines.append(lib.Series(d.name(code), pts, True))
    for gid in groups:
        if gid in codes:
            continue
        pts = [(int(p[:4]), v) for p, v in d.data.series(indicator, gid) if p.endswith("JJ00")]
        if len(pts) >= 2:
            lines.append(lib.Series(d.group_label(gid) if gid != "NL01" else "Nederland", pts, False))
    chart, unit = _series_chart(m, lines)
    if chart is not None:  # what the exported file names under the drawing (web/export.py)
        chart.unit = unit
        chart.years = (min(y for ln in lines for y, _ in ln.points), max(y for ln in lines for y, _ in ln.points))
    return chart


def _series_chart(m, lines: list[lib.Series]):
    """Lines of one indicator and the unit they are drawn in; counts (inhabitants, dwellings) as
    an index, because a gemeente's count and Nederland's differ a thousandfold: compare their
    growth, as the report does."""
    if m.unit in COUNT_UNITS and len(lines) > 1:
        base = max(min(y for y, _ in ln.points) for ln in lines)
        return _time_series(m.title, m.unit, lines, m.decimals, index_base=base), f"index, {base} = 100"
    return _time_series(m.title, m.unit, lines, m.decimals), m.unit


def compare_bars(d: WebData, indicator: str, period: str, codes: list[str], emphasise: set[str]) -> Responsive | None:
    m = d.indicators[indicator]
    items = []
    for c in codes:
        v = d.data.value(indicator, c, period)
        if v is not None:
            items.append((d.name(c) if c in d.regions else d.group_label(c), v, c in emphasise))
    return both(lambda width: lib.bar_compare(f"{m.title}, {formatting.period(period)}", m.unit, items,
                                              decimals=m.decimals, width=width))


def strength_map(d: WebData, trend_id: str) -> Responsive | None:
    if d.map is None or trend_id not in d.strength:
        return None
    names = {c: g.name for c, g in d.gemeenten.items()}
    return _map(lambda narrow: lib.category_map(d.map, dict(d.strength[trend_id]), STRENGTH_FILLS, list(STRENGTHS),
                                                names, f"Waar speelt '{d.kb.trends[trend_id].title}'?", narrow=narrow))


def trend_figure(d: WebData, code: str, finding: Finding, peers: list[tuple[str, str]]) -> Figure | None:
    """The chart under a trend on a gemeente page: the report's (its first indicator with three or
    more years), with the phone layout beside it."""
    from ..report.charts_for_report import trend_chart

    name = d.gemeenten[code].name
    found = {}

    def make(width: float):
        hit = trend_chart(d.data, d.indicators, code, name, finding, peers, width=width,
                          height=340 if width >= WIDE else 300)
        if hit is None:
            return None
        found.setdefault("caption", hit[1])
        return hit[0]

    chart = both(make)
    if chart is None:
        return None
    fig = Figure(chart.svg, chart.alt, found["caption"])
    fig.narrow = chart.narrow  # the gemeente page shows the phone layout on a phone
    return fig


DIAGRAM_WIDE = 1100  # px: the page's column on a laptop (72rem less padding)


def samenhang_for_screens(chapter) -> None:
    """The samenhang chapter's diagram laid out for a screen (the report, built with
    Options(screen=True), did not lay it out for print): the whole graph in the width of a laptop's
    column, and for phones one small diagram per trend in a phone's width
    (charts.diagram.causal_diagram). A drawing problem leaves the diagram out (or only its phone
    layout), as `both` does for charts."""
    if chapter is None or chapter.graph is None:
        return
    from ..charts.diagram import PHONE_WIDTH

    titles, edges = chapter.graph
    try:
        wide = lib.causal_diagram(titles, edges, max_width=DIAGRAM_WIDE)
    except Exception:
        wide = None
    if wide is None:
        chapter.figures = []
        return
    try:
        narrow = lib.causal_diagram(titles, edges, max_width=PHONE_WIDTH)
    except Exception:
        narrow = None
    fig = Figure(wide[0], wide[1], SAMENHANG_CAPTION + ".")
    fig.narrow = narrow[0] if narrow else None
    chapter.figures = [fig]


def rank_strip(d: WebData, indicator: str, period: str, code: str) -> Responsive | None:
    """Every gemeente as a dot (the report's beeswarm), this gemeente and its G40/M50/province peers marked."""
    if code not in d.gemeenten:
        return None
    m = d.indicators[indicator]
    values = dict(d.ranking(indicator, period))
    if code not in values:
        return None
    peers = set()
    for gid in d.ctx.member_of.get(code, set()):
        if d.group_kinds.get(gid) in ("netwerk", "provincie"):
            peers |= set(d.group_members.get(gid, []))
    names = {c: g.name for c, g in d.gemeenten.items()}
    return both(lambda width: lib.rank_strip(f"{m.title}, {formatting.period(period)}", m.unit, values, code, names,
                                             peers - {code}, decimals=m.decimals, width=width))


def _sized(svg: str) -> str:
    """Give an SVG without a width its natural size (from its viewBox), so a narrow screen can
    show it at full size in a scrolling box instead of shrinking its text."""
    head = svg[: svg.find(">") + 1]
    if " width=" in head:
        return svg
    m = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', head)
    if not m:
        return svg
    return svg.replace("<svg ", f'<svg width="{m.group(1)}" height="{m.group(2)}" ', 1)


def chart_html(chart, label: str = "Grafiek") -> Markup:
    """A chart on a page: the wide drawing, and for narrow screens the chart laid out again at
    phone width when it has one (`chart.narrow`), else the wide drawing at full size in a box that
    scrolls sideways (with a shadow that shows there is more). CSS picks one; no JavaScript."""
    if chart is None:
        return Markup("")
    wide = _sized(chart.svg)
    narrow = getattr(chart, "narrow", None)
    if narrow:
        return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{_sized(narrow)}</div>')
    return Markup(f'<div class="chart-scroll" tabindex="0" role="region" aria-label="{escape(label)}: schuif opzij '
                  f'om alles te zien">{wide}</div>')
