"""Charts and maps for the report, the web pages and their downloads: pure functions from plain
Python data to an SVG string plus a Dutch text alternative computed from the same data.

Every function returns `Chart(svg, alt)`, or None when there is nothing to draw (the caller then
drops the chart; there is never an empty placeholder). The SVG carries `role="img"`, an
`aria-label` and a `<title>` with the text alternative.

Two renderers draw the same charts:

- `engine="svg"` (default): hand-written SVG; measured 0.5-1 ms for a time series, fan or bar
  chart, about 9 ms for a strip of all gemeenten (the beeswarm layout), 3 ms for a map of 342
  gemeenten once their projection is cached (18 ms the first time). Layout is computed here, so
  direct labels at line ends are kept apart and the output is small and deterministic.
- `engine="vega"`: Vega-Lite via altair, rendered offline by vl-convert with a Dutch format
  locale: about 100 ms per time series (55-95 ms in vl-convert, the rest building the spec)
  after a 0.6 s start-up, and about 200 ms for the strip. That is too slow for 342 reports with
  several charts each on two cores, so it is the alternative, not the default.

Readability in print and greyscale: the gemeente is the darkest, thickest, solid mark; peers are
lighter greys with their own dash pattern and marker shape, each labelled directly; maps use a
palette that is monotonic in lightness. Numbers are formatted the Dutch way (`1.234,5`), years
as plain labels (`2024`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Callable, Iterable, Sequence

from .. import formatting
from . import theme as th

DEFAULT_ENGINE = "svg"


@dataclass(frozen=True)
class Series:
    """One line: a label (gemeente or peer group), (year, value) points, and whether it is the
    gemeente itself (drawn dark and solid) or a comparison (lighter, dashed)."""

    label: str
    points: Sequence[tuple[int, float]]
    emphasis: bool = False


@dataclass(frozen=True)
class Chart:
    svg: str
    alt: str


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _ok(v) -> bool:
    return v is not None and not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _esc(text: str) -> str:
    return escape(str(text), quote=True)


def _f(x: float) -> str:
    """A coordinate with one decimal, without trailing zeros."""
    text = f"{x:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _num(value: float, decimals: int) -> str:
    return formatting.number(value, decimals)


def _val(value: float, decimals: int, unit: str) -> str:
    """A value as a reader sees it in running text: '12,3%', '€ 1.234', else the bare number."""
    n = _num(value, decimals)
    u = (unit or "").strip()
    if u == "%":
        return f"{n}%"
    if u.lower() in ("euro", "€"):
        return f"€ {n}"
    return n


def _signed(value: float, decimals: int) -> str:
    text = _num(value, decimals)
    return text if text.startswith("-") or text.strip("0,.") == "" else "+" + text


def _unit_part(unit: str) -> str:
    return f" ({unit})" if unit and unit.strip() else ""


def _step_decimals(step: float) -> int:
    for d in range(0, 7):
        scaled = step * 10 ** d
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, abs(scaled)):
            return d
    return 6


def _nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, float, list[float], int]:
    """A nice (lo, hi) domain covering the data, its ticks, and the decimals the ticks need."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    err = raw / step
    if err >= 7.07:
        step *= 10
    elif err >= 3.16:
        step *= 5
    elif err >= 1.41:
        step *= 2
    nlo, nhi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    n = int(round((nhi - nlo) / step))
    ticks = [nlo + i * step for i in range(n + 1)]
    return nlo, nhi, ticks, _step_decimals(step)


def _auto_decimals(values: Iterable[float]) -> int:
    vals = [abs(v) for v in values]
    if not vals:
        return 0
    if all(float(v).is_integer() for v in vals):
        return 0
    typical = sorted(vals)[len(vals) // 2]
    return 0 if typical >= 100 else 1 if typical >= 1 else 2


def _median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def wrap_words(text: str, too_long: Callable[[str], bool]) -> list[str]:
    """Words of `text` filled into lines, a new line whenever the next word would make the current
    one `too_long` (a word longer than a line stands alone); no lines for empty text."""
    lines, cur = [], ""
    for w in text.split():
        if cur and too_long(cur + " " + w):
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    return lines


def _wrap(text: str, max_width: float, size: float) -> list[str]:
    return wrap_words(text, lambda line: th.text_width(line, size) > max_width) or [""]


def _open(width: float, height: float, alt: str) -> list[str]:
    a = _esc(alt)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" '
            f'width="{_f(width)}" height="{_f(height)}" role="img" aria-label="{a}" '
            f'font-family="{th.FONT}" font-size="{th.FONT_SIZE}" fill="{th.TEXT}">',
            f"<title>{a}</title>",
            f'<rect width="{_f(width)}" height="{_f(height)}" fill="{th.BACKGROUND}"/>']


def _title(parts: list[str], title: str, width: float, x: float = 8, lines: int = 2) -> float:
    """Draw the title (wrapped to at most `lines` lines); return the y below it."""
    y = 4.0
    for line in _wrap(title, width - 2 * x, th.TITLE_SIZE)[:lines]:
        y += th.TITLE_SIZE + 4
        parts.append(f'<text x="{_f(x)}" y="{_f(y)}" font-size="{th.TITLE_SIZE}" font-weight="bold">{_esc(line)}</text>')
    return y + 6


def _text(x: float, y: float, text: str, anchor: str = "start", size: float | None = None, weight: str | None = None,
          fill: str | None = None, extra: str = "") -> str:
    attrs = f'x="{_f(x)}" y="{_f(y)}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if size:
        attrs += f' font-size="{_f(size)}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if fill:
        attrs += f' fill="{fill}"'
    return f"<text {attrs}{extra}>{_esc(text)}</text>"


def _marker(shape: str, x: float, y: float, colour: str, size: float = 3.5, tip: str | None = None) -> str:
    t = f"<title>{_esc(tip)}</title>" if tip else ""
    s = size
    if shape == "square":
        return f'<rect x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}" fill="{colour}">{t}</rect>'
    if shape == "triangle":
        pts = f"{_f(x)},{_f(y - s * 1.2)} {_f(x + s * 1.1)},{_f(y + s * 0.9)} {_f(x - s * 1.1)},{_f(y + s * 0.9)}"
        return f'<polygon points="{pts}" fill="{colour}">{t}</polygon>'
    if shape == "diamond":
        pts = f"{_f(x)},{_f(y - s * 1.3)} {_f(x + s * 1.3)},{_f(y)} {_f(x)},{_f(y + s * 1.3)} {_f(x - s * 1.3)},{_f(y)}"
        return f'<polygon points="{pts}" fill="{colour}">{t}</polygon>'
    if shape == "circle-open":
        return (f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(s)}" fill="#fff" stroke="{colour}" '
                f'stroke-width="1.5">{t}</circle>')
    if shape == "cross":
        d = f"M{_f(x - s)},{_f(y - s)}L{_f(x + s)},{_f(y + s)}M{_f(x - s)},{_f(y + s)}L{_f(x + s)},{_f(y - s)}"
        return f'<path d="{d}" stroke="{colour}" stroke-width="1.8" fill="none">{t}</path>'
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(s)}" fill="{colour}">{t}</circle>'


def _spread(desired: list[float], gap: float | list[float], lo: float, hi: float) -> list[float]:
    """Move label centres apart so that neighbours are at least half their heights apart
    (`gap` is one height for all or one per label), keeping them within [lo, hi] where possible
    and as close to their desired positions as the room allows."""
    heights = gap if isinstance(gap, list) else [gap] * len(desired)
    order = sorted(range(len(desired)), key=lambda i: desired[i])
    ys = [desired[i] for i in order]
    hs = [heights[i] for i in order]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + (hs[i - 1] + hs[i]) / 2)
    if ys and ys[-1] > hi:
        ys[-1] = hi
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - (hs[i] + hs[i + 1]) / 2)
    if ys and ys[0] < lo:
        ys[0] = lo
        for i in range(1, len(ys)):
            ys[i] = max(ys[i], ys[i - 1] + (hs[i - 1] + hs[i]) / 2)
    out = [0.0] * len(desired)
    for pos, i in enumerate(order):
        out[i] = ys[pos]
    return out


def _label_lines(label: str, value: str, max_width: float) -> list[str]:
    """A direct label as one line 'label value', or wrapped with the value on the last line."""
    one = f"{label} {value}".strip()
    if th.text_width(one) <= max_width:
        return [one]
    lines = _wrap(label, max_width, th.FONT_SIZE)
    if len(lines) > 2:
        lines = lines[:1] + [" ".join(lines[1:])]
    if th.text_width(f"{lines[-1]} {value}") <= max_width:
        lines[-1] = f"{lines[-1]} {value}"
    else:
        lines.append(value)
    return lines


