"""Graph queries over the causal edges of the knowledge base: causes, effects, feedback loops,
and the subgraph around a set of trends (e.g. one gemeente's strong trends)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .model import KnowledgeBase, Link as Edge


@dataclass(frozen=True)
class Step:
    """An edge reached at a depth from the starting entry."""

    edge: Edge
    depth: int


class Graph:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.out: dict[str, list[Edge]] = defaultdict(list)
        self.into: dict[str, list[Edge]] = defaultdict(list)
        for e in kb.edges:
            self.out[e.source].append(e)
            self.into[e.target].append(e)

    def _walk(self, start: str, depth: int, forward: bool) -> list[Step]:
        seen_edges: set[tuple[str, str]] = set()
        frontier, steps = [start], []
        visited = {start}
        for d in range(1, depth + 1):
            nxt = []
            for node in frontier:
                for e in (self.out if forward else self.into).get(node, []):
                    key = (e.source, e.target)
                    if key in seen_edges:
                        continue
                    seen_edges.add(key)
                    steps.append(Step(e, d))
                    other = e.target if forward else e.source
                    if other not in visited:
                        visited.add(other)
                        nxt.append(other)
            frontier = nxt
        return steps

    def effects(self, id: str, depth: int = 1) -> list[Step]:
        """What `id` drives, up to `depth` steps downstream."""
        return self._walk(id, depth, forward=True)

    def causes(self, id: str, depth: int = 1) -> list[Step]:
        """What drives `id`, up to `depth` steps upstream."""
        return self._walk(id, depth, forward=False)

    def cycles(self, max_length: int = 4, within: set[str] | None = None) -> list[list[Edge]]:
        """Feedback loops: simple directed cycles of at most `max_length` edges, each once
        (starting at its smallest id), optionally only through the nodes in `within`."""
        found: list[list[Edge]] = []

        def ok(node: str) -> bool:
            return within is None or node in within

        for start in sorted(n for n in self.out if ok(n)):
            stack: list[tuple[str, list[Edge]]] = [(start, [])]
            while stack:
                node, path = stack.pop()
                for e in self.out.get(node, []):
                    if not ok(e.target):
                        continue
                    if e.target == start:
                        found.append(path + [e])
                    elif e.target > start and len(path) + 1 < max_length and all(p.source != e.target for p in path):
                        stack.append((e.target, path + [e]))
        unique = {tuple((e.source, e.target) for e in c): c for c in found}
        return [unique[k] for k in sorted(unique)]

    @staticmethod
    def loop_kind(cycle: list[Edge]) -> str:
        """A loop with an even number of negative links reinforces itself; an odd one balances."""
        negatives = sum(1 for e in cycle if e.polarity == "-")
        return "versterkend" if negatives % 2 == 0 else "balancerend"

    def subgraph(self, ids: set[str], depth: int = 1) -> list[Edge]:
        """Edges among `ids` and their neighbours up to `depth` steps away (both directions)."""
        nodes = set(ids)
        frontier = set(ids)
        for _ in range(depth):
            nxt = set()
            for n in frontier:
                nxt |= {e.target for e in self.out.get(n, [])} | {e.source for e in self.into.get(n, [])}
            frontier = nxt - nodes
            nodes |= nxt
        return [e for e in self.kb.edges if e.source in nodes and e.target in nodes
                and (e.source in ids or e.target in ids)]
