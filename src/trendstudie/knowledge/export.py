"""The whole knowledge base as one JSON document with a stable, documented schema, and a part of
the causal graph as Graphviz DOT or GraphML — for reuse outside trendstudie.

The schema is the pydantic model `KennisbankExport` below; `trendstudie kennisbank --schema`
prints it as JSON Schema and docs/kennisbank.md explains it. Ids are the knowledge base's own
ids and stay stable across versions (a merged or removed id is never reused).
"""

from __future__ import annotations

from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel, ConfigDict

from .model import SEEDS, Citation, KnowledgeBase, Link

SCHEMA_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Out):
    seed: str  # file name in the seeds folder
    year: int
    section: str
    lines: tuple[int, int]


class Study(_Out):
    seed: str
    year: int
    title: str


class ScopeOut(_Out):
    id: str
    label: str
    level: Literal["gemeente", "binnen gemeente"]
    description: str
    match: dict
    reason: str | None


class ActorOut(_Out):
    id: str
    label: str
    level: str


class ScopeClaimOut(_Out):
    scope: str
    note: str | None
    source: Source


class TrendLinkOut(_Out):
    to: str
    relation: str
    note: str
    source: Source | None


class TrendOut(_Out):
    id: str
    title: str
    summary: str
    domain: str
    certainty: str
    horizon: str
    direction: str
    headline: bool
    period: str | None
    indicators: list[str]
    scopes: list[ScopeClaimOut]
    links: list[TrendLinkOut]
    sources: list[Source]


class OpgaveOut(_Out):
    id: str
    title: str
    summary: str
    domain: str
    answers: list[str]
    actors: list[str]
    timeframe: str | None
    headline: bool
    period: str | None
    sources: list[Source]


class ScenarioForceOut(_Out):
    force: str
    assumption: str


class ScenarioOut(_Out):
    id: str
    family: str
    title: str
    summary: str
    base: bool
    assumptions: list[str]
    forces: list[ScenarioForceOut]
    sources: list[Source]


class ChallengeOut(_Out):
    id: str
    title: str
    summary: str
    domain: str
    drivers: list[str]
    scenarios: list[str]
    related: list[str]
    sources: list[Source]


class ConsiderationOut(_Out):
    id: str
    title: str
    summary: str
    answers: list[str]
    related: list[str]
    sources: list[Source]


class AgendaPointOut(_Out):
    id: str
    title: str
    summary: str
    theme: str
    answers: list[str]
    related: list[str]
    sources: list[Source]


class AccountOut(_Out):
    seed: str
    year: int
    mechanism: str
    sources: list[Source]


class EdgeOut(_Out):
    source: str
    target: str
    polarity: Literal["+", "-"]
    accounts: list[AccountOut]


class KennisbankExport(_Out):
    """The knowledge base of trendstudie: trends and driving forces from five Dutch trend
    studies, the opgaven that follow, the HCSS scenarios, challenges and strategic
    considerations, the Derksen agenda points, the causal links between them, and the
    vocabulary of scopes (where a trend plays) and actors (who acts)."""

    schema_name: Literal["trendstudie-kennisbank"] = "trendstudie-kennisbank"
    schema_version: int = SCHEMA_VERSION
    studies: list[Study]
    scopes: list[ScopeOut]
    actors: list[ActorOut]
    trends: list[TrendOut]
    forces: list[TrendOut]
    opgaven: list[OpgaveOut]
    scenarios: list[ScenarioOut]
    challenges: list[ChallengeOut]
    considerations: list[ConsiderationOut]
    agenda_points: list[AgendaPointOut]
    edges: list[EdgeOut]


def _source(c: Citation) -> Source:
    return Source(seed=c.seed, year=c.year or SEEDS[c.seed][0], section=c.section, lines=c.lines)


def _sources(kb: KnowledgeBase, id: str) -> list[Source]:
    return [_source(c) for c in kb.citations_of(id)]


def _trend(kb: KnowledgeBase, t) -> TrendOut:
    return TrendOut(
        id=t.id, title=t.title, summary=t.summary, domain=t.domain, certainty=t.certainty, horizon=t.horizon,
        direction=t.direction, headline=t.headline, period=t.period, indicators=list(t.indicators),
        scopes=[ScopeClaimOut(scope=s.scope, note=s.note, source=_source(s.citation)) for s in t.scopes],
        links=[TrendLinkOut(to=k.to, relation=k.relation, note=k.note,
                            source=_source(k.citation) if k.citation else None) for k in t.links],
        sources=_sources(kb, t.id))


def _edge(e: Link) -> EdgeOut:
    accounts = []
    for a in e.accounts:
        seed = a.citations[0].seed
        accounts.append(AccountOut(seed=seed, year=SEEDS[seed][0], mechanism=a.mechanism,
                                   sources=[_source(c) for c in a.citations]))
    return EdgeOut(source=e.source, target=e.target, polarity=e.polarity, accounts=accounts)


