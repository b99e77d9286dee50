"""Chooses and draws the chart for a trend in a report: the first of the trend's indicators with
a series of at least three years for this gemeente, against its peer groups."""

from __future__ import annotations

from ..formatting import COUNT_UNITS
from .content import Context, Figure, Options


def make_chart(ctx: Context, code: str, finding, peers: list[tuple[str, str]], opts: Options) -> Figure | None:
    from ..charts import Series, time_series

    name = ctx.regions[code][0]
    for ind in finding.indicators:
        meta = ctx.data.meta.get(ind)
        if meta is None:
            continue
        own = [(int(p[:4]), v) for p, v in ctx.data.series(ind, code) if _in(p, opts)]
        if len(own) < 3:
            continue
        series = [Series(name, own, True)]
        for gid, label in peers:
            pts = [(int(p[:4]), v) for p, v in ctx.data.series(ind, gid) if _in(p, opts)]
            if len(pts) >= 2:
                series.append(Series(label, pts, False))
        first, last = own[0][0], own[-1][0]
        # Counts of a gemeente and of Nederland differ a thousandfold: compare their growth instead.
        counts = meta.unit in COUNT_UNITS
        chart = time_series(meta.title, meta.unit, series, meta.decimals, index_base=first if counts else None)
        if chart is None:
            continue
        scale = f"index, {first} = 100" if counts else meta.unit
        return Figure(chart.svg, chart.alt, f"{meta.title} in {name} en vergelijkbare gemeenten, {first}–{last} "
                                           f"({scale}). Bron: zie de bijlage.")
    return None


def _in(period: str, opts: Options) -> bool:
    y = int(period[:4])
    return (opts.from_year is None or y >= opts.from_year) and (opts.to_year is None or y <= opts.to_year)


__all__ = ["make_chart"]
