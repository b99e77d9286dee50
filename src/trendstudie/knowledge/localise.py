"""Which trends apply to a gemeente, how strongly, and with which evidence.

The rules are data (`localisation.yaml`, conditions explained there); this module evaluates
them over the indicator values in the store and writes the evidence as Dutch sentences:
the conditions that hold are the evidence for the verdict, the ones that do not hold are
the counter-evidence, and a verdict that rests only on old figures says so and is capped.
"""

from __future__ import annotations

import bisect
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import formatting
from ..formatting import COUNT_UNITS
from ..errors import InputError, TrendstudieError
from ..reader import IndicatorRow, indicator_rows
from ..textfile import load_yaml

if TYPE_CHECKING:
    import duckdb

RULES = Path(__file__).parent / "localisation.yaml"
# One word for the middle verdict everywhere, in rule files as in pages, API, CLI and report.
Strength = Literal["sterk", "enigszins", "niet van toepassing", "onbekend"]
ORDER = {"sterk": 0, "enigszins": 1, "niet van toepassing": 2, "onbekend": 3}
# Rule files of before may still name it by its old word; they are read as they meant it.
OLD_WORD = "matig"


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

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
    reden: str | None = None  # why this threshold (required in localisation.yaml for every threshold)

    @property
    def is_change(self) -> bool:
        return self.verandering is not None or self.sneller_dan is not None or self.trager_dan is not None

    @property
    def has_threshold(self) -> bool:
        return bool(self.marge) or self.is_change or self.boven is not None or self.onder is not None \
            or self.percentiel_boven is not None

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


class Scale(BaseModel):
    """A size or scope guard: a rule about (large) cities gives at most `hooguit` where the
    gemeente does not meet every condition."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    voorwaarden: list[Condition] = Field(min_length=1)
    hooguit: Literal["enigszins", "niet van toepassing"] = "enigszins"
    omschrijving: str  # what the trend is about, as it reads after 'De trend gaat over …'
    reden: str

    @field_validator("hooguit", mode="before")
    @classmethod
    def _old_word(cls, value):
        return "enigszins" if value == OLD_WORD else value


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    trend: str
    indicators: list[str] = Field(min_length=1)
    sterk: list[Condition] = Field(min_length=1)
    enigszins: list[Condition] = Field([], validation_alias=AliasChoices("enigszins", OLD_WORD))
    # Conditions every level needs (a growth the title names, judged on a series): when one cannot
    # be judged the verdict is 'onbekend', when one fails 'niet van toepassing'.
    vereist: list[Condition] = []
    schaal: Scale | None = None
    reden: str = ""  # why these indicators and thresholds speak to the trend

    def conditions(self) -> list[Condition]:
        return self.vereist + self.sterk + self.enigszins + (self.schaal.voorwaarden if self.schaal else [])


class MinimumChange(BaseModel):
    """The smallest change of an indicator that means anything, from the precision of its figures:
    a change no larger than `stap` (the rounding of the coarsest figure) is no change."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    indicator: str
    stap: float = Field(gt=0)
    reden: str


class SmallCounts(BaseModel):
    """A rate over few cases says little: the indicator `indicator` pools `jaren` years, and a
    condition on it is only judged when the count `aantal` over those years reaches `minimaal`."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    indicator: str
    aantal: str
    jaren: int = Field(1, ge=1)
    minimaal: float = Field(gt=0)
    reden: str


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # Figures from more than this many years before the newest year in the store are old: a
    # verdict that rests only on old figures is at most 'enigszins' and says so.
    oude_cijfers_jaren: int = Field(5, ge=0)


class Derived(BaseModel):
    """An indicator computed here from two in the store: a count times the sum of shares (%)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    titel: str
    eenheid: str
    decimalen: int = 0
    aantal: str
    aandelen: list[str] = Field(min_length=1)
    uitleg: str


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    instellingen: Settings = Field(default_factory=Settings)
    afgeleid: list[Derived] = []
    minimale_verandering: list[MinimumChange] = []
    kleine_aantallen: list[SmallCounts] = []
    regels: list[Rule]

    @model_validator(mode="after")
    def _sound(self) -> "RuleFile":
        """Every rule says why; every threshold has a reason; every change needs a margin."""
        problems = []
        for r in self.regels:
            if not r.reden.strip():
                problems.append(f"regel {r.trend}: geef een 'reden' (waarom deze indicatoren en drempels)")
            for c in r.conditions():
                if c.is_change and not c.marge:
                    problems.append(f"regel {r.trend}: verandering van {c.indicator} zonder 'marge' "
                                    "(een verandering vraagt een marge, anders telt elke ruis)")
                if c.has_threshold and not (c.reden or "").strip():
                    problems.append(f"regel {r.trend}: drempel op {c.indicator} zonder 'reden'")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Rules(list):
    """The rules of a rule file (a list of `Rule`), with the file's settings, derived indicators and
    what it says about the figures (minimum meaningful changes, small counts)."""

    def __init__(self, rules=(), settings: Settings | None = None, derived: list[Derived] | None = None,
                 minimum_change: list[MinimumChange] | None = None, small_counts: list[SmallCounts] | None = None):
        super().__init__(rules)
        self.settings = settings or Settings()
        self.derived = list(derived or [])
        self.minimum_change = {m.indicator: m for m in minimum_change or []}
        self.small_counts = {k.indicator: k for k in small_counts or []}