def export(kb: KnowledgeBase) -> KennisbankExport:
    trends = sorted(kb.trends.values(), key=lambda t: t.id)
    return KennisbankExport(
        studies=[Study(seed=s, year=y, title=title) for s, (y, title) in SEEDS.items()],
        scopes=[ScopeOut(**s.model_dump()) for s in kb.scopes.values()],
        actors=[ActorOut(**a.model_dump()) for a in kb.actors.values()],
        trends=[_trend(kb, t) for t in trends if t.kind == "trend"],
        forces=[_trend(kb, t) for t in trends if t.kind == "drijvende kracht"],
        opgaven=[OpgaveOut(id=o.id, title=o.title, summary=o.summary, domain=o.domain, answers=list(o.answers),
                           actors=list(o.actors), timeframe=o.timeframe, headline=o.headline, period=o.period,
                           sources=_sources(kb, o.id)) for o in sorted(kb.opgaven.values(), key=lambda o: o.id)],
        scenarios=[ScenarioOut(id=s.id, family=s.family, title=s.title, summary=s.summary, base=s.base,
                               assumptions=list(s.assumptions),
                               forces=[ScenarioForceOut(force=f.force, assumption=f.assumption) for f in s.forces],
                               sources=_sources(kb, s.id)) for s in kb.scenarios.values()],
        challenges=[ChallengeOut(id=c.id, title=c.title, summary=c.summary, domain=c.domain, drivers=list(c.drivers),
                                 scenarios=list(c.scenarios), related=list(c.related), sources=_sources(kb, c.id))
                    for c in kb.challenges.values()],
        considerations=[ConsiderationOut(id=c.id, title=c.title, summary=c.summary, answers=list(c.answers),
                                         related=list(c.related), sources=_sources(kb, c.id))
                        for c in kb.considerations.values()],
        agenda_points=[AgendaPointOut(id=a.id, title=a.title, summary=a.summary, theme=a.theme,
                                      answers=list(a.answers), related=list(a.related), sources=_sources(kb, a.id))
                       for a in kb.agenda_points.values()],
        edges=[_edge(e) for e in sorted(kb.edges, key=lambda e: (e.source, e.target))],
    )


def _label(kb: KnowledgeBase, id: str) -> str:
    return kb.entry(id).title


def _studies(e: Link) -> str:
    return ", ".join(str(SEEDS[s][0]) for s in e.studies)


def to_dot(kb: KnowledgeBase, edges: list[Link], focus: str | None = None) -> str:
    """A Graphviz DOT digraph of `edges`: nodes titled, '+' solid, '−' dashed, each edge labelled
    with the years of the studies that describe it and its mechanism as tooltip."""

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    nodes = list(dict.fromkeys([n for e in edges for n in (e.source, e.target)] + ([focus] if focus else [])))
    lines = ["digraph samenhang {", "  rankdir=LR;", '  node [shape=box, style="rounded", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for n in nodes:
        extra = ', style="rounded,bold"' if n == focus else ""
        lines.append(f"  {q(n)} [label={q(_label(kb, n))}{extra}];")
    for e in edges:
        style = "solid" if e.polarity == "+" else "dashed"
        lines.append(f"  {q(e.source)} -> {q(e.target)} [label={q(e.polarity + ' ' + _studies(e))}, "
                     f"style={style}, tooltip={q(' | '.join(a.mechanism for a in e.accounts))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(kb: KnowledgeBase, edges: list[Link]) -> str:
    """GraphML of `edges` with node titles and, per edge, polarity, studies and mechanisms."""
    nodes = list(dict.fromkeys(n for e in edges for n in (e.source, e.target)))
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
           '  <key id="title" for="node" attr.name="title" attr.type="string"/>',
           '  <key id="polarity" for="edge" attr.name="polarity" attr.type="string"/>',
           '  <key id="studies" for="edge" attr.name="studies" attr.type="string"/>',
           '  <key id="mechanism" for="edge" attr.name="mechanism" attr.type="string"/>',
           '  <graph id="samenhang" edgedefault="directed">']
    for n in nodes:
        out.append(f'    <node id={quoteattr(n)}><data key="title">{escape(_label(kb, n))}</data></node>')
    for e in edges:
        out.append(f'    <edge source={quoteattr(e.source)} target={quoteattr(e.target)}>'
                   f'<data key="polarity">{escape(e.polarity)}</data>'
                   f'<data key="studies">{escape(_studies(e))}</data>'
                   f'<data key="mechanism">{escape(" | ".join(a.mechanism for a in e.accounts))}</data></edge>')
    out += ["  </graph>", "</graphml>"]
    return "\n".join(out) + "\n"
