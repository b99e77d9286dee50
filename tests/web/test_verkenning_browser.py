"""A whole verkenning in a real browser (Debian's Chromium through Playwright): the facilitator
creates it and keeps four items, six participants in their own browser contexts (one on a
360 px phone with autosave, one without JavaScript) answer two rounds, round 2 shows the group's
median, and the results page (table, radar, matrix, 2×2 frame) and the gemeente's report show
the right aggregates. Screenshots go to /tmp/trendstudie-verkenning-*.png."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from statistics import median

SHOTS = Path("/tmp")

# Final (round 2) scores per item, one per participant; round 1 differs only in item 3's impact.
IMPACT = [[5, 5, 4, 5, 4, 5], [4, 4, 4, 3, 4, 4], [5, 4, 5, 5, 5, 4], [2, 2, 3, 2, 1, 2]]
UNCERTAINTY = [[4, 5, 4, 4, 5, 4], [4, 4, 3, 4, 4, 4], [1, 2, 1, 2, 1, 1], [3, 3, 3, 2, 3, 3]]
HORIZON = ["5-10 jaar", "na 10 jaar", "binnen 5 jaar", "5-10 jaar"]
ROUND1_ITEM3 = 4


def _context(browser, phone=False, js=True):
    if phone:
        ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="nl-NL", java_script_enabled=js)
    else:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL", java_script_enabled=js,
                                  accept_downloads=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    return ctx, page


def _answer(page, ids, k, round_no, autosave):
    for j, item in enumerate(ids):
        impact = IMPACT[j][k] if not (j == 3 and round_no == 1) else ROUND1_ITEM3
        page.locator(f'input[name="i{item}_impact"][value="{impact}"]').check()
        page.locator(f'input[name="i{item}_onzekerheid"][value="{UNCERTAINTY[j][k]}"]').check()
        page.locator(f'input[name="i{item}_horizon"][value="{HORIZON[j]}"]').check()
        page.locator(f'input[name="i{item}_relevantie"][value="{1 + (j + k) % 5}"]').check()
        if round_no == 2 and j == 3:
            page.locator(f'textarea[name="i{item}_reden"]').fill(f"Na de groepsuitkomst bijgesteld (deelnemer {k + 1}).")
    if round_no == 1:
        page.locator(f'textarea[name="i{ids[0]}_toelichting"]').fill(f'<script>alert("x")</script> toelichting van deelnemer {k + 1}')
    if autosave:
        # the last change is saved by the script; wait until it says so (no button pressed)
        page.locator(f'input[name="i{ids[0]}_relevantie"][value="5"]').check()
        page.locator("#autosave-status").filter(has_text="Opgeslagen om").wait_for(timeout=60_000)
        page.locator(f'input[name="i{ids[0]}_relevantie"][value="{1 + k % 5}"]').check()
        page.wait_for_function("document.querySelector('#autosave-status').textContent.includes('Opgeslagen om') "
                               "&& !document.querySelector('#autosave-status').textContent.includes('Opslaan…')",
                               timeout=60_000)
        page.locator("#autosave-status").filter(has_text="Opgeslagen om").wait_for(timeout=60_000)
    else:
        page.get_by_role("button", name="Opslaan").click()
        page.wait_for_url("**opgeslagen=1**")


def test_a_whole_verkenning_in_the_browser(browser, own_server):
    server = own_server
    fctx, fac = _context(browser)
    fac.goto(server + "/verkenning/nieuw")
    fac.get_by_label("Gemeente (naam of code) of groep (G40, M50)").fill("Deventer")
    fac.get_by_label("Titel").fill("Deventer 2040")
    fac.get_by_role("button", name="Verkenning maken").click()
    fac.wait_for_url("**/verkenning/beheer/**")
    manage = fac.url.split("?")[0]
    assert "Bewaar de link van deze pagina" in fac.content()
    # keep four items
    boxes = fac.locator('input[name^="actief_"]:checked')
    assert boxes.count() >= 4
    while boxes.count() > 4:
        boxes.nth(4).uncheck()
    fac.get_by_role("button", name="Items opslaan").click()
    fac.wait_for_url("**melding=**")
    fac.get_by_label("Aantal persoonlijke links").fill("6")
    with fac.expect_download() as info:
        fac.get_by_role("button", name="Links maken (CSV)").click()
    links = [r["link"] for r in csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8")))]
    assert len(links) == 6 and all("/deelname/" in link for link in links)
    fac.screenshot(path=str(SHOTS / "trendstudie-verkenning-beheer.png"))

    people = []
    for k, link in enumerate(links):
        ctx, page = _context(browser, phone=k == 0, js=k != 5)  # 0: phone with autosave; 5: no JavaScript
        people.append((ctx, page))
        page.goto(link)
    ids = [int(x) for x in people[0][1].locator("section.vk-item").evaluate_all(
        "els => els.map(e => e.dataset.item)")]
    assert len(ids) == 4
    phone = people[0][1]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    for round_no in (1, 2):
        for k, (_, page) in enumerate(people):
            if round_no == 2:
                page.goto(links[k])
            _answer(page, ids, k, round_no, autosave=k == 0)
        phone.screenshot(path=str(SHOTS / f"trendstudie-verkenning-telefoon-ronde{round_no}.png"), full_page=False)
        if round_no == 1:
            fac.goto(manage)
            fac.get_by_role("button", name="Ronde 1 sluiten").click()
            fac.wait_for_url("**melding=**")
            fac.get_by_role("button", name="Ronde 2 openen").click()
            fac.wait_for_url("**melding=**")
            assert fac.locator("#vk-ronde").inner_text() == "2"
            page = people[1][1]
            page.goto(links[1])
            group = page.locator(f'[data-groep="{ids[3]}"] .g-impact').inner_text()
            assert group == "4,0"  # round 1: everyone gave item 3 an impact of 4
            assert "Uw score in ronde 1: impact 4" in page.locator(f'[data-groep="{ids[3]}"]').inner_text()
    # a participant never sees another's comment
    html = people[1][1].content()
    assert "toelichting van deelnemer 2" in html
    assert not any(f"toelichting van deelnemer {n}" in html for n in (1, 3, 4, 5, 6))
    for ctx, page in people:
        assert not page.console_errors, page.console_errors
        ctx.close()

    fac.goto(manage + "/resultaten")
    fac.screenshot(path=str(SHOTS / "trendstudie-verkenning-resultaten.png"), full_page=True)
    # every sector name of the radar inside its drawing ("economie en arbeidsma…" was cut off)
    outside = fac.evaluate("""() => { const svg = document.querySelector('#vk-radar svg'), b = svg.getBoundingClientRect();
      return [...svg.querySelectorAll('text.sector')].map(t => [t.textContent, t.getBoundingClientRect()])
        .filter(([_, r]) => r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1)
        .map(([s]) => s); }""")
    assert fac.locator("#vk-radar text.sector").count() == 8 and not outside, outside
    # on a phone the radar keeps its size in a box that scrolls sideways: its sector names stay
    # readable (shrunk to the phone's width they were some 6 px high), the page itself does not scroll
    pctx, phone = _context(browser, phone=True)
    phone.goto(manage + "/resultaten")
    heights = phone.evaluate("() => [...document.querySelectorAll('#vk-radar text.sector tspan')]"
                             ".map(t => t.getBoundingClientRect().height)")
    assert heights and min(heights) >= 11, heights
    assert phone.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert phone.evaluate("() => { const f = document.querySelector('#vk-radar'); return f.scrollWidth > f.clientWidth; }")
    pctx.close()
    rows = fac.locator("#vk-respons tbody tr")
    assert rows.nth(0).inner_text().split() == ["1", "6", "6", "6"]
    assert rows.nth(1).inner_text().split() == ["2", "6", "6", "6"]
    for j, item in enumerate(ids):
        want_i, want_u = median(IMPACT[j]), median(UNCERTAINTY[j])
        row = fac.locator(f'#vk-items tr[data-item="{item}"]')
        assert row.locator(".med-impact").inner_text() == f"{want_i:.1f}".replace(".", ",")
        assert row.locator(".med-onzekerheid").inner_text() == f"{want_u:.1f}".replace(".", ",")
        for fig in ("#vk-radar", "#vk-matrix"):
            g = fac.locator(f'{fig} g.item[data-item="{item}"]')
            assert float(g.get_attribute("data-impact")) == want_i
            assert float(g.get_attribute("data-onzekerheid")) == want_u
    assert fac.locator(f'#vk-items tr[data-item="{ids[3]}"] td').last.inner_text() == "-2,0"
    assert fac.locator(f'#vk-radar g.item[data-item="{ids[2]}"]').get_attribute("data-ring") == "1"
    titles = [t.strip() for t in fac.locator("#vk-items tbody th").all_inner_texts()]
    axes = fac.locator("strong.as").all_inner_texts()
    assert axes == [titles[0], titles[1]]  # impact × uncertainty: 5 × 4 and 4 × 4
    assert fac.locator("#vk-kader g.kwadrant").count() == 4
    assert titles[2] in fac.locator("#vk-basis").inner_text()  # high impact, low uncertainty
    assert "<script>alert" not in fac.content()
    assert not fac.console_errors, fac.console_errors

    fac.goto(server + "/gemeente/GM0150/rapport.html")
    chapter = fac.locator("#verkenning")
    chapter.wait_for()
    assert "Deventer 2040" in fac.content() and fac.locator("svg.radar").count() == 1
    fctx.close()
