"""The search fields' placeholder text is not cut off, on a phone (360 px) and on a laptop (1366 px):
the header's search on every page and the big one on the home page (issue 16, point 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not shutil.which("chromium"),
                                reason="Chromium is not installed")

# The placeholder's width in the input's own font against the room inside the input. Chromium keeps
# room for the clear button (×) of a search field beside the text even while the field is empty.
CLEAR_BUTTON = 24
FIT = """(sel) => { const i = document.querySelector(sel); const s = getComputedStyle(i);
  const c = document.createElement('canvas').getContext('2d');
  c.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
  return [i.placeholder, c.measureText(i.placeholder).width,
          i.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)]; }"""


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("width", [360, 1366])
def test_search_placeholders_fit(browser, server, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    for url, selector in (("/", "#q-top"), ("/", "#q"), ("/indicator/bevolking", "#q-top")):
        page.goto(server + url, timeout=180_000)
        text, need, room = page.evaluate(FIT, selector)
        assert text and need <= room - CLEAR_BUTTON, f"'{text}' in {selector} on {url} needs {need:.0f} px, has {room:.0f} at {width} px"
    page.screenshot(path=f"/tmp/trendstudie-zoeken-{width}.png")
    page.close()
