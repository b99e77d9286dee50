"""What a reviewer found cut off or out of reach on a 360 px phone (and checked at 1366 px too):
maps with their legend, the province locator map, table captions, and on the verkenning's
management page the empty scroll below the footer and the size of the 'Mee' checkboxes.
Playwright with Debian's Chromium; nothing here waits for time to pass."""

from __future__ import annotations

import pytest

# every drawn map on the page: its visible SVG inside the viewport, nothing of it scrolled away
MAPS_FIT = """(sel) => [...document.querySelectorAll(sel + ' svg')].filter(s => s.getBoundingClientRect().width)
  .map(s => { const r = s.getBoundingClientRect(), f = s.closest('figure').getBoundingClientRect();
    const legend = [...s.querySelectorAll('rect[width="18"]')].map(x => x.getBoundingClientRect());
    return {left: r.left, right: r.right, figure: f.right, width: innerWidth,
            legend: legend.length, legendRight: Math.max(0, ...legend.map(x => x.right)),
            scrolls: [...document.querySelectorAll(sel + ' .chart-scroll')].some(b => b.scrollWidth > b.clientWidth + 1)}; })"""

# every caption of a table in a sideways-scrolling box: within the box (it wraps), not as wide as the table
CAPTIONS_FIT = """() => [...document.querySelectorAll('.table-wrap > table > caption')].filter(c => c.getBoundingClientRect().width)
  .map(c => { const r = c.getBoundingClientRect(), w = c.closest('.table-wrap').getBoundingClientRect();
    return {text: c.textContent.trim().slice(0, 50), right: r.right, box: w.right, wide: c.scrollWidth > c.clientWidth + 1}; })"""


@pytest.mark.parametrize("width", [360, 1366])
def test_maps_and_their_legend_fit_the_screen(browser, server, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    for url in ("/trend/woningtekort", "/indicator/bevolking?gemeente=GM0193"):
        page.goto(server + url, timeout=180_000)
        maps = page.evaluate(MAPS_FIT, "figure.map")
        assert maps, f"no map on {url}"
        for m in maps:
            assert m["left"] >= 0 and m["right"] <= m["width"] and m["right"] <= m["figure"] + 1, f"{url} at {width} px: {m}"
            assert m["legend"] >= 3 and m["legendRight"] <= m["right"] + 1, f"legend of the map on {url} at {width} px: {m}"
            assert not m["scrolls"], f"the map on {url} scrolls sideways at {width} px"
    page.goto(server + "/gemeente/GM0193", timeout=180_000)
    for m in page.evaluate(MAPS_FIT, "figure.locator"):
        assert m["right"] <= m["figure"] + 1 and not m["scrolls"], f"the locator map is cut off at {width} px: {m}"
    page.close()


@pytest.mark.parametrize("width", [360, 1366])
def test_table_captions_stay_readable(browser, server, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    for url in ("/gemeente/GM0193", "/vergelijk?gemeente=GM0193&gemeente=GM0150&gemeente=GM0200&groep=G40"):
        page.goto(server + url, timeout=180_000)
        captions = page.evaluate(CAPTIONS_FIT)
        assert captions, f"no captions on {url}"
        for c in captions:
            assert c["right"] <= c["box"] + 1 and not c["wide"], f"caption cut off on {url} at {width} px: {c}"
    page.close()


@pytest.mark.parametrize("width", [360, 1366])
def test_verkenning_management_page_ends_at_its_footer_and_has_tappable_boxes(browser, own_server, width):
    ctx = browser.new_context(viewport={"width": width, "height": 800}, locale="nl-NL",
                              is_mobile=width < 500, has_touch=width < 500)
    page = ctx.new_page()
    page.goto(own_server + "/verkenning/nieuw")
    page.get_by_label("Gemeente (naam of code) of groep (G40, M50)").fill("Zwolle")
    page.get_by_label("Titel").fill(f"Zwolle op {width} px")
    page.get_by_role("button", name="Verkenning maken").click()
    page.wait_for_url("**/verkenning/beheer/**")
    # the hidden labels of the long item table once stretched the page ~20.000 px below the footer
    height, footer = page.evaluate("[document.documentElement.scrollHeight, "
                                   "document.querySelector('footer').getBoundingClientRect().bottom + scrollY]")
    assert height <= footer + 2, f"{height - footer:.0f} px of empty page below the footer at {width} px"
    boxes = page.locator('input[type=checkbox][name^="actief_"]')
    assert boxes.count() >= 4
    box = boxes.first.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, f"'Mee' checkbox of {box['width']}×{box['height']} px"
    ctx.close()
