"""The knowledge base's structure for local studies: scopes matched against real data, links
merged per cause and effect, edges that read the right way, the chain view, and the export."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from typer.testing import CliRunner

from trendstudie.cli import app
from trendstudie.errors import InputError
from trendstudie.knowledge import scopes
from trendstudie.knowledge.chain import place
from trendstudie.knowledge.export import KennisbankExport, export, to_dot, to_graphml
from trendstudie.knowledge.localise import IndicatorData
from trendstudie.knowledge.model import SEEDS as SEEDS_
from trendstudie.knowledge.model import Citation, Edge, load, merge_edges


@pytest.fixture(scope="module")
def kb():
    return load()


@pytest.fixture(scope="module")
def data(con):
    return IndicatorData(con)


def _applies(kb, data, scope_id: str) -> set[str]:
    return {code for code in data.groups_of if code.startswith("GM")
            and scopes.match_scope(kb.scopes[scope_id], data, code).applies}


# --- scopes against the store ------------------------------------------------------------------

def test_every_scope_rule_can_be_evaluated_on_the_store(kb, data):
    provinces = {t.removeprefix("Provincie ") for t in data.group_titles.values() if t.startswith("Provincie ")}
    assert scopes.check_vocabulary(kb, set(data.group_titles), provinces, set(data.meta)) == []


def test_check_vocabulary_names_what_is_wrong(kb):
    problems = scopes.check_vocabulary(kb, {"G4"}, {"Utrecht"}, {"bevolking"})
    assert any("onbekende groep 'G40'" in p for p in problems)
    assert any("onbekende provincie 'Noord-Holland'" in p for p in problems)
    assert any("onbekende indicator 'bevolkingsdichtheid'" in p for p in problems)


def test_group_scopes_follow_the_published_member_lists(kb, data, con):
    members = {gid: {r[0] for r in con.execute("SELECT region_code FROM group_members WHERE group_id = ?", [gid]).fetchall()}
               for gid in ("G4", "G40", "M50")}
    assert _applies(kb, data, "g4") == members["G4"] == {"GM0363", "GM0599", "GM0518", "GM0344"}
    assert _applies(kb, data, "centrumsteden") == members["G40"]
    assert _applies(kb, data, "steden") == members["G4"] | members["G40"]
    assert _applies(kb, data, "middelgrote-gemeenten") == members["M50"]
    assert len(_applies(kb, data, "alle-gemeenten")) == 342
    m = scopes.match_scope(kb.scopes["centrumsteden"], data, "GM0193")
    assert m.applies and m.reason == "Zwolle hoort bij het G40-stedennetwerk."


def test_krimpgebieden_are_the_gemeenten_whose_population_fell_in_ten_years(kb, data, con):
    rows = con.execute("SELECT region_code, period, value FROM indicator_values WHERE indicator_id = 'bevolking' "
                       "AND region_code LIKE 'GM%' ORDER BY 1, 2").fetchall()
    series: dict[str, list[tuple[str, float]]] = {}
    for code, period, value in rows:
        series.setdefault(code, []).append((period, value))
    expected = set()
    for code, s in series.items():
        last_year = int(s[-1][0][:4])
        start = next((v for p, v in s if int(p[:4]) >= last_year - 10), None)
        if start is not None and s[-1][1] < start:
            expected.add(code)
    found = _applies(kb, data, "krimpgebieden")
    assert found == expected
    assert 10 < len(found) < 100  # a real minority, not everyone or no one
    assert "GM0363" not in found  # Amsterdam grows


def test_small_gemeenten_students_and_randstad_on_real_gemeenten(kb, data):
    small = _applies(kb, data, "kleine-gemeenten")
    assert "GM0096" in small  # Vlieland: ~1.200 inwoners
    assert not small & _applies(kb, data, "steden")
    students = _applies(kb, data, "studentensteden")
    assert {"GM0289", "GM0014", "GM0503", "GM0546", "GM0935"} <= students  # Wageningen, Groningen, Delft, Leiden, Maastricht
    assert not {"GM0184", "GM0180"} & students  # Urk, Staphorst: many young people, because of large families
    assert scopes.match_scope(kb.scopes["randstad"], data, "GM0363").applies is True
    m = scopes.match_scope(kb.scopes["randstad"], data, "GM0193")
    assert m.applies is False and "Overijssel" in m.reason


def test_undecidable_scopes_say_so_and_why(kb, data):
    for sid in ("grensgemeenten", "kust-en-wadden", "haven-en-industrie", "toeristische-gemeenten"):
        m = scopes.match_scope(kb.scopes[sid], data, "GM0193")
        assert m.applies is None and "bundel" in m.reason


def test_rule_scopes_state_their_reason(kb):
    for s in kb.scopes.values():
        if "regels" in s.match or "provincies" in s.match:
            assert s.reason and len(s.reason) > 40, s.id


# --- one link per cause and effect ------------------------------------------------------------

def _edge(source, target, polarity, seed="001_4db66dc70a33111a.txt"):
    return Edge(source=source, target=target, polarity=polarity, mechanism="een uitleg in eigen woorden",
                citations=[Citation(seed=seed, lines=(1, 2), section="x")])


def test_merge_keeps_one_link_with_each_account():
    links, problems = merge_edges([_edge("a", "b", "+"), _edge("a", "b", "+", "003_41075779fd49addc.txt"),
                                   _edge("b", "a", "-")])
    assert problems == []
    assert [(x.source, x.target, len(x.accounts)) for x in links] == [("a", "b", 2), ("b", "a", 1)]
    assert links[0].studies == ["001_4db66dc70a33111a.txt", "003_41075779fd49addc.txt"]


def test_merge_refuses_accounts_that_disagree_on_the_polarity():
    _, problems = merge_edges([_edge("a", "b", "+"), _edge("a", "b", "-", "003_41075779fd49addc.txt")])
    assert problems and "a → b" in problems[0]


def test_a_pair_twice_in_one_file_is_refused(tmp_path):
    import yaml

    from trendstudie.knowledge.model import DATA

    for p in DATA.glob("*.yaml"):
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        if p.name.startswith("003"):
            raw["edges"].append(dict(raw["edges"][0]))
        (tmp_path / p.name).write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="twee keer"):
        load(tmp_path)


def test_no_two_links_share_cause_and_effect(kb):
    pairs = [(e.source, e.target) for e in kb.edges]
    assert len(pairs) == len(set(pairs))


# Hand-checked: each edge read from the node titles ("<cause> versterkt/remt <effect>") against
# its mechanism and the cited passage. Among them the edges into the node titled as trust, which
# used to be titled as a gap ('kloof') and then read backwards.
READS_RIGHT = [
    ("bevolkingsgroei-steden", "schaarse-ruimte", "+"),
    ("vergrijzing", "achterblijvende-arbeidsproductiviteit", "+"),
    ("stomp-principe", "dominantie-auto", "-"),
    ("liberalisering-ruimtelijk-beleid", "krimp", "+"),
    ("ondermijning", "criminele-rekrutering-jongeren", "+"),
    ("smart-city", "privacy-en-algoritmerisico", "+"),
    ("oplopende-werkloosheid-crisis", "onbenut-arbeidspotentieel", "+"),
    ("consumer-city", "segregatie", "+"),
    ("woningtekort", "overbewoning-illegale-verhuur", "+"),
    ("armoede-en-schulden", "ondermijning", "+"),
    ("binnenstedelijke-verdichting", "hittestress-stad", "+"),
    ("vergrijzing", "stijgende-zorguitgaven", "+"),
    ("huishoudverdunning", "woningtekort", "+"),
    ("kansenongelijkheid", "vertrouwen-in-overheid", "-"),
    ("segregatie", "vertrouwen-in-overheid", "-"),
    ("burgerparticipatie", "vertrouwen-in-overheid", "+"),
    ("privacy-en-algoritmerisico", "vertrouwen-in-overheid", "-"),
    ("verlies-menselijke-maat", "vertrouwen-in-overheid", "-"),
]


def test_hand_checked_edges_read_the_right_way(kb):
    links = {(e.source, e.target): e.polarity for e in kb.edges}
    assert kb.trends["vertrouwen-in-overheid"].title.startswith("Vertrouwen")
    wrong = [(s, t, p, links.get((s, t))) for s, t, p in READS_RIGHT if links.get((s, t)) != p]
    assert wrong == []


# --- the chain view and the export --------------------------------------------------------------

def test_place_shows_where_a_trend_plays_and_what_answers_it(kb):
    steps = {s.label: s for s in place(kb, "woningtekort")}
    assert "Opgaven die erop antwoorden" in steps
    answering = {i.id for i in steps["Opgaven die erop antwoorden"].items}
    assert answering == {o.id for o in kb.opgaven.values() if "woningtekort" in o.answers}


def test_export_validates_against_its_own_schema_and_holds_everything(kb):
    doc = export(kb).model_dump(mode="json")
    jsonschema.validate(doc, KennisbankExport.model_json_schema())
    assert doc["schema_name"] == "trendstudie-kennisbank" and doc["schema_version"] == 1
    assert len(doc["trends"]) + len(doc["forces"]) == len(kb.trends)
    assert {o["id"] for o in doc["opgaven"]} == set(kb.opgaven)
    assert len(doc["edges"]) == len(kb.edges)
    assert sum(len(e["accounts"]) for e in doc["edges"]) == sum(len(e.accounts) for e in kb.edges)
    ids = [x["id"] for k in ("trends", "forces", "opgaven", "scenarios", "challenges", "considerations", "agenda_points")
           for x in doc[k]]
    assert len(ids) == len(set(ids))
    assert {s["id"] for s in doc["scopes"]} == set(kb.scopes)


def test_cli_kennisbank_prints_the_export_and_its_schema():
    r = CliRunner().invoke(app, ["kennisbank"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    schema = json.loads(CliRunner().invoke(app, ["kennisbank", "--format", "schema"]).stdout)
    jsonschema.validate(doc, schema)
    bad = CliRunner().invoke(app, ["kennisbank", "--format", "xml"])
    assert bad.exit_code != 0


def test_samenhang_writes_dot_and_graphml(kb, tmp_path):
    r = CliRunner().invoke(app, ["samenhang", "woningtekort", "--diepte", "1", "--format", "graphml"])
    assert r.exit_code == 0, r.output
    root = ET.fromstring(r.stdout)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    edges = {(e.get("source"), e.get("target")) for e in root.iterfind(".//g:edge", ns)}
    expected = {(e.source, e.target) for e in kb.edges if "woningtekort" in (e.source, e.target)}
    assert edges == expected
    out = tmp_path / "s.dot"
    r = CliRunner().invoke(app, ["samenhang", "woningtekort", "--diepte", "1", "--format", "dot", "--uit", str(out)])
    assert r.exit_code == 0
    dot = out.read_text(encoding="utf-8")
    assert dot.startswith("digraph") and dot.count(" -> ") == len(expected)


def test_samenhang_text_shows_each_studys_explanation(kb):
    multi = next(e for e in kb.edges if len(e.accounts) > 1)
    r = CliRunner().invoke(app, ["samenhang", multi.target, "--diepte", "1"])
    assert r.exit_code == 0
    for a in multi.accounts:
        assert a.mechanism[:40] in " ".join(r.stdout.split())


def test_dot_and_graphml_escape_titles(kb):
    e = kb.edges[0]
    assert to_dot(kb, [e]).count("->") == 1
    ET.fromstring(to_graphml(kb, [e]))


# --- completeness: what a local study needs from every item ----------------------------------

HCSS = "003_41075779fd49addc.txt"


def test_every_trend_and_force_says_where_it_plays(kb):
    missing = [t.id for t in kb.trends.values() if not t.scopes]
    assert missing == []


def test_scope_citations_contain_a_key_term(kb, seeds):
    lines = {name: (seeds / name).read_text(encoding="utf-8").splitlines() for name in SEEDS_}
    bad = []
    for t in kb.trends.values():
        for c in t.scopes:
            a, b = c.citation.lines
            text = " ".join(" ".join(lines[c.citation.seed][a - 1:b]).lower().split())
            if not any(" ".join(term.lower().split()) in text for term in t.terms):
                bad.append((t.id, c.scope, c.citation.lines))
    assert bad == []


def test_every_opgave_names_who_acts(kb):
    assert [o.id for o in kb.opgaven.values() if not o.actors] == []


def test_hcss_chain_is_linked(kb):
    hcss_challenges = [c for c in kb.challenges.values() if any(x.seed == HCSS for x in c.citations)]
    assert len(hcss_challenges) == 10
    assert [c.id for c in hcss_challenges if not (c.drivers or c.scenarios)] == []
    hcss_considerations = [c for c in kb.considerations.values() if any(x.seed == HCSS for x in c.citations)]
    assert hcss_considerations and [c.id for c in hcss_considerations if not c.answers] == []
    for c in hcss_considerations:
        assert all(a in kb.challenges for a in c.answers), c.id
    base = [s for s in kb.scenarios.values() if s.base]
    assert len(base) == 1 and base[0].family == "HCSS"
    assert all(s.forces for s in kb.scenarios.values() if s.family == "HCSS")


def test_every_agenda_point_answers_something(kb):
    assert len(kb.agenda_points) == 39
    assert [a.id for a in kb.agenda_points.values() if not a.answers] == []


def test_many_links_are_described_by_more_than_one_study(kb):
    assert sum(1 for e in kb.edges if len(e.studies) > 1) >= 20


def test_chapter_headlines_of_the_g40_m50_study_are_marked(kb):
    heads = [x for x in list(kb.trends.values()) + list(kb.opgaven.values()) if x.headline]
    assert len(heads) >= 40  # eight chapters, each opening with its ➢ trends and • opgaven


def test_older_items_that_later_studies_overtook_are_linked(kb):
    links = [(t.id, k.to, k.relation) for t in kb.trends.values() for k in t.links]
    assert ("terugtredende-overheid", "hercentralisatie-rijksregie", "vervangen door") in links or \
           ("terugtredende-overheid", "hercentralisatie-rijksregie", "tegengesproken door") in links
    for t in kb.trends.values():
        for k in t.links:
            assert k.to != t.id
    crisis = [t for t in kb.trends.values() if t.period]
    assert crisis and all(any(ch.isdigit() for ch in t.period) for t in crisis)


def test_citations_read_cleanly_in_the_chain(kb):
    """Where a trend plays according to the studies: a note ending in a full stop is not followed by
    ';' ('….; De G40/M50-studie'), and a citation of one line says 'regel 3985', not 'regels 3985–3985'."""
    from trendstudie.knowledge.model import line_span, lines_text

    assert (line_span((184, 196)), lines_text((184, 196))) == ("184–196", "regels 184–196")
    assert (line_span((3985, 3985)), lines_text((3985, 3985))) == ("3985", "regel 3985")
    notes = [item.note for t in kb.trends for step in place(kb, t) for item in step.items if item.note]
    assert notes and not any(".;" in n for n in notes)
    assert not any(re.search(r"regels (\d+)–\1\b", n) for n in notes)
