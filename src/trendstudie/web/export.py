"""Charts and maps as files to download (SVG, or PNG through vl-convert): the chart of the page in
a frame that carries what a chart needs once it has left the page — its title, unit, period and
source — inside the image, so a pasted PNG still says what it shows and where it comes from.

The frame nests the page's SVG unchanged (an <svg> inside an <svg>); a title the chart already
draws is not drawn twice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from fastapi import HTTPException
from fastapi.responses import Response

from .. import formatting
from ..charts import theme as th

PNG_SCALE = 2.0  # twice the SVG's size: sharp on a high-density screen and in a document
PAD = 12.0
TITLE_SIZE = 16.0
TEXT_SIZE = 12.0


@dataclass(frozen=True)
class Label:
    """What the frame says: `title` above the chart (unless the chart shows it already),
    `details` (unit and period) and `source` under it."""

    title: str
    details: str
    source: str


def _size(svg: str) -> tuple[float, float]:
    head = svg[:svg.index(">") + 1] if ">" in svg else svg
    m = re.search(r'viewBox="\s*([-\d.]+)[ ,]+([-\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)\s*"', head)
    if m:
        return float(m.group(3)), float(m.group(4))
    w, h = re.search(r'\bwidth="([\d.]+)"', head), re.search(r'\bheight="([\d.]+)"', head)
    return (float(w.group(1)) if w else 640.0), (float(h.group(1)) if h else 400.0)


def _wrap(text: str, width: float, size: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        trial = f"{line} {w}".strip()
        if line and th.text_width(trial, size) > width:
            lines.append(line)
            line = w
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


def _shows(svg: str, text: str) -> bool:
    """Whether the chart draws `text` as visible text (not only in its <title> or aria-label),
    also when it wraps it over several lines."""
    from html import unescape

    lines = [unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]
    return text.strip() in " ".join(lines)


def framed(svg: str, label: Label) -> str:
    """The chart's SVG inside a frame with title, details and source as visible text."""
    inner = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    w, h = _size(inner)
    width = max(w, 320.0)
    text_w = width - 2 * PAD
    parts: list[str] = []
    y = PAD
    if not _shows(inner, label.title):
        for line in _wrap(label.title, text_w, TITLE_SIZE):
            y += TITLE_SIZE
            parts.append(f'<text x="{PAD:.0f}" y="{y:.1f}" font-size="{TITLE_SIZE:.0f}" font-weight="700" '
                         f'fill="{th.INK}">{escape(line)}</text>')
            y += 4
        y += 6
    top = y
    # the chart itself, unchanged; its own width and height attributes give way to the frame's
    root_end = inner.index(">")
    root = re.sub(r'\s(?:width|height|x|y)="[^"]*"', "", inner[:root_end])
    inner = (root + f' x="{(width - w) / 2:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}"'
             + inner[root_end:])
    y = top + h + 8
    footer: list[str] = []
    for text, colour in ((label.details, th.MUTED_TEXT), (label.source, th.MUTED_TEXT)):
        for line in _wrap(text, text_w, TEXT_SIZE) if text else []:
            y += TEXT_SIZE + 2
            footer.append(f'<text x="{PAD:.0f}" y="{y:.1f}" font-size="{TEXT_SIZE:.0f}" fill="{colour}">'
                          f'{escape(line)}</text>')
    height = y + PAD
    alt = f"{label.title}. {label.details}. {label.source}".replace("..", ".")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" role="img" aria-label="{escape(alt)}" font-family="{th.FONT}">'
            f'<title>{escape(alt)}</title><rect width="100%" height="100%" fill="#ffffff"/>'
            + "".join(parts) + inner + "".join(footer) + "</svg>")


def _source(citation: str) -> str:
    return f"Bron: {citation.rstrip('.')}; bewerking trendstudie."


