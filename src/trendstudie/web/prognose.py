"""Projections for the web: the prognose page, its chart and its downloads, and the API.

Every projection comes from `trendstudie.forecast.project` (the same numbers as `trendstudie
prognose` and the report). The web always projects to `MAX_UNTIL` and cuts the rows at the
chosen end year: a run to 2070 contains the run to any earlier year (the tests check that), and
the forecast package then keeps one model run per scenario instead of one per end year.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from .. import formatting
from ..forecast import DEFAULT_UNTIL, MAX_UNTIL, ProjectionRow, load_scenarios, project

COLUMNS = ["indicator_id", "region_code", "period", "value", "lower", "upper", "scenario"]
JSON_COLUMNS = COLUMNS + ["method", "origin"]  # as `trendstudie prognose --format json`
# flows during a calendar year: a run to year Y gives them for the years before Y only
FLOWS = {"geboorten_per_1000", "sterfte_per_1000", "natuurlijke_aanwas_per_1000",
         "binnenlands_migratiesaldo_per_1000", "buitenlands_migratiesaldo_per_1000"}
HOUSING = ("bevolking", "huishoudens", "gemiddelde_huishoudensgrootte", "woningvoorraad", "woningbehoefte",
           "woningtekort")
AGES = ("aandeel_0_15", "aandeel_15_25", "aandeel_25_45", "aandeel_45_65", "aandeel_65_plus", "aandeel_80_plus",
        "grijze_druk", "groene_druk")
# not in the indicator register (they exist only as projections)
EXTRA = {
    "woningbehoefte": ("Woningbehoefte", "woningen", 0,
                       "huishoudens plus frictieleegstand: zoveel woningen zijn nodig"),
    "woningtekort": ("Woningtekort", "woningen", 0,
                     "woningbehoefte min woningvoorraad; negatief is een overschot"),
}
SCENARIOS = load_scenarios()
SCENARIO_IDS = tuple(SCENARIOS)


@dataclass(frozen=True)
class Meta:
    id: str
    title: str
    unit: str
    decimals: int
    note: str = ""


def truncate(rows: list[ProjectionRow], until: int) -> list[ProjectionRow]:
    """The rows `project(..., until)` would give, cut from a longer run."""
    out = []
    for r in rows:
        year = int(r.period[:4])
        if year < until or (year == until and r.indicator_id not in FLOWS):
            out.append(r)
    return out


class Forecasts:
    """Projections per (region, scenario) to MAX_UNTIL, kept for the most recent regions.

    `project` reads through the read model's connection of the calling thread, so projections of
    different requests run in parallel; the forecast package caches the model run per scenario for all gemeenten at once, so after the
    first request a projection takes some tens of milliseconds."""

    def __init__(self, data, keep: int = 96):
        self.d = data
        self.keep = keep
        self._rows: OrderedDict[tuple[str, str], list[ProjectionRow]] = OrderedDict()
        self._lock = threading.Lock()
        self._origin: int | None = None
        self._backtest = None

    def rows(self, code: str, scenario: str, until: int = MAX_UNTIL) -> list[ProjectionRow]:
        key = (code, scenario)
        with self._lock:
            hit = self._rows.get(key)
            if hit is not None:
                self._rows.move_to_end(key)
        if hit is None:
            hit = project(self.d.con, code, scenario, MAX_UNTIL)
            with self._lock:
                self._rows[key] = hit
                while len(self._rows) > self.keep:
                    self._rows.popitem(last=False)
        return hit if until >= MAX_UNTIL else truncate(hit, until)

    def origin(self) -> int:
        """The last observed year of the population (projections start on 1 January after it)."""
        if self._origin is None:
            from ..forecast import components

            history = components.load_history(self.d.con)
            self._origin = int(history.last_population_year())
        return self._origin

    def backtest(self):
        if self._backtest is None:
            from ..forecast import backtest

            self._backtest = backtest(self.d.con)
        return self._backtest

    def meta(self, indicator: str) -> Meta:
        if indicator in EXTRA:
            title, unit, dec, note = EXTRA[indicator]
            return Meta(indicator, title, unit, dec, note)
        m = self.d.indicators.get(indicator)
        if m is None:
            return Meta(indicator, indicator.replace("_", " ").capitalize(), "", 1)
        return Meta(indicator, m.title, m.unit, m.decimals, "")


def table_years(origin: int, until: int) -> list[int]:
    """Every fifth year after the origin, and the end year."""
    return sorted({y for y in range(origin + 1, until + 1) if y % 5 == 0} | {until})


def by_indicator(rows: list[ProjectionRow]) -> dict[str, dict[int, ProjectionRow]]:
    out: dict[str, dict[int, ProjectionRow]] = {}
    for r in rows:
        out.setdefault(r.indicator_id, {})[int(r.period[:4])] = r
    return out


def observed(f: Forecasts, code: str, indicator: str, scenario: str) -> tuple[int, float] | None:
    """The last observation of an indicator here (woningbehoefte and -tekort from households and
    stock of the same year, as the model defines them)."""
    d = f.d
    if indicator in ("woningbehoefte", "woningtekort"):
        hh, stock = d.data.latest("huishoudens", code), d.data.latest("woningvoorraad", code)
        if not hh or not stock or hh[0] != stock[0]:
            return None
        need = hh[1] / (1 - SCENARIOS[scenario].frictieleegstand)
        return int(hh[0][:4]), need if indicator == "woningbehoefte" else need - stock[1]
    latest = d.data.latest(indicator, code)
    return (int(latest[0][:4]), latest[1]) if latest else None


def table(f: Forecasts, code: str, scenario: str, rows: list[ProjectionRow], indicators, years: list[int]):
    """Rows of (meta, observed (year, value) or None, [ProjectionRow or None per year])."""
    by = by_indicator(rows)
    out = []
    for ind in indicators:
        if ind not in by:
            continue
        out.append((f.meta(ind), observed(f, code, ind, scenario), [by[ind].get(y) for y in years]))
    return out


def fan_chart(f: Forecasts, code: str, scenario: str, until: int):
    """Observed population, the chosen scenario with its 90% band, the other scenarios as lines
    (the report's fan chart)."""
    from ..charts import fan

    d = f.d
    history = [(int(p[:4]), v) for p, v in d.data.series("bevolking", code) if p.endswith("JJ00")]
    own = sorted((r for r in f.rows(code, scenario, until) if r.indicator_id == "bevolking"), key=lambda r: r.period)
    others = {}
    for sid, s in SCENARIOS.items():
        if sid == scenario:
            continue
        pts = [(int(r.period[:4]), r.value) for r in f.rows(code, sid, until) if r.indicator_id == "bevolking"]
        if pts:
            others[s.titel] = pts
    name = d.name(code)
    title = f"Inwoners van {name}: scenario {SCENARIOS[scenario].titel}"
    from .charts import Responsive

    projection = [(int(r.period[:4]), r.value, r.lower, r.upper) for r in own
                  if r.lower is not None and r.upper is not None]
    wide = fan(title, "inwoners", history, projection, others, decimals=0, width=760, height=400,
               label=SCENARIOS[scenario].titel)
    if wide is None:
        return None
    narrow = fan(title, "inwoners", history, projection, others, decimals=0, width=320, height=360,
                 label=SCENARIOS[scenario].titel)
    return Responsive(wide.svg, wide.alt, narrow.svg if narrow else None)


def comparison(f: Forecasts, code: str, until: int) -> list[dict]:
    """Every scenario at the end year: population (with band), households, woningtekort, 65+."""
    origin_value = f.d.data.latest("bevolking", code)
    out = []
    for sid, s in SCENARIOS.items():
        by = by_indicator(f.rows(code, sid, until))
        pop = by.get("bevolking", {}).get(until)
        change = (pop.value / origin_value[1] - 1) * 100 if pop and origin_value else None
        out.append({"id": sid, "scenario": s, "bevolking": pop, "change": change,
                    "huishoudens": by.get("huishoudens", {}).get(until),
                    "woningtekort": by.get("woningtekort", {}).get(until),
                    "aandeel_65_plus": by.get("aandeel_65_plus", {}).get(until)})
    return out


def _pct(x: float, dec: int = 1) -> str:
    return formatting.number(x, dec) + "%"


def method_text(f: Forecasts, code: str, scenario: str, rows: list[ProjectionRow], until: int) -> list[str]:
    """What made the numbers and how large the backtest errors were that give the band."""
    from ..forecast import components
    from ..forecast.backtest import MAX_BAND_HORIZON, SIZE_CLASSES, size_class

    d = f.d
    name = d.name(code)
    origin = f.origin()
    s = SCENARIOS[scenario]
    out = [f"Scenario {s.titel}: {s.beschrijving}".rstrip(".") + "."]
    out.append(
        "De bevolking komt uit een componentenmodel per gemeente: geboorte, sterfte, verhuizingen tussen gemeenten "
        f"en buitenlandse migratie, met de kansen van de laatste {components.DEFAULT_WINDOW} jaar met gegevens en "
        "de factoren van het scenario. De leeftijdsopbouw komt uit een cohort-componentenmodel in losse leeftijdsjaren met migratie naar leeftijd per gemeente; huishoudens, "
        "woningbehoefte en woningtekort uit de huishoudensgrootte en de woningvoorraad. Het is een prognose van "
        "trendstudie zelf, geen officiële prognose van PBL of CBS.")
    table_ = f.backtest()
    pooled = sorted({r.horizon for r in table_.rows if r.origin is None})
    if pooled:
        h = 5 if 5 in pooled else pooled[-1]
        model = table_.row(None, h, "componentenmodel")
        same = table_.row(None, h, "geen verandering")
        growth = table_.row(None, h, "constante groei")
        origins = sorted({r.origin for r in table_.rows if r.origin is not None})
        years = ", ".join(str(o) for o in origins[:-1]) + f" en {origins[-1]}" if len(origins) > 1 else str(origins[0])
        out.append(
            f"De marge is een 90%-interval uit de backtest: hetzelfde model, doorgerekend vanuit {years} voor alle "
            f"{len(d.gemeenten)} gemeenten, zat na {h} jaar bij de helft van de gemeenten minder dan "
            f"{_pct(model.median_ape)} naast de werkelijke bevolking (als het aantal inwoners gelijk was gebleven: "
            f"{_pct(same.median_ape)}; bij de groei van de jaren ervoor: {_pct(growth.median_ape)}).")
    pop = {int(r.period[:4]): r for r in rows if r.indicator_id == "bevolking" and r.upper is not None}
    start = d.data.latest("bevolking", code)
    if pop and start and code in d.gemeenten:
        label = SIZE_CLASSES[size_class(start[1])][2]
        h = min(5, until - origin)
        near, far = pop.get(origin + h), pop.get(until)
        if near and far:
            text = (f"Voor gemeenten van {label}, zoals {name}, was 90% van die fouten na {h} jaar kleiner dan "
                    f"{_pct((near.upper / near.value - 1) * 100)}; de marge in {origin + h} is daarom "
                    f"±{_pct((near.upper / near.value - 1) * 100)}.")
            if until > origin + MAX_BAND_HORIZON:
                text += (f" Verder dan {MAX_BAND_HORIZON} jaar vooruit is het model niet getoetst; daar groeit de "
                         f"marge evenredig met de afstand in de tijd, tot ±{_pct((far.upper / far.value - 1) * 100)} "
                         f"in {until}.")
            elif until > origin + h:
                text += f" In {until} is zij ±{_pct((far.upper / far.value - 1) * 100)}."
            out.append(text)
    out.append("De marge van de leeftijdsaandelen komt uit dezelfde toets van het cohortmodel van 2015 naar 2025; die "
               "van huishoudens, woningbehoefte en woningtekort volgt uit de marge van de bevolking. De downloads "
               "bevatten ook de geboorte, sterfte en migratie per 1.000 inwoners en, waar de backtest dat toeliet, "
               "een trendextrapolatie van andere indicatoren.")
    return out


def summary(f: Forecasts, code: str, scenario: str, rows: list[ProjectionRow], until: int) -> str | None:
    by = by_indicator(rows)
    pop = by.get("bevolking", {}).get(until)
    start = f.d.data.latest("bevolking", code)
    if not pop or not start:
        return None
    change = (pop.value / start[1] - 1) * 100
    text = (f"In scenario {SCENARIOS[scenario].titel} telt {f.d.name(code)} op 1 januari {until} naar verwachting "
            f"{formatting.number(pop.value, 0)} inwoners ({'+' if change >= 0 else '−'}{formatting.number(abs(change), 1)}% "
            f"ten opzichte van {start[0][:4]})")
    if pop.lower is not None and pop.upper is not None:
        text += f", met een marge van {formatting.number(pop.lower, 0)} tot {formatting.number(pop.upper, 0)}"
    need = by.get("woningtekort", {}).get(until)
    if need:
        word = "een tekort" if need.value > 0 else "een overschot"
        text += f". Bij de woningbouw van de afgelopen jaren is er dan {word} van ongeveer " \
                f"{formatting.number(abs(need.value), 0)} woningen"
    return text + "."


__all__ = ["Forecasts", "COLUMNS", "JSON_COLUMNS", "SCENARIOS", "SCENARIO_IDS", "DEFAULT_UNTIL", "MAX_UNTIL",
           "truncate", "table", "table_years", "fan_chart", "comparison", "method_text", "summary"]


def check_until(f: Forecasts, until: int) -> None:
    """An end year the projection can reach: after the last observation and at most MAX_UNTIL."""
    from fastapi import HTTPException

    origin = f.origin()
    if not origin < until <= MAX_UNTIL:
        raise HTTPException(422, f"Ongeldig eindjaar {until}: kies een jaar na {origin} (de laatste waarneming) "
                                 f"en uiterlijk {MAX_UNTIL}.")


def download(rows: list[ProjectionRow], kind: str) -> tuple[list[tuple], list[str]]:
    """The rows and columns of a download: the CLI's CSV columns, in JSON also method and origin."""
    columns = JSON_COLUMNS if kind == "json" else COLUMNS
    return [tuple(getattr(r, c) for c in columns) for r in rows], columns
