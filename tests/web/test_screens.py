"""Every page type at 360, 768 and 1366 px: no page scrolls sideways, no text of any chart (legend,
label, axis) is cut off or runs out of its drawing, and at 390 px no chart text is drawn smaller
than 11 px (charts are laid out again for phones or shown full size in a box that scrolls).
Playwright with Debian's Chromium; screenshots in /tmp/trendstudie-scherm-*.png."""

from __future__ import annotations

import pytest

PAGES = ["/", "/zoek?q=berg", "/gemeente/GM0193", "/gemeente/GM0193/prognose",
         "/vergelijk?gemeente=GM0193&gemeente=GM0150&gemeente=GM0200", "/indicatoren",
         "/indicator/aandeel_65_plus?gemeente=GM0193", "/trends", "/trend/vergrijzing",
         "/samenhang/vergrijzing?diepte=2", "/downloads", "/api", "/over", "/gemeente/GM9999"]
SMALLEST_TEXT = """() => { let m = 99;
  for (const t of document.querySelectorAll('svg text')) { if (!t.getBoundingClientRect().width) continue;
    const c = t.getScreenCTM(); m = Math.min(m, parseFloat(getComputedStyle(t).fontSize) * Math.hypot(c.a, c.b)); }
  return m; }"""

# Every text of every drawn chart against its SVG's viewBox, both in screen pixels (the rendered
# glyph box, getBoundingClientRect; the viewBox mapped by the SVG's screen matrix): a text that
# sticks out is clipped by the drawing's edge or runs into the page. Hidden layouts are skipped.
TEXT_OUTSIDE = """() => { const bad = [];
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.ownerSVGElement || !svg.getBoundingClientRect().width) continue;
    const m = svg.getScreenCTM(), vb = svg.viewBox.baseVal;
    if (!m) continue;
    const r0 = svg.getBoundingClientRect();
    const box = vb && vb.width ? [m.a * vb.x + m.e, m.d * vb.y + m.f, m.a * (vb.x + vb.width) + m.e,
                                  m.d * (vb.y + vb.height) + m.f] : [r0.left, r0.top, r0.right, r0.bottom];
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (!r.width) continue;
      if (r.left < box[0] - 1 || r.right > box[2] + 1 || r.top < box[1] - 1 || r.bottom > box[3] + 1)
        bad.push(`'${t.textContent.trim().slice(0, 40)}' at x ${Math.round(r.left)}..${Math.round(r.right)}, ` +
                 `y ${Math.round(r.top)}..${Math.round(r.bottom)}; drawing ${box.map(Math.round).join(', ')}`);
    }
  }
  return bad; }"""


@pytest.mark.parametrize("width", [360, 390, 768, 1366])
def test_no_page_scrolls_sideways_and_chart_text_stays_readable(browser, server, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    for url in PAGES:
        page.goto(server + url, timeout=180_000)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"{url} scrolls sideways at {width} px ({scroll} > {inner})"
        outside = page.evaluate(TEXT_OUTSIDE)
        assert not outside, f"chart text cut off on {url} at {width} px: {outside}"
        if width == 390:
            assert page.evaluate(SMALLEST_TEXT) >= 10.95, f"chart text below 11 px on {url} at 390 px"
        if url == "/gemeente/GM0193" and width in (360, 1366):  # the samenhang diagram is laid out for the screen
            fits = page.evaluate("[...document.querySelectorAll('figure.diagram')].every(f => f.scrollWidth <= f.clientWidth)")
            assert fits, f"the samenhang diagram does not fit its column at {width} px"
        if url == "/gemeente/GM0193":
            page.screenshot(path=f"/tmp/trendstudie-scherm-gemeente-{width}.png", full_page=True)
    page.close()