def map_label(d, indicator: str, period: str, highlight: str | None) -> Label:
    from ..geo.shapes import BOUNDARY_SOURCE

    m = d.indicators[indicator]
    when = formatting.period(period)
    details = f"Eenheid: {m.unit}. Periode: {when}. Vijf even grote klassen, donkerder is hoger."
    if highlight:
        details += f" Rood omlijnd: {d.name(highlight)}."
    return Label(f"{m.title} per gemeente, {when}", details, f"{_source(m.citation)} {BOUNDARY_SOURCE}.")


def distribution_label(d, indicator: str, period: str, highlight: str | None) -> Label:
    m = d.indicators[indicator]
    when = formatting.period(period)
    details = f"Eenheid: {m.unit}. Periode: {when}. Aantal gemeenten per klasse."
    if highlight:
        details += f" De lijn is {d.name(highlight)}."
    return Label(f"{m.title}: verdeling over de gemeenten, {when}", details, _source(m.citation))


def series_label(d, indicator: str, chart) -> Label:
    m = d.indicators[indicator]
    unit = getattr(chart, "unit", "") or m.unit
    years = getattr(chart, "years", None)
    details = f"Eenheid: {unit}." + (f" Jaren: {years[0]}–{years[1]}." if years else "")
    return Label(m.title, details, _source(m.citation))


def strength_label(d, trend_id: str) -> Label:
    from ..geo.shapes import BOUNDARY_SOURCE
    from ..knowledge.model import SEEDS

    years = sorted(y for y, _ in SEEDS.values())
    newest = d.ctx.data.newest_year
    return Label(f"Waar speelt '{d.kb.trends[trend_id].title}'?",
                 f"Eenheid: oordeel per gemeente (sterk, enigszins, niet, onbekend). Cijfers tot en met {newest}.",
                 f"Bron: CBS StatLine en politie via CBS (CC BY 4.0), beoordeeld met de regels van trendstudie; "
                 f"de trend uit {len(SEEDS)} trendstudies ({years[0]}–{years[-1]}). {BOUNDARY_SOURCE}.")


def samenhang_label(d, trend_id: str, depth: int) -> Label:
    from ..knowledge.model import SEEDS

    years = sorted(y for y, _ in SEEDS.values())
    return Label(f"Samenhang rond '{d.kb.entry(trend_id).title}'",
                 f"Oorzaken en gevolgen tot {min(depth, 2)} stappen; de verbanden zoals de studies ze beschrijven.",
                 f"Bron: {len(SEEDS)} trendstudies ({years[0]}–{years[-1]}), in eigen woorden samengevat in de "
                 "kennisbank van trendstudie.")


def prognose_label(d, code: str, scenario_title: str, origin: int, until: int) -> Label:
    citation = d.indicators["bevolking"].citation if "bevolking" in d.indicators else "CBS StatLine (CC BY 4.0)"
    return Label(f"Inwoners van {d.name(code)}: scenario {scenario_title}",
                 f"Eenheid: inwoners op 1 januari. Waargenomen tot en met {origin}, prognose {origin + 1}–{until} "
                 "met een marge van 90%; de andere scenario's als lijnen.",
                 f"Bron: {citation.rstrip('.')}; prognose trendstudie (geen officiële prognose van PBL of CBS).")


def chart_file(chart, label: Label, name: str, ext: str = "svg") -> Response:
    """A chart of a page as a file to download, framed with its title, unit, period and source."""
    if chart is None:
        raise HTTPException(404, "Voor deze grafiek zijn geen gegevens.")
    svg = framed(chart.svg, label)
    if ext == "png":
        import vl_convert

        return Response(vl_convert.svg_to_png(svg, scale=PNG_SCALE), media_type="image/png",
                        headers={"content-disposition": f'attachment; filename="{name}.png"'})
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, media_type="image/svg+xml",
                    headers={"content-disposition": f'attachment; filename="{name}.svg"'})


__all__ = ["Label", "framed", "chart_file", "PNG_SCALE", "map_label", "distribution_label", "series_label",
           "strength_label", "samenhang_label", "prognose_label"]