def load_rules(path: Path = RULES) -> Rules:
    raw = load_yaml(path) or []
    try:
        parsed = RuleFile.model_validate({"regels": raw} if isinstance(raw, list) else raw)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    return Rules(parsed.regels, parsed.instellingen, parsed.afgeleid, parsed.minimale_verandering,
                 parsed.kleine_aantallen)


def unit_label(unit: str) -> str:
    """A unit as it reads in a sentence or a label: 'per 100 (20-64 jaar)' → 'per 100 inwoners van 20-64 jaar'."""
    m = re.fullmatch(r"per ([\d.]+) \((.+)\)", unit)
    return f"per {m[1]} inwoners van {m[2]}" if m else unit


def unit_in_title(title: str, unit: str) -> bool:
    """Whether the title already says the unit ('Woningen per huishouden', 'woningen per huishouden')."""
    t, u = title.lower(), unit.lower()
    per = u.find("per ")
    return u in t or (per > 0 and t.endswith(u[per:]))


def newest_year(con: duckdb.DuckDBPyConnection) -> int:
    """The year of the newest indicator value in the store (0 when there is none): figures from
    well before it are old (Settings.oude_cijfers_jaren)."""
    row = con.execute("SELECT max(CAST(substr(period, 1, 4) AS INTEGER)) FROM indicator_values").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