def _direct_labels(parts: list[str], entries: list[tuple], top: float, bottom: float, lx: float,
                   width: float) -> list[float]:
    """entries: (label, value text, colour, dash, shape or None, line width, y, bold). A line
    sample in the series' style, then the text, kept apart vertically."""
    max_w = width - lx - 26
    lines = [_label_lines(e[0], e[1], max_w) for e in entries]
    ys = _spread([e[6] for e in entries], [15.0 * len(ls) for ls in lines], top, bottom)
    for (label, value, colour, dash, shape, lw, _, bold), ls, cy in zip(entries, lines, ys):
        y0 = cy - 7.5 * (len(ls) - 1)
        parts.append(_polyline([(lx, y0), (lx + 18, y0)], colour, min(lw, 2.4), dash))
        if shape:
            parts.append(_marker(shape, lx + 9, y0, colour, 2.8))
        for j, line in enumerate(ls):
            parts.append(_text(lx + 24, y0 + 4 + 15 * j, line, weight="bold" if bold else None))
    return [cy - 7.5 * (len(ls) - 1) for ls, cy in zip(lines, ys)]


LEGEND_SIZE = th.FONT_SIZE - 1  # 11 px: a phone shows the narrow layout at full size, so never smaller
LEGEND_ROW = 16.0  # from one legend row's baseline to the next
LEGEND_GAP = 16.0  # between two items of a row


@dataclass(frozen=True)
class LegendItem:
    """One entry of a legend row: a sample (`draw(x, baseline)` → SVG) `sample_width` wide, then its text."""

    text: str
    sample_width: float
    draw: Callable[[float, float], str]


def _legend_rows(items: Sequence[LegendItem], room: float) -> list[list[LegendItem]]:
    """The items flowed into rows no wider than `room` (on a phone the legend stacks; an item
    wider than a row stands alone on its own)."""
    rows: list[list[LegendItem]] = []
    used = 0.0
    for item in items:
        w = item.sample_width + th.text_width(item.text, LEGEND_SIZE)
        if rows and rows[-1] and used + LEGEND_GAP + w <= room:
            rows[-1].append(item)
            used += LEGEND_GAP + w
        else:
            rows.append([item])
            used = w
    return rows


def _draw_legend(parts: list[str], rows: list[list[LegendItem]], x0: float, baseline: float) -> None:
    """The legend rows from (x0, baseline) down, LEGEND_ROW apart."""
    for r, row in enumerate(rows):
        x, y = x0, baseline + r * LEGEND_ROW
        for item in row:
            parts.append(item.draw(x, y))
            parts.append(_text(x + item.sample_width, y, item.text, size=LEGEND_SIZE))
            x += item.sample_width + th.text_width(item.text, LEGEND_SIZE) + LEGEND_GAP


def _year_ticks(y0: int, y1: int, max_ticks: int = 12) -> list[int]:
    """The years to label when `max_ticks` labels fit across: always the first and the last year
    (a reader looks for both), and between them round years (every 1, 2, 5, 10 … years) kept at
    least one label's room (span / max_ticks years) from each other and from the ends."""
    if y1 <= y0:
        return [y0]
    span = y1 - y0
    room = span / max(max_ticks, 2)
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50) if s >= room), 100)
    inner = [t for t in range(math.ceil(y0 / step) * step, y1 + 1, step) if t - y0 >= room and y1 - t >= room]
    return [y0] + inner + [y1]


def _series_style(index_among_peers: int, emphasis: bool, index_among_emphasised: int = 0
                  ) -> tuple[str, str | None, str, float]:
    """(colour, dasharray or None, marker shape, line width). Several emphasised series (gemeenten
    compared with each other) each get a colour and dash pattern of their own, the first the ink."""
    if emphasis:
        colour, dash = th.EMPHASIS_STYLES[index_among_emphasised % len(th.EMPHASIS_STYLES)]
        return colour, dash, "circle", th.EMPHASIS_WIDTH
    colour, dash, shape = th.PEER_STYLES[index_among_peers % len(th.PEER_STYLES)]
    return colour, dash, shape, th.PEER_WIDTH


def _polyline(pts: list[tuple[float, float]], colour: str, width: float, dash: str | None) -> str:
    d = "M" + "L".join(f"{_f(x)},{_f(y)}" for x, y in pts)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{_f(width)}"{dash_attr} '
            f'stroke-linejoin="round" stroke-linecap="round"/>')


def _y_axis(parts: list[str], ticks: list[float], ydec: int, sy, left: float, right: float, unit: str, top: float) -> None:
    for t in ticks:
        y = sy(t)
        parts.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="{th.GRID}"/>')
        parts.append(_text(left - 6, y + 4, _num(t, ydec), "end", th.FONT_SIZE - 1))
    if unit:
        parts.append(_text(8, top - 10, unit, size=th.FONT_SIZE - 1, fill=th.MUTED_TEXT))


def _x_axis(parts: list[str], ticks: Sequence[float], label, sx, bottom: float, left: float, right: float,
            gap: float = 17) -> None:
    """A horizontal axis at `bottom` with a tick and `label(tick)` under it at each tick."""
    parts.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="{th.AXIS}"/>')
    for t in ticks:
        x = sx(t)
        parts.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(bottom)}" y2="{_f(bottom + 4)}" stroke="{th.AXIS}"/>')
        parts.append(_text(x, bottom + gap, label(t), "middle", th.FONT_SIZE - 1))


def _x_year_axis(parts: list[str], ticks: list[int], sx, bottom: float, left: float, right: float) -> None:
    _x_axis(parts, ticks, str, sx, bottom, left, right)


