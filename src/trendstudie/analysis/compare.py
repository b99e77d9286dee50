"""A gemeente against its peer groups: group value, mean, median, rank, percentile, z-score.

Which groups apply (`peer_groups`): every network it belongs to (G4, G40, M50), its province,
its CBS size class, any own group ('eigen') it belongs to, and Nederland (NL01), in that order.

"Latest" is per indicator and gemeente: the latest period in which that gemeente has a value
(`latest`). A comparison is made in that period, among the members that have a value in it,
and always carries the period and the status of the figure.

Definitions (among the members with a value, the gemeente included):

- rank: 1 = highest; ties share the best rank (1, 2, 2, 4); `ties` counts the others with the
  same value.
- percentile: the share of the *other* members with a lower value, ties counted half, in % (100
  = higher than all others, 0 = lower than all others).
- mean and median: unweighted, over the members' own values.
- z-score: (value − mean) / standard deviation (population, ddof = 0); None when all are equal.
- group value: the group's own figure from `indicator_values` (summed numerator over summed
  denominator), never an average of members.
- reference: what a phrase compares with. For a rate this is the group value; for a count (the
  group value equals the sum of the members, like inwoners or woningen; `Values.additive` checks
  this on the data) comparing one gemeente with a whole group's total means little, so the
  reference is the members' mean. Without a group value the mean is used as well.
  `reference_kind` says which.

A gemeente compared with a group it does not belong to is ranked among the members and itself.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from statistics import fmean, median
from typing import Mapping

import duckdb

from ..reader import IndicatorRow, indicator_rows
from .change import Change, change_between, period_time

GROUP_ORDER = {"netwerk": 0, "provincie": 1, "grootteklasse": 2, "eigen": 3, "nederland": 4}
ADDITIVE_TOLERANCE = 0.005  # group value within 0.5% of the members' sum: a count


@dataclass(frozen=True)
class Value:
    """One figure with where it came from."""

    indicator_id: str
    region_code: str
    period: str
    value: float
    status: str | None
    provenance: str | None
    harmonised: bool = False  # reconstructed for today's gemeente over a herindeling or grenswijziging


@dataclass(frozen=True)
class PeerGroup:
    group_id: str
    title: str
    kind: str
    members: tuple[str, ...] = field(repr=False)

    @property
    def name(self) -> str:
        """A short name for sentences: 'G40', 'Overijssel', 'Nederland'."""
        if self.kind == "netwerk":
            return self.group_id
        if self.kind == "provincie":
            return self.title.removeprefix("Provincie ").strip()
        return self.title

    @property
    def reference_label(self) -> str:
        """What a rate is compared with: 'het G40-gemiddelde', 'Overijssel', 'Nederland'."""
        if self.kind == "netwerk":
            return f"het {self.group_id}-gemiddelde"
        if self.kind in ("provincie", "nederland"):
            return self.name
        return f"het gemiddelde van {_lower_first(self.title)}"

    @property
    def mean_label(self) -> str:
        """What a count is compared with (the members' mean)."""
        if self.kind == "netwerk":
            return f"het gemiddelde van de {self.group_id}-gemeenten"
        return f"het gemiddelde van {self.plural}"

    @property
    def plural(self) -> str:
        """The members in words: 'G40-gemeenten', 'gemeenten in Overijssel'."""
        if self.kind == "netwerk":
            return f"{self.group_id}-gemeenten"
        if self.kind == "provincie":
            return f"gemeenten in {self.name}"
        if self.kind == "nederland":
            return "gemeenten in Nederland"
        return _lower_first(self.title)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class Values:
    """Read access to indicator values, groups and indicator metadata, cached per indicator.

    Build one per connection and pass it to many calls (a batch over all gemeenten); every
    function here also accepts the connection itself.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._indicators: dict[str, dict[str, dict[str, Value]]] = {}
        self._groups: dict[str, PeerGroup] | None = None
        self._meta: dict[str, IndicatorRow] | None = None
        self._names: dict[str, str] | None = None
        self._additive: dict[str, bool] = {}
        self._signed: dict[str, bool] = {}
        self._flags = None
        # What is the same for every gemeente, computed once per process (the store does not
        # change while it runs): a group's values in a period, a group's changes between two
        # periods, each gemeente's series and latest value. Filled lazily; the GIL makes a
        # dict assignment safe, and two threads computing the same entry compute the same thing.
        self._spreads: dict[tuple, Spread | None] = {}
        self._series: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {}
        self._latest: dict[tuple[str, str], Value | None] = {}

    def indicator(self, indicator_id: str) -> dict[str, dict[str, Value]]:
        """region_code → period → Value for one indicator."""
        if indicator_id not in self._indicators:
            rows = self.con.execute(
                "SELECT region_code, period, value, status, provenance, harmonised FROM indicator_values "
                "WHERE indicator_id = ?", [indicator_id]).fetchall()
            table: dict[str, dict[str, Value]] = {}
            for region, period, value, status, provenance, harmonised in rows:
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                table.setdefault(region, {})[period] = Value(indicator_id, region, period, float(value), status,
                                                             provenance, bool(harmonised))
            self._indicators[indicator_id] = table
        return self._indicators[indicator_id]

    def load_all(self) -> "Values":
        """Read every indicator value in one query (for a batch or a long-running server, so
        that later calls never touch the connection)."""
        table: dict[str, dict[str, dict[str, Value]]] = {i: {} for i in self.meta()}
        for indicator_id, region, period, value, status, provenance, harmonised in self.con.execute(
                "SELECT indicator_id, region_code, period, value, status, provenance, harmonised "
                "FROM indicator_values").fetchall():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            table.setdefault(indicator_id, {}).setdefault(region, {})[period] = Value(
                indicator_id, region, period, float(value), status, provenance, bool(harmonised))
        self._indicators.update(table)
        self.groups()
        self.names()
        self.flags()
        return self

    def series(self, indicator_id: str, code: str) -> list[tuple[str, float]]:
        key = (indicator_id, code)
        found = self._series.get(key)
        if found is None:
            points = self.indicator(indicator_id).get(code, {})
            found = self._series[key] = tuple(sorted(((p, v.value) for p, v in points.items()),
                                                     key=lambda pv: period_time(pv[0]) or 0))
        return list(found)

    def value(self, indicator_id: str, code: str, period: str) -> Value | None:
        return self.indicator(indicator_id).get(code, {}).get(period)

    def signed(self, indicator_id: str) -> bool:
        """Whether the indicator takes negative values anywhere (a balance such as a migration
        saldo): for such indicators ratios mean nothing and phrases give differences."""
        found = self._signed.get(indicator_id)
        if found is None:  # asked for every comparison of every gemeente: decided once per indicator
            found = self._signed[indicator_id] = any(
                v.value < 0 for points in self.indicator(indicator_id).values() for v in points.values())
        return found

    def additive(self, indicator_id: str) -> bool:
        """Whether the indicator is a count: a group's value is the sum of its members' values.

        Checked on the data: the first group and period (latest period first) in which every
        member has a value decides, within ADDITIVE_TOLERANCE. Nederland comes last: it is CBS's
        own national figure, which may include what CBS cannot assign to a gemeente."""
        if indicator_id not in self._additive:
            table = self.indicator(indicator_id)
            groups = sorted(self.groups().values(), key=lambda g: (g.group_id == "NL01", g.group_id))
            verdict = False
            for g in groups:
                if len(g.members) < 2:
                    continue
                periods = sorted(table.get(g.group_id, {}), key=lambda p: period_time(p) or 0, reverse=True)
                done = False
                for p in periods:
                    if all(p in table.get(m, {}) for m in g.members):
                        total = sum(table[m][p].value for m in g.members)
                        verdict = abs(table[g.group_id][p].value - total) <= ADDITIVE_TOLERANCE * max(abs(total), 1e-9)
                        done = True
                        break
                if done:
                    break
            self._additive[indicator_id] = verdict
        return self._additive[indicator_id]

    def latest(self, indicator_id: str, code: str) -> Value | None:
        key = (indicator_id, code)
        if key not in self._latest:
            points = self.indicator(indicator_id).get(code)
            self._latest[key] = points[max(points, key=lambda p: period_time(p) or -math.inf)] if points else None
        return self._latest[key]

    def spread(self, indicator_id: str, group_id: str, period: str) -> "Spread | None":
        """The values of a group's members in one period, summarised once (see `Spread`)."""
        key = ("waarde", indicator_id, group_id, period)
        if key not in self._spreads:
            group = self.groups().get(group_id)
            table = self.indicator(indicator_id)
            self._spreads[key] = Spread.of({m: table[m][period].value for m in group.members
                                            if m in table and period in table[m]}) if group else None
        return self._spreads[key]

    def change_spread(self, indicator_id: str, group_id: str, start: str, end: str, measure: str) -> "Spread | None":
        """The changes of a group's members from `start` to `end`, summarised once."""
        key = ("verandering", indicator_id, group_id, start, end, measure)
        if key not in self._spreads:
            group = self.groups().get(group_id)
            self._spreads[key] = Spread.of(_changes(self.indicator(indicator_id), group.members, start, end, measure)) \
                if group else None
        return self._spreads[key]

    def flags(self):
        """Which values are reconstructed or provisional, with the sentences that say so (labels.py)."""
        if self._flags is None:
            from .labels import FigureFlags

            self._flags = FigureFlags(self.con)
        return self._flags

    def groups(self) -> dict[str, PeerGroup]:
        if self._groups is None:
            members: dict[str, list[str]] = {}
            for group_id, code in self.con.execute(
                    "SELECT group_id, region_code FROM group_members ORDER BY group_id, region_code").fetchall():
                members.setdefault(group_id, []).append(code)
            self._groups = {
                gid: PeerGroup(gid, title, kind, tuple(members.get(gid, ())))
                for gid, title, kind in self.con.execute("SELECT group_id, title, kind FROM groups").fetchall()
            }
        return self._groups

    def meta(self) -> dict[str, IndicatorRow]:
        """indicator_id → its IndicatorRow (the read model's, reader.py), in registry order."""
        if self._meta is None:
            self._meta = indicator_rows(self.con)
        return self._meta

    def names(self) -> dict[str, str]:
        """Current gemeente codes → names."""
        if self._names is None:
            self._names = dict(self.con.execute(
                "SELECT code, name FROM regions WHERE kind = 'GM' AND current").fetchall())
        return self._names


def values_of(source: "Values | duckdb.DuckDBPyConnection") -> Values:
    return source if isinstance(source, Values) else Values(source)


def latest(source, indicator_id: str, code: str) -> Value | None:
    """The latest figure of one indicator for one region, with its period and status."""
    return values_of(source).latest(indicator_id, code)


def peer_groups(source, code: str) -> list[PeerGroup]:
    """The groups a gemeente is compared with: its networks, province, size class, own
    groups and Nederland, in that order."""
    groups = values_of(source).groups()
    found = [g for g in groups.values() if code in g.members and g.kind in GROUP_ORDER]
    return sorted(found, key=lambda g: (GROUP_ORDER[g.kind], g.group_id))


@dataclass(frozen=True)
class Standing:
    """Where one value stands among a set of values (its own included)."""

    value: float
    n: int
    rank: int
    ties: int
    percentile: float | None
    mean: float
    median: float
    sd: float
    zscore: float | None
    highest: str
    lowest: str
    maximum: float
    minimum: float


def _clean(values: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()
            if v is not None and not (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))}