class IndicatorData:
    """Indicator values from the store, held in memory for fast repeated lookups.

    `only`: load the values of these indicators alone (every region and period of each), for
    judging the trends that use no other (verdict.indicators_used); everything else (the register,
    groups, names, the newest year) is the whole store's, so those verdicts are the same."""

    def __init__(self, con: duckdb.DuckDBPyConnection, derived: list[Derived] | None = None,
                 only: set[str] | None = None):
        self.meta: dict[str, IndicatorRow] = indicator_rows(con)  # the register, as every reader has it
        self._series: dict[tuple[str, str], list[tuple[str, float]]] = {}
        self._by_period: dict[tuple[str, str], list[float]] = {}
        where, params = ("WHERE indicator_id IN (SELECT unnest(?))", [sorted(only)]) if only is not None else ("", [])
        # One string object per distinct id, code and period (sys.intern): less memory, and the
        # Localiser's cache file (knowledge/cache.py) is half the size and reads twice as fast.
        for ind, region, period, value in con.execute(
                "SELECT indicator_id, region_code, period, value FROM indicator_values "
                f"{where} ORDER BY 1, 2, 3", params).fetchall():
            ind, region, period = sys.intern(ind), sys.intern(region), sys.intern(period)
            self._series.setdefault((ind, region), []).append((period, value))
            if region.startswith("GM"):
                self._by_period.setdefault((ind, period), []).append(value)
        for values in self._by_period.values():
            values.sort()
        self.newest_year = newest_year(con)  # over every indicator, also when only some are loaded
        self.group_titles = dict(con.execute("SELECT group_id, title FROM groups").fetchall())
        self.memberships: dict[str, dict[str, str]] = {}  # per gemeente: its province and size class
        self.groups_of: dict[str, set[str]] = {}  # per gemeente: every group it belongs to
        for gid, kind, code in con.execute(
                "SELECT g.group_id, g.kind, m.region_code FROM groups g JOIN group_members m USING (group_id)").fetchall():
            self.memberships.setdefault(code, {})[kind] = gid
            self.groups_of.setdefault(code, set()).add(gid)
        self.names = dict(con.execute("SELECT code, name FROM regions").fetchall())
        self.own_rules = own_rules(con)  # the user's rules from eigen-indicatoren.yaml (see eigen.py)
        self.derived: dict[str, Derived] = {}
        self.minimum_change: dict[str, MinimumChange] = {}
        self.small_counts: dict[str, SmallCounts] = {}
        if derived is None:
            self.use_rules(load_rules())
        else:
            for d in derived:
                self.add_derived(d)

    def use_rules(self, rules: "Rules") -> None:
        """Take a rule file's derived indicators and what it says about the figures' precision."""
        for d in getattr(rules, "derived", []):
            self.add_derived(d)
        for m in getattr(rules, "minimum_change", {}).values():
            if m.indicator not in self.meta:
                raise TrendstudieError(f"Minimale verandering noemt onbekende indicator {m.indicator!r}")
            self.minimum_change[m.indicator] = m
        for k in getattr(rules, "small_counts", {}).values():
            for ind in (k.indicator, k.aantal):
                if ind not in self.meta:
                    raise TrendstudieError(f"Kleine aantallen: onbekende indicator {ind!r}")
            self.small_counts[k.indicator] = k

    def period_text(self, indicator: str, period: str) -> str:
        """'2025', or '2023-2025' for an indicator that pools several years."""
        k = self.small_counts.get(indicator)
        if k is None or k.jaren == 1 or not period.endswith("JJ00"):
            return formatting.period(period)
        return f"{int(period[:4]) - k.jaren + 1}-{period[:4]}"

    def too_few(self, indicator: str, region: str, period: str) -> str | None:
        """A sentence when the rate rests on fewer cases than its rule file asks (or the count is unknown)."""
        k = self.small_counts.get(indicator)
        if k is None:
            return None
        n = self.value(k.aantal, region, period)
        if n is not None and n >= k.minimaal:
            return None
        when = self.period_text(indicator, period)
        got = "onbekend" if n is None else formatting.number(n, 0)
        return (f"{self.meta[indicator].title}: te weinig gevallen om op te oordelen ({got} in {when} samen; "
                f"het oordeel vraagt er minstens {formatting.number(k.minimaal, 0)})")

    def meaningful(self, indicator: str, v0: float, v1: float) -> bool:
        """Whether a change from v0 to v1 is more than the figures' rounding: the printed numbers differ
        and the difference exceeds the indicator's minimum meaningful change."""
        if self.fmt(indicator, v0, unit=False) == self.fmt(indicator, v1, unit=False):
            return False
        m = self.minimum_change.get(indicator)
        return m is None or abs(v1 - v0) > m.stap

    def add_derived(self, d: Derived) -> None:
        """Compute a derived indicator for every region and period with the count and all shares."""
        if d.id in self.derived:
            return
        if d.id in self.meta:
            raise TrendstudieError(f"Afgeleide indicator {d.id!r} bestaat al in de database")
        for ind in [d.aantal, *d.aandelen]:
            if ind not in self.meta:
                raise TrendstudieError(f"Afgeleide indicator {d.id!r} noemt onbekende indicator {ind!r}")
        self.derived[d.id] = d
        count = self.meta[d.aantal]
        self.meta[d.id] = IndicatorRow(d.id, d.titel, d.uitleg, count.domain, d.eenheid, d.decimalen, "neutraal",
                                       count.citation, "", None, len(self.meta) + 1)
        regions = [r for (i, r) in self._series if i == d.aantal]
        touched = set()
        for region in regions:
            shares = [dict(self.series(s, region)) for s in d.aandelen]
            points = [(p, v * sum(s[p] for s in shares) / 100) for p, v in self.series(d.aantal, region)
                      if all(p in s for s in shares)]
            if not points:
                continue
            self._series[(d.id, region)] = points
            if region.startswith("GM"):
                for p, v in points:
                    self._by_period.setdefault((d.id, p), []).append(v)
                    touched.add((d.id, p))
        for key in touched:
            self._by_period[key].sort()

    def split_gemeenten(self) -> tuple["IndicatorData", dict[str, dict]]:
        """A copy without the gemeenten's own series, and those series per gemeente. Judging one
        gemeente reads only its own series besides the rest (groups, provinces, Nederland, the
        distributions over all gemeenten), so the Localiser's cache keeps them apart
        (knowledge/cache.py) and a command about one gemeente reads only its part."""
        rest = copy.copy(self)
        rest._series = {}
        per: dict[str, dict] = {}
        for k, v in self._series.items():
            (per.setdefault(k[1], {}) if k[1].startswith("GM") else rest._series)[k] = v
        return rest, per

    def add_series(self, series: dict) -> None:
        """Series of a gemeente that `split_gemeenten` took apart, put back."""
        self._series.update(series)

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

    def fmt(self, indicator: str, value: float, unit: bool = True) -> str:
        """A value as it reads in a sentence; `unit=False` leaves off a unit in words (not % or €)."""
        m = self.meta[indicator]
        if m.unit in ("%", "euro"):
            return formatting.with_unit(value, m.decimals, m.unit)
        if not unit or m.unit in COUNT_UNITS or unit_in_title(m.title, m.unit):
            return formatting.number(value, m.decimals)
        return formatting.with_unit(value, m.decimals, unit_label(m.unit))


