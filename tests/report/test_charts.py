"""Charts and maps: valid SVG with a Dutch text alternative computed from the data, Dutch
numbers, the gemeente distinguished from its peers without colour, and None for no data."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trendstudie.geo.shapes import load_features
from trendstudie.charts import theme as th
from trendstudie.charts.draw import (Chart, Series, bar_compare, category_map, fan, histogram, map_svg, quantile_breaks,
                                     rank_strip, time_series)

NS = "{http://www.w3.org/2000/svg}"
GEOJSON = Path("raw/luc4sdreyer__dutch_demographics/web/nl_gemeenten.geojson")
POPULATION = Path("raw/luc4sdreyer__dutch_demographics/web/data.json")


def parse(chart: Chart) -> ET.Element:
    root = ET.fromstring(chart.svg)
    assert root.tag == NS + "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == chart.alt
    assert root.find(NS + "title").text == chart.alt
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(NS + "text")]


@pytest.fixture(scope="module")
def boundaries(bundle):
    feats = load_features(bundle / GEOJSON)
    return {f.code: f.geometry for f in feats}, {f.code: f.name for f in feats}


@pytest.fixture(scope="module")
def population(bundle):
    """Inhabitants per gemeente per year from the bundle (complete 2012–2025 series only)."""
    data = json.loads((bundle / POPULATION).read_text(encoding="utf-8"))["population"]
    return {c: {int(y): float(v) for y, v in s.items()} for c, s in data.items() if len(s) == 14}


# ---------------------------------------------------------------------------------------------
# time series
# ---------------------------------------------------------------------------------------------


def test_time_series_dutch_numbers_labels_and_alt():
    series = [Series("Zwolle", [(2012, 1100.0), (2014, 1150.26), (2016, 1234.5)], True),
              Series("G40-gemiddelde", [(2012, 900.0), (2016, 950.0)], False),
              Series("Nederland", [(2013, 800.0), (2016, 870.4)], False)]
    chart = time_series("Inwoners per km²", "inwoners per km²", series, 1)
    root = parse(chart)
    shown = texts(root)
    assert "Zwolle 1.234,5" in shown
    assert "G40-gemiddelde 950,0" in shown
    assert "Nederland 870,4" in shown
    assert "Inwoners per km²" in shown and "inwoners per km²" in shown
    assert {"2012", "2014", "2016"} <= set(shown)  # years as plain labels, no thousands separator
    assert not any(re.fullmatch(r"2\.01\d", t) for t in shown)
    assert chart.alt == ("Inwoners per km², 2012–2016 (inwoners per km²). Zwolle: van 1.100,0 in 2012 naar 1.234,5 in "
                         "2016 (+12,2%). G40-gemiddelde: van 900,0 in 2012 naar 950,0 in 2016. Nederland: van 800,0 in "
                         "2013 naar 870,4 in 2016.")
    # hover text per point
    assert any(t.text == "Zwolle, 2014: 1.150,3" for t in root.iter(NS + "title"))


def test_time_series_emphasis_is_dark_solid_and_peers_dashed_with_own_markers():
    series = [Series("Almere", [(2020, 1.0), (2021, 2.0), (2022, 3.0)], True),
              Series("G40", [(2020, 2.0), (2021, 2.5), (2022, 2.7)], False),
              Series("Flevoland", [(2020, 1.5), (2021, 1.7), (2022, 1.9)], False)]
    root = parse(time_series("Iets", "%", series, 1))
    groups = {g.get("data-label"): g for g in root.iter(NS + "g") if g.get("data-label")}
    own = groups["Almere"]
    assert "emphasis" in own.get("class")
    line = own.find(NS + "path")
    assert line.get("stroke") == th.INK and line.get("stroke-dasharray") is None
    assert float(line.get("stroke-width")) > max(float(groups[k].find(NS + "path").get("stroke-width"))
                                                 for k in ("G40", "Flevoland"))
    dashes = {groups[k].find(NS + "path").get("stroke-dasharray") for k in ("G40", "Flevoland")}
    assert None not in dashes and len(dashes) == 2
    # markers differ in shape, not only in grey: a rect for the first peer, a polygon for the second
    assert groups["G40"].find(NS + "rect") is not None
    assert groups["Flevoland"].find(NS + "polygon") is not None
    assert "Almere 3,0%" in texts(root)


def test_time_series_percent_change_in_procentpunt():
    chart = time_series("Werkloosheid", "%", [Series("Zwolle", [(2015, 6.0), (2024, 3.5)], True)], 1)
    assert "van 6,0% in 2015 naar 3,5% in 2024 (-2,5 procentpunt)" in chart.alt


def test_time_series_real_population(population):
    zwolle = sorted(population["GM0193"].items())
    peers = ["GM0014", "GM0034", "GM0153", "GM0200", "GM0202"]
    mean = [(y, sum(population[c][y] for c in peers) / len(peers)) for y in range(2012, 2026)]
    chart = time_series("Inwoners", "aantal", [Series("Zwolle", zwolle, True), Series("G40-gemiddelde", mean)], 0)
    parse(chart)
    first, last = zwolle[0][1], zwolle[-1][1]
    expected = f"{last:,.0f}".replace(",", ".")
    assert f"Zwolle {expected}" in texts(ET.fromstring(chart.svg))
    assert f"naar {expected} in 2025" in chart.alt
    change = f"{(last / first - 1) * 100:+.1f}".replace(".", ",")
    assert f"({change}%)" in chart.alt


def test_time_series_nothing_to_draw_is_none():
    assert time_series("x", "aantal", [], 0) is None
    assert time_series("x", "aantal", [Series("A", [], True)], 0) is None
    assert time_series("x", "aantal", [Series("A", [(2020, float("nan")), (2021, None)], True)], 0) is None


def test_time_series_one_point_and_missing_values():
    chart = time_series("x", "aantal", [Series("A", [(2020, 5.0), (2021, None)], True)], 0)
    parse(chart)
    assert chart.alt.endswith("A: 5 in 2020.")


def test_time_series_long_labels_wrap_inside_the_canvas():
    series = [Series("Zwolle", [(2012, 1.0), (2020, 2.0)], True),
              Series("Nederland (gemiddelde van alle gemeenten samen)", [(2012, 1.5), (2020, 1.8)])]
    root = parse(time_series("x", "aantal", series, 0))
    width = float(root.get("width"))
    for t in root.iter(NS + "text"):
        assert float(t.get("x")) + th.text_width(t.text or "") <= width + 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1990, 2040), st.floats(-1e9, 1e9, allow_nan=False)), min_size=1, max_size=30),
       st.lists(st.tuples(st.integers(1990, 2040), st.floats(-1e9, 1e9, allow_nan=False)), max_size=30),
       st.integers(0, 3))
def test_time_series_always_valid_svg(own, peer, decimals):
    chart = time_series("Titel & <iets>", "€", [Series("A & B", own, True), Series("C", peer)], decimals)
    root = parse(chart)
    assert "Titel &amp; &lt;iets&gt;" in chart.svg
    assert all(math.isfinite(float(v)) for e in root.iter() for k, v in e.attrib.items()
               if k in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height"))


# ---------------------------------------------------------------------------------------------
# rank strip
# ---------------------------------------------------------------------------------------------


def test_rank_strip_all_gemeenten_highlight_rank_and_median(boundaries, population):
    _, names = boundaries
    values = {c: (s[2025] / s[2015] - 1) * 100 for c, s in population.items()}
    peers = {"GM0014", "GM0034", "GM0153", "GM0200", "GM0202"}
    chart = rank_strip("Bevolkingsgroei 2015–2025", "%", values, "GM0193", names, peers, decimals=1)
    root = parse(chart)
    n = len(values)
    rank = 1 + sum(1 for v in values.values() if v > values["GM0193"])
    own = f"{values['GM0193']:.1f}".replace(".", ",")
    assert f"Zwolle: {own}%, plaats {rank} van {n} (van hoog naar laag)." in chart.alt
    median = f"{float(np.median(list(values.values()))):.1f}".replace(".", ",")
    assert f"Mediaan {median}%" in chart.alt
    assert f"mediaan {median}%" in texts(root)
    # one mark with a hover title per gemeente
    tips = [t.text for t in root.iter(NS + "title")][1:]
    assert len([t for t in tips if ": " in t]) == n
    assert f"Zwolle {own}%" in texts(root)
    highlight = [g for g in root.iter(NS + "g") if g.get("data-code") == "GM0193"]
    assert len(highlight) == 1
    dot = highlight[0].find(NS + "circle")
    assert dot.get("fill") == th.INK and float(dot.get("r")) > 5
    # peers as squares in a second shade
    peer_group = next(g for g in root.iter(NS + "g") if g.get("class") == "peers")
    assert len(peer_group.findall(NS + "rect")) == len(peers & set(values))


def test_rank_strip_empty_and_missing_highlight(boundaries):
    _, names = boundaries
    assert rank_strip("x", "%", {}, "GM0193", names) is None
    assert rank_strip("x", "%", {"GM0014": float("nan")}, "GM0193", names) is None
    chart = rank_strip("x", "%", {"GM0014": 1.5, "GM0034": 2.5}, "GM0193", names)
    parse(chart)
    assert "Voor Zwolle is geen waarde bekend." in chart.alt


# ---------------------------------------------------------------------------------------------
# fan
# ---------------------------------------------------------------------------------------------


def test_fan_history_projection_band_and_scenarios():
    history = [(2020, 1000.0), (2022, 1100.0), (2024, 1234.5)]
    projection = [(2025, 1250.0, 1200.0, 1300.0), (2030, 1400.26, 1250.0, 1550.76)]
    chart = fan("Inwoners", "aantal", history, projection, {"hoog": [(2030, 1600.0)], "laag": [(2030, 1150.0)]},
                decimals=1)
    root = parse(chart)
    assert chart.alt == ("Inwoners (aantal). Waargenomen: 1.234,5 in 2024 (was 1.000,0 in 2020). Prognose: 1.400,3 "
                         "in 2030, met een marge van 1.250,0 tot 1.550,8. Scenario hoog: 1.600,0 in 2030. "
                         "Scenario laag: 1.150,0 in 2030.")
    shown = texts(root)
    assert {"prognose 1.400,3", "hoog 1.600,0", "laag 1.150,0", "onzekerheidsmarge", "waargenomen"} <= set(shown)
    assert [p for p in root.iter(NS + "path") if p.get("class") == "band"]
    history_line = next(g for g in root.iter(NS + "g") if g.get("class") == "history emphasis").find(NS + "path")
    assert history_line.get("stroke") == th.INK and history_line.get("stroke-dasharray") is None


def test_fan_and_rank_strip_legends_stack_inside_a_phone_width():
    """At phone width (320) the legend rows wrap instead of running off the drawing: every legend
    text ends inside the canvas, at 11 px, and the drawing grows by the extra rows."""
    history = [(2012, 120_000.0), (2024, 134_000.0)]
    projection = [(2030, 140_000.0, 136_000.0, 144_000.0), (2040, 149_000.0, 138_000.0, 160_000.0)]
    for width in (320, 640):
        root = parse(fan("Inwoners van Zwolle: scenario Basis", "inwoners", history, projection,
                         {"Hoog": [(2040, 155_000.0)]}, decimals=0, width=width, height=360, label="Basis"))
        legend = [t for t in root.iter(NS + "text") if t.text in ("waargenomen", "Basis", "onzekerheidsmarge")]
        assert len(legend) == 3 and all(t.get("font-size") == str(th.FONT_SIZE - 1) for t in legend)
        assert all(float(t.get("x")) + th.text_width(t.text, th.FONT_SIZE - 1) <= width - 4 for t in legend)
        rows = {t.get("y") for t in legend}
        assert len(rows) == (2 if width == 320 else 1)
        assert float(root.get("height")) == 360 + 16 * (len(rows) - 1)
    values = {f"GM{i:04d}": float(i % 37) for i in range(1, 300)}
    names = {c: f"Gemeente {c}" for c in values}
    root = parse(rank_strip("x", "%", values, "GM0001", names, {"GM0002", "GM0003"}, width=320))
    for t in root.iter(NS + "text"):
        if t.get("font-size") == str(th.FONT_SIZE - 1) and t.get("text-anchor") is None:
            assert float(t.get("x")) + th.text_width(t.text, th.FONT_SIZE - 1) <= 320 - 4, t.text


def test_fan_nothing_is_none_and_history_only_works():
    assert fan("x", "aantal", [], []) is None
    assert fan("x", "aantal", [(2020, None)], [(2030, float("nan"), 1.0, 2.0)], {"a": []}) is None
    parse(fan("x", "aantal", [(2020, 1.0), (2021, 2.0)], []))


# ---------------------------------------------------------------------------------------------
# bars
# ---------------------------------------------------------------------------------------------


def test_bar_compare_values_emphasis_and_negative():
    items = [("Zwolle", 1234.5, True), ("G40-gemiddelde", 987.25, False), ("Krimpgebied", -12.0, False),
             ("Onbekend", None, False)]
    chart = bar_compare("Saldo", "euro", items, decimals=1)
    root = parse(chart)
    assert chart.alt == "Saldo (euro): Zwolle € 1.234,5; G40-gemiddelde € 987,2; Krimpgebied € -12,0."
    shown = texts(root)
    assert {"€ 1.234,5", "€ 987,2", "€ -12,0", "Zwolle", "euro"} <= set(shown)
    assert "Onbekend" not in shown
    bars = {g.get("data-label"): g for g in root.iter(NS + "g") if g.get("data-label")}
    assert bars["Zwolle"].find(NS + "rect").get("fill") == th.BAR_EMPHASIS
    assert bars["G40-gemiddelde"].find(NS + "rect").get("fill") == th.BAR_OTHER
    assert any(t.get("font-weight") == "bold" and t.text == "Zwolle" for t in bars["Zwolle"].iter(NS + "text"))
    zero = next(e for e in root.iter(NS + "line"))
    neg = bars["Krimpgebied"].find(NS + "rect")
    assert float(neg.get("x")) + float(neg.get("width")) == pytest.approx(float(zero.get("x1")), abs=0.11)


def test_bar_compare_empty_is_none():
    assert bar_compare("x", "%", []) is None
    assert bar_compare("x", "%", [("a", None, True)]) is None


# ---------------------------------------------------------------------------------------------
# maps
# ---------------------------------------------------------------------------------------------


def test_quantile_breaks_equal_numpy():
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    expected = sorted(set(float(q) for q in np.quantile(values, [0.2, 0.4, 0.6, 0.8, 1.0])))
    assert quantile_breaks(values) == pytest.approx(expected)
    assert quantile_breaks([2.0] * 10) == [2.0]
    assert quantile_breaks([]) == []


def test_choropleth_342_paths_highlight_outline_titles_and_legend(boundaries, population):
    geo, names = boundaries
    values = {c: s[2025] for c, s in population.items()}
    chart = map_svg(geo, "GM0193", values, "Inwoners, 2025", "aantal inwoners", names=names)
    root = parse(chart)
    paths = [p for p in root.iter(NS + "path") if p.get("data-code")]
    assert len(paths) == 342 == len({p.get("data-code") for p in paths})
    own = [p for p in paths if p.get("data-code") == "GM0193"]
    assert len(own) == 1 and own[0].get("class") == "highlight"
    assert own[0].get("stroke") == th.INK and float(own[0].get("stroke-width")) >= 2
    assert all(p.get("stroke-width") is None for p in paths if p is not own[0])
    assert paths[-1] is own[0]  # drawn last, on top
    zwolle = f"{values['GM0193']:,.0f}".replace(",", ".")
    assert own[0].find(NS + "title").text == f"Zwolle: {zwolle}"
    # coordinates rounded to one decimal
    assert not re.search(r"\d\.\d\d", "".join(p.get("d") for p in paths))
    # gemeenten without a value are hatched and said to have no data
    missing = set(geo) - set(values)
    hatched = [p for p in paths if p.get("fill") == "url(#geen-gegevens)"]
    assert {p.get("data-code") for p in hatched} == missing
    # legend: 5 quantile classes with Dutch bounds
    breaks = np.quantile([values[c] for c in geo if c in values], [0.2, 0.4, 0.6, 0.8, 1.0])
    shown = texts(root)
    low = min(values[c] for c in geo if c in values)
    assert f"{low:,.0f} – {breaks[0]:,.0f}".replace(",", ".") in shown
    assert f"> {breaks[3]:,.0f} – {breaks[4]:,.0f}".replace(",", ".") in shown
    assert "geen gegevens" in shown and "aantal inwoners" in shown
    assert "Zwolle: " + zwolle + ", klasse 5 van 5 (1 = laagste)." in chart.alt
    # fills follow the classes and are ordered from light to dark
    fills = {p.get("data-code"): p.get("fill") for p in paths}
    assert fills["GM0363"] == th.MAP_CLASSES[-1]  # Amsterdam, the largest
    lightness = [sum(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in th.MAP_CLASSES]
    assert lightness == sorted(lightness, reverse=True)
    assert len(chart.svg) < 200_000


def test_locator_map_and_province_crop(boundaries, population):
    geo, names = boundaries
    chart = map_svg(geo, "GM0193", None, "Ligging", names=names)
    root = parse(chart)
    paths = [p for p in root.iter(NS + "path") if p.get("data-code")]
    assert len(paths) == 342
    own = next(p for p in paths if p.get("data-code") == "GM0193")
    assert own.get("fill") == th.MAP_LOCATOR_HIGHLIGHT and own.get("class") == "highlight"
    assert {p.get("fill") for p in paths if p is not own} == {th.MAP_EMPTY}
    assert chart.alt == "Ligging: kaart van 342 gemeenten met Zwolle donker gemarkeerd."
    overijssel = ["GM0141", "GM0147", "GM0148", "GM0150", "GM0153", "GM0158", "GM0160", "GM0163", "GM0164", "GM0166",
                  "GM0168", "GM0173", "GM0175", "GM0177", "GM0180", "GM0183", "GM0189", "GM0193", "GM1700", "GM1708",
                  "GM1735", "GM1742", "GM1773", "GM1774", "GM1896"]
    crop = map_svg({c: geo[c] for c in overijssel}, "GM0193", {c: population[c][2025] for c in overijssel},
                   "Inwoners in Overijssel", "aantal", names=names)
    root = parse(crop)
    assert len([p for p in root.iter(NS + "path") if p.get("data-code")]) == 25
    assert "kaart van 25 gemeenten" in crop.alt


def test_map_empty_is_none():
    assert map_svg({}, "GM0193") is None


# ---------------------------------------------------------------------------------------------
# the Vega-Lite renderer
# ---------------------------------------------------------------------------------------------


def test_vega_engine_is_accessible_and_dutch():
    series = [Series("Zwolle", [(2012, 1000.0), (2016, 1234.5)], True), Series("G40", [(2012, 900.0), (2016, 950.0)])]
    chart = time_series("Inwoners", "aantal", series, 1, engine="vega")
    root = parse(chart)
    shown = texts(root)
    assert "Zwolle 1.234,5" in shown
    assert "2012" in shown and "1.200,0" in shown
    bars = bar_compare("Saldo", "%", [("Zwolle", 1234.5, True), ("G40", 2.0, False)], decimals=1, engine="vega")
    assert "1.234,5%" in texts(parse(bars))


def test_time_series_missing_years_are_bridged_thinly_not_drawn_solid():
    series = [Series("Aa en Hunze", [(2014, 38.0), (2015, 37.8), (2025, 35.8)], True)]
    root = parse(time_series("Groene druk", "per 100", series, 1))
    group = next(g for g in root.iter(NS + "g") if g.get("data-label") == "Aa en Hunze")
    lines = group.findall(NS + "path")
    assert len(lines) == 2
    bridge = next(p for p in lines if p.get("stroke-dasharray") == "1 3")
    assert float(bridge.get("stroke-width")) == 1.0
    biennial = [Series("A", [(2014, 1.0), (2016, 2.0), (2018, 3.0)], True)]
    group = next(g for g in parse(time_series("x", "%", biennial, 1)).iter(NS + "g") if g.get("data-label") == "A")
    assert len(group.findall(NS + "path")) == 1


def test_time_series_index_for_counts_of_different_size(population):
    nl = [(y, sum(population[c][y] for c in population)) for y in range(2012, 2026)]
    zwolle = sorted(population["GM0193"].items())
    chart = time_series("Inwoners", "aantal", [Series("Zwolle", zwolle, True), Series("Nederland", nl),
                                               Series("Zonder 2012", [(2013, 5.0), (2014, 6.0)])], 0, index_base=2012)
    root = parse(chart)
    last = f"{zwolle[-1][1] / zwolle[0][1] * 100:.1f}".replace(".", ",")
    assert f"Zwolle {last}" in texts(root)
    assert "index (2012 = 100)" in texts(root)
    assert chart.alt.startswith("Inwoners, 2012–2025 (index (2012 = 100)). Zwolle: van 100,0 in 2012 naar " + last)
    assert "Zonder 2012" not in chart.alt
    assert time_series("x", "aantal", [Series("A", [(2013, 1.0)], True)], 0, index_base=2012) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 600, allow_nan=False), min_size=1, max_size=120))
def test_beeswarm_dots_never_overlap(xs):
    from trendstudie.charts.draw import _beeswarm

    r = 3.0
    ys = _beeswarm(xs, r)
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            assert math.hypot(xs[i] - xs[j], ys[i] - ys[j]) >= 2 * r - 1e-6


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 300, allow_nan=False), min_size=1, max_size=8))
def test_direct_labels_keep_their_distance(desired):
    from trendstudie.charts.draw import _spread

    ys = sorted(_spread(desired, 15.0, 0.0, 300.0))
    assert all(b - a >= 15.0 - 1e-6 for a, b in zip(ys, ys[1:]))


def _year_labels(root: ET.Element) -> list[tuple[float, str]]:
    return sorted((float(t.get("x")), t.text) for t in root.iter(NS + "text")
                  if t.get("text-anchor") == "middle" and re.fullmatch(r"\d{4}", t.text or ""))


@pytest.mark.parametrize("first,last", [(2015, 2025), (2013, 2026), (2012, 2025), (2020, 2024), (1995, 2026)])
@pytest.mark.parametrize("width", [320, 480, 640])
def test_the_year_axis_labels_the_first_and_last_year_and_labels_keep_apart(first, last, width):
    """The reviewer saw '2015, 2020' under a 2015-2025 series and '2013, 2020' under 2013-2026 on a
    phone, and '2013 2014' running together on a laptop: the ends are always labelled, and no two
    year labels come closer than a label's width plus a little air."""
    series = [Series("Zwolle", [(y, float(y % 7)) for y in range(first, last + 1)], True),
              Series("Gemeenten met 100.000 tot 150.000 inwoners", [(first, 2.0), (last, 3.0)])]
    labels = _year_labels(parse(time_series("Aandeel", "%", series, 1, width=width)))
    assert labels[0][1] == str(first) and labels[-1][1] == str(last)
    room = th.text_width("2024", th.FONT_SIZE - 1) + 4
    assert all(b[0] - a[0] >= room for a, b in zip(labels, labels[1:])), labels


