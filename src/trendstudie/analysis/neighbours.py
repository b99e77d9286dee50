"""Statistical neighbours: the gemeenten most alike on a standardised structural profile.

In the manner of the ONS "similar areas" tool (and CIPFA's nearest neighbours): each gemeente is
described by a few structural indicators, each indicator is turned into z-scores over all
current gemeenten, and the neighbours are the k gemeenten at the smallest Euclidean distance.

The profile (`PROFILE`), chosen for structure rather than outcomes, and for full coverage:

- bevolking (log): size;
- bevolkingsdichtheid (log): urban or rural;
- aandeel_0_15 and aandeel_65_plus: age structure;
- aandeel_eenpersoonshuishoudens: household structure (students, singles, older people);
- aandeel_koopwoningen and aandeel_corporatiewoningen: the housing market;
- woz_waarde (log): the price level, a proxy for prosperity.

Size, density and house value are skewed, so they enter as logarithms. For each indicator one
period is used: the latest period in which at least `MIN_COVERAGE` (95%) of the current
gemeenten have a value (computed from the data, not fixed). A gemeente missing a value is
compared on the indicators it has: the squared distance is averaged over the shared indicators
and scaled back to the full profile. Ties in distance are broken by code, so the result is
deterministic. The method is described for readers in docs/buren.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, pstdev

from .change import period_time
from .compare import Values, values_of

PROFILE: tuple[tuple[str, bool], ...] = (
    ("bevolking", True),
    ("bevolkingsdichtheid", True),
    ("aandeel_0_15", False),
    ("aandeel_65_plus", False),
    ("aandeel_eenpersoonshuishoudens", False),
    ("aandeel_koopwoningen", False),
    ("aandeel_corporatiewoningen", False),
    ("woz_waarde", True),
)
"""(indicator_id, use logarithm)"""

MIN_COVERAGE = 0.95
DEFAULT_K = 10


@dataclass(frozen=True)
class Neighbour:
    code: str
    name: str
    distance: float


@dataclass(frozen=True)
class NeighbourProfile:
    """The standardised profile: which indicators and periods, and every gemeente's z-scores."""

    indicators: tuple[tuple[str, str, bool], ...]  # (indicator_id, period, log)
    scores: dict[str, tuple[float | None, ...]]  # code → z-scores in `indicators` order


def _period_for(data: Values, indicator_id: str, codes: list[str]) -> str | None:
    table = data.indicator(indicator_id)
    counts: dict[str, int] = {}
    for c in codes:
        for p in table.get(c, {}):
            counts[p] = counts.get(p, 0) + 1
    good = [p for p, n in counts.items() if n >= MIN_COVERAGE * len(codes)]
    return max(good, key=lambda p: period_time(p) or -math.inf) if good else None


def profile_scores(source) -> NeighbourProfile:
    """z-scores of every current gemeente on the profile indicators that have data (computed
    once per `Values`)."""
    data = values_of(source)
    cached = getattr(data, "_neighbour_profile", None)
    if cached is not None:
        return cached
    codes = sorted(data.names())
    used: list[tuple[str, str, bool]] = []
    columns: list[dict[str, float]] = []
    for indicator_id, log in PROFILE:
        period = _period_for(data, indicator_id, codes)
        if period is None:
            continue
        table = data.indicator(indicator_id)
        raw = {}
        for c in codes:
            v = table.get(c, {}).get(period)
            if v is None or (log and v.value <= 0):
                continue
            raw[c] = math.log(v.value) if log else v.value
        if len(raw) < 2:
            continue
        mean, sd = fmean(raw.values()), pstdev(raw.values())
        if sd <= 0:
            continue
        used.append((indicator_id, period, log))
        columns.append({c: (x - mean) / sd for c, x in raw.items()})
    scores = {c: tuple(col.get(c) for col in columns) for c in codes}
    result = NeighbourProfile(tuple(used), scores)
    data._neighbour_profile = result  # type: ignore[attr-defined]
    return result


def distance(a: tuple[float | None, ...], b: tuple[float | None, ...]) -> float | None:
    """Euclidean distance over the shared components, scaled to the full profile length."""
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if not pairs:
        return None
    return math.sqrt(sum((x - y) ** 2 for x, y in pairs) / len(pairs) * len(a))


def neighbours(source, code: str, k: int = DEFAULT_K) -> list[Neighbour]:
    """The k gemeenten nearest to `code` on the profile (never `code` itself), nearest first.
    Empty if `code` is not a current gemeente or has no profile."""
    data = values_of(source)
    # the same for every page, report and API answer about this gemeente: computed once per Values
    memo = data.__dict__.setdefault("_neighbours", {})
    if (code, k) not in memo:
        memo[(code, k)] = tuple(_nearest(data, code, k))
    return list(memo[(code, k)])


def _nearest(data, code: str, k: int) -> list[Neighbour]:
    prof = profile_scores(data)
    own = prof.scores.get(code)
    if own is None or all(x is None for x in own) or k <= 0:
        return []
    names = data.names()
    found = []
    for other, scores in prof.scores.items():
        if other == code:
            continue
        d = distance(own, scores)
        if d is not None:
            found.append(Neighbour(other, names.get(other, other), d))
    found.sort(key=lambda nb: (nb.distance, nb.code))
    return found[:k]