@dataclass
class Check:
    holds: bool | None  # None: not evaluable for lack of data
    sentence: str | None
    period: str | None = None  # the (latest) period the check rests on
    fact: str | None = None  # the sentence without what the rule asked ('…, maar kleiner dan de 25% …')

    @classmethod
    def of(cls, holds: bool, fact: str, period: str, asked: str = "") -> "Check":
        return cls(holds, fact + asked + ".", period, fact)


@dataclass
class Finding:
    trend: str
    strength: Strength
    indicators: list[str]
    # What bears out the verdict: for 'sterk' and 'enigszins' the conditions that hold, for 'niet van
    # toepassing' the ones that do not; `counter` is the rest of what was checked, which speaks against it.
    evidence: list[str] = field(default_factory=list)
    counter: list[str] = field(default_factory=list)
    note: str | None = None  # a caveat on the verdict (it rests only on old figures)


def _window(series: list[tuple[str, float]], years: int) -> tuple[tuple[str, float], tuple[str, float]] | None:
    if len(series) < 2:
        return None
    last = series[-1]
    first_year = int(last[0][:4]) - years
    start = next((p for p in series if int(p[0][:4]) >= first_year), None)
    if start is None or start[0] == last[0]:
        return None
    return start, last


def _in_points(unit: str) -> bool:
    """A share (%, % per jaar) or a difference of shares (procentpunt): its changes and margins
    are in procentpunten, not relative."""
    return "%" in unit or unit == "procentpunt"


def _change(indicator_unit: str, a: float, b: float) -> float | None:
    if _in_points(indicator_unit):
        return b - a
    if a == 0:
        return None
    return (b - a) / abs(a)


def _shown_change(meta: IndicatorRow, a: float, b: float, change: float) -> float:
    """The change as the reader works it out from the two values the sentence prints (18,8% → 16,2%
    is −2,6 procentpunt, even when the unrounded values differ by 2,52); `change` where that
    cannot be (a printed start of 0)."""
    shown = _change(meta.unit, *(float(f"{v:.{meta.decimals}f}") for v in (a, b)))
    return change if shown is None else shown


def _change_text(unit: str, change: float) -> str:
    """+4,8% (relative) or +1,2 procentpunt (for % units)."""
    value, word = (change, " procentpunt") if _in_points(unit) else (change * 100, "%")
    decimals = 1 if abs(value) >= 0.05 or value == 0 else 2  # -0,04%, never a change shown as 0,0%
    return f"{'+' if change > 0 else ''}{formatting.number(value, decimals)}{word}"


def _margin_text(unit: str, marge: float) -> str:
    if _in_points(unit):
        return f"{formatting.number(marge, 1)} procentpunt"
    pct = marge * 100
    return f"{formatting.number(pct, 0 if pct == round(pct) else 1)}%"


def _subject(meta: IndicatorRow) -> str | None:
    """The indicator as the subject of a sentence ('Het aantal inwoners'), or None to write 'Title: …'."""
    if meta.unit in COUNT_UNITS:
        return "Het aantal " + (meta.title.lower() if meta.unit in meta.title.lower() else meta.unit)
    if meta.title.startswith("Aandeel "):
        return "Het " + meta.title[0].lower() + meta.title[1:]
    return None


