"""Which trends apply to a gemeente, how strongly, and with which evidence.

The rules are data (`localisation.yaml`, conditions explained there); this module evaluates
them over the indicator values in the store and writes the evidence as Dutch sentences.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import formatting
from ..errors import InputError, TrendstudieError
from ..textfile import load_yaml

RULES = Path(__file__).parent / "localisation.yaml"
Strength = Literal["sterk", "matig", "niet van toepassing", "onbekend"]
ORDER = {"sterk": 0, "matig": 1, "niet van toepassing": 2, "onbekend": 3}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str
    is_: Literal["hoger", "lager"] | None = Field(None, alias="is")
    dan: str | None = None
    marge: float = 0.0
    verandering: Literal["stijgend", "dalend"] | None = None
    jaren: int = 5
    sneller_dan: str | None = None
    trager_dan: str | None = None
    percentiel_boven: float | None = None
    boven: float | None = None
    onder: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Condition":
        kinds = [self.is_ is not None, self.verandering is not None, self.sneller_dan is not None,
                 self.trager_dan is not None, self.percentiel_boven is not None, self.boven is not None,
                 self.onder is not None]
        if sum(kinds) != 1:
            raise ValueError(f"voorwaarde voor {self.indicator}: geef precies één soort (is, verandering, "
                             "sneller_dan, trager_dan, percentiel_boven, boven of onder)")
        if self.is_ is not None and not self.dan:
            raise ValueError(f"voorwaarde voor {self.indicator}: 'is' vraagt 'dan' (een groep)")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trend: str
    indicators: list[str] = Field(min_length=1)
    sterk: list[Condition] = Field(min_length=1)
    matig: list[Condition] = []


def load_rules(path: Path = RULES) -> list[Rule]:
    raw = load_yaml(path) or []
    try:
        return [Rule.model_validate(r) for r in raw]
    except ValueError as exc:
        raise InputError(path, str(exc)) from None


@dataclass
class Meta:
    title: str
    unit: str
    decimals: int
    direction: str


class IndicatorData:
    """Indicator values from the store, held in memory for fast repeated lookups."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.meta = {r[0]: Meta(*r[1:]) for r in con.execute(
            "SELECT indicator_id, title, unit, decimals, direction FROM indicators").fetchall()}
        self._series: dict[tuple[str, str], list[tuple[str, float]]] = {}
        self._by_period: dict[tuple[str, str], list[float]] = {}
        for ind, region, period, value in con.execute(
                "SELECT indicator_id, region_code, period, value FROM indicator_values ORDER BY 1, 2, 3").fetchall():
            self._series.setdefault((ind, region), []).append((period, value))
            if region.startswith("GM"):
                self._by_period.setdefault((ind, period), []).append(value)
        for values in self._by_period.values():
            values.sort()
        self.group_titles = dict(con.execute("SELECT group_id, title FROM groups").fetchall())
        self.memberships: dict[str, dict[str, str]] = {}
        for gid, kind, code in con.execute(
                "SELECT g.group_id, g.kind, m.region_code FROM groups g JOIN group_members m USING (group_id)").fetchall():
            self.memberships.setdefault(code, {})[kind] = gid
        self.names = dict(con.execute("SELECT code, name FROM regions").fetchall())

    def series(self, indicator: str, region: str) -> list[tuple[str, float]]:
        return self._series.get((indicator, region), [])

    def value(self, indicator: str, region: str, period: str) -> float | None:
        for p, v in self.series(indicator, region):
            if p == period:
                return v
        return None

    def latest(self, indicator: str, region: str) -> tuple[str, float] | None:
        s = self.series(indicator, region)
        return s[-1] if s else None

    def percentile(self, indicator: str, period: str, value: float) -> float | None:
        """Share of gemeenten with a lower or equal value, 0-100."""
        values = self._by_period.get((indicator, period))
        if not values:
            return None
        return bisect.bisect_right(values, value) / len(values) * 100

    def group_for(self, code: str, group: str) -> str | None:
        if group == "provincie":
            return self.memberships.get(code, {}).get("provincie")
        if group == "grootteklasse":
            return self.memberships.get(code, {}).get("grootteklasse")
        return group if group in self.group_titles else None

    def group_label(self, gid: str) -> str:
        if gid == "NL01":
            return "Nederland"
        title = self.group_titles.get(gid, gid)
        return title[0].lower() + title[1:] if title.startswith(("Provincie", "Gemeenten")) else title

    def fmt(self, indicator: str, value: float) -> str:
        m = self.meta[indicator]
        return formatting.with_unit(value, m.decimals, m.unit)


@dataclass
class Check:
    holds: bool | None  # None: not evaluable for lack of data
    sentence: str | None


@dataclass
class Finding:
    trend: str
    strength: Strength
    indicators: list[str]
    evidence: list[str] = field(default_factory=list)


def _window(series: list[tuple[str, float]], years: int) -> tuple[tuple[str, float], tuple[str, float]] | None:
    if len(series) < 2:
        return None
    last = series[-1]
    first_year = int(last[0][:4]) - years
    start = next((p for p in series if int(p[0][:4]) >= first_year), None)
    if start is None or start[0] == last[0]:
        return None
    return start, last


