"""The report carries the whole study (issue 15, point 6): every trend placed, on its basis, in the
same verdicts as the CLI; opgaven with who acts; the HCSS challenges and the VNG agenda points."""

from __future__ import annotations

import pytest

from trendstudie import store
from trendstudie.report.content import Context, Options, build_report
from trendstudie.report.html import render_html

CODES = ("GM0193", "GM0014", "GM1680")  # Zwolle (G40), Groningen (G40, M50-less), Aa en Hunze (small, rural)


@pytest.fixture(scope="module")
def ctx(built_home):
    return Context(store.connect(built_home / "trendstudie.duckdb"))


@pytest.fixture(scope="module")
def reports(ctx):
    return {code: build_report(ctx, code, Options(future=False)) for code in CODES}


def _placed(report):
    """Every trend id the report mentions, by where it stands."""
    out = {"blocks": {}, "typed": {}, "national": set(), "less": set()}
    for c in report.chapters:
        for t in c.trends:
            out["blocks"][t.id] = t
        for t in c.typed:
            out["typed"][t.id] = t
        out["national"] |= set(c.national)
        out["less"] |= {title for title, _ in c.less}
    return out


@pytest.mark.parametrize("code", CODES)
def test_every_verdict_that_plays_appears_with_its_basis(ctx, reports, code):
    """The report shows exactly the CLI's verdicts: what plays on figures as a block, what plays by
    typology in the typed list, national trends by title, what does not play in 'speelt hier minder'."""
    placed = _placed(reports[code])
    for v in ctx.localiser.verdicts(code):
        title = ctx.kb.trends[v.trend].title
        if v.basis == "landelijk":
            assert title in placed["national"], v.trend
        elif v.strength in ("sterk", "enigszins"):
            where = placed["blocks"] if v.basis == "cijfers" else placed["typed"]
            assert where[v.trend].strength == v.strength and where[v.trend].basis == v.basis, v.trend
        elif v.strength == "niet":
            assert title in placed["less"], v.trend


def test_typed_reasons_are_said_once_per_group(reports):
    html = render_html(reports["GM0193"])
    for c in reports["GM0193"].chapters:
        for reason, ts in c.typed_groups:
            assert len({t.reason for t in ts}) == 1
            if len(ts) > 1:
                assert "spelen deze trends" in reason or "speelt deze trend" not in reason
            assert html.count(reason) >= 1


def test_a_small_rural_gemeente_gets_no_big_city_trends_by_typology(ctx, reports):
    """Aa en Hunze (about 26.000 inhabitants) is no G4 or G40 city: every trend placed there by
    typology rests on a scope that matches it, never on a big-city scope."""
    placed = _placed(reports["GM1680"])
    verdicts = {v.trend: v for v in ctx.localiser.verdicts("GM1680")}
    assert placed["typed"]
    for trend_id in placed["typed"]:
        applying = {m.scope for m in verdicts[trend_id].scopes if m.applies}
        assert applying and not applying & {"g4", "steden", "centrumsteden"}, (trend_id, applying)


def test_opgaven_say_who_acts_and_local_ones_come_first(reports):
    seen = 0
    for c in reports["GM0193"].chapters:
        for t in c.trends:
            locals_ = [o.local for o in t.opgaven]
            assert locals_ == sorted(locals_, reverse=True), t.id  # gemeente/regio-led first
            for o in t.opgaven:
                assert o.actors
                seen += 1
    assert seen > 5
    html = render_html(reports["GM0193"])
    assert "Wie handelt:" in html


def test_challenges_and_agenda_points_bear_on_this_gemeente(ctx, reports):
    chapter = next(c for c in reports["GM0193"].chapters if c.anchor == "uitdagingen")
    text = " ".join(chapter.paragraphs)
    verdicts = {v.trend: v for v in ctx.localiser.verdicts("GM0193")}
    playing = {t for t, v in verdicts.items() if v.strength in ("sterk", "enigszins")}
    for ch in ctx.kb.challenges.values():
        if any(d in playing for d in ch.drivers):
            assert ch.title in text, ch.id
        else:
            assert ch.title not in text, ch.id
    assert "commissie-Derksen" in text


def test_the_summary_names_five_to_eight_trends_and_why(reports):
    for code, r in reports.items():
        assert 5 <= len(r.summary_trends) <= 8, code
        for s in r.summary_trends:
            assert s.key_figure and s.strength in ("sterk", "enigszins")
        order = [s.strength for s in r.summary_trends]
        assert order == sorted(order, key=lambda x: x != "sterk")