def _movement(data: IndicatorData, ind: str, p0: str, v0: float, p1: str, v1: float) -> str:
    """'Het aantal inwoners steeg van 233.273 in 2021 naar 244.427 in 2026' or 'Drugshandel: gedaald van …'.
    Two values that print the same are said to stay the same, never 'gestegen van 1,20 naar 1,20'."""
    meta = data.meta[ind]
    y0, y1 = data.period_text(ind, p0), data.period_text(ind, p1)
    subject = _subject(meta)
    if data.fmt(ind, v0, unit=False) == data.fmt(ind, v1, unit=False):
        return (f"{subject} bleef {data.fmt(ind, v1)} van {y0} tot {y1}" if subject
                else f"{meta.title}: {data.fmt(ind, v1)} in zowel {y0} als {y1}")
    if subject:
        return (f"{subject} {'steeg' if v1 > v0 else 'daalde'} van {data.fmt(ind, v0, unit=False)} in {y0} "
                f"naar {data.fmt(ind, v1)} in {y1}")
    return (f"{meta.title}: {'gestegen' if v1 > v0 else 'gedaald'} van {data.fmt(ind, v0, unit=False)} in {y0} "
            f"naar {data.fmt(ind, v1)} in {y1}")


def evaluate(cond: Condition, data: IndicatorData, code: str) -> Check:
    """Whether one condition holds for a gemeente, with the sentence that says so. `holds` is None
    when it cannot be judged; the sentence then says why when there is a reason worth telling
    (too few cases, a single year where a change is asked)."""
    ind = cond.indicator
    if ind not in data.meta:
        raise TrendstudieError(f"Lokalisatieregel noemt onbekende indicator {ind!r}")
    meta = data.meta[ind]
    title = meta.title
    latest = data.latest(ind, code)
    if latest is None:
        return Check(None, None)
    period, value = latest
    year = data.period_text(ind, period)
    few = data.too_few(ind, code, period)
    if few:
        return Check(None, few + ".", period, few)
    if cond.is_ is not None:
        gid = data.group_for(code, cond.dan or "")
        other = data.value(ind, gid, period) if gid else None
        if other is None:
            return Check(None, None)
        diff = (value - other) / abs(other) if other else 0.0
        holds = diff > cond.marge if cond.is_ == "hoger" else diff < -cond.marge
        word = "hoger dan" if value > other else "lager dan" if value < other else "gelijk aan"
        if data.fmt(ind, value, unit=False) == data.fmt(ind, other, unit=False):
            word, holds = "gelijk aan", False
        fact = (f"{title}: {data.fmt(ind, value)} in {year}, {word} {data.group_label(gid)} "
                f"({data.fmt(ind, other, unit=False)})")
        asked = ""
        if not holds and cond.marge and (diff > 0) == (cond.is_ == "hoger") and word != "gelijk aan":
            asked = f", maar het verschil is kleiner dan de {formatting.number(cond.marge * 100, 0)}% die de regel vraagt"
        return Check.of(holds, fact, period, asked)
    if cond.boven is not None or cond.onder is not None:
        limit = cond.boven if cond.boven is not None else cond.onder
        holds = value > limit if cond.boven is not None else value < limit
        if limit == 0:
            side = "positief" if value > 0 else "negatief" if value < 0 else "nul"
            return Check.of(holds, f"{title}: {data.fmt(ind, value)} in {year}, {side}", period)
        side = "boven" if value > limit else "onder" if value < limit else "op"
        return Check.of(holds, f"{title}: {data.fmt(ind, value)} in {year}, {side} de grens van "
                               f"{data.fmt(ind, limit, unit=False)}", period)
    if cond.percentiel_boven is not None:
        pct = data.percentile(ind, period, value)
        if pct is None:
            return Check(None, None)
        share = 100 - pct
        place = (f"bij de {formatting.number(max(share, 1), 0)}% van de gemeenten met de hoogste waarde" if share <= 50
                 else f"bij de {formatting.number(max(pct, 1), 0)}% van de gemeenten met de laagste waarde")
        holds = pct > cond.percentiel_boven
        fact = f"{title}: {data.fmt(ind, value)} in {year}; daarmee hoort {data.names.get(code, code)} {place}"
        asked = "" if holds else f" (de regel vraagt de hoogste {formatting.number(100 - cond.percentiel_boven, 0)}%)"
        return Check.of(holds, fact, period, asked)
    window = _window(data.series(ind, code), cond.jaren)
    if window is None:
        years = sorted({data.period_text(ind, p) for p, _ in data.series(ind, code)})
        fact = (f"{title}: alleen een cijfer uit {years[0]}; een verandering is uit één jaar niet af te lezen"
                if len(years) == 1 else
                f"{title}: geen cijfers over de {cond.jaren} jaar die de regel bekijkt (wel uit {_join(years)})")
        return Check(None, fact + ".", period, fact)
    (p0, v0), (p1, v1) = window
    few = data.too_few(ind, code, p0)
    if few:
        return Check(None, few + ".", p0, few)
    change = _change(meta.unit, v0, v1)
    if change is None:
        return Check(None, None)
    base = _movement(data, ind, p0, v0, p1, v1)
    meaningful = data.meaningful(ind, v0, v1)
    printed_equal = data.fmt(ind, v0, unit=False) == data.fmt(ind, v1, unit=False)
    small = ""
    if not meaningful and not printed_equal:
        step = data.minimum_change[ind].stap
        small = (f", binnen de afronding van de cijfers: pas een verschil van meer dan "
                 f"{data.fmt(ind, step, unit=False)} telt")
    if cond.verandering is not None:
        holds = meaningful and (change > cond.marge if cond.verandering == "stijgend" else change < -cond.marge)
        asked = small
        if not holds and not small and meaningful and (change > 0) == (cond.verandering == "stijgend"):
            asked = (f", minder dan de {'groei' if change > 0 else 'daling'} van "
                     f"{_margin_text(meta.unit, cond.marge)} die de regel vraagt")
        fact = base if printed_equal else f"{base} ({_change_text(meta.unit, _shown_change(meta, v0, v1, change))})"
        return Check.of(holds, fact, p1, asked)
    gid = data.group_for(code, cond.sneller_dan or cond.trager_dan or "")
    g0, g1 = (data.value(ind, gid, p0), data.value(ind, gid, p1)) if gid else (None, None)
    if g0 is None or g1 is None:
        return Check(None, None)
    other = _change(meta.unit, g0, g1)
    if other is None:
        return Check(None, None)
    gap = change - other if cond.sneller_dan else other - change
    holds = gap > cond.marge
    how = (f"{_change_text(meta.unit, _shown_change(meta, v0, v1, change))}, tegen {_change_text(meta.unit, other)} "
           f"in {data.group_label(gid)}")
    asked = ""
    if not holds and gap > 0:
        asked = (f", een verschil kleiner dan de {_margin_text(meta.unit, cond.marge)} die de regel vraagt")
    elif not holds:  # said outright: the sentence then reads as what speaks against the trend
        asked = f": niet {'sneller' if cond.sneller_dan else 'trager'} dan {data.group_label(gid)}"
    return Check.of(holds, f"{base} ({how})", p1, asked)


