"""The verkenning's conclusions, drawn from the aggregates and the knowledge base (pure functions):

- the 2×2 scenario frame: the two items with the highest impact × uncertainty (medians of the
  latest round) are the axes; each quadrant gets a storyline from the causal graph (what the
  axis trends drive or dampen among the verkenning's items, and where they reinforce each
  other) and the projection scenario that fits it (frame.yaml) with population, households and
  woningbehoefte in 2040;
- the base scenario: items with high impact (median > 3) and low uncertainty (median < 3);
- draft challenges: the opgaven of the knowledge base that answer the most impactful items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..errors import InputError
from ..textfile import load_yaml
from .aggregate import ItemResult, Results

FRAME_YAML = Path(__file__).parent / "frame.yaml"
State = Literal["hoog", "laag"]
MIDPOINT = 3.0


class ProjectionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: str
    reden: str
    voorwaarden: dict[str, State]


class FrameRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    projecties: list[ProjectionRule]


@lru_cache(maxsize=4)
def load_rules(path: Path = FRAME_YAML) -> FrameRules:
    try:
        return FrameRules.model_validate(load_yaml(path) or {})
    except ValueError as exc:
        raise InputError(path, str(exc)) from None


def scored(results: Results) -> list[ItemResult]:
    """Items with a median impact and uncertainty in the latest round they were scored."""
    return [r for r in results.items if r.median("impact") is not None and r.median("onzekerheid") is not None]


def axes(results: Results) -> list[ItemResult]:
    """The two most impactful and most uncertain items: highest impact × uncertainty, then impact."""
    ranked = sorted(scored(results), key=lambda r: (-(r.median("impact") * r.median("onzekerheid")),
                                                    -r.median("impact"), r.item.id))
    return ranked[:2]


def base_items(results: Results) -> list[ItemResult]:
    """High impact, low uncertainty: what the base scenario assumes will happen."""
    keep = [r for r in scored(results) if r.median("impact") > MIDPOINT and r.median("onzekerheid") < MIDPOINT]
    return sorted(keep, key=lambda r: (-r.median("impact"), r.median("onzekerheid"), r.item.id))


@dataclass
class Quadrant:
    states: tuple[State, State]
    title: str
    storyline: list[str]
    projection: str  # scenario id of forecast/scenarios.yaml
    projection_reason: str
    figures: dict[str, float | None] = field(default_factory=dict)  # bevolking, huishoudens, woningbehoefte in 2040


@dataclass
class Frame:
    axes: list[ItemResult]
    quadrants: list[Quadrant]


def _effects(kb, graph, item: ItemResult, state: State, among: dict[str, str], limit: int = 3) -> list[str]:
    """What the axis trend does to the other items in this state, from the causal edges."""
    if not item.item.trend:
        return []
    out = []
    edges = sorted(graph.out.get(item.item.trend, []), key=lambda e: (e.target not in among, e.target))
    for e in edges[:limit]:
        target = among.get(e.target) or kb.entry(e.target).title
        if state == "hoog":
            what = "neemt „{}“ toe" if e.polarity == "+" else "neemt „{}“ af"
        else:
            what = "blijft „{}“ achter" if e.polarity == "+" else "krijgt „{}“ ruimte"
        how = "sterk doorzet" if state == "hoog" else "zwak blijft"
        out.append(f"Als „{item.item.titel}“ {how}, {what.format(target)}: {e.mechanism}")
    return out


def _mutual(kb, graph, a: ItemResult, b: ItemResult, states: tuple[State, State]) -> list[str]:
    out = []
    if not (a.item.trend and b.item.trend):
        return out
    for x, y, sx in ((a, b, states[0]), (b, a, states[1])):
        for e in graph.out.get(x.item.trend, []):
            if e.target == y.item.trend:
                together = (e.polarity == "+") == (states[0] == states[1])
                out.append(f"„{x.item.titel}“ en „{y.item.titel}“ "
                           f"{'versterken elkaar' if together else 'werken elkaar hier tegen'}: {e.mechanism}")
    return out


def _loops(graph, a: ItemResult, b: ItemResult, trends: set[str]) -> list[str]:
    ids = {x.item.trend for x in (a, b) if x.item.trend}
    out = []
    for cycle in graph.cycles(max_length=3, within=trends):
        nodes = [e.source for e in cycle]
        if ids & set(nodes):
            names = " → ".join(graph.kb.entry(n).title for n in nodes + [nodes[0]])
            out.append(f"Een {graph.loop_kind(cycle)}e kringloop in deze gemeente: {names}.")
    return out[:2]


def choose_projection(a: ItemResult, b: ItemResult, states: tuple[State, State],
                      rules: FrameRules) -> tuple[str, str]:
    state_of = {x.item.trend: s for x, s in ((a, states[0]), (b, states[1])) if x.item.trend}
    best, best_n = None, 0
    for rule in rules.projecties:
        n = sum(1 for t, s in rule.voorwaarden.items() if state_of.get(t) == s)
        if n > best_n:
            best, best_n = rule, n
    if best is None:
        return "basis", "geen van beide assen bepaalt de bevolkingsgroei; de basisprognose"
    return best.scenario, best.reden


def frame(kb, graph, results: Results, projections=None, rules: FrameRules | None = None) -> Frame | None:
    """The 2×2 frame, or None with fewer than two scored items. `projections(scenario)` returns
    {bevolking, huishoudens, woningbehoefte} in 2040 for the gemeente (or None to leave them out)."""
    rules = rules or load_rules()
    ax = axes(results)
    if len(ax) < 2:
        return None
    a, b = ax
    among = {r.item.trend: r.item.titel for r in results.items if r.item.trend}
    quadrants = []
    for states in (("hoog", "hoog"), ("hoog", "laag"), ("laag", "hoog"), ("laag", "laag")):
        title = f"{a.item.titel} {'sterk' if states[0] == 'hoog' else 'zwak'}, {b.item.titel} " \
                f"{'sterk' if states[1] == 'hoog' else 'zwak'}"
        story = _mutual(kb, graph, a, b, states)
        story += _effects(kb, graph, a, states[0], among) + _effects(kb, graph, b, states[1], among)
        if states == ("hoog", "hoog"):
            story += _loops(graph, a, b, set(among))
        if not story:
            story = ["De kennisbank legt geen oorzakelijke verbanden vanuit deze items; de facilitator schrijft "
                     "het verhaal van dit kwadrant."]
        scenario, reason = choose_projection(a, b, states, rules)
        q = Quadrant(states, title, story, scenario, reason)
        if projections is not None:
            q.figures = projections(scenario) or {}
        quadrants.append(q)
    return Frame(ax, quadrants)


@dataclass
class Challenge:
    titel: str
    tekst: str
    opgave: str | None
    items: list[str]


def draft_challenges(kb, results: Results, top: int = 5, limit: int = 6) -> list[Challenge]:
    """Opgaven of the knowledge base that answer the most impactful items (the facilitator edits them)."""
    ranked = sorted(scored(results), key=lambda r: (-r.median("impact"), r.median("onzekerheid"), r.item.id))[:top]
    by_trend = {r.item.trend: r.item.titel for r in ranked if r.item.trend}
    found: dict[str, list[str]] = {}
    for o in kb.opgaven.values():
        if o.period:  # history, not a challenge for now
            continue
        hits = [by_trend[t] for t in o.answers if t in by_trend]
        if hits:
            found[o.id] = hits
    order = sorted(found, key=lambda oid: (-len(found[oid]), oid))[:limit]
    return [Challenge(kb.opgaven[oid].title, kb.opgaven[oid].summary, oid, found[oid]) for oid in order]