def test_time_series_on_a_phone_names_the_lines_under_the_plot():
    """At phone width the end labels took two thirds of the width (the plot squeezed into a strip):
    there the lines are named in a legend under the plot, highest last value first, and the plot
    spans nearly the whole width; at 640 the lines keep their labels at the line ends."""
    series = [Series("Zwolle", [(2015, 39.8), (2020, 41.2), (2025, 43.0)], True),
              Series("G40-stedennetwerk", [(2015, 41.6), (2020, 42.7), (2025, 44.3)]),
              Series("Gemeenten met 100.000 tot 150.000 inwoners", [(2015, 41.1), (2020, 42.3), (2025, 44.2)]),
              Series("Provincie Overijssel", [(2015, 33.3), (2020, 35.1), (2025, 36.7)])]
    for width in (320, 640):
        root = parse(time_series("Aandeel eenpersoonshuishoudens", "%", series, 1, width=width, height=300))
        axis = max(float(ln.get("x2")) for ln in root.iter(NS + "line") if ln.get("y1") == ln.get("y2"))
        shown = [t for t in root.iter(NS + "text") if t.get("text-anchor") is None and t.text]
        for t in shown:
            assert float(t.get("x")) + th.text_width(t.text) <= width + 1, t.text
        named = [t.text for t in shown if any(s.label.split()[0] in t.text for s in series)]
        if width == 320:
            assert axis >= 0.9 * width
            assert float(root.get("height")) > 300  # the legend adds to the drawing's height
            assert [n.split()[0] for n in named] == ["G40-stedennetwerk", "Gemeenten", "Zwolle", "Provincie"]
            assert all(float(t.get("y")) > 300 - 30 for t in shown if t.text in named)
        else:
            assert axis <= width - 150  # the labels at the line ends
            assert float(root.get("height")) == 300