@dataclass(frozen=True)
class RuleStep:
    """One part of a rule in words: `label` ('Sterk als al deze voorwaarden gelden') over its
    conditions, each a sentence with the reason the rule file gives for it."""

    label: str
    conditions: list[str]


def condition_in_words(cond: Condition, data: IndicatorData) -> str:
    """A condition as a reader of a report or a page understands it: 'Aandeel 15 tot 25 jaar meer dan
    10% hoger dan Nederland', 'Woningen per huishouden onder 1,000', with the rule file's reason."""
    meta = data.meta[cond.indicator]

    def group(gid: str) -> str:
        return {"provincie": "de eigen provincie", "grootteklasse": "gemeenten van dezelfde grootte"}.get(
            gid, data.group_label(gid))

    # a margin on a level is relative ('10% hoger dan Nederland'), on a change in the indicator's own terms
    margin = f"meer dan {_margin_text('' if cond.is_ else meta.unit, cond.marge)} " if cond.marge else ""
    span = f"over {cond.jaren} jaar"
    if cond.is_ is not None:
        text = f"{meta.title} {margin}{cond.is_} dan {group(cond.dan)}"
    elif cond.boven is not None or cond.onder is not None:
        limit = cond.boven if cond.boven is not None else cond.onder
        side = ("positief" if cond.boven is not None else "negatief") if limit == 0 else \
            f"{'boven' if cond.boven is not None else 'onder'} {data.fmt(cond.indicator, limit, unit=False)}"
        text = f"{meta.title} {side}"
    elif cond.percentiel_boven is not None:
        text = (f"{meta.title} bij de hoogste {formatting.number(100 - cond.percentiel_boven, 0)}% "
                "van de gemeenten")
    elif cond.verandering is not None:
        text = f"{meta.title} {margin}{'gestegen' if cond.verandering == 'stijgend' else 'gedaald'} {span}"
    else:
        how = "sterker gestegen" if cond.sneller_dan else "minder gestegen"
        gap = f" (een verschil van {margin.removesuffix(' ')})" if margin else ""
        text = f"{meta.title} {span} {how} dan in {group(cond.sneller_dan or cond.trager_dan)}{gap}"
    return text + (f": {cond.reden}" if cond.reden else "")


