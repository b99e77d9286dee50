"""The HTML report on a phone (360 px), in Debian's Chromium through Playwright: the page does not
scroll sideways (a reviewer found every indicator table making it 685-750 px wide), wide tables
scroll in a box of their own with their caption in view, and charts show their phone layout.
Screenshots go to /tmp/trendstudie-report-*.png for a human to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trendstudie import store
from trendstudie.report.charts_for_report import make_chart
from trendstudie.report.content import Context, Options, build_report
from trendstudie.report.html import render_html

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module; the tests skip where Playwright or Chromium is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if not executable:
        pytest.skip("Chromium is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def report_file(built_home, tmp_path_factory):
    ctx = Context(store.connect(built_home / "trendstudie.duckdb"))
    path = tmp_path_factory.mktemp("rapport") / "zwolle.html"
    path.write_text(render_html(build_report(ctx, "GM0193", Options(), make_chart)), encoding="utf-8")
    return path


@pytest.fixture
def phone(browser, report_file):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="nl-NL")
    page = context.new_page()
    page.goto(report_file.as_uri())
    yield page
    context.close()


def test_the_report_does_not_scroll_sideways_on_a_phone(phone):
    phone.screenshot(path="/tmp/trendstudie-report-phone.png", full_page=True)
    scroll, client = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"the page is {scroll} px wide on a {client} px screen"


def test_wide_tables_scroll_in_their_box_with_the_caption_in_view(phone):
    boxes = phone.locator(".table-scroll")
    assert boxes.count() >= 5  # an indicator table per domain chapter, and the sources
    wide = 0
    for i in range(boxes.count()):
        box = boxes.nth(i)
        inner, outer = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
        wide += inner > outer
        box.evaluate("e => e.scrollLeft = e.scrollWidth")  # scrolled to the far end: the caption stays
        caption = box.locator("caption").bounding_box()
        edge = box.bounding_box()
        assert edge["x"] - 1 <= caption["x"] and caption["x"] + caption["width"] <= edge["x"] + edge["width"] + 1
    assert wide, "at 360 px the indicator tables are wider than the screen: they must scroll in their box"
    boxes.first.screenshot(path="/tmp/trendstudie-report-phone-table.png")


def test_charts_show_their_phone_layout(phone):
    narrow = phone.locator(".chart-narrow")
    assert narrow.count() >= 3
    for i in range(narrow.count()):
        assert narrow.nth(i).is_visible()
        svg = narrow.nth(i).locator("svg")
        width = float(svg.get_attribute("width"))
        assert width <= 360 and svg.bounding_box()["width"] >= 0.9 * width  # shown at (nearly) full size
    assert all(not w.is_visible() for w in phone.locator(".chart-wide").all())