def test_years_without_figures_are_gaps_not_lines():
    """Age shares exist for 2014, 2015, 2019 and 2025 only: just 2014–2015 is a measured line."""
    from trendstudie.charts.draw import _segments

    runs, gaps = _segments([(2014, 9.9), (2015, 12.8), (2019, 11.3), (2025, 11.0)])
    assert runs == [[(2014, 9.9), (2015, 12.8)], [(2019, 11.3)], [(2025, 11.0)]]
    assert [(a[0], b[0]) for a, b in gaps] == [(2015, 2019), (2019, 2025)]
    assert _segments([(2018, 1.0), (2020, 2.0), (2022, 3.0)])[1] == []  # published every two years
    assert len(_segments([(2015, 1.0), (2025, 2.0)])[1]) == 1  # two points ten years apart
    assert _segments([(y, float(y)) for y in range(2012, 2026)])[1] == []


# ---------------------------------------------------------------------------------------------
# the web's charts, drawn by the same library
# ---------------------------------------------------------------------------------------------


def test_several_gemeenten_each_their_own_colour_and_dash():
    series = [Series("Zwolle", [(2020, 1.0), (2021, 2.0)], True), Series("Deventer", [(2020, 1.5), (2021, 1.0)], True),
              Series("Apeldoorn", [(2020, 2.0), (2021, 2.5)], True), Series("G40", [(2020, 1.2), (2021, 1.4)], False)]
    root = parse(time_series("Aandeel", "%", series, 1))
    styles = {}
    for g in root.iter(NS + "g"):
        if "emphasis" in (g.get("class") or ""):
            path = g.find(NS + "path")
            styles[g.get("data-label")] = (path.get("stroke"), path.get("stroke-dasharray"))
    assert styles["Zwolle"] == (th.INK, None)  # one gemeente looks as it does alone
    assert len(set(styles.values())) == 3 and all(dash for name, (_, dash) in styles.items() if name != "Zwolle")


