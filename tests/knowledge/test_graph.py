"""Graph queries: causes, effects, loops, subgraphs."""

from __future__ import annotations

import pytest

from trendstudie.knowledge import model
from trendstudie.knowledge.graph import Graph


@pytest.fixture(scope="module")
def g():
    return Graph(model.load())


def test_effects_and_causes_are_each_others_mirror(g):
    for e in g.effects("vergrijzing"):
        assert any(c.edge.source == "vergrijzing" for c in g.causes(e.edge.target))


def test_depth_grows_the_reach(g):
    one = {s.edge.target for s in g.effects("vergrijzing", 1)}
    two = {s.edge.target for s in g.effects("vergrijzing", 2)}
    assert "stijgende-zorgvraag" in one and one < two
    assert all(s.depth <= 2 for s in g.effects("vergrijzing", 2))


def test_cycles_are_closed_and_classified(g):
    loops = g.cycles(max_length=3)
    assert loops, "the knowledge base should contain feedback loops"
    for c in loops:
        assert c[-1].target == c[0].source
        assert all(a.target == b.source for a, b in zip(c, c[1:]))
        assert Graph.loop_kind(c) in ("versterkend", "balancerend")


def test_loop_kind_counts_negative_links():
    e = lambda s, t, p: model.Edge(source=s, target=t, polarity=p, mechanism="een test van tien",
                                   citations=[model.Citation(seed="001_4db66dc70a33111a.txt", lines=(1, 2), section="x")])
    assert Graph.loop_kind([e("a", "b", "+"), e("b", "a", "-")]) == "balancerend"
    assert Graph.loop_kind([e("a", "b", "-"), e("b", "a", "-")]) == "versterkend"


def test_subgraph_touches_the_given_trends(g):
    edges = g.subgraph({"woningtekort", "vergrijzing"}, depth=1)
    assert edges and all("woningtekort" in (x.source, x.target) or "vergrijzing" in (x.source, x.target) for x in edges)