def rule_in_words(rule: Rule, data: IndicatorData) -> list[RuleStep]:
    """How a trend is judged from a gemeente's figures, step by step as `localise` does it."""
    steps = []
    if rule.vereist:
        steps.append(RuleStep("Eerst moet dit gelden (anders speelt de trend niet)",
                              [condition_in_words(c, data) for c in rule.vereist]))
    steps.append(RuleStep("Sterk als al deze voorwaarden gelden", [condition_in_words(c, data) for c in rule.sterk]))
    if rule.enigszins:
        steps.append(RuleStep("Anders enigszins als een van deze geldt",
                              [condition_in_words(c, data) for c in rule.enigszins]))
    if rule.schaal:
        said = {"enigszins": "hooguit enigszins", "niet van toepassing": "niet"}[rule.schaal.hooguit]
        steps.append(RuleStep(f"De trend gaat over {rule.schaal.omschrijving}; waar dit niet geldt, speelt hij {said}",
                              [condition_in_words(c, data) for c in rule.schaal.voorwaarden]))
    return steps


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _unique(checks: list[Check], skip: set[str] = frozenset()) -> list[str]:
    """One sentence per fact (the last: the 'enigszins' condition, after the stricter 'sterk' one),
    leaving out the facts in `skip` and the sentences another one repeats and extends."""
    by_fact = {c.fact: c.sentence for c in checks if c.sentence and c.fact not in skip}
    sentences = list(dict.fromkeys(by_fact.values()))
    # 'X steeg van a naar b (+4,8%).' adds nothing next to 'X steeg van a naar b (+4,8%, tegen … in Nederland).'
    return [s for s in sentences
            if not any(o != s and o.startswith(s[:-1].removesuffix(")")) for o in sentences)]


def _years(periods: list[str]) -> str:
    years = sorted({int(p[:4]) for p in periods})
    text = [str(y) for y in years]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " en " + text[-1]


