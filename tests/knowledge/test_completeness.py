"""The knowledge base covers what the issue asks of it: counts per seed and per domain."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from trendstudie.knowledge import model


@pytest.fixture(scope="module")
def kb():
    return model.load()


def seeds_of(kb, entry_id):
    return {c.seed for c in kb.citations_of(entry_id)}


def test_overall_size(kb):
    assert len(kb.trends) > 120
    assert len(kb.opgaven) >= 150
    assert len(kb.edges) >= 200


def test_every_domain_has_trends_and_opgaven(kb):
    trends = Counter(t.domain for t in kb.trends.values())
    opgaven = Counter(o.domain for o in kb.opgaven.values())
    for d in model.DOMAINS:
        assert trends[d] >= 8, f"{d}: {trends[d]} trends"
        assert opgaven[d] >= 8, f"{d}: {opgaven[d]} opgaven"


@pytest.mark.parametrize("seed, trends, opgaven, edges", [
    ("000_5930c45da9f20d49.txt", 25, 15, 40),
    ("001_4db66dc70a33111a.txt", 60, 90, 100),
    ("002_cbb4c82b8d216066.txt", 20, 20, 40),
    ("003_41075779fd49addc.txt", 20, 15, 60),
    ("004_9a5c835ef468cec0.txt", 15, 10, 30),
])
def test_counts_per_seed(kb, seed, trends, opgaven, edges):
    n_trends = sum(1 for t in kb.trends if seed in seeds_of(kb, t))
    n_opgaven = sum(1 for o in kb.opgaven if seed in seeds_of(kb, o))
    n_edges = sum(1 for e in kb.edges if any(c.seed == seed for c in e.citations))
    assert (n_trends, n_opgaven, n_edges) >= (trends, opgaven, edges) or (
        n_trends >= trends and n_opgaven >= opgaven and n_edges >= edges), (n_trends, n_opgaven, n_edges)


def test_every_chapter_opening_trend_of_the_g40_study_is_cited(kb, seeds):
    """Each ➢ and • line of 001's chapter openings lies within some entry's citation."""
    seed = "001_4db66dc70a33111a.txt"
    lines = (seeds / seed).read_text(encoding="utf-8").splitlines()
    marked = [i + 1 for i, line in enumerate(lines) if line.lstrip().startswith(("➢", "•"))]
    assert len(marked) >= 45  # 24 ➢ and 25 • begin a line in the chapter openings
    cited = set()
    for e in kb.all_entries():
        for c in kb.citations_of(e.id):
            if c.seed == seed:
                cited |= set(range(c.lines[0], c.lines[1] + 1))
    uncovered = [n for n in marked if n not in cited]
    assert not uncovered, f"uncited ➢/• lines in {seed}: {uncovered[:20]}"


def test_hcss_has_ten_challenges_and_its_scenarios(kb):
    assert len(kb.challenges) == 10
    hcss = [s for s in kb.scenarios.values() if s.family == "HCSS"]
    assert len(hcss) >= 4
    assert {s.family for s in kb.scenarios.values()} == {"HCSS", "WLO"}


def test_derksen_agenda_points_cover_the_four_themes(kb):
    themes = Counter(a.theme for a in kb.agenda_points.values())
    assert set(themes) == {"ruimte en economie", "migratie en integratie", "duurzaamheid", "cultuur"}


def test_trends_recurring_across_studies_are_one_entry(kb):
    multi = [t for t in kb.trends if len({c.year for c in kb.citations_of(t)}) >= 3]
    assert len(multi) >= 15
    assert len({c.year for c in kb.citations_of("vergrijzing")}) == 5


@pytest.mark.parametrize("kept, removed, years", [
    ("krimp-potentiele-beroepsbevolking", "krimp-beroepsbevolking", {2013, 2014, 2021}),
    ("verlies-menselijke-maat", "kloof-overheid-minder-redzame-burger", {2013, 2021}),
    ("segregatie", "gescheiden-werelden-opleiding", {2016, 2021, 2024}),
    ("de-urbanisatie", "trek-uit-randstad", {2021, 2024}),
    ("toename-demonstraties", "maatschappelijke-onrust", {2021, 2024}),
    ("great-divergence", "regionaal-economische-verschillen", {2013, 2014, 2016, 2021}),
    ("bevolkingsgroei-steden", "p31-trage-bevolkingsgroei", {2013, 2014, 2016, 2021, 2024}),
])
def test_duplicate_definitions_stay_merged(kb, kept, removed, years):
    """A trend two studies describe under different names is one entry citing both years."""
    assert removed not in {e.id for e in kb.all_entries()}
    assert years <= {c.year for c in kb.citations_of(kept)}


def test_no_self_loops_or_repeated_edges_within_a_study(kb):
    """Merging ids must not leave an edge from a trend to itself, nor the same edge twice from
    one study (the same edge from two studies is fine: each cites its own evidence)."""
    assert not [e for e in kb.edges if e.source == e.target]
    keys = Counter((e.source, e.target, frozenset(c.seed for c in e.citations)) for e in kb.edges)
    assert not [k for k, n in keys.items() if n > 1]


def test_ids_are_unique_across_kinds(kb):
    ids = [e.id for e in kb.all_entries()]
    assert len(ids) == len(set(ids))
    assert all(re.match(r"^[a-z0-9-]+$", i) for i in ids)
