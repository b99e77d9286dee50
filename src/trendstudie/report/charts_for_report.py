"""Chooses and draws the chart for a trend, in the report and on the gemeente page alike: the
first of the trend's indicators with a series of at least three years for this gemeente, against
its peer groups."""

from __future__ import annotations

from typing import Mapping

from ..charts import Chart, Series, time_series
from ..formatting import COUNT_UNITS
from .content import Context, Figure, Options


def trend_chart(data, meta: Mapping, code: str, name: str, finding, peers: list[tuple[str, str]], *,
                years: tuple[int | None, int | None] = (None, None), width: float = 640,
                height: float = 340) -> tuple[Chart, str] | None:
    """The chart and its caption, or None. `data` gives the yearly series (`series(indicator,
    region)`), `meta` each indicator's title, unit and decimals; `years` (first, last) limits the
    years shown. Peer groups need two years. Counts of a gemeente and of Nederland differ a
    thousandfold, so counts compare their growth: an index, 100 in the first year all lines have."""
    first_year, last_year = years

    def points(ind: str, region: str) -> list[tuple[int, float]]:
        out = []
        for period, value in data.series(ind, region):
            year = int(period[:4])
            if period.endswith("JJ00") and (first_year is None or year >= first_year) and \
                    (last_year is None or year <= last_year):
                out.append((year, value))
        return out

    for ind in finding.indicators:
        m = meta.get(ind)
        if m is None:
            continue
        own = points(ind, code)
        if len(own) < 3:
            continue
        series = [Series(name, own, True)]
        for gid, label in peers:
            pts = points(ind, gid)
            if len(pts) >= 2:
                series.append(Series(label, pts, False))
        base = max(s.points[0][0] for s in series) if m.unit in COUNT_UNITS and len(series) > 1 else None
        chart = time_series(m.title, m.unit, series, m.decimals, index_base=base, width=width, height=height)
        if chart is None:
            continue
        scale = f"index, {base} = 100" if base is not None else m.unit
        return chart, f"{m.title} in {name} en vergelijkbare gemeenten, {own[0][0]}–{own[-1][0]} ({scale})."
    return None


def make_chart(ctx: Context, code: str, finding, peers: list[tuple[str, str]], opts: Options) -> Figure | None:
    """The report's chart for a trend, within the report's years."""
    found = trend_chart(ctx.data, ctx.data.meta, code, ctx.regions[code][0], finding, peers,
                        years=(opts.from_year, opts.to_year))
    if found is None:
        return None
    chart, caption = found
    # the same chart laid out for a phone, which the HTML report shows there (at 640 px shrunk to a
    # phone's width its text would be some 6 px)
    narrow = trend_chart(ctx.data, ctx.data.meta, code, ctx.regions[code][0], finding, peers,
                         years=(opts.from_year, opts.to_year), width=320, height=300)
    return Figure(chart.svg, chart.alt, f"{caption} Bron: zie de bijlage.", narrow[0].svg if narrow else None)


__all__ = ["make_chart", "trend_chart"]
