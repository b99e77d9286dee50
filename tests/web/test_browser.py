"""Browser tests: Playwright driving Debian's Chromium against uvicorn on a free loopback port.
Screenshots go to /tmp/trendstudie-web-*.png for a human to look at."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

SHOTS = Path("/tmp")


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="nl-NL")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    yield pg
    context.close()


def test_search_gemeente_compare_and_download(page, server):
    page.goto(server + "/")
    page.screenshot(path=str(SHOTS / "trendstudie-web-home.png"))
    page.get_by_label("Zoek een gemeente op naam of code").fill("Zwolle")
    page.get_by_role("button", name="Zoeken").last.click()
    page.wait_for_url("**/gemeente/GM0193")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Zwolle")
    assert page.locator("section#wonen-en-ruimte table").count() == 1
    page.screenshot(path=str(SHOTS / "trendstudie-web-gemeente.png"))
    page.screenshot(path=str(SHOTS / "trendstudie-web-gemeente-vol.png"), full_page=True)

    page.get_by_role("link", name="Vergelijken", exact=True).last.click()
    page.wait_for_url("**/vergelijk?**")
    page.get_by_label("Gemeente 2").fill("Deventer")
    page.get_by_label("Gemeente 3").fill("Apeldoorn")
    page.get_by_role("button", name="Vergelijk").click()
    page.wait_for_url("**gemeente=Deventer**")
    header = page.locator("table.figures thead").first.inner_text()
    assert "Zwolle" in header and "Deventer" in header and "Apeldoorn" in header
    page.screenshot(path=str(SHOTS / "trendstudie-web-vergelijk.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download de cijfers van deze gemeenten (CSV)").click()
    download = info.value
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
    assert {"GM0193", "GM0150", "GM0200"} <= {r["region_code"] for r in rows}
    assert not page.console_errors, page.console_errors  # e.g. nothing blocked by the CSP


def test_indicator_trend_and_keyboard(page, server):
    page.goto(server + "/indicator/aandeel_65_plus?gemeente=GM0193")
    assert page.locator("figure.map svg title").first.text_content().startswith("Aandeel 65 jaar en ouder")
    page.screenshot(path=str(SHOTS / "trendstudie-web-indicator.png"), full_page=False)
    page.goto(server + "/trend/vergrijzing")
    page.screenshot(path=str(SHOTS / "trendstudie-web-trend.png"), full_page=False)
    page.goto(server + "/samenhang/vergrijzing?diepte=2")
    page.screenshot(path=str(SHOTS / "trendstudie-web-samenhang.png"), full_page=False)
    # keyboard: the first Tab reaches the skip link, Enter moves focus to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Direct naar de inhoud"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#inhoud"
    page.goto(server + "/gemeente/GM9999")
    assert "Er is geen gemeente met code GM9999" in page.content()
    page.screenshot(path=str(SHOTS / "trendstudie-web-404.png"))
    assert not [e for e in page.console_errors if "404" not in e], page.console_errors


def test_prognose_switch_scenario_and_download(page, server):
    page.goto(server + "/gemeente/GM0193")
    page.get_by_role("link", name="Prognose en scenario's").click()
    page.wait_for_url("**/gemeente/GM0193/prognose")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Prognose Zwolle")
    assert page.get_by_role("radio", name="Basis").is_checked()
    page.screenshot(path=str(SHOTS / "trendstudie-web-prognose.png"), full_page=True)

    page.get_by_role("radio", name="Hoog").check()
    page.get_by_label("Tot en met het jaar").fill("2050")
    page.get_by_role("button", name="Toon prognose").click()
    page.wait_for_url("**/prognose?scenario=hoog&tot=2050")
    assert page.get_by_role("radio", name="Hoog").is_checked()
    assert "In scenario Hoog telt Zwolle op 1 januari 2050" in page.locator("p.lead").inner_text()
    assert page.locator("figure.wide svg title").first.text_content().startswith("Inwoners van Zwolle: scenario Hoog")
    assert "1 jan. 2050" in page.locator("table.projection thead").first.inner_text()
    page.screenshot(path=str(SHOTS / "trendstudie-web-prognose-hoog.png"), full_page=True)

    # another scenario straight from the comparison table
    page.get_by_role("link", name="Ontstedelijking").click()
    page.wait_for_url("**scenario=de-urbanisatie&tot=2050")
    assert page.get_by_role("radio", name="Ontstedelijking").is_checked()

    # an end year outside the range: the browser's own check (min/max) stops the form without JavaScript
    page.get_by_label("Tot en met het jaar").fill("2099")
    page.get_by_role("button", name="Toon prognose").click()
    assert "scenario=de-urbanisatie&tot=2050" in page.url
    assert page.evaluate("document.getElementById('tot').validity.rangeOverflow")

    with page.expect_download() as info:
        page.get_by_role("link", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["indicator_id", "region_code", "period", "value", "lower", "upper", "scenario"]
    assert {r["scenario"] for r in rows} == {"de-urbanisatie"} and max(r["period"] for r in rows) == "2050JJ00"
    with page.expect_download() as info:
        page.get_by_role("link", name="PNG", exact=True).click()
    assert Path(info.value.path()).read_bytes()[:4] == b"\x89PNG"
    assert not page.console_errors, page.console_errors
