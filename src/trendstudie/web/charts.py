"""The charts of the web pages, built from the loaded data (see svg.py for the drawing).

Shared by the pages (inline SVG) and the /svg/ download routes, so a downloaded SVG is exactly
the chart on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..knowledge.localise import Finding
from ..report import charts as report_charts  # the report's charts: the web looks like the study
from ..formatting import COUNT_UNITS
from ..report.content import Figure
from . import svg
from ..knowledge.verdict import STRENGTHS
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
    """`make(width)` at the wide and at the narrow width."""
    wide = make(WIDE)
    if wide is None:
        return None
    try:
        narrow = make(NARROW)
    except Exception:  # a drawing problem in the phone layout must not take the page down
        narrow = None
    return Responsive(wide.svg, wide.alt, narrow.svg if narrow is not None else None)


def _time_series(title: str, unit: str, lines: list[svg.Line], decimals: int):
    def make(width: float):
        if sum(ln.emphasis for ln in lines) <= 1:  # several gemeenten: colours
            try:
                return report_charts.time_series(title, unit, [report_charts.Series(ln.label, ln.points, ln.emphasis)
                                                               for ln in lines], decimals, width=width,
                                                 height=340 if width >= WIDE else 300)
            except Exception:  # a drawing problem in one chart must not take the page down
                pass
        return svg.time_series(title, unit, lines, decimals, width=width)
    return both(make)


def _bars(title: str, unit: str, items: list[tuple[str, float, bool]], decimals: int):
    def make(width: float):
        try:
            return report_charts.bar_compare(title, unit, items, decimals=decimals, width=width)
        except Exception:  # a drawing problem in one chart must not take the page down
            return svg.bars(title, unit, items, decimals, width=width)
    return both(make)


def indicator_map(d: WebData, indicator: str, period: str, highlight: str | None = None) -> svg.Chart | None:
    if d.map is None:
        return None
    m = d.indicators[indicator]
    values = {c: v for c, v in d.ranking(indicator, period)}
    names = {c: g.name for c, g in d.gemeenten.items()}
    from .. import formatting

    return svg.choropleth(d.map.paths, d.map.width, d.map.height, values, names,
                          f"{m.title}, {formatting.period(period)}", m.decimals, m.unit, highlight)


def distribution(d: WebData, indicator: str, period: str, highlight: str | None = None) -> svg.Chart | None:
    m = d.indicators[indicator]
    values = [v for _, v in d.ranking(indicator, period)]
    marker = None
    if highlight and highlight in d.gemeenten:
        v = d.data.value(indicator, highlight, period)
        if v is not None:
            marker = (d.gemeenten[highlight].name, v)
    return both(lambda width: svg.histogram(m.title, m.unit, values, m.decimals, marker, width=width))


def series(d: WebData, indicator: str, codes: list[str], groups: tuple[str, ...] = SERIES_GROUPS) -> svg.Chart | None:
    """Time series of gemeenten (emphasised) and groups."""
    m = d.indicators[indicator]
    lines = []
    for code in codes:
        pts = [(int(p[:4]), v) for p, v in d.data.series(indicator, code) if p.endswith("JJ00")]
        if pts:
            lines.append(svg.Line(d.name(code), pts, True))
    for gid in groups:
        if gid in codes:
            continue
        pts = [(int(p[:4]), v) for p, v in d.data.series(indicator, gid) if p.endswith("JJ00")]
        if len(pts) >= 2:
            lines.append(svg.Line(d.group_label(gid) if gid != "NL01" else "Nederland", pts, False))
    chart, unit = _series_chart(m, lines)
    if chart is not None:
        chart.unit = unit
        chart.years = (min(y for ln in lines for y, _ in ln.points), max(y for ln in lines for y, _ in ln.points))
    return chart


def _series_chart(m, lines: list[svg.Line]):
    """Lines of one indicator and the unit they are drawn in; counts (inhabitants, dwellings) as
    an index, because a gemeente's count and Nederland's differ a thousandfold: compare their
    growth, as the report does."""
    if m.unit in COUNT_UNITS and len(lines) > 1:
        base = max(min(y for y, _ in ln.points) for ln in lines)
        lines = [svg.Line(ln.label, [(y, v / b * 100) for y, v in ln.points], ln.emphasis)
                 for ln in lines if (b := dict(ln.points).get(base))]
        return _time_series(m.title, f"index ({base} = 100)", lines, 1), f"index, {base} = 100"
    return _time_series(m.title, m.unit, lines, m.decimals), m.unit


def compare_bars(d: WebData, indicator: str, period: str, codes: list[str], emphasise: set[str]) -> svg.Chart | None:
    from .. import formatting

    m = d.indicators[indicator]
    items = []
    for c in codes:
        v = d.data.value(indicator, c, period)
        if v is not None:
            items.append((d.name(c) if c in d.regions else d.group_label(c), v, c in emphasise))
    return _bars(f"{m.title}, {formatting.period(period)}", m.unit, items, m.decimals)


def strength_map(d: WebData, trend_id: str) -> svg.Chart | None:
    if d.map is None or trend_id not in d.strength:
        return None
    names = {c: g.name for c, g in d.gemeenten.items()}
    return svg.category_map(d.map.paths, d.map.width, d.map.height, dict(d.strength[trend_id]), svg.STRENGTH_FILL,
                            names, f"Waar speelt '{d.kb.trends[trend_id].title}'?", list(STRENGTHS))


def trend_figure(d: WebData, code: str, finding: Finding, peers: list[tuple[str, str]]) -> Figure | None:
    """The chart under a trend on a gemeente page: its first indicator with three or more years."""
    name = d.gemeenten[code].name
    for ind in finding.indicators:
        if ind not in d.indicators:
            continue
        own = [(int(p[:4]), v) for p, v in d.data.series(ind, code) if p.endswith("JJ00")]
        if len(own) < 3:
            continue
        m = d.indicators[ind]
        lines = [svg.Line(name, own, True)]
        for gid, label in peers:
            pts = [(int(p[:4]), v) for p, v in d.data.series(ind, gid) if p.endswith("JJ00")]
            if len(pts) >= 2:
                lines.append(svg.Line(label, pts, False))
        chart, unit = _series_chart(m, lines)
        if chart:
            fig = Figure(chart.svg, chart.alt, f"{m.title} in {name} en vergelijkbare gemeenten, "
                                               f"{own[0][0]}–{own[-1][0]} ({unit}).")
            fig.narrow = chart.narrow  # the gemeente page shows the phone layout on a phone
            return fig
    return None


def rank_strip(d: WebData, indicator: str, period: str, code: str) -> svg.Chart | None:
    """Every gemeente as a dot (the report's beeswarm), this gemeente and its G40/M50/province peers marked."""
    if code not in d.gemeenten:
        return None
    m = d.indicators[indicator]
    values = dict(d.ranking(indicator, period))
    if code not in values:
        return None
    from .. import formatting

    peers = set()
    for gid in d.ctx.member_of.get(code, set()):
        if d.group_kinds.get(gid) in ("netwerk", "provincie"):
            peers |= set(d.group_members.get(gid, []))
    try:
        return both(lambda width: report_charts.rank_strip(
            f"{m.title}, {formatting.period(period)}", m.unit, values, code, {c: g.name for c, g in d.gemeenten.items()},
            peers - {code}, decimals=m.decimals, width=width))
    except Exception:
        return None