def _change(indicator_unit: str, a: float, b: float) -> float | None:
    if "%" in indicator_unit:
        return b - a
    if a == 0:
        return None
    return (b - a) / abs(a)


def evaluate(cond: Condition, data: IndicatorData, code: str) -> Check:
    ind = cond.indicator
    if ind not in data.meta:
        raise TrendstudieError(f"Lokalisatieregel noemt onbekende indicator {ind!r}")
    meta = data.meta[ind]
    title = meta.title
    latest = data.latest(ind, code)
    if latest is None:
        return Check(None, None)
    period, value = latest
    year = formatting.period(period)
    if cond.is_ is not None:
        gid = data.group_for(code, cond.dan or "")
        other = data.value(ind, gid, period) if gid else None
        if other is None:
            return Check(None, None)
        diff = (value - other) / abs(other) if other else 0.0
        holds = diff > cond.marge if cond.is_ == "hoger" else diff < -cond.marge
        word = "hoger dan" if value > other else "lager dan" if value < other else "gelijk aan"
        return Check(holds, f"{title}: {data.fmt(ind, value)} in {year}, {word} {data.group_label(gid)} "
                            f"({data.fmt(ind, other)}).")
    if cond.boven is not None or cond.onder is not None:
        limit = cond.boven if cond.boven is not None else cond.onder
        holds = value > limit if cond.boven is not None else value < limit
        side = "boven" if value > limit else "onder" if value < limit else "op"
        return Check(holds, f"{title}: {data.fmt(ind, value)} in {year}, {side} de grens van "
                            f"{formatting.number(limit, meta.decimals)}.")
    if cond.percentiel_boven is not None:
        pct = data.percentile(ind, period, value)
        if pct is None:
            return Check(None, None)
        share = 100 - pct
        place = (f"bij de {formatting.number(max(share, 1), 0)}% gemeenten met de hoogste waarde" if share <= 50
                 else f"bij de {formatting.number(pct, 0)}% gemeenten met de laagste waarde")
        return Check(pct > cond.percentiel_boven, f"{title}: {data.fmt(ind, value)} in {year}; daarmee hoort "
                                                  f"{data.names.get(code, code)} {place}.")
    window = _window(data.series(ind, code), cond.jaren)
    if window is None:
        return Check(None, None)
    (p0, v0), (p1, v1) = window
    change = _change(meta.unit, v0, v1)
    if change is None:
        return Check(None, None)
    moved = "steeg" if v1 > v0 else "daalde" if v1 < v0 else "bleef gelijk"
    base = (f"{title} {moved} van {data.fmt(ind, v0)} in {formatting.period(p0)} naar {data.fmt(ind, v1)} "
            f"in {formatting.period(p1)}")
    if cond.verandering is not None:
        holds = change > cond.marge if cond.verandering == "stijgend" else change < -cond.marge
        return Check(holds, base + ".")
    gid = data.group_for(code, cond.sneller_dan or cond.trager_dan or "")
    g0, g1 = (data.value(ind, gid, p0), data.value(ind, gid, p1)) if gid else (None, None)
    if g0 is None or g1 is None:
        return Check(None, None)
    other = _change(meta.unit, g0, g1)
    if other is None:
        return Check(None, None)
    holds = change > other if cond.sneller_dan else change < other
    if "%" in meta.unit:
        how = f"{formatting.number(change, 1)} procentpunt, tegen {formatting.number(other, 1)} in {data.group_label(gid)}"
    else:
        how = f"{formatting.number(change * 100, 1)}%, tegen {formatting.number(other * 100, 1)}% in {data.group_label(gid)}"
    return Check(holds, f"{base} ({how}).")


def localise(rule: Rule, data: IndicatorData, code: str) -> Finding:
    # The indicators of the 'sterk' conditions come first: they are what the trend is judged on.
    indicators = list(dict.fromkeys([c.indicator for c in rule.sterk] + rule.indicators))
    if not any(data.latest(i, code) for i in rule.indicators + [c.indicator for c in rule.sterk + rule.matig]):
        return Finding(rule.trend, "onbekend", indicators)
    sterk = [evaluate(c, data, code) for c in rule.sterk]
    matig = [evaluate(c, data, code) for c in rule.matig]
    sentences = list(dict.fromkeys(c.sentence for c in sterk + matig if c.sentence))
    # 'X steeg van a naar b.' adds nothing next to 'X steeg van a naar b (…, tegen … in Nederland).'
    evidence = [s for s in sentences if not any(o != s and o.startswith(s[:-1]) for o in sentences)]
    if all(c.holds for c in sterk):
        strength: Strength = "sterk"
    elif any(c.holds for c in matig) or any(c.holds for c in sterk):
        strength = "matig"
    elif all(c.holds is None for c in sterk + matig):
        strength = "onbekend"
    else:
        strength = "niet van toepassing"
    return Finding(rule.trend, strength, indicators, evidence)


def localise_all(con: duckdb.DuckDBPyConnection, code: str, rules: list[Rule] | None = None,
                 data: IndicatorData | None = None) -> list[Finding]:
    """Findings for every trend with a rule, strongest first."""
    rules = rules if rules is not None else load_rules()
    data = data or IndicatorData(con)
    findings = [localise(r, data, code) for r in rules]
    return sorted(findings, key=lambda f: (ORDER[f.strength], f.trend))