def _year_plot(parts: list[str], years: tuple[int, int], scale: tuple[float, float, list[float], int],
               box: tuple[float, float, float, float], unit: str):
    """Years across and values up in `box` (left, right, top, bottom), with both axes drawn;
    returns the scales (year → x, value → y). One year sits in the middle."""
    (y0, y1), (lo, hi, ticks, tick_dec), (left, right, top, bottom) = years, scale, box
    sx = (lambda y: (left + right) / 2) if y1 == y0 else (lambda y: left + 8 + (y - y0) / (y1 - y0) * (right - left - 16))
    sy = lambda v: bottom - (v - lo) / (hi - lo) * (bottom - top)  # noqa: E731
    _y_axis(parts, ticks, tick_dec, sy, left, right, unit, top)
    # a year label is some 26 px wide: no more ticks than fit (a phone's plot is narrow)
    _x_year_axis(parts, _year_ticks(y0, y1, max(2, min(12, int((right - left) // 36)))), sx, bottom, left, right)
    return sx, sy


# --------------------------------------------------------------------------------------------
# 1. Time series: the gemeente against its peer groups
# --------------------------------------------------------------------------------------------


def _clean_series(series: Sequence[Series]) -> list[Series]:
    out = []
    for s in series:
        pts = sorted({int(y): float(v) for y, v in s.points if _ok(v)}.items())
        if pts:
            out.append(Series(s.label, pts, bool(s.emphasis)))
    return out


def _change_phrase(v0: float, v1: float, decimals: int, unit: str) -> str:
    if (unit or "").strip() == "%":
        return f"{_signed(v1 - v0, max(decimals, 1))} procentpunt"
    if v0 > 0:
        return f"{_signed((v1 / v0 - 1) * 100, 1)}%"
    return ""


def time_series_alt(title: str, unit: str, series: Sequence[Series], decimals: int = 0) -> str | None:
    """The Dutch text alternative of `time_series`, computed from the data."""
    clean = _clean_series(series)
    if not clean:
        return None
    years = [y for s in clean for y, _ in s.points]
    sentences = [f"{title}, {min(years)}–{max(years)}{_unit_part(unit)}."]
    ordered = [s for s in clean if s.emphasis] + [s for s in clean if not s.emphasis]
    for s in ordered:
        (y0, v0), (y1, v1) = s.points[0], s.points[-1]
        if y0 == y1:
            sentences.append(f"{s.label}: {_val(v1, decimals, unit)} in {y1}.")
            continue
        change = _change_phrase(v0, v1, decimals, unit) if s.emphasis else ""
        sentences.append(f"{s.label}: van {_val(v0, decimals, unit)} in {y0} naar {_val(v1, decimals, unit)} in {y1}"
                         + (f" ({change})" if change else "") + ".")
    return " ".join(sentences)


def rebase(series: Sequence[Series], base_year: int) -> list[Series]:
    """Each series as an index, 100 in `base_year`; series without a (non-zero) value in that
    year are left out. For counts of areas of very different size (a gemeente against
    Nederland), where only the relative development can be compared."""
    out = []
    for s in _clean_series(series):
        base = dict(s.points).get(base_year)
        if base:
            out.append(Series(s.label, [(y, v / base * 100) for y, v in s.points], s.emphasis))
    return out


def _segments(points: Sequence[tuple[int, float]]) -> tuple[list[list[tuple[int, float]]], list[tuple]]:
    """Split a series where years are missing: runs of the series' own step and the gaps between
    them. A series published at a fixed interval (every year, every two years) is one run; when
    the intervals differ (2015, 2019, 2025) the series is yearly with years missing, and every
    jump over a missing year is a gap, drawn dotted rather than as if measured (so is a jump of
    more than two years between only two points)."""
    if len(points) < 2:
        return [list(points)], []
    steps = [b[0] - a[0] for a, b in zip(points, points[1:])]
    step = steps[0] if len(set(steps)) == 1 and steps[0] <= 2 else 1
    runs, gaps = [[points[0]]], []
    for prev, cur in zip(points, points[1:]):
        if cur[0] - prev[0] > step:
            gaps.append((prev, cur))
            runs.append([cur])
        else:
            runs[-1].append(cur)
    return runs, gaps


def time_series(title: str, unit: str, series: Sequence[Series], decimals: int = 0, *,
                index_base: int | None = None, engine: str | None = None, width: float = 640,
                height: float = 340) -> Chart | None:
    """Lines over the years: the gemeente (emphasis) dark and solid, peer groups lighter and
    dashed, each with its own marker, labelled at the line end with its last value. Missing
    years show as a thin dotted bridge, not as a solid line. With `index_base` every series is
    drawn as an index (that year = 100), for counts of areas of very different size."""
    clean = _clean_series(series)
    if index_base is not None:
        clean = rebase(clean, index_base)
        unit, decimals = f"index ({index_base} = 100)", 1
    if not clean:
        return None
    alt = time_series_alt(title, unit, clean, decimals)
    if (engine or DEFAULT_ENGINE) == "vega":
        return Chart(_vega_time_series(title, unit, clean, decimals, alt, width, height), alt)
    values = [v for s in clean for _, v in s.points]
    years = [y for s in clean for y, _ in s.points]
    y0, y1 = min(years), max(years)
    lo, hi, ticks, tick_dec = _nice_ticks(min(values), max(values))
    left = 14 + max(th.text_width(_num(t, tick_dec), th.FONT_SIZE - 1) for t in ticks)
    peer_i, emph_i = {}, {}
    labels = []
    for s in clean:
        group = emph_i if s.emphasis else peer_i
        group[s.label] = len(group)
        labels.append(f"{s.label} {_val(s.points[-1][1], decimals, unit)}")
    gutter = min(200.0, 36 + max(th.text_width(t) for t in labels))
    # On a phone the labels at the line ends would take most of the width (two thirds at 320 px):
    # there the lines are named in a legend under the plot instead, highest last value first.
    legend, legend_lines = None, []
    if gutter > 0.35 * width:
        gutter = 12.0
        legend = sorted(clean, key=lambda s: -s.points[-1][1])
        legend_lines = [_label_lines(s.label, _val(s.points[-1][1], decimals, unit), width - 40) for s in legend]
    extra = sum(15 * len(ls) + 4 for ls in legend_lines) + 6 if legend else 0.0
    parts = _open(width, height + extra, alt)
    top = _title(parts, title, width) + 18
    right = width - gutter
    bottom = height - 30
    sx, sy = _year_plot(parts, (y0, y1), (lo, hi, ticks, tick_dec), (left, right, top, bottom), unit)
    draw_order = [s for s in clean if not s.emphasis] + [s for s in clean if s.emphasis]
    ends = []
    for s in draw_order:
        colour, dash, shape, lw = _series_style(peer_i.get(s.label, 0), s.emphasis, emph_i.get(s.label, 0))
        pts = [(sx(y), sy(v)) for y, v in s.points]
        weight = ' font-weight="bold"' if s.emphasis else ""
        parts.append(f'<g class="series{" emphasis" if s.emphasis else ""}" data-label="{_esc(s.label)}">')
        runs, gaps = _segments(s.points)
        for a, b in gaps:
            parts.append(_polyline([(sx(a[0]), sy(a[1])), (sx(b[0]), sy(b[1]))], colour, 1.0, "1 3"))
        for run in runs:
            if len(run) > 1:
                parts.append(_polyline([(sx(y), sy(v)) for y, v in run], colour, lw, dash))
        every = len(pts) <= 20
        for i, ((y, v), (x, yy)) in enumerate(zip(s.points, pts)):
            if every or i in (0, len(pts) - 1):
                parts.append(_marker(shape, x, yy, colour, 3.6 if s.emphasis else 3.2,
                                     f"{s.label}, {y}: {_val(v, decimals, unit)}"))
        parts.append("</g>")
        ends.append((s, colour, dash, shape, lw, pts[-1][1], weight))
    if legend:
        style = {s.label: (colour, dash, shape, lw) for (s, colour, dash, shape, lw, *_) in ends}
        y = height + 4
        for s, ls in zip(legend, legend_lines):
            colour, dash, shape, lw = style[s.label]
            parts.append(_polyline([(8, y), (26, y)], colour, min(lw, 2.4), dash))
            parts.append(_marker(shape, 17, y, colour, 2.8))
            for j, line in enumerate(ls):
                parts.append(_text(32, y + 4 + 15 * j, line, weight="bold" if s.emphasis else None))
            y += 15 * len(ls) + 4
        parts.append("</svg>")
        return Chart("".join(parts), alt)
    lx = right + 8
    entries = [(s.label, _val(s.points[-1][1], decimals, unit), colour, dash, shape, lw, end_y, s.emphasis)
               for (s, colour, dash, shape, lw, end_y, _) in ends]
    label_ys = _direct_labels(parts, entries, top, bottom, lx, width)
    for (s, *_), ly in zip(ends, label_ys):
        last_x, last_y = sx(s.points[-1][0]), sy(s.points[-1][1])
        if abs(ly - last_y) > 2 or last_x < right - 9:
            parts.append(f'<line x1="{_f(last_x + 5)}" y1="{_f(last_y)}" x2="{_f(lx - 3)}" y2="{_f(ly)}" '
                         f'stroke="#aaaaaa" stroke-width="0.8"/>')
    parts.append("</svg>")
    return Chart("".join(parts), alt)


# --------------------------------------------------------------------------------------------
# 2. Rank strip: all gemeenten on one axis
# --------------------------------------------------------------------------------------------


def _nearest_free(blocked: list[tuple[float, float]]) -> float:
    """The position nearest 0 outside the open intervals `blocked` (on a tie, the lower one)."""
    if not blocked:
        return 0.0
    merged: list[list[float]] = []
    for lo, hi in sorted(blocked):
        if merged and lo < merged[-1][1] - 1e-9:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    for lo, hi in merged:
        if lo + 1e-9 < 0.0 < hi - 1e-9:
            return lo if abs(lo) <= abs(hi) else hi
    return 0.0


def _beeswarm(xs: list[float], r: float) -> list[float]:
    """Vertical offsets so that circles of radius r at xs do not overlap; smallest |offset|
    first, deterministic. xs need not be sorted. The layout of all gemeenten on one indicator is
    the same in every gemeente's report, so it is computed once."""
    return list(_beeswarm_layout(tuple(xs), r))


@lru_cache(maxsize=512)
def _beeswarm_layout(xs: tuple[float, ...], r: float) -> tuple[float, ...]:
    order = sorted(range(len(xs)), key=lambda i: (xs[i], i))
    placed: list[tuple[float, float]] = []  # (x, y) in x order
    offsets = [0.0] * len(xs)
    d2 = (2 * r) ** 2
    start = 0
    for i in order:
        x = xs[i]
        while start < len(placed) and x - placed[start][0] >= 2 * r:
            start += 1
        near = placed[start:]
        blocked = []
        for px, py in near:
            dx = x - px
            h = math.sqrt(max(d2 - dx * dx, 0.0))
            blocked.append((py - h, py + h))
        offsets[i] = _nearest_free(blocked)
        placed.append((x, offsets[i]))
    return tuple(offsets)


def rank_strip_alt(title: str, unit: str, values: dict[str, float], highlight: str, names: dict[str, str],
                   peers: set[str] | None = None, decimals: int | None = None) -> str | None:
    vals = {c: float(v) for c, v in values.items() if _ok(v)}
    if not vals:
        return None
    dec = _auto_decimals(vals.values()) if decimals is None else decimals
    n = len(vals)
    lo_code = min(vals, key=lambda c: (vals[c], c))
    hi_code = max(vals, key=lambda c: (vals[c], c))
    med = _median(list(vals.values()))
    name = names.get(highlight, highlight)
    out = [f"{title}{_unit_part(unit)} in {n} gemeenten."]
    if highlight in vals:
        v = vals[highlight]
        rank = 1 + sum(1 for x in vals.values() if x > v)
        out.append(f"{name}: {_val(v, dec, unit)}, plaats {rank} van {n} (van hoog naar laag).")
    else:
        out.append(f"Voor {name} is geen waarde bekend.")
    out.append(f"Mediaan {_val(med, dec, unit)}; van {_val(vals[lo_code], dec, unit)} ({names.get(lo_code, lo_code)}) "
               f"tot {_val(vals[hi_code], dec, unit)} ({names.get(hi_code, hi_code)}).")
    pv = [vals[c] for c in (peers or set()) if c in vals and c != highlight]
    if pv:
        out.append(f"Mediaan van de {len(pv)} vergelijkbare gemeenten: {_val(_median(pv), dec, unit)}.")
    return " ".join(out)


def rank_strip(title: str, unit: str, values: dict[str, float], highlight: str, names: dict[str, str],
               peers: set[str] | None = None, *, decimals: int | None = None, engine: str | None = None,
               width: float = 640, height: float = 230) -> Chart | None:
    """Every gemeente as a dot on one axis (a beeswarm), the gemeente large, dark and labelled,
    its peers as darker squares, the median as a dashed line."""
    vals = {c: float(v) for c, v in values.items() if _ok(v)}
    if not vals:
        return None
    dec = _auto_decimals(vals.values()) if decimals is None else decimals
    alt = rank_strip_alt(title, unit, vals, highlight, names, peers, dec)
    peers = {c for c in (peers or set()) if c in vals and c != highlight}
    codes = sorted(vals)
    if (engine or DEFAULT_ENGINE) == "vega":
        return Chart(_vega_rank_strip(title, unit, vals, highlight, names, peers, dec, alt, width, height), alt)
    left, right = 24.0, width - 24.0
    med = _median(list(vals.values()))
    # the legend under the axis, in as many rows as the width needs; the strip keeps its height
    mark = lambda shape, colour, size: lambda x, y: _marker(shape, x + 4, y - 4, colour, size)  # noqa: E731
    legend = [LegendItem(names.get(highlight, highlight), 12, mark("circle", th.INK, 4))] if highlight in vals else []
    if peers:
        legend.append(LegendItem("vergelijkbare gemeenten", 12, mark("square", th.STRIP_PEER, 3.2)))
    legend.append(LegendItem("overige gemeenten", 12, mark("circle", th.STRIP_OTHER, 3.2)))
    legend.append(LegendItem(f"mediaan {_val(med, dec, unit)}", 12, lambda x, y: (
        f'<line x1="{_f(x + 4)}" x2="{_f(x + 4)}" y1="{_f(y - 11)}" y2="{_f(y + 2)}" stroke="{th.INK}" '
        'stroke-width="1.2" stroke-dasharray="4 3"/>')))
    legend_rows = _legend_rows(legend, width - 8 - left)
    parts = _open(width, height + LEGEND_ROW * (len(legend_rows) - 1), alt)
    top = _title(parts, title, width) + 22
    bottom = height - 52
    lo, hi, ticks, tick_dec = _nice_ticks(min(vals.values()), max(vals.values()), 6)
    sx = lambda v: left + (v - lo) / (hi - lo) * (right - left)  # noqa: E731
    r = 3.2
    # Every gemeente takes its place in the swarm, so the layout is the same in every report (and
    # computed once); the gemeente itself is then drawn on the centre line, on top.
    xs = [sx(vals[c]) for c in codes]
    offs = _beeswarm(xs, r)
    half = (bottom - top) / 2 - r - 2
    biggest = max((abs(o) for o in offs), default=0.0)
    if biggest > half:  # too many dots for the band: smaller dots first, then squeeze
        r = max(1.8, r * math.sqrt(half / biggest))
        offs = _beeswarm(xs, r)
        biggest = max((abs(o) for o in offs), default=0.0)
    k = half / biggest if biggest > half else 1.0
    mid = (top + bottom) / 2
    mx = sx(med)
    _x_axis(parts, ticks, lambda t: _num(t, tick_dec), sx, bottom, left, right, gap=16)
    if unit:
        parts.append(_text(right, bottom + 31, unit, "end", th.FONT_SIZE - 1, fill=th.MUTED_TEXT))
    others, peer_marks = [], []
    for c, x, o in zip(codes, xs, offs):
        if c == highlight:
            continue
        y = mid + o * k
        tip = f"{names.get(c, c)}: {_val(vals[c], dec, unit)}"
        if c in peers:
            peer_marks.append(_marker("square", x, y, th.STRIP_PEER, max(r, 2.4), tip))
        else:
            others.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}"><title>{_esc(tip)}</title></circle>')
    parts.append(f'<g class="others" fill="{th.STRIP_OTHER}">' + "".join(others) + "</g>")
    parts.append('<g class="peers">' + "".join(peer_marks) + "</g>")
    parts.append(f'<line class="median" x1="{_f(mx)}" x2="{_f(mx)}" y1="{_f(top)}" y2="{_f(bottom)}" '
                 f'stroke="{th.INK}" stroke-width="1.2" stroke-dasharray="4 3"/>')
    if highlight in vals:
        x, y = sx(vals[highlight]), mid
        label = f"{names.get(highlight, highlight)} {_val(vals[highlight], dec, unit)}"
        tw = th.text_width(label, th.FONT_SIZE + 1)
        anchor = "middle"
        lx = x
        if x - tw / 2 < 4:
            anchor, lx = "start", max(4.0, x - 6)
        elif x + tw / 2 > width - 4:
            anchor, lx = "end", min(width - 4, x + 6)
        ly = top - 8
        parts.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(ly + 3)}" y2="{_f(y - 6)}" stroke="{th.INK}" stroke-width="1.2"/>')
        parts.append(f'<g class="highlight" data-code="{_esc(highlight)}">'
                     f'<circle cx="{_f(x)}" cy="{_f(y)}" r="6.5" fill="{th.INK}" stroke="#fff" stroke-width="1.5">'
                     f'<title>{_esc(names.get(highlight, highlight))}: {_esc(_val(vals[highlight], dec, unit))}</title>'
                     '</circle></g>')
        parts.append(_text(lx, ly, label, anchor, th.FONT_SIZE + 1, "bold"))
    _draw_legend(parts, legend_rows, left, height - 8)
    parts.append("</svg>")
    return Chart("".join(parts), alt)


# --------------------------------------------------------------------------------------------
# 3. Fan: history and a projection with its band
# --------------------------------------------------------------------------------------------


def fan_alt(title: str, unit: str, history, projection, scenarios=None, decimals: int | None = None,
            label: str = "prognose") -> str | None:
    hist = sorted((int(y), float(v)) for y, v in history if _ok(v))
    proj = sorted((int(p[0]), float(p[1]), float(p[2]), float(p[3])) for p in projection
                  if _ok(p[1]) and _ok(p[2]) and _ok(p[3]))
    scen = {k: sorted((int(y), float(v)) for y, v in pts if _ok(v)) for k, pts in (scenarios or {}).items()}
    scen = {k: v for k, v in scen.items() if v}
    if not hist and not proj and not scen:
        return None
    dec = _auto_decimals([v for _, v in hist] + [p[1] for p in proj]) if decimals is None else decimals
    out = [f"{title}{_unit_part(unit)}."]
    if hist:
        (y0, v0), (y1, v1) = hist[0], hist[-1]
        out.append(f"Waargenomen: {_val(v1, dec, unit)} in {y1}" + (f" (was {_val(v0, dec, unit)} in {y0})" if y0 != y1 else "") + ".")
    if proj:
        y, v, lo, hi = proj[-1]
        out.append(f"{label[0].upper()}{label[1:]}: {_val(v, dec, unit)} in {y}, met een marge van {_val(lo, dec, unit)} "
                   f"tot {_val(hi, dec, unit)}.")
    for name, pts in scen.items():
        out.append(f"Scenario {name}: {_val(pts[-1][1], dec, unit)} in {pts[-1][0]}.")
    return " ".join(out)


def fan(title: str, unit: str, history: Sequence[tuple[int, float]],
        projection: Sequence[tuple[int, float, float, float]],
        scenarios: dict[str, Sequence[tuple[int, float]]] | None = None, *, decimals: int | None = None,
        engine: str | None = None, width: float = 640, height: float = 340, label: str = "prognose") -> Chart | None:
    """Observed values as a solid dark line, the projection dashed with its band (lower–upper)
    in light grey, scenarios as labelled grey lines with their own dash pattern. `label` names
    the projection with the band (e.g. its scenario)."""
    hist = sorted({int(y): float(v) for y, v in history if _ok(v)}.items())
    proj = sorted((int(p[0]), float(p[1]), float(p[2]), float(p[3])) for p in projection
                  if _ok(p[1]) and _ok(p[2]) and _ok(p[3]))
    scen = {k: sorted({int(y): float(v) for y, v in pts if _ok(v)}.items()) for k, pts in (scenarios or {}).items()}
    scen = {k: v for k, v in scen.items() if v}
    if not hist and not proj and not scen:
        return None
    dec = _auto_decimals([v for _, v in hist] + [p[1] for p in proj]) if decimals is None else decimals
    alt = fan_alt(title, unit, hist, proj, scen, dec, label)
    if (engine or DEFAULT_ENGINE) == "vega":
        return Chart(_vega_fan(title, unit, hist, proj, scen, dec, alt, width, height), alt)
    values = [v for _, v in hist] + [x for p in proj for x in p[1:]] + [v for pts in scen.values() for _, v in pts]
    years = [y for y, _ in hist] + [p[0] for p in proj] + [y for pts in scen.values() for y, _ in pts]
    y0, y1 = min(years), max(years)
    lo, hi, ticks, tick_dec = _nice_ticks(min(values), max(values))
    left = 14 + max(th.text_width(_num(t, tick_dec), th.FONT_SIZE - 1) for t in ticks)
    # the legend under the plot, in as many rows as the width needs; the plot keeps its height
    line = lambda dash: lambda x, y: _polyline([(x, y - 4), (x + 22, y - 4)], th.INK, 2.4, dash)  # noqa: E731
    legend = [LegendItem("waargenomen", 28, line(None))] if hist else []
    if proj:
        legend += [LegendItem(label, 28, line("6 4")),
                   LegendItem("onzekerheidsmarge", 28, lambda x, y: f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="22" '
                                                                    f'height="12" fill="{th.BAND}"/>')]
    legend_rows = _legend_rows(legend, width - 8 - left)
    parts = _open(width, height + LEGEND_ROW * max(0, len(legend_rows) - 1), alt)
    top = _title(parts, title, width) + 18
    end_labels: list[tuple[str, str, str, str | None, str, float, float, bool]] = []
    if proj:
        end_labels.append((label, _val(proj[-1][1], dec, unit), th.INK, "6 4", "circle", 2.4, proj[-1][1], True))
    elif hist:
        end_labels.append(("", _val(hist[-1][1], dec, unit), th.INK, None, "circle", th.EMPHASIS_WIDTH, hist[-1][1], True))
    for i, (name, pts) in enumerate(scen.items()):
        colour, dash, shape = th.PEER_STYLES[i % len(th.PEER_STYLES)]
        end_labels.append((name, _val(pts[-1][1], dec, unit), colour, dash, shape, th.PEER_WIDTH, pts[-1][1], False))
    gutter = min(200.0, 36 + max(th.text_width(f"{e[0]} {e[1]}") for e in end_labels))
    right = width - gutter
    bottom = height - 52
    sx, sy = _year_plot(parts, (y0, y1), (lo, hi, ticks, tick_dec), (left, right, top, bottom), unit)
    if proj:
        band = proj
        if hist and hist[-1][0] < proj[0][0]:
            band = [(hist[-1][0], hist[-1][1], hist[-1][1], hist[-1][1])] + proj
        pts = [(sx(p[0]), sy(p[3])) for p in band] + [(sx(p[0]), sy(p[2])) for p in reversed(band)]
        parts.append(f'<path class="band" d="M{"L".join(f"{_f(x)},{_f(y)}" for x, y in pts)}Z" fill="{th.BAND}"/>')
    if hist and proj:
        bx = sx(hist[-1][0])
        parts.append(f'<line x1="{_f(bx)}" x2="{_f(bx)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="{th.AXIS}" '
                     'stroke-dasharray="2 3"/>')
        parts.append(_text(bx + 4, top + 11, "prognose →", size=th.FONT_SIZE - 1, fill=th.MUTED_TEXT))
    for i, (name, pts) in enumerate(scen.items()):
        colour, dash, shape = th.PEER_STYLES[i % len(th.PEER_STYLES)]
        xy = [(sx(y), sy(v)) for y, v in pts]
        if hist and pts[0][0] > hist[-1][0]:
            xy = [(sx(hist[-1][0]), sy(hist[-1][1]))] + xy
        parts.append(f'<g class="scenario" data-label="{_esc(name)}">')
        if len(xy) > 1:
            parts.append(_polyline(xy, colour, th.PEER_WIDTH, dash))
        parts.append(_marker(shape, xy[-1][0], xy[-1][1], colour, 3.2, f"{name}, {pts[-1][0]}: {_val(pts[-1][1], dec, unit)}"))
        parts.append("</g>")
    if proj:
        xy = [(sx(p[0]), sy(p[1])) for p in proj]
        if hist and hist[-1][0] < proj[0][0]:
            xy = [(sx(hist[-1][0]), sy(hist[-1][1]))] + xy
        parts.append('<g class="projection">')
        if len(xy) > 1:
            parts.append(_polyline(xy, th.INK, 2.4, "6 4"))
        for p in proj:
            parts.append(f'<circle cx="{_f(sx(p[0]))}" cy="{_f(sy(p[1]))}" r="2.2" fill="#fff" stroke="{th.INK}">'
                         f'<title>{_esc(f"{label} {p[0]}: {_val(p[1], dec, unit)} ({_val(p[2], dec, unit)} tot {_val(p[3], dec, unit)})")}'
                         "</title></circle>")
        parts.append("</g>")
    if hist:
        xy = [(sx(y), sy(v)) for y, v in hist]
        parts.append('<g class="history emphasis">')
        if len(xy) > 1:
            parts.append(_polyline(xy, th.INK, th.EMPHASIS_WIDTH, None))
        for (y, v), (x, yy) in zip(hist, xy):
            parts.append(_marker("circle", x, yy, th.INK, 3.2 if len(hist) <= 20 else 1.8, f"{y}: {_val(v, dec, unit)}"))
        parts.append("</g>")
    _direct_labels(parts, [(lab, val, colour, dash, None, lw, sy(v), bold)
                           for lab, val, colour, dash, _, lw, v, bold in end_labels], top, bottom, right + 8, width)
    _draw_legend(parts, legend_rows, left, height - 10)
    parts.append("</svg>")
    return Chart("".join(parts), alt)


# --------------------------------------------------------------------------------------------
# 4. Bars: the gemeente against its peer groups
# --------------------------------------------------------------------------------------------


def bar_compare_alt(title: str, unit: str, items, decimals: int | None = None) -> str | None:
    rows = [(str(lab), float(v), bool(e)) for lab, v, e in items if _ok(v)]
    if not rows:
        return None
    dec = _auto_decimals([v for _, v, _ in rows]) if decimals is None else decimals
    rows = [r for r in rows if r[2]] + [r for r in rows if not r[2]]
    return f"{title}{_unit_part(unit)}: " + "; ".join(f"{lab} {_val(v, dec, unit)}" for lab, v, _ in rows) + "."


def bar_compare(title: str, unit: str, items: Sequence[tuple[str, float, bool]], *, decimals: int | None = None,
                engine: str | None = None, width: float = 640) -> Chart | None:
    """Horizontal bars with the value at the end; the gemeente's bar dark and its label bold,
    the peer groups' bars grey."""
    rows = [(str(lab), float(v), bool(e)) for lab, v, e in items if _ok(v)]
    if not rows:
        return None
    dec = _auto_decimals([v for _, v, _ in rows]) if decimals is None else decimals
    alt = bar_compare_alt(title, unit, rows, dec)
    if (engine or DEFAULT_ENGINE) == "vega":
        return Chart(_vega_bar_compare(title, unit, rows, dec, alt, width), alt)
    row_h, bar_h = 30.0, 18.0
    tmp: list[str] = []
    top = _title(tmp, title, width) + 6
    if unit:
        tmp.append(_text(8, top + 8, unit, size=th.FONT_SIZE - 1, fill=th.MUTED_TEXT))
        top += 16
    height = top + row_h * len(rows) + 12
    parts = _open(width, height, alt) + tmp
    label_w = min(240.0, 14 + max(th.text_width(lab) for lab, _, _ in rows))
    left = 8 + label_w
    vtexts = [_val(v, dec, unit) for _, v, _ in rows]
    value_w = 10 + max(th.text_width(t) for t in vtexts)
    vmin, vmax = min(0.0, *(v for _, v, _ in rows)), max(0.0, *(v for _, v, _ in rows))
    if vmin == vmax:
        vmax = 1.0
    neg_room = value_w if vmin < 0 else 0
    plot_l, plot_r = left + neg_room, width - value_w - 8
    sx = lambda v: plot_l + (v - vmin) / (vmax - vmin) * (plot_r - plot_l)  # noqa: E731
    x0 = sx(0.0)
    for i, ((lab, v, emph), vt) in enumerate(zip(rows, vtexts)):
        y = top + i * row_h
        cy = y + row_h / 2
        xa, xb = sorted((x0, sx(v)))
        fill = th.BAR_EMPHASIS if emph else th.BAR_OTHER
        weight = "bold" if emph else None
        parts.append(f'<g class="bar{" emphasis" if emph else ""}" data-label="{_esc(lab)}">')
        parts.append(_text(left - 8, cy + 4, lab, "end", weight=weight))
        parts.append(f'<rect x="{_f(xa)}" y="{_f(cy - bar_h / 2)}" width="{_f(max(xb - xa, 0.5))}" height="{_f(bar_h)}" '
                     f'fill="{fill}"><title>{_esc(f"{lab}: {vt}")}</title></rect>')
        if v >= 0:
            parts.append(_text(xb + 5, cy + 4, vt, weight=weight))
        else:
            parts.append(_text(xa - 5, cy + 4, vt, "end", weight=weight))
        parts.append("</g>")
    yb = top + row_h * len(rows)
    parts.append(f'<line x1="{_f(x0)}" x2="{_f(x0)}" y1="{_f(top)}" y2="{_f(yb)}" stroke="{th.AXIS}"/>')
    parts.append("</svg>")
    return Chart("".join(parts), alt)


# --------------------------------------------------------------------------------------------
# 5. Histogram: how the gemeenten are distributed over the values
# --------------------------------------------------------------------------------------------


def histogram(title: str, unit: str, values: Sequence[float], decimals: int | None = None,
              marker: tuple[str, float] | None = None, *, bins: int = 20, width: float = 640,
              height: float = 250) -> Chart | None:
    """How the gemeenten are distributed over the value range, in `bins` equal bins; `marker`
    (name, value) marks one gemeente with a dark line and its name."""
    vals = [float(v) for v in values if _ok(v)]
    if len(vals) < 2:
        return None
    dec = _auto_decimals(vals) if decimals is None else decimals
    lo, hi = min(vals), max(vals)
    if hi == lo:
        hi = lo + 1
    size = (hi - lo) / bins
    counts = [0] * bins
    for v in vals:
        counts[min(bins - 1, int((v - lo) / size))] += 1
    top_count = max(counts)
    peak = counts.index(top_count)
    alt = (f"Verdeling van {len(vals)} gemeenten naar {title[:1].lower() + title[1:]}{_unit_part(unit)}: van "
           f"{_num(lo, dec)} tot {_num(hi, dec)}, de meeste gemeenten tussen {_num(lo + peak * size, dec)} en "
           f"{_num(lo + (peak + 1) * size, dec)}.")
    if marker and _ok(marker[1]):
        alt += f" {marker[0]}: {_val(marker[1], dec, unit)}."
    parts = _open(width, height, alt)
    top = _title(parts, f"Verdeling: {title}", width) + 8
    left = 14 + th.text_width(str(top_count), th.FONT_SIZE - 1)
    right, bottom = width - 16, height - 40
    plot_w, plot_h = right - left, bottom - top
    sx = lambda v: left + (v - lo) / (hi - lo) * plot_w  # noqa: E731
    bw = plot_w / bins
    for i, c in enumerate(counts):
        h = c / top_count * plot_h
        parts.append(f'<rect x="{_f(left + i * bw + 1)}" y="{_f(bottom - h)}" width="{_f(bw - 2)}" height="{_f(h)}" '
                     f'fill="{th.BAR_OTHER}"><title>{_num(lo + i * size, dec)} tot {_num(lo + (i + 1) * size, dec)}: '
                     f'{c} gemeenten</title></rect>')
    _, _, ticks, tick_dec = _nice_ticks(lo, hi, 6)
    _x_axis(parts, [t for t in ticks if lo <= t <= hi], lambda t: _num(t, tick_dec), sx, bottom, left, right)
    parts.append(_text(left - 6, top + 10, str(top_count), "end", th.FONT_SIZE - 1))
    parts.append(_text(left - 6, bottom, "0", "end", th.FONT_SIZE - 1))
    parts.append(_text(8, height - 6, "aantal gemeenten per klasse" + (f"; {unit}" if unit else ""),
                       size=th.FONT_SIZE - 1, fill=th.MUTED_TEXT))
    if marker and _ok(marker[1]):
        x = sx(marker[1])
        label = f"{marker[0]} {_val(marker[1], dec, unit)}"
        tw = th.text_width(label, th.FONT_SIZE)
        anchor, lx = ("start", x + 4) if x + 4 + tw <= width - 4 else ("end", x - 4)
        parts.append(f'<line class="highlight" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}" '
                     f'stroke="{th.INK}" stroke-width="2.4"/>')
        parts.append(_text(lx, top + 10, label, anchor, weight="bold"))
    parts.append("</svg>")
    return Chart("".join(parts), alt)


# --------------------------------------------------------------------------------------------
# 6. Maps: choropleth (5 quantile classes) or locator, straight SVG from GeoJSON
# --------------------------------------------------------------------------------------------


def quantile_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Upper bounds of `classes` quantile classes (the last is the maximum); duplicates removed,
    so fewer classes come back when values repeat."""
    s = sorted(values)
    if not s:
        return []
    breaks = []
    for k in range(1, classes + 1):
        q = k / classes
        pos = q * (len(s) - 1)
        i = int(math.floor(pos))
        frac = pos - i
        b = s[i] if i + 1 >= len(s) else s[i] + (s[i + 1] - s[i]) * frac
        if not breaks or b > breaks[-1]:
            breaks.append(b)
    return breaks


def _class_of(v: float, breaks: list[float]) -> int:
    for i, b in enumerate(breaks):
        if v <= b:
            return i
    return len(breaks) - 1


_PROJECTED: dict = {}  # (id of the features object, width) → (features, its codes, SvgMap)
_PROJECTED_MAX = 16  # Nederland and the twelve provinces fit


def _projected(features: dict[str, dict], width: float):
    """Projected paths of `features`, reused while the same mapping is drawn again (a batch of
    reports, or the site, draws the same gemeenten once per report, only the highlight changes)."""
    from ..geo.shapes import svg_paths

    keys = tuple(features)
    found = _PROJECTED.get((id(features), width))
    if found is not None and found[0] is features and found[1] == keys:
        return found[2]
    smap = svg_paths(features, width=width, tolerance=0.5, decimals=1)
    if len(_PROJECTED) >= _PROJECTED_MAX:
        try:
            _PROJECTED.pop(next(iter(_PROJECTED)), None)
        except (RuntimeError, StopIteration):  # another thread changed it meanwhile
            pass
    _PROJECTED[(id(features), width)] = (features, keys, smap)  # the features kept alive: their id stays theirs
    return smap


_NO_DATA = "url(#geen-gegevens)"
_NO_DATA_PATTERN = ('<defs><pattern id="geen-gegevens" width="5" height="5" patternUnits="userSpaceOnUse" '
                    'patternTransform="rotate(45)"><rect width="5" height="5" fill="#fff"/>'
                    '<line x1="0" y1="0" x2="0" y2="5" stroke="#999" stroke-width="1.2"/></pattern></defs>')


def _map_document(smap, title: str, alt: str, style, highlight: str | None, hname: str | None,
                  legend: tuple[str, list[tuple[str, str]]] | None, narrow: float | None = None) -> str:
    """The map drawing shared by every map: `style(code)` gives (fill, tooltip) of a gemeente; the
    highlighted one is drawn last with a thick dark outline over a white halo; `legend` is a
    heading and (fill, text) rows to the right of the map (None: a locator map without legend).
    Gemeenten without data are hatched and get a legend row of their own. With `narrow` (a phone's
    width) the map is scaled to that width and the legend stands under it, its text at full size."""
    scale = (narrow - 16) / smap.width if narrow else 1.0
    map_w, map_h = smap.width * scale, smap.height * scale
    legend_w = 190.0 if legend and not narrow else 0.0
    head: list[str] = []
    top = _title(head, title, map_w + 16 + legend_w, lines=3 if narrow else 2) if title else 6.0
    body = [f'<g transform="translate(8,{_f(top)}){f" scale({scale:.4f})" if narrow else ""}" '
            f'stroke="{th.MAP_STROKE}" stroke-width="{_f(0.4 / scale)}" stroke-linejoin="round" fill-rule="evenodd">']
    missing = False
    for code, d in smap.paths.items():
        if code == highlight:
            continue
        fill, tip = style(code)
        missing = missing or fill == _NO_DATA
        body.append(f'<path data-code="{code}" d="{d}" fill="{fill}"><title>{_esc(tip)}</title></path>')
    if highlight in smap.paths:
        d = smap.paths[highlight]
        fill, tip = style(highlight)
        missing = missing or fill == _NO_DATA
        body.append(f'<path class="halo" d="{d}" fill="none" stroke="#ffffff" stroke-width="{_f(4.5 / scale)}"/>')
        body.append(f'<path data-code="{highlight}" class="highlight" d="{d}" fill="{fill}" stroke="{th.INK}" '
                    f'stroke-width="{_f(2.2 / scale)}"><title>{_esc(tip)}</title></path>')
    body.append("</g>")
    bottom = top + map_h + 12
    if legend:
        heading, rows = legend
        lx, ly = (8.0, top + map_h + 12) if narrow else (map_w + 24, top + 8)
        if heading:
            for line in _wrap(heading, (narrow - 16 if narrow else legend_w) - 10, th.FONT_SIZE)[:2]:
                body.append(_text(lx, ly + 10, line, weight="bold"))
                ly += 16
        ly += 8
        if missing:
            rows = rows + [(_NO_DATA, "geen gegevens")]
        for fill, text in rows:
            body.append(f'<rect x="{_f(lx)}" y="{_f(ly)}" width="18" height="14" fill="{fill}" stroke="#777" '
                        'stroke-width="0.5"/>')
            body.append(_text(lx + 26, ly + 11, text, size=th.FONT_SIZE - 1))
            ly += 22
        if highlight in smap.paths:
            body.append(f'<rect x="{_f(lx)}" y="{_f(ly)}" width="18" height="14" fill="none" stroke="{th.INK}" '
                        'stroke-width="2.2"/>')
            body.append(_text(lx + 26, ly + 11, hname or "", size=th.FONT_SIZE - 1, weight="bold"))
            ly += 22
        bottom = max(bottom, ly + 10)
    parts = _open(narrow if narrow else map_w + legend_w + 16, bottom, alt) + head
    if missing:
        parts.append(_NO_DATA_PATTERN)
    return "".join(parts + body) + "</svg>"


def map_svg(features: dict[str, dict] | None, highlight: str | None, values: dict[str, float] | None = None,
            title: str = "", legend_unit: str = "", *, names: dict[str, str] | None = None,
            decimals: int | None = None, width: float = 520, projected=None, narrow: float | None = None) -> Chart | None:
    """A map of the gemeenten in `features` (code → GeoJSON geometry, WGS84): a choropleth in 5
    quantile classes when `values` are given, else a locator map. The highlighted gemeente gets a
    thick dark outline (over a white halo); every gemeente path has `data-code` and a `<title>`
    with name and value. Pass only a province's features to crop to it, or the paths already
    projected (`projected`, a `geo.shapes.SvgMap`) instead of the features. `narrow`: laid out for a
    phone of that width (the map scaled to it, the legend under it)."""
    if not features and projected is None:
        return None
    names = names or {}
    smap = projected if projected is not None else _projected(features, width)
    if not smap.paths:
        return None
    vals = {c: float(v) for c, v in (values or {}).items() if c in smap.paths and _ok(v)}
    choropleth = values is not None and bool(vals)
    dec = (_auto_decimals(vals.values()) if decimals is None else decimals) if choropleth else 0
    breaks = quantile_breaks(list(vals.values())) if choropleth else []
    palette = th.MAP_CLASSES if len(breaks) >= len(th.MAP_CLASSES) else \
        tuple(th.MAP_CLASSES[round(i * (len(th.MAP_CLASSES) - 1) / max(len(breaks) - 1, 1))] for i in range(len(breaks)))
    hname = names.get(highlight, highlight) if highlight else None
    n = len(smap.paths)
    # text alternative
    if choropleth:
        alt = f"{title + _unit_part(legend_unit) + ': k' if title else 'K'}aart van {n} gemeenten in {len(breaks)} klassen."
        if highlight in vals:
            k = _class_of(vals[highlight], breaks)
            alt += (f" {hname}: {_val(vals[highlight], dec, legend_unit)}, klasse {k + 1} van {len(breaks)} "
                    "(1 = laagste).")
        elif highlight in smap.paths:
            alt += f" Voor {hname} is geen waarde bekend."
        lo_c = min(vals, key=lambda c: (vals[c], c))
        hi_c = max(vals, key=lambda c: (vals[c], c))
        alt += (f" Van {_val(vals[lo_c], dec, legend_unit)} ({names.get(lo_c, lo_c)}) tot "
                f"{_val(vals[hi_c], dec, legend_unit)} ({names.get(hi_c, hi_c)}); mediaan "
                f"{_val(_median(list(vals.values())), dec, legend_unit)}.")
    else:
        alt = f"{title + ': k' if title else 'K'}aart van {n} gemeenten"
        alt += f" met {hname} donker gemarkeerd." if highlight in smap.paths else "."

    def style(code: str) -> tuple[str, str]:
        name = names.get(code, code)
        if not choropleth:
            return (th.MAP_LOCATOR_HIGHLIGHT, name) if code == highlight else (th.MAP_EMPTY, name)
        if code in vals:
            return palette[_class_of(vals[code], breaks)], f"{name}: {_val(vals[code], dec, legend_unit)}"
        return _NO_DATA, f"{name}: geen gegevens"

    legend = None
    if choropleth:
        rows, lower = [], min(vals.values())
        for i, b in enumerate(breaks):
            rows.append((palette[i], f"{_num(lower, dec)} – {_num(b, dec)}" if i == 0 else f"> {_num(lower, dec)} – {_num(b, dec)}"))
            lower = b
        legend = (legend_unit, rows)
    return Chart(_map_document(smap, title, alt, style, highlight, hname, legend, narrow), alt)


def category_map(projected, category: dict[str, str], fills: dict[str, str], order: Sequence[str],
                 names: dict[str, str], title: str, highlight: str | None = None,
                 narrow: float | None = None) -> Chart | None:
    """A map coloured by category (e.g. how strongly a trend applies: `order` from strong to
    none), with a legend that counts the gemeenten in each; a gemeente without a category is
    counted in the last. `narrow` as for map_svg."""
    if projected is None or not projected.paths:
        return None
    cats = {c: category.get(c, order[-1]) for c in projected.paths}
    counts = {c: sum(1 for v in cats.values() if v == c) for c in order}
    alt = f"Kaart: {title}. " + "; ".join(f"{c}: {counts[c]} gemeenten" for c in order if counts[c]) + "."
    hname = names.get(highlight, highlight) if highlight else None

    def style(code: str) -> tuple[str, str]:
        return fills.get(cats[code], th.MAP_EMPTY), f"{names.get(code, code)}: {cats[code]}"

    legend = ("", [(fills.get(c, th.MAP_EMPTY), f"{c} ({counts[c]})") for c in order])
    return Chart(_map_document(projected, title, alt, style, highlight, hname, legend, narrow), alt)


# --------------------------------------------------------------------------------------------
# Vega-Lite renderers (engine="vega")
# --------------------------------------------------------------------------------------------


def _fmt_spec(dec: int) -> str:
    return f",.{dec}f"


def _vega_svg(spec: dict, alt: str) -> str:
    import vl_convert as vlc

    spec.setdefault("config", {}).update(th.vega_config())
    spec["description"] = alt
    svg = vlc.vegalite_to_svg(spec, format_locale=th.FORMAT_LOCALE, time_format_locale=th.TIME_FORMAT_LOCALE)
    return _accessible(svg, alt)


def _accessible(svg: str, alt: str) -> str:
    """Put role, aria-label and a <title> on the root <svg> element."""
    end = svg.index(">", svg.index("<svg"))
    head = svg[:end]
    for attr in ("role", "aria-label"):
        head = head.replace(f' {attr}="', f' data-old-{attr}="')
    a = _esc(alt)
    return f'{head} role="img" aria-label="{a}"><title>{a}</title>{svg[end + 1:]}'


def _vega_time_series(title, unit, series: list[Series], dec, alt, width, height) -> str:
    import altair as alt_

    rows, ends = [], []
    peer_n = 0
    colours, dashes, widths, shapes, domain = [], [], [], [], []
    vega_shape = {"circle": "circle", "square": "square", "triangle": "triangle-up", "diamond": "diamond",
                  "circle-open": "circle", "cross": "cross"}
    for s in series:
        colour, dash, shape, lw = _series_style(peer_n, s.emphasis)
        shapes.append(vega_shape[shape])
        if not s.emphasis:
            peer_n += 1
        domain.append(s.label)
        colours.append(colour)
        dashes.append([float(x) for x in dash.split()] if dash else [1, 0])
        widths.append(lw)
        rows += [{"jaar": y, "waarde": v, "reeks": s.label} for y, v in s.points]
        ends.append({"jaar": s.points[-1][0], "waarde": s.points[-1][1], "reeks": s.label,
                     "tekst": f"{s.label} {_val(s.points[-1][1], dec, unit)}"})
    scale_c = alt_.Scale(domain=domain, range=colours)
    base = alt_.Chart(alt_.Data(values=rows)).encode(
        x=alt_.X("jaar:Q", title=None, axis=alt_.Axis(format="d", tickMinStep=1), scale=alt_.Scale(zero=False)),
        y=alt_.Y("waarde:Q", title=unit or None, axis=alt_.Axis(format=_fmt_spec(0 if dec == 0 else dec)),
                 scale=alt_.Scale(zero=False)),
        color=alt_.Color("reeks:N", scale=scale_c, legend=None))
    lines = base.mark_line().encode(
        strokeDash=alt_.StrokeDash("reeks:N", scale=alt_.Scale(domain=domain, range=dashes), legend=None),
        strokeWidth=alt_.StrokeWidth("reeks:N", scale=alt_.Scale(domain=domain, range=widths), legend=None))
    points = base.mark_point(filled=True, opacity=1, size=45).encode(
        shape=alt_.Shape("reeks:N", scale=alt_.Scale(domain=domain, range=shapes), legend=None),
        tooltip=["reeks:N", alt_.Tooltip("jaar:Q", format="d"), alt_.Tooltip("waarde:Q", format=_fmt_spec(dec))])
    labels = alt_.Chart(alt_.Data(values=ends)).mark_text(align="left", dx=8, fontSize=th.FONT_SIZE).encode(
        x="jaar:Q", y="waarde:Q", text="tekst:N", color=alt_.Color("reeks:N", scale=scale_c, legend=None))
    chart = (lines + points + labels).properties(title=title, width=width - 220, height=height - 90)
    return _vega_svg(chart.to_dict(), alt)


def _vega_rank_strip(title, unit, vals, highlight, names, peers, dec, alt, width, height) -> str:
    import altair as alt_

    codes = [c for c in sorted(vals) if c != highlight]
    lo = min(vals.values())
    scale = (max(vals.values()) - lo) or 1.0
    offsets = _beeswarm([(vals[c] - lo) / scale * (width - 60) for c in codes], 3.2)
    rows = [{"naam": names.get(c, c), "waarde": vals[c], "y": -o, "soort": "vergelijkbaar" if c in peers else "overig"}
            for c, o in zip(codes, offsets)]
    domain = ["overig", "vergelijkbaar"]
    x = alt_.X("waarde:Q", title=unit or None, axis=alt_.Axis(format=_fmt_spec(dec)), scale=alt_.Scale(zero=False))
    dots = alt_.Chart(alt_.Data(values=rows)).mark_point(filled=True, opacity=1, size=30).encode(
        x=x, y=alt_.Y("y:Q", axis=None),
        color=alt_.Color("soort:N", scale=alt_.Scale(domain=domain, range=[th.STRIP_OTHER, th.STRIP_PEER]), legend=None),
        shape=alt_.Shape("soort:N", scale=alt_.Scale(domain=domain, range=["circle", "square"]), legend=None),
        tooltip=["naam:N", alt_.Tooltip("waarde:Q", format=_fmt_spec(dec))])
    med = _median(list(vals.values()))
    layers = [dots, alt_.Chart(alt_.Data(values=[{"m": med}])).mark_rule(strokeDash=[4, 3], color=th.INK).encode(x="m:Q")]
    if highlight in vals:
        lab = [{"waarde": vals[highlight], "y": 0,
                "tekst": f"{names.get(highlight, highlight)} {_val(vals[highlight], dec, unit)}"}]
        hl = alt_.Chart(alt_.Data(values=lab))
        layers.append(hl.mark_circle(size=170, color=th.INK, stroke="#fff", strokeWidth=1.5, opacity=1).encode(
            x="waarde:Q", y="y:Q"))
        layers.append(hl.mark_text(fontWeight="bold", fontSize=13, baseline="bottom").encode(
            x="waarde:Q", y=alt_.value(-6), text="tekst:N"))
    chart = alt_.layer(*layers).properties(title=title, width=width - 60, height=height - 100)
    return _vega_svg(chart.to_dict(), alt)


def _vega_fan(title, unit, hist, proj, scen, dec, alt, width, height) -> str:
    import altair as alt_

    layers = []
    yfmt = alt_.Axis(format=_fmt_spec(dec))
    if proj:
        band = [{"jaar": p[0], "lo": p[2], "hi": p[3]} for p in proj]
        layers.append(alt_.Chart(alt_.Data(values=band)).mark_area(color=th.BAND).encode(
            x=alt_.X("jaar:Q", axis=alt_.Axis(format="d", tickMinStep=1), title=None, scale=alt_.Scale(zero=False)),
            y=alt_.Y("lo:Q", title=unit or None, axis=yfmt, scale=alt_.Scale(zero=False)), y2="hi:Q"))
        pts = ([{"jaar": hist[-1][0], "w": hist[-1][1]}] if hist else []) + [{"jaar": p[0], "w": p[1]} for p in proj]
        layers.append(alt_.Chart(alt_.Data(values=pts)).mark_line(color=th.INK, strokeDash=[6, 4], strokeWidth=2.4).encode(
            x="jaar:Q", y="w:Q"))
    for i, (name, pts) in enumerate(scen.items()):
        colour, dash, _ = th.PEER_STYLES[i % len(th.PEER_STYLES)]
        rows = [{"jaar": y, "w": v} for y, v in pts]
        layers.append(alt_.Chart(alt_.Data(values=rows)).mark_line(
            color=colour, strokeDash=[float(x) for x in dash.split()], strokeWidth=th.PEER_WIDTH).encode(x="jaar:Q", y="w:Q"))
        layers.append(alt_.Chart(alt_.Data(values=[{"jaar": pts[-1][0], "w": pts[-1][1],
                                                    "t": f"{name} {_val(pts[-1][1], dec, unit)}"}])).mark_text(
            align="left", dx=6, color=colour).encode(x="jaar:Q", y="w:Q", text="t:N"))
    if hist:
        rows = [{"jaar": y, "w": v} for y, v in hist]
        layers.append(alt_.Chart(alt_.Data(values=rows)).mark_line(color=th.INK, strokeWidth=3, point=alt_.OverlayMarkDef(color=th.INK)).encode(
            x=alt_.X("jaar:Q", axis=alt_.Axis(format="d", tickMinStep=1), title=None, scale=alt_.Scale(zero=False)),
            y=alt_.Y("w:Q", title=unit or None, axis=yfmt, scale=alt_.Scale(zero=False))))
    chart = alt_.layer(*layers).properties(title=title, width=width - 200, height=height - 90)
    return _vega_svg(chart.to_dict(), alt)


def _vega_bar_compare(title, unit, rows, dec, alt, width) -> str:
    import altair as alt_

    data = [{"label": lab, "waarde": v, "nadruk": "ja" if e else "nee", "tekst": _val(v, dec, unit)} for lab, v, e in rows]
    order = [lab for lab, _, _ in rows]
    base = alt_.Chart(alt_.Data(values=data)).encode(
        y=alt_.Y("label:N", sort=order, title=None),
        x=alt_.X("waarde:Q", title=unit or None, axis=alt_.Axis(format=_fmt_spec(dec))))
    bars = base.mark_bar().encode(color=alt_.Color("nadruk:N", scale=alt_.Scale(
        domain=["ja", "nee"], range=[th.BAR_EMPHASIS, th.BAR_OTHER]), legend=None))
    text = base.mark_text(align="left", dx=4).encode(text="tekst:N")
    chart = (bars + text).properties(title=title, width=width - 260, height=30 * len(rows))
    return _vega_svg(chart.to_dict(), alt)


__all__ = ["Series", "Chart", "DEFAULT_ENGINE", "time_series", "time_series_alt", "rebase", "rank_strip",
           "rank_strip_alt", "fan", "fan_alt", "bar_compare", "bar_compare_alt", "histogram", "map_svg", "category_map",
           "quantile_breaks"]
