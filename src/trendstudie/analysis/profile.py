"""A gemeente's profile: every indicator with data, per domain, with change, trend, peers and
phrases. This is the data structure the CLI (`trendstudie profiel`), the report and the web
pages render; it holds figures and ready phrases, no layout.

Per indicator (only those with data for this gemeente), in registry order, grouped by domain
(domains in the order of their first indicator in the registry):

- latest value with its period, status and provenance (latest is per indicator and gemeente);
- change over the last five years, or the longest available window up to five years
  (`change.change`), with its phrase and, for a directional indicator, a judgement; for an
  indicator that takes negative values (a balance) no percentages, and group ranks of the
  change on the difference;
- trend direction over the last six values (`change.trend`);
- for each applicable peer group (`compare.peer_groups`): the comparison in the gemeente's
  latest period, a ratio phrase, a rank phrase, and how the five-year change ranks in the group;
- against the statistical neighbours (`neighbours.neighbours`): their median in the same period.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import median

import duckdb

from .. import formatting
from ..errors import TrendstudieError
from ..reader import IndicatorRow
from . import phrases
from .labels import status_word
from .change import Change, Trend, change, trend
from .compare import (ChangeComparison, Comparison, PeerGroup, Value, Values, change_measure, compare,
                      compare_change, peer_groups, values_of)
from .neighbours import DEFAULT_K, Neighbour, neighbours, profile_scores

CHANGE_YEARS = 5
TREND_POINTS = 6


@dataclass
class GroupComparison:
    """The gemeente against one peer group for one indicator, with phrases."""

    comparison: Comparison
    phrase: str | None  # 'ruim twee keer zo hoog als het G40-gemiddelde (ongunstig)'
    rank_phrase: str | None  # 'op plaats 3 van de 40 G40-gemeenten'
    assessment: str | None  # 'gunstig' / 'ongunstig' / None
    change: ChangeComparison | None = None
    change_rank_phrase: str | None = None  # 'sneller gegroeid dan alle andere M50-gemeenten'

    @property
    def group(self) -> PeerGroup:
        return self.comparison.group


@dataclass
class NeighbourComparison:
    """The gemeente against the median of its statistical neighbours, in the same period."""

    period: str
    value: float
    median: float
    n: int  # neighbours with a value in this period
    rank: int  # among the neighbours and the gemeente itself, 1 = highest
    phrase: str | None
    rank_phrase: str | None
    assessment: str | None


# The register's fields a profile shows of its indicator, in the order of its JSON.
PROFILE_META = ("title", "description", "domain", "unit", "decimals", "direction", "citation", "note")


@dataclass
class IndicatorProfile:
    indicator: IndicatorRow  # the register's row (declared once, in the reader)
    latest: Value
    value_text: str
    series: list[tuple[str, float]]
    change: Change | None
    change_phrase: str | None
    change_assessment: str | None
    trend: Trend | None
    trend_phrase: str | None
    comparisons: list[GroupComparison] = field(default_factory=list)
    neighbours: NeighbourComparison | None = None
    # 'Herberekend: …' and 'Voorlopig: …' for the figures the sentences cite (labels.py)
    labels: list[str] = field(default_factory=list)

    indicator_id = property(lambda self: self.indicator.id)
    title = property(lambda self: self.indicator.title)
    description = property(lambda self: self.indicator.description)
    domain = property(lambda self: self.indicator.domain)
    unit = property(lambda self: self.indicator.unit)
    decimals = property(lambda self: self.indicator.decimals)
    direction = property(lambda self: self.indicator.direction)
    citation = property(lambda self: self.indicator.citation)
    note = property(lambda self: self.indicator.note)

    @property
    def period(self) -> str:
        return self.latest.period

    @property
    def period_text(self) -> str:
        return formatting.period(self.latest.period)

    @property
    def status_text(self) -> str | None:
        """'voorlopig', 'nader voorlopig' or 'definitief' when the source says so."""
        return status_word(self.latest.status)

    def sentences(self, labels: bool = True) -> list[str]:
        """The indicator in a few Dutch sentences, each present only when it has data:
        'Inwoners: 134.147 inwoners (2026, definitief).', 'Tussen 2021 en 2026 gestegen van …',
        'Ongeveer gelijk aan het G40-gemiddelde; op plaats 15 van de 40 G40-gemeenten.', and last
        the labels of reconstructed or provisional figures among those cited."""
        when = ", ".join(x for x in (self.period_text, self.status_text,
                                     "herberekend" if self.latest.harmonised else None) if x)
        out = [f"{self.title}: {self.value_text} ({when})."]
        if self.change_phrase:
            verdict = f", {self.change_assessment}" if self.change_assessment else ""
            trend = f"; {self.trend_phrase}" if self.trend_phrase and self.trend and self.trend.periods != self.change.periods else ""
            out.append(_sentence(f"{self.change_phrase}{verdict}{trend}"))
        elif self.trend_phrase:
            out.append(_sentence(self.trend_phrase))
        for g in self.comparisons:
            parts = [p for p in (g.phrase, g.rank_phrase) if p]
            if parts:
                out.append(_sentence("; ".join(parts)))
        if self.neighbours and self.neighbours.phrase:
            out.append(_sentence(self.neighbours.phrase))
        return out + (self.labels if labels else [])


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@dataclass
class DomainProfile:
    domain: str
    indicators: list[IndicatorProfile]


@dataclass
class Profile:
    code: str
    name: str
    province: str | None
    groups: list[PeerGroup]
    neighbours: list[Neighbour]
    neighbour_basis: list[tuple[str, str, bool]]  # (indicator_id, period, log) the neighbours rest on
    domains: list[DomainProfile]

    def indicator(self, indicator_id: str) -> IndicatorProfile | None:
        for d in self.domains:
            for i in d.indicators:
                if i.indicator_id == indicator_id:
                    return i
        return None

    def to_dict(self) -> dict:
        """Plain data for JSON (group member lists left out); each indicator flat, its id and
        register fields first."""
        out = _strip_members(asdict(self))
        for d in out["domains"]:
            d["indicators"] = [_flat(ip) for ip in d["indicators"]]
        return out


def _flat(ip: dict) -> dict:
    meta = ip.pop("indicator")
    return {"indicator_id": meta["id"], **{k: meta[k] for k in PROFILE_META}, **ip}


def _strip_members(obj):
    if isinstance(obj, dict):
        return {k: _strip_members(v) for k, v in obj.items() if k != "members"}
    if isinstance(obj, (list, tuple)):
        return [_strip_members(v) for v in obj]
    return obj


def _neighbour_comparison(data: Values, meta: IndicatorRow, code: str, own: Value, near: list[Neighbour]
                          ) -> NeighbourComparison | None:
    name = data.names().get(code, code)
    table = data.indicator(meta.id)
    values = [table[n.code][own.period].value for n in near if own.period in table.get(n.code, {})]
    if not values:
        return None
    med = median(values)
    signed = data.signed(meta.id)
    k = len(values)
    rank = 1 + sum(1 for v in values if v > own.value)
    ties = sum(1 for v in values if v == own.value)
    label = f"de mediaan van de {k} meest vergelijkbare gemeenten"
    return NeighbourComparison(
        own.period, own.value, med, k, rank,
        phrases.ratio_phrase(own.value, med, label, meta.decimals, meta.unit, meta.direction, ratio=not signed),
        phrases.rank_phrase(rank, k + 1, f"gemeenten ({name} en de {k} meest vergelijkbare)", ties),
        phrases.assessment(own.value, med, meta.direction, meta.decimals))


def indicator_profile(source, code: str, indicator_id: str, groups: list[PeerGroup] | None = None,
                      near: list[Neighbour] | None = None) -> IndicatorProfile | None:
    """One indicator of a gemeente's profile; None if the gemeente has no value for it."""
    data = values_of(source)
    row = data.meta().get(indicator_id)
    own = data.latest(indicator_id, code)
    if row is None or own is None:
        return None
    decimals, unit, direction = row.decimals, row.unit, row.direction
    series = data.series(indicator_id, code)
    ch = change(series, CHANGE_YEARS)
    tr = trend(series, TREND_POINTS)
    groups = peer_groups(data, code) if groups is None else groups
    signed = data.signed(indicator_id)
    comparisons = []
    for g in groups:
        c = compare(data, indicator_id, code, g.group_id)
        if c is None:
            continue
        cc = compare_change(data, indicator_id, code, g.group_id, ch.start_period, ch.end_period,
                            "absoluut" if signed else change_measure(unit)) if ch else None
        comparisons.append(GroupComparison(
            c,
            phrases.ratio_phrase(c.value, c.reference, c.reference_label, decimals, unit, direction,
                                 ratio=not signed),
            phrases.rank_phrase(c.rank, c.n, g.plural, c.ties),
            phrases.assessment(c.value, c.reference, direction, decimals) if c.reference is not None else None,
            cc,
            phrases.change_rank_phrase(cc.rank, cc.n, g.plural,
                                       cc.change.absolute, cc.ties, growth=c.additive) if cc else None,
        ))
    nb = _neighbour_comparison(data, row, code, own, near) if near else None
    ip = IndicatorProfile(
        row, own, phrases.format_number(own.value, decimals, unit) or "",
        series, ch, phrases.change_phrase(ch, decimals, unit, percent=not signed),
        phrases.change_assessment(ch, direction, decimals),
        tr, phrases.trend_phrase(tr), comparisons, nb)
    said = [int(own.period[:4])] if own.status else []  # the first sentence says '(2025, voorlopig)'
    ip.labels = data.flags().labels_for_text([indicator_id], code, ip.sentences(labels=False), data.names().get(code),
                                             said)
    return ip


def build_profile(con: "duckdb.DuckDBPyConnection | Values", code: str, k: int = DEFAULT_K) -> Profile:
    """The full profile of one current gemeente. Pass a `Values` instead of a connection to
    share the cache across many gemeenten."""
    data = values_of(con)
    names = data.names()
    if code not in names:
        raise TrendstudieError(f"{code} is geen huidige gemeentecode (verwacht iets als GM0193).")
    groups = peer_groups(data, code)
    province = next((g.name for g in groups if g.kind == "provincie"), None)
    near = neighbours(data, code, k)
    domains: dict[str, list[IndicatorProfile]] = {}
    for indicator_id, meta in data.meta().items():  # registry order
        ip = indicator_profile(data, code, indicator_id, groups, near)
        if ip is not None:
            domains.setdefault(meta.domain, []).append(ip)
    return Profile(code, names[code], province, groups, near,
                   [tuple(x) for x in profile_scores(data).indicators],
                   [DomainProfile(d, items) for d, items in domains.items()])


__all__ = ["Profile", "DomainProfile", "IndicatorProfile", "GroupComparison", "NeighbourComparison",
           "build_profile", "indicator_profile"]