def test_histogram_counts_marker_and_alt():
    values = [1.0, 2.0, 2.5, 3.0, 10.0]
    chart = histogram("Aandeel 65+, 2025", "%", values, 1, ("Zwolle", 2.5), bins=5)
    root = parse(chart)
    bars = [r for r in root.iter(NS + "rect") if r.find(NS + "title") is not None]
    assert sum(int(r.find(NS + "title").text.split(": ")[1].split()[0]) for r in bars) == len(values)
    assert "Zwolle 2,5%" in texts(root) and "Verdeling van 5 gemeenten naar aandeel 65+, 2025 (%)" in chart.alt
    assert histogram("x", "", [1.0], 0) is None


def test_category_map_counts_every_gemeente(boundaries):
    from trendstudie.geo.shapes import svg_paths

    geo, names = boundaries
    smap = svg_paths(geo, width=420.0, tolerance=0.6)
    codes = sorted(smap.paths)
    category = {c: "sterk" for c in codes[:100]} | {c: "niet" for c in codes[100:150]}
    chart = category_map(smap, category, th.STRENGTH_FILLS, ["sterk", "enigszins", "niet", "onbekend"], names,
                         "Waar speelt 'Vergrijzing'?")
    root = parse(chart)
    assert len([p for p in root.iter(NS + "path") if p.get("data-code")]) == len(codes)
    assert f"onbekend ({len(codes) - 150})" in texts(root) and "sterk (100)" in texts(root)
    assert category_map(None, {}, {}, ["x"], {}, "t") is None


