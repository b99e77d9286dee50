"""An item's place in the studies' chains: where a trend plays and in which scenarios, which
challenges and opgaven follow from it, which considerations answer a challenge, which trends a
later study sets against an older one. Used by `trendstudie trend`, the trend page and the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import SEEDS, AgendaPoint, Challenge, Consideration, KnowledgeBase, Opgave, Scenario, Trend, lines_text


@dataclass(frozen=True)
class Item:
    id: str | None  # None for a scope or actor, which are not entries
    title: str
    note: str | None = None


@dataclass
class Step:
    label: str  # Dutch heading: "Waar het speelt", "Uitdagingen die eruit volgen", ...
    items: list[Item] = field(default_factory=list)


def _items(kb: KnowledgeBase, ids: list[str]) -> list[Item]:
    return [Item(i, kb.entry(i).title) for i in ids]


_INVERSE = {"vervangen door": "vervangt", "tegengesproken door": "spreekt tegen", "komt overeen met": "komt overeen met"}


def place(kb: KnowledgeBase, id: str) -> list[Step]:
    """The steps of the chain around entry `id`, empty steps left out."""
    e = kb.entry(id)
    steps: list[Step] = []
    if isinstance(e, Trend):
        steps.append(Step("Waar het speelt volgens de studies", [
            Item(None, kb.scopes[s.scope].label,
                 (s.note.rstrip(".") + "; " if s.note else "")
                 + f"{SEEDS[s.citation.seed][1]}, {lines_text(s.citation.lines)}") for s in e.scopes]))
        if e.period:
            steps.append(Step("Beschrijft de periode", [Item(None, e.period)]))
        links = [Item(k.to, kb.entry(k.to).title, f"{k.relation}: {k.note}") for k in e.links]
        links += [Item(t.id, t.title, f"{_INVERSE[k.relation]}: {k.note}")
                  for t in kb.trends.values() for k in t.links if k.to == id]
        steps.append(Step("In andere studies en later", links))
        steps.append(Step("In de HCSS-scenario's", [
            Item(s.id, s.title, f.assumption) for s in kb.scenarios.values() for f in s.forces if f.force == id]))
        steps.append(Step("Uitdagingen die eruit volgen",
                          _items(kb, [c.id for c in kb.challenges.values() if id in c.drivers])))
    elif isinstance(e, Scenario):
        steps.append(Step("Drijvende krachten in dit scenario",
                          [Item(f.force, kb.entry(f.force).title, f.assumption) for f in e.forces]))
        steps.append(Step("Uitdagingen die hier scherper worden",
                          _items(kb, [c.id for c in kb.challenges.values() if id in c.scenarios])))
    elif isinstance(e, Challenge):
        steps.append(Step("Komt voort uit", _items(kb, list(e.drivers))))
        steps.append(Step("Scherper in de scenario's", _items(kb, list(e.scenarios))))
        steps.append(Step("Strategische afwegingen die erop antwoorden",
                          _items(kb, [c.id for c in kb.considerations.values() if id in c.answers])))
    elif isinstance(e, Consideration):
        steps.append(Step("Antwoordt op de uitdagingen", _items(kb, list(e.answers))))
    elif isinstance(e, AgendaPoint):
        steps.append(Step("Antwoordt op", _items(kb, list(e.answers))))
    elif isinstance(e, Opgave):
        steps.append(Step("Antwoordt op", _items(kb, list(e.answers))))
        steps.append(Step("Wie handelt (de eerste trekt)", [Item(None, kb.actors[a].label) for a in e.actors]))
        if e.timeframe:
            steps.append(Step("Termijn", [Item(None, e.timeframe)]))
    if not isinstance(e, (Opgave, Scenario)):
        steps.append(Step("Opgaven die erop antwoorden",
                          _items(kb, [o.id for o in kb.opgaven.values() if id in o.answers])))
        steps.append(Step("Agendapunten (commissie-Derksen) die erop antwoorden",
                          _items(kb, [a.id for a in kb.agenda_points.values() if id in a.answers])))
    return [s for s in steps if s.items]