def localise(rule: Rule, data: IndicatorData, code: str, settings: Settings | None = None) -> Finding:
    """The verdict: 'sterk' when every sterk-condition holds, 'enigszins' when an enigszins-condition holds,
    both only when every `vereist` condition holds ('onbekend' when one cannot be judged, 'niet van
    toepassing' when one fails). A rule with a `schaal` guard gives at most its `hooguit` where the
    gemeente does not meet the guard.

    The evidence is what bears out the verdict (for a trend that applies: the conditions that hold),
    the counter-evidence what was checked and speaks against it (the conditions that do not hold). A
    verdict that rests only on figures from before `newest year - oude_cijfers_jaren` is at most
    'enigszins' and carries a note that says how old the figures are. Conditions that could not be judged
    for a reason worth telling (too few cases, one year where a change is asked) are named in the note.
    """
    settings = settings or Settings()
    # The indicators of the 'sterk' conditions come first: they are what the trend is judged on.
    indicators = list(dict.fromkeys([c.indicator for c in rule.vereist + rule.sterk] + rule.indicators))
    if not any(data.latest(i, code) for i in rule.indicators + [c.indicator for c in rule.vereist + rule.sterk + rule.enigszins]):
        return Finding(rule.trend, "onbekend", indicators)
    required = [evaluate(c, data, code) for c in rule.vereist]
    sterk = [evaluate(c, data, code) for c in rule.sterk]
    enigszins = [evaluate(c, data, code) for c in rule.enigszins]
    checks = required + sterk + enigszins
    notes = _unique([c for c in checks if c.holds is None and c.sentence])
    if any(c.holds is None for c in required):
        return Finding(rule.trend, "onbekend", indicators, note=" ".join(notes) or None)
    if any(c.holds is False for c in required):
        strength: Strength = "niet van toepassing"
        basis: list[Check] = []
    elif all(c.holds for c in sterk):
        strength = "sterk"
        basis = required + sterk
    elif any(c.holds for c in enigszins):
        strength = "enigszins"
        basis = required + [c for c in enigszins if c.holds]
    elif all(c.holds is None for c in sterk + enigszins):
        strength, basis = "onbekend", []
    else:
        strength, basis = "niet van toepassing", []
    holding = [c for c in checks if c.holds]
    # A fact that holds for one condition and is only short of a stricter margin for another speaks for the trend.
    failing = _unique([c for c in checks if c.holds is False], {c.fact for c in holding})
    evidence, counter = (failing, _unique(holding)) if strength == "niet van toepassing" else (_unique(holding), failing)
    if rule.schaal and ORDER[strength] < ORDER[rule.schaal.hooguit]:
        guard = [evaluate(c, data, code) for c in rule.schaal.voorwaarden]
        if all(g.holds for g in guard):
            evidence += [g.sentence for g in guard if g.sentence and g.sentence not in evidence]
        else:
            cap = rule.schaal.hooguit
            said = {"enigszins": "hooguit 'speelt enigszins'", "niet van toepassing": "'speelt niet'"}[cap]
            facts = " ".join(g.sentence for g in guard if g.holds is not True and g.sentence)
            was = {"sterk": "sterk", "enigszins": "enigszins"}[strength]
            notes.append(f"De trend gaat over {rule.schaal.omschrijving}. {facts} Op de andere cijfers alleen "
                         f"zou hij hier {was} spelen; daarom staat er {said}.".replace("  ", " "))
            if cap == "niet van toepassing":
                evidence, counter = [g.sentence for g in guard if g.holds is False and g.sentence], _unique(holding)
                basis = []
            strength = cap
    note_parts = []
    periods = [c.period for c in basis if c.period]
    old_before = data.newest_year - settings.oude_cijfers_jaren
    old = [p for p in periods if int(p[:4]) < old_before]
    if periods and len(old) == len(periods):
        text = f"Dit oordeel rust alleen op cijfers uit {_years(old)}; nieuwere cijfers zijn er niet."
        if strength == "sterk":
            strength = "enigszins"
            text += (f" Op die cijfers zou de trend sterk spelen, maar omdat ze van vóór {old_before} zijn, "
                     "staat er hooguit 'speelt enigszins'.")
        note_parts.append(text)
    elif old:
        note_parts.append(f"Dit oordeel rust deels op cijfers uit {_years(old)}; nieuwere zijn er daarvoor niet.")
    note_parts += notes
    return Finding(rule.trend, strength, indicators, evidence, counter, " ".join(note_parts) or None)


OWN_RULES_KEY = "eigen_regels"  # build_info: the user's rules (JSON), checked at build time


def own_rules(con: duckdb.DuckDBPyConnection) -> list[Rule]:
    """Rules from the user's eigen-indicatoren.yaml as the build stored them; each replaces the
    product's rule for the same trend."""
    import json

    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'build_info'").fetchone():
        return []  # a bare database made by a test or a tool: no build, so no own rules
    row = con.execute("SELECT value FROM build_info WHERE key = ?", [OWN_RULES_KEY]).fetchone()
    return [Rule.model_validate(r) for r in json.loads(row[0])] if row and row[0] else []


def with_own(rules: list[Rule], data: "IndicatorData") -> list[Rule]:
    """The rules with the user's own in place of the product's for the same trend."""
    mine = {r.trend: r for r in getattr(data, "own_rules", [])}
    if not mine:
        return rules
    merged = [mine.pop(r.trend, r) for r in rules] + list(mine.values())
    return Rules(merged, getattr(rules, "settings", None), getattr(rules, "derived", None),
                 list(getattr(rules, "minimum_change", {}).values()), list(getattr(rules, "small_counts", {}).values()))


def rule_for(rules: list[Rule], data: "IndicatorData", trend_id: str) -> Rule | None:
    """The rule that judges `trend_id`, as the verdicts use it: the user's own (from
    eigen-indicatoren.yaml) where there is one, else the product's; None for a trend without."""
    return next((r for r in [*getattr(data, "own_rules", []), *rules] if r.trend == trend_id), None)


def localise_all(con: duckdb.DuckDBPyConnection, code: str, rules: list[Rule] | None = None,
                 data: IndicatorData | None = None) -> list[Finding]:
    """Findings for every trend with a rule, strongest first."""
    rules = rules if rules is not None else load_rules()
    settings = getattr(rules, "settings", None)
    data = data or IndicatorData(con, getattr(rules, "derived", None))
    rules = with_own(rules, data)
    data.use_rules(rules)
    findings = [localise(r, data, code, settings) for r in rules]
    return sorted(findings, key=lambda f: (ORDER[f.strength], f.trend))