def test_choropleth_from_projected_paths_equals_from_features(boundaries, population):
    from trendstudie.geo.shapes import svg_paths

    geo, names = boundaries
    values = {c: s[2025] for c, s in population.items() if c in geo}
    a = map_svg(geo, "GM0193", values, "Inwoners, 2025", "inwoners", names=names, width=420)
    b = map_svg(None, "GM0193", values, "Inwoners, 2025", "inwoners", names=names,
                projected=svg_paths(geo, width=420, tolerance=0.5, decimals=1))
    assert a.svg == b.svg


def test_a_map_for_a_phone_is_as_wide_as_the_phone_with_its_legend_under_it(boundaries, population):
    """narrow=320: the whole map scaled into 320 px, the legend (text at full size) under the map
    instead of beside it, and a long title on up to three lines instead of cut off."""
    from trendstudie.geo.shapes import svg_paths

    geo, names = boundaries
    smap = svg_paths(geo, width=420.0, tolerance=0.6)
    values = {c: s[2025] for c, s in population.items() if c in geo}
    title = "Waar speelt 'Traditionele criminaliteit en onveiligheidsgevoel dalen'?"
    for chart in (map_svg(None, "GM0193", values, title, "inwoners", names=names, projected=smap, narrow=320),
                  category_map(smap, {c: "sterk" for c in smap.paths}, th.STRENGTH_FILLS, ["sterk", "niet"], names,
                               title, narrow=320)):
        root = parse(chart)
        assert float(root.get("width")) == 320
        group = next(g for g in root.iter(NS + "g") if "scale(" in (g.get("transform") or ""))
        scale = float(group.get("transform").split("scale(")[1].rstrip(")"))
        assert smap.width * scale == pytest.approx(304, abs=0.01)
        map_bottom = float(group.get("transform").split(",")[1].split(")")[0]) + smap.height * scale
        rects = [r for r in root.iter(NS + "rect") if r.get("x") is not None]
        assert rects and all(float(r.get("y")) > map_bottom and float(r.get("x")) + 18 <= 320 for r in rects)
        assert float(root.get("height")) >= max(float(r.get("y")) + 14 for r in rects)
        shown = " ".join(t.text for t in root.iter(NS + "text") if t.get("font-weight") == "bold" and t.text)
        assert "dalen'?" in shown  # the title's end, on its third line