@dataclass(frozen=True)
class Spread:
    """A set of values (code → value) summarised for `standing`: sorted, with mean, median,
    standard deviation, highest and lowest. The same for every member, so computed once per
    group and period (`Values.spread`) instead of once per gemeente."""

    values: Mapping[str, float] = field(repr=False)
    ordered: tuple[float, ...] = field(repr=False)  # ascending
    mean: float
    median: float
    sd: float
    highest: tuple[str, float]
    lowest: tuple[str, float]

    @classmethod
    def of(cls, values: Mapping[str, float]) -> "Spread | None":
        clean = _clean(values)
        if not clean:
            return None
        all_values = list(clean.values())
        mean = fmean(all_values)
        sd = math.sqrt(fmean([(v - mean) ** 2 for v in all_values]))
        ranked = sorted(clean.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(clean, tuple(sorted(all_values)), mean, median(all_values), sd, ranked[0], ranked[-1])

    def standing(self, code: str) -> "Standing | None":
        """Where `code` (one of the values) stands among them."""
        x = self.values.get(code)
        if x is None:
            return None
        n = len(self.ordered)
        below = bisect_left(self.ordered, x)
        above = n - bisect_right(self.ordered, x)
        ties = n - 1 - above - below
        percentile = (below + 0.5 * ties) / (n - 1) * 100 if n > 1 else None
        z = (x - self.mean) / self.sd if self.sd > 1e-12 * max(1.0, abs(self.mean)) else None
        return Standing(x, n, above + 1, ties, percentile, self.mean, self.median, self.sd, z, self.highest[0],
                        self.lowest[0], self.highest[1], self.lowest[1])


def standing(values: Mapping[str, float], code: str) -> Standing | None:
    """Rank, percentile, mean, median and z-score of `code` among `values` (code → value).
    None if `code` has no value."""
    clean = _clean(values)
    if code not in clean:
        return None
    return Spread.of(clean).standing(code)


def _standing_in(spread: Spread | None, code: str, value: float | None) -> Standing | None:
    """`code` with `value` among a group's summarised values: from the summary when the group
    already holds exactly that value for `code` (a member), else among the values with it added."""
    if value is None:
        return None
    if spread is not None and spread.values.get(code) == value:
        return spread.standing(code)
    return standing({**(spread.values if spread is not None else {}), code: value}, code)


@dataclass(frozen=True)
class Comparison:
    """One gemeente's figure against one peer group, in one period."""

    indicator_id: str
    code: str
    group: PeerGroup
    period: str
    value: float
    status: str | None
    group_value: float | None  # the group's own figure (summed numerator / denominator)
    group_status: str | None
    additive: bool  # the group value is the members' sum (a count)
    reference: float | None  # what phrases compare with, see the module docstring
    reference_kind: str  # 'groepswaarde' or 'gemiddelde'
    n: int  # members with a value in this period
    n_members: int
    mean: float
    median: float
    rank: int
    ties: int
    percentile: float | None
    zscore: float | None
    highest: str
    lowest: str
    maximum: float
    minimum: float

    @property
    def reference_label(self) -> str:
        return self.group.reference_label if self.reference_kind == "groepswaarde" else self.group.mean_label


def compare(source, indicator_id: str, code: str, group_id: str, period: str | None = None) -> Comparison | None:
    """`code` against the members of `group_id` for one indicator, in `period` (default: the
    gemeente's latest period). None if the gemeente has no value there."""
    data = values_of(source)
    group = data.groups().get(group_id)
    if group is None:
        return None
    own = data.latest(indicator_id, code) if period is None else data.value(indicator_id, code, period)
    if own is None:
        return None
    table = data.indicator(indicator_id)
    spread = data.spread(indicator_id, group_id, own.period)
    st = _standing_in(spread, code, own.value)
    if st is None:
        return None
    gv = table.get(group_id, {}).get(own.period)
    additive = data.additive(indicator_id)
    if gv is not None and not additive:
        reference, kind = gv.value, "groepswaarde"
    else:
        reference, kind = st.mean, "gemiddelde"
    return Comparison(
        indicator_id, code, group, own.period, own.value, own.status,
        gv.value if gv else None, gv.status if gv else None, additive, reference, kind,
        st.n, len(group.members), st.mean, st.median, st.rank, st.ties, st.percentile, st.zscore,
        st.highest, st.lowest, st.maximum, st.minimum)


def compare_all(source, indicator_id: str, code: str, period: str | None = None) -> list[Comparison]:
    """`compare` against every applicable peer group, in `peer_groups` order."""
    data = values_of(source)
    out = []
    for g in peer_groups(data, code):
        c = compare(data, indicator_id, code, g.group_id, period)
        if c is not None:
            out.append(c)
    return out


@dataclass(frozen=True)
class ChangeComparison:
    """How one gemeente's change between two periods ranks among a group's members."""

    indicator_id: str
    code: str
    group: PeerGroup
    change: Change
    measure: str  # 'procent' (relative change) or 'absoluut' (difference, e.g. procentpunten)
    n: int
    rank: int  # 1 = largest increase
    ties: int
    percentile: float | None


def change_measure(unit: str | None) -> str:
    """Shares (unit '%') change in percentage points, everything else in percent."""
    return "absoluut" if (unit or "").strip().startswith("%") else "procent"


def compare_change(source, indicator_id: str, code: str, group_id: str, start: str, end: str,
                   measure: str = "procent") -> ChangeComparison | None:
    """Rank `code`'s change from `start` to `end` among the members of `group_id` that have
    both periods. With measure 'procent' members whose start value is not positive are left
    out. None if the gemeente's own change is not defined."""
    data = values_of(source)
    group = data.groups().get(group_id)
    if group is None:
        return None
    table = data.indicator(indicator_id)
    points = table.get(code, {})
    # the same as change_between(data.series(...), start, end), without sorting the series again
    own = change_between([(p, points[p].value) for p in (start, end) if p in points], start, end)
    if own is None:
        return None
    spread = data.change_spread(indicator_id, group_id, start, end, measure)
    own_change = _changes(table, (code,), start, end, measure).get(code)
    st = _standing_in(spread, code, own_change)
    if st is None:
        return None
    return ChangeComparison(indicator_id, code, group, own, measure, st.n, st.rank, st.ties, st.percentile)


def _changes(table: dict[str, dict[str, Value]], codes, start: str, end: str, measure: str) -> dict[str, float]:
    """code → its change from `start` to `end` (difference, or % when the start is positive)."""
    changes: dict[str, float] = {}
    for m in codes:
        points = table.get(m, {})
        if start in points and end in points:
            v0, v1 = points[start].value, points[end].value
            if measure == "absoluut":
                changes[m] = v1 - v0
            elif v0 > 0:
                changes[m] = (v1 - v0) / v0 * 100
    return changes
