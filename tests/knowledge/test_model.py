"""The knowledge base: schema, citations that point at real text, and our own words only."""

from __future__ import annotations

from pathlib import Path

import pytest

from trendstudie.knowledge import model
from trendstudie.knowledge.ownwords import SeedIndex, words


@pytest.fixture(scope="module")
def kb() -> model.KnowledgeBase:
    return model.load()


def _texts(kb: model.KnowledgeBase):
    for e in kb.all_entries():
        yield e.id, e.title
        yield e.id, e.summary
        for a in getattr(e, "assumptions", []):
            yield e.id, a
        for f in getattr(e, "forces", []):
            yield e.id, f.assumption
        for c in getattr(e, "scopes", []):
            if c.note:
                yield e.id, c.note
        for k in getattr(e, "links", []):
            yield e.id, k.note
        if getattr(e, "timeframe", None):
            yield e.id, e.timeframe
    for edge in kb.edges:
        for a in edge.accounts:
            yield f"{edge.source}->{edge.target}", a.mechanism


def test_loads_and_references_resolve(kb):
    assert kb.trends, "no trends in the knowledge base"


def test_every_citation_exists_and_mentions_a_key_term(kb, seeds: Path):
    lines = {name: (seeds / name).read_text(encoding="utf-8").splitlines() for name in model.SEEDS}
    problems = []
    checked = 0
    for e in kb.all_entries():
        terms = [" ".join(words(t)) for t in e.terms]
        for c in kb.citations_of(e.id):
            a, b = c.lines
            text = lines[c.seed]
            if b > len(text):
                problems.append(f"{e.id}: {c.seed} has {len(text)} lines, cited {a}-{b}")
                continue
            passage = " ".join(words("\n".join(text[a - 1 : b])))
            if not any(t and t in passage for t in terms):
                problems.append(f"{e.id}: none of {e.terms} in {c.seed}:{a}-{b}")
            checked += 1
    for edge in kb.edges:
        for c in edge.citations:
            if c.lines[1] > len(lines[c.seed]):
                problems.append(f"edge {edge.source}->{edge.target}: line {c.lines[1]} beyond {c.seed}")
    assert checked > 0
    assert not problems, "\n".join(problems[:50])


def test_own_words_only(kb, seeds: Path):
    index = SeedIndex(seeds, n=10)
    copied = [(id_, run) for id_, text in _texts(kb) for run in index.shared_runs(text)]
    assert not copied, "\n".join(f"{i}: '{r}'" for i, r in copied[:50])


def test_own_words_detector_catches_a_copied_sentence(seeds: Path):
    index = SeedIndex(seeds, n=10)
    sample = (seeds / "001_4db66dc70a33111a.txt").read_text(encoding="utf-8").splitlines()[601:606]
    assert index.shared_runs(" ".join(sample)), "a verbatim passage must be detected"
