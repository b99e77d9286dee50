"""The look shared by every chart: greys that survive print and greyscale, dash patterns and
markers that tell series apart without colour, fonts, and the Dutch number locale for Vega.

The gemeente is always the darkest, thickest, solid mark; peers are lighter and dashed, each
with its own dash pattern and marker shape; everything is labelled directly."""

from __future__ import annotations

FONT = "Liberation Sans, Arial, Helvetica, DejaVu Sans, sans-serif"
FONT_SIZE = 12
TITLE_SIZE = 15
CHAR_WIDTH = 0.56  # average glyph width in em for the sans fonts above, for layout only

INK = "#1a1a1a"  # the gemeente: lines, dots, bars
TEXT = "#222222"
MUTED_TEXT = "#555555"
AXIS = "#666666"
GRID = "#e3e3e3"
BAND = "#d9d9d9"  # projection band
BACKGROUND = "#ffffff"

# Peer series, in order: colour (all mid greys, distinct in lightness), dash pattern, marker.
PEER_STYLES: tuple[tuple[str, str, str], ...] = (
    ("#5f5f5f", "7 4", "square"),
    ("#7d7d7d", "2 3", "triangle"),
    ("#6a6a6a", "10 3 2 3", "diamond"),
    ("#8c8c8c", "4 4", "circle-open"),
    ("#737373", "1 2", "cross"),
)
EMPHASIS_WIDTH = 3.0
# Several gemeenten side by side (the compare page): each its own colour and dash pattern, the
# first in ink like a single gemeente.
EMPHASIS_STYLES: tuple[tuple[str, str | None], ...] = (
    (INK, None), ("#c0392b", "6 3"), ("#1f4e79", "2 3"), ("#2e7d32", "8 3 2 3"), ("#6a1b9a", "1 2"),
    ("#ef6c00", "10 4"), ("#00838f", "4 4"), ("#5d4037", "3 6"),
)
PEER_WIDTH = 1.8

# Strip plot
STRIP_OTHER = "#c4c4c4"
STRIP_PEER = "#6e6e6e"

# Bars
BAR_EMPHASIS = INK
BAR_OTHER = "#a3a3a3"

# Maps: sequential, monotonic in lightness (ColorBrewer Blues, 5 classes), so the order of the
# classes survives greyscale printing. Locator maps use greys only.
MAP_CLASSES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
MAP_EMPTY = "#ececec"
MAP_STROKE = "#ffffff"
MAP_LOCATOR_HIGHLIGHT = "#333333"
# How strongly a trend applies, on the same sequential scale (strong darkest).
STRENGTH_FILLS = {"sterk": "#08519c", "enigszins": "#6baed6", "niet": "#eff3ff", "onbekend": "#d9d9d9"}

# Vega's d3-format locale: decimal comma, thousands point, euro in front.
FORMAT_LOCALE = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["€ ", ""]}
TIME_FORMAT_LOCALE = {
    "dateTime": "%A %e %B %Y %X", "date": "%d-%m-%Y", "time": "%H:%M:%S",
    "periods": ["", ""],
    "days": ["zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"],
    "shortDays": ["zo", "ma", "di", "wo", "do", "vr", "za"],
    "months": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
               "oktober", "november", "december"],
    "shortMonths": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
}


def vega_config() -> dict:
    """Vega-Lite `config` for the same look as the hand-written SVG."""
    return {
        "background": BACKGROUND,
        "font": FONT,
        "view": {"stroke": None},
        "title": {"fontSize": TITLE_SIZE, "anchor": "start", "color": TEXT, "fontWeight": "bold"},
        "axis": {"labelFontSize": FONT_SIZE - 1, "titleFontSize": FONT_SIZE, "labelColor": TEXT,
                 "titleColor": MUTED_TEXT, "gridColor": GRID, "domainColor": AXIS, "tickColor": AXIS,
                 "titleFontWeight": "normal"},
        "legend": {"disable": True},
    }


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width of `text` in pixels (for layout only)."""
    return len(text) * size * CHAR_WIDTH


__all__ = ["FONT", "FONT_SIZE", "TITLE_SIZE", "INK", "TEXT", "MUTED_TEXT", "AXIS", "GRID", "BAND", "PEER_STYLES",
           "EMPHASIS_WIDTH", "PEER_WIDTH", "STRIP_OTHER", "STRIP_PEER", "BAR_EMPHASIS", "BAR_OTHER", "MAP_CLASSES",
           "MAP_EMPTY", "MAP_STROKE", "MAP_LOCATOR_HIGHLIGHT", "FORMAT_LOCALE", "TIME_FORMAT_LOCALE",
           "vega_config", "text_width"]
