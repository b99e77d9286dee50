"""Every chart, map and diagram of trendstudie, for the report, the web pages and their
downloads alike: pure functions from plain Python data to an SVG string plus a Dutch text
alternative (`Chart(svg, alt)`), or None when there is nothing to draw.

- `draw`: time series, rank strip (beeswarm), fan (projection with band), bars, histogram,
  choropleth, locator and category maps; hand-written SVG, or Vega-Lite via vl-convert.
- `diagram`: causal diagrams laid out by Graphviz (`graph_layout`).
- `theme`: the shared look (greys for print, dash patterns, fonts, the Dutch number locale).

PNG downloads are these SVGs converted by vl-convert (see the web's download routes)."""

from .diagram import bowtie, causal_diagram
from .draw import (DEFAULT_ENGINE, Chart, Series, bar_compare, bar_compare_alt, category_map, fan, fan_alt,
                   histogram, map_svg, quantile_breaks, rank_strip, rank_strip_alt, rebase, time_series,
                   time_series_alt)

__all__ = ["Chart", "Series", "DEFAULT_ENGINE", "time_series", "time_series_alt", "rebase", "rank_strip",
           "rank_strip_alt", "fan", "fan_alt", "bar_compare", "bar_compare_alt", "histogram", "map_svg",
           "category_map", "quantile_breaks", "causal_diagram", "bowtie"]
