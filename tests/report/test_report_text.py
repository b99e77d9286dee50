"""The words of the report: evidence against a verdict kept apart, old figures said, plain Dutch."""

from __future__ import annotations

import re

import pytest

from trendstudie import store
from trendstudie.report.content import Context, Options, build_report, peer_groups, rank_figure
from trendstudie.report.html import render_html


@pytest.fixture(scope="module")
def ctx(built_home):
    return Context(store.connect(built_home / "trendstudie.duckdb"))


@pytest.fixture(scope="module")
def reports(ctx):
    # without the chapter on the future: its projections are not what these tests are about
    return {code: build_report(ctx, code, Options(future=False)) for code in ("GM0014", "GM0981", "GM0193")}


def blocks(report):
    return {t.id: t for c in report.chapters for t in c.trends}


def test_the_cover_gives_the_range_of_years(reports):
    for code, r in reports.items():
        years = sorted({int(row["period"][:4]) for row in r.data_rows if row["region_code"] == code})
        assert r.data_date == f"cijfers van {years[0]} tot en met {years[-1]}, per indicator de nieuwste"
        assert years[0] < years[-1]


def test_counter_evidence_is_shown_apart(reports):
    html = render_html(reports["GM0981"])
    jongeren = blocks(reports["GM0981"])["wegtrekkende-jongeren"]
    assert not any("Binnenlands migratiesaldo" in e for e in jongeren.evidence)
    assert any("Binnenlands migratiesaldo" in e for e in jongeren.counter)
    article = html[html.index('id="trend-wegtrekkende-jongeren"'):]
    article = article[:article.index("</article>")]
    support, against = article.split("Wat ertegen spreekt")
    assert "Binnenlands migratiesaldo" in against and "Binnenlands migratiesaldo" not in support


def test_old_figures_are_said_and_cap_the_verdict(reports):
    armoede = blocks(reports["GM0014"])["armoede-en-schulden"]
    assert armoede.strength == "enigszins"
    assert armoede.note and "cijfers uit 2015" in armoede.note
    assert "cijfers uit 2015" in render_html(reports["GM0014"])
    assert "armoede-en-schulden" not in {s.anchor.removeprefix("trend-") for s in reports["GM0014"].summary_trends}


def test_domain_intros_read_well(reports):
    for r in reports.values():
        for c in r.chapters:
            if c.intro:
                assert not c.intro[0].startswith("Daarnaast"), c.intro
            for p in c.intro:
                assert "waarvan 0 " not in p and " 0 trends" not in p, p


def test_table_labels_do_not_repeat_the_unit(reports):
    for r in reports.values():
        for c in r.chapters:
            if c.table:
                for row in c.table.rows:
                    assert "))" not in row[0] and row[0] != "Inwoners (inwoners)", row[0]
                    assert not re.search(r"^(\w+) \(\1\)$", row[0], re.I), row[0]


def test_the_rank_caption_names_the_network_with_its_article(ctx, reports):
    from trendstudie.knowledge.localise import localise_all

    finding = next(f for f in localise_all(ctx.con, "GM0014", ctx.rules, ctx.data) if f.trend == "woningtekort")
    fig = rank_figure(ctx, "GM0014", finding, peer_groups(ctx, "GM0014"))
    assert fig and "het G40-stedennetwerk in een tweede tint" in fig.caption


def test_the_method_explains_old_figures(reports):
    text = " ".join(reports["GM0014"].method)
    assert "hooguit 'speelt enigszins'" in text and "ertegen spreken" in text
    assert text.count("Elke regel staat op de trendpagina van het dashboard") == 1


def test_the_locator_map_names_the_province_as_a_province(reports):
    """Groningen lies 'in de provincie Groningen', not 'Groningen in Groningen'."""
    m = reports["GM0014"].map
    assert "Groningen in de provincie Groningen" in m.svg and m.caption.startswith("Ligging van Groningen in de provincie")
    assert "Groningen in Groningen" not in m.svg + m.alt


def test_the_summary_says_each_key_figure_once(reports):
    """Two strong trends judged on the same figure show different evidence in the summary, where
    they have more than one sentence (Groningen printed the same growth twice)."""
    for report in reports.values():
        figures = [s.key_figure for s in report.summary_trends if s.key_figure]
        assert len(figures) == len(set(figures)), report.code
