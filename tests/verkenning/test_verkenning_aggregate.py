"""The aggregates, the frame and the SVGs are pure functions of answers: checked on hand-made data."""

from __future__ import annotations

from trendstudie.verkenning.aggregate import AnswerScores, ItemInfo, aggregate, quantile, stat
from trendstudie.verkenning.frame import axes, base_items, choose_projection, draft_challenges, frame, load_rules
from trendstudie.verkenning.svg import matrix, radar, ring_of, shade


A = AnswerScores


def test_quantiles_interpolate_like_numpy():
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([1, 2, 3, 4], 0.25) == 1.75
    assert quantile([1, 2, 3, 4], 0.75) == 3.25
    assert quantile([5], 0.25) == 5
    s = stat([1, 2, 2, 2, 5, None])
    assert (s.n, s.median, s.q1, s.q3, s.iqr, s.consensus) == (5, 2, 2, 2, 0, True)
    assert stat([1, 5]).consensus is False
    assert stat([None]) is None


def test_aggregate_rounds_consensus_and_shift():
    items = [ItemInfo(1, "Vergrijzing", "demografie", "vergrijzing"), ItemInfo(2, "Eigen item", "bestuur")]
    answers = [A(1, 1, 1, 5, 2, 1), A(2, 1, 1, 1, 4, 3), A(3, 1, 1, 3, 3, 2),  # round 1: wide spread on item 1
               A(1, 2, 1, 2, 2), A(2, 2, 1, 2, 2),
               A(1, 1, 2, 4, 2, 1), A(2, 1, 2, 4, 3, 2), A(3, 1, 2, 4, 2, 2)]  # round 2: agreement
    res = aggregate(items, answers, invited=4, rounds=2)
    assert [(r.ronde, r.invited, r.responded, r.complete) for r in res.rounds] == [(1, 4, 3, 2), (2, 4, 3, 0)]
    one = res.items[0]
    assert one.rounds[1].stats["impact"].median == 3 and one.rounds[1].stats["impact"].iqr == 2
    assert one.rounds[1].consensus is False
    assert one.rounds[2].stats["impact"].median == 4 and one.rounds[2].consensus is True
    assert one.shift(2, "impact") == 1
    assert one.latest().ronde == 2 and one.median("horizon") == 2
    assert res.items[1].latest().ronde == 1  # not scored again in round 2: its round-1 answers stand
    assert res.latest_round == 2


def test_answers_of_unknown_items_are_ignored():
    res = aggregate([ItemInfo(1, "x", "bestuur")], [A(1, 99, 1, 5, 5)], invited=1, rounds=1)
    assert res.rounds[0].responded == 0 and res.items[0].latest() is None


def _results(scores: dict[int, tuple[float, float]], trends: dict[int, str] | None = None):
    items = [ItemInfo(i, f"Item {i}", "demografie", (trends or {}).get(i)) for i in scores]
    answers = [A(p, i, 1, int(imp), int(unc), 2) for i, (imp, unc) in scores.items() for p in (1, 2, 3)]
    return aggregate(items, answers, 3, 1)


def test_axes_are_the_most_impactful_and_uncertain_and_base_is_high_impact_low_uncertainty():
    res = _results({1: (5, 1), 2: (4, 5), 3: (5, 4), 4: (2, 5), 5: (4, 2)})
    assert [a.item.id for a in axes(res)] == [3, 2]
    assert [b.item.id for b in base_items(res)] == [1, 5]


def test_frame_storylines_and_projection_from_the_knowledge_base():
    from trendstudie.knowledge.graph import Graph
    from trendstudie.knowledge.model import load

    kb = load()
    graph = Graph(kb)
    res = _results({1: (5, 5), 2: (5, 4), 3: (3, 2)},
                   {1: "internationale-migratie", 2: "bevolkingsgroei-steden", 3: "woningtekort"})
    fr = frame(kb, graph, res, projections=lambda s: {"bevolking": {"hoog": 3.0, "laag": 1.0}.get(s, 2.0)})
    assert [q.states for q in fr.quadrants] == [("hoog", "hoog"), ("hoog", "laag"), ("laag", "hoog"), ("laag", "laag")]
    assert fr.quadrants[0].projection == "hoog" and fr.quadrants[3].projection == "laag"
    assert fr.quadrants[0].figures == {"bevolking": 3.0} and fr.quadrants[3].figures == {"bevolking": 1.0}
    text = " ".join(fr.quadrants[0].storyline)
    edges = [e for e in graph.out["internationale-migratie"]] + [e for e in graph.out["bevolkingsgroei-steden"]]
    assert edges and any(e.mechanism in text for e in edges)
    # every storyline sentence comes from an edge of the graph, or says there is none
    for q in fr.quadrants:
        assert q.storyline


def test_projection_falls_back_to_basis_without_a_matching_axis():
    res = _results({1: (5, 5), 2: (5, 4)})  # own items: no knowledge base trend
    a, b = axes(res)
    assert choose_projection(a, b, ("hoog", "hoog"), load_rules())[0] == "basis"


def test_draft_challenges_answer_the_top_items():
    from trendstudie.knowledge.model import load

    kb = load()
    res = _results({1: (5, 3)}, {1: "woningtekort"})
    drafts = draft_challenges(kb, res)
    assert drafts and all("woningtekort" in kb.opgaven[c.opgave].answers for c in drafts)


def test_svgs_carry_the_aggregates_and_escape_text():
    res = _results({1: (5, 1), 2: (2, 4)})
    res.items[0].item = ItemInfo(1, "<script>alert(1)</script>", "demografie")
    svg = radar(res.items, "Radar & <titel>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Radar &amp; &lt;titel&gt;" in svg
    assert 'data-item="1" data-impact="5.0" data-onzekerheid="1.0" data-ring="2"' in svg
    assert svg.count('class="sector"') == 8
    m = matrix(res.items, "Matrix")
    assert 'data-item="2" data-impact="2.0" data-onzekerheid="4.0"' in m
    assert shade(1) == "#c6dbef" and shade(5) == "#08306b"
    assert (ring_of(1), ring_of(1.5), ring_of(3), ring_of(None)) == (0, 1, 2, 2)
