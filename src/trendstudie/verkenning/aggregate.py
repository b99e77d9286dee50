"""From answers to aggregates: pure functions, no database.

Per round: how many of the invited answered. Per item and round: the median and interquartile
range (IQR, quartiles by linear interpolation as numpy's default) of impact, uncertainty,
horizon and relevance; consensus when the IQR is at most 1; the shift of the median since the
previous round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

MEASURES = ("impact", "onzekerheid", "horizon", "relevantie")
CONSENSUS_IQR = 1.0


@dataclass
class AnswerScores:
    """One participant's scores for one item in one round: what the aggregates read (the
    database's rows extend it with the texts, service.AnswerRow)."""

    participant: int  # a number within the verkenning (1, 2, …), never the token
    item: int
    ronde: int
    impact: int | None = None
    onzekerheid: int | None = None
    horizon: int | None = None  # 1 binnen 5 jaar, 2 5-10 jaar, 3 na 10 jaar
    relevantie: int | None = None


@dataclass(frozen=True)
class ItemInfo:
    id: int
    titel: str
    domein: str
    trend: str | None = None


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of `values` (linear interpolation between order statistics)."""
    xs = sorted(values)
    if not xs:
        raise ValueError("geen waarden")
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class Stat:
    n: int
    median: float
    q1: float
    q3: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def consensus(self) -> bool:
        return self.iqr <= CONSENSUS_IQR


def stat(values: Iterable[int | float | None]) -> Stat | None:
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return None
    return Stat(len(xs), quantile(xs, 0.5), quantile(xs, 0.25), quantile(xs, 0.75))


@dataclass
class ItemRound:
    ronde: int
    stats: dict[str, Stat | None]  # per measure

    @property
    def consensus(self) -> bool | None:
        """Consensus on the item: impact and uncertainty both have IQR ≤ 1."""
        i, o = self.stats.get("impact"), self.stats.get("onzekerheid")
        if i is None or o is None:
            return None
        return i.consensus and o.consensus


@dataclass
class ItemResult:
    item: ItemInfo
    rounds: dict[int, ItemRound] = field(default_factory=dict)

    def latest(self) -> ItemRound | None:
        filled = [r for r in self.rounds.values() if any(s is not None for s in r.stats.values())]
        return filled[-1] if filled else None

    def median(self, measure: str) -> float | None:
        r = self.latest()
        s = r.stats.get(measure) if r else None
        return s.median if s else None

    def shift(self, ronde: int, measure: str) -> float | None:
        """Median in `ronde` minus median in the round before; None when either has no answers."""
        now, before = self.rounds.get(ronde), self.rounds.get(ronde - 1)
        a = now.stats.get(measure) if now else None
        b = before.stats.get(measure) if before else None
        return None if a is None or b is None else a.median - b.median


@dataclass(frozen=True)
class Response:
    ronde: int
    invited: int
    responded: int  # participants with at least one score in this round
    complete: int  # participants who scored impact and uncertainty on every item

    @property
    def rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


@dataclass
class Results:
    rounds: list[Response]
    items: list[ItemResult]

    @property
    def latest_round(self) -> int | None:
        done = [r.ronde for r in self.rounds if r.responded]
        return done[-1] if done else None


def _scored(a: AnswerScores) -> bool:
    return any(getattr(a, m) is not None for m in MEASURES)


def aggregate(items: list[ItemInfo], answers: list[AnswerScores], invited: int, rounds: int) -> Results:
    """Aggregates of every item in every round 1..`rounds`."""
    ids = {i.id for i in items}
    by: dict[tuple[int, int], list[AnswerScores]] = {}
    for a in answers:
        if a.item in ids:
            by.setdefault((a.ronde, a.item), []).append(a)
    responses = []
    for r in range(1, rounds + 1):
        mine = [a for a in answers if a.ronde == r and a.item in ids]
        responded = {a.participant for a in mine if _scored(a)}
        full: dict[int, int] = {}
        for a in mine:
            if a.impact is not None and a.onzekerheid is not None:
                full[a.participant] = full.get(a.participant, 0) + 1
        responses.append(Response(r, invited, len(responded), sum(1 for n in full.values() if n >= len(ids) > 0)))
    results = []
    for it in items:
        res = ItemResult(it)
        for r in range(1, rounds + 1):
            rows = by.get((r, it.id), [])
            res.rounds[r] = ItemRound(r, {m: stat(getattr(a, m) for a in rows) for m in MEASURES})
        results.append(res)
    return Results(responses, results)


def as_json(results: Results, horizons: dict[int, str]) -> dict:
    """The aggregates with Dutch keys, as the CLI and the API give them."""
    def s(x: Stat | None) -> dict | None:
        return None if x is None else {"n": x.n, "mediaan": x.median, "q1": x.q1, "q3": x.q3, "iqr": x.iqr,
                                       "consensus": x.consensus}

    items = []
    for res in results.items:
        rounds = []
        for r, ir in res.rounds.items():
            rounds.append({"ronde": r, **{m: s(ir.stats[m]) for m in MEASURES}, "consensus": ir.consensus,
                           "verschuiving": {m: res.shift(r, m) for m in ("impact", "onzekerheid")} if r > 1 else None})
        h = res.median("horizon")
        items.append({"item": res.item.id, "titel": res.item.titel, "domein": res.item.domein, "trend": res.item.trend,
                      "horizon": horizons.get(round(h)) if h is not None else None, "rondes": rounds})
    return {"rondes": [{"ronde": r.ronde, "uitgenodigd": r.invited, "geantwoord": r.responded,
                        "volledig": r.complete, "respons": r.rate} for r in results.rounds],
            "items": items}
