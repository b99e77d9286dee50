"""The indicator registry: declarative definitions (registry.yaml) and their evaluation over facts.

An indicator has one or more *variants*, each a formula over named inputs; an input is a list
of fact references (table, measure or measure title, dimension codes), tried in order per
period. For each gemeente and period the first variant whose inputs are all present gives the
value. A group's value is computed from the members' summed inputs (so a group's rate is its
summed numerator over its summed denominator), or, for averages published without numerator
and denominator, as a mean weighted by a named input. Nederland (NL01) is as CBS publishes it:
where every input of the variant the gemeenten use has an NL01 fact (published, or for the
police figures the national total with 'niet toe te delen', see harmonise.py), the formula is
evaluated on those; otherwise NL01 is computed from its members like any group.

Formulas are arithmetic over input names: `+ - * /`, parentheses, numbers, and `lag(name)` or
`lag(name, 5)` for the value a number of years earlier.
"""

from __future__ import annotations

import ast
import operator
from pathlib import Path
from typing import Iterable, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import gcpause
from ..errors import InputError
from ..sources.records import dims_key, fold_title
from ..textfile import load_yaml
from .domains import DOMAINS  # noqa: F401 - used below and imported from here by others

REGISTRY = Path(__file__).parent / "registry.yaml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ref(Strict):
    table: str
    measure: str | None = None
    title: str | None = None  # a measure's CBS title: matches both v3 keys and v4 codes
    unit: str | None = None  # with 'title': only the measure in this unit (a title can occur per unit)
    dims: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_of(self) -> "Ref":
        if (self.measure is None) == (self.title is None):
            raise ValueError("geef precies één van 'measure' en 'title'")
        if self.unit is not None and self.title is None:
            raise ValueError("'unit' kiest tussen maatstaven met dezelfde 'title' en hoort daarbij")
        return self

    @property
    def dims_key(self) -> str:
        return dims_key(self.dims)

    def label(self) -> str:
        dims = f" [{self.dims_key}]" if self.dims else ""
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.table} {self.measure or repr(self.title)}{unit}{dims}"


class Variant(Strict):
    inputs: dict[str, list[Ref]]
    formula: str
    aggregate: Literal["herberekenen", "gewogen gemiddelde"] = "herberekenen"
    weight: str | None = None  # an input name, for 'gewogen gemiddelde'

    @model_validator(mode="after")
    def _check(self) -> "Variant":
        names = _formula_names(self.formula)
        unknown = names - set(self.inputs)
        if unknown:
            raise ValueError(f"formule {self.formula!r} gebruikt onbekende invoer: {', '.join(sorted(unknown))}")
        if self.aggregate == "gewogen gemiddelde" and self.weight not in self.inputs:
            raise ValueError("'gewogen gemiddelde' vraagt een 'weight' die een van de invoeren is")
        return self


class Spread(Strict):
    """A gemeente's value is the spread of the formula's value between its wijken: the weighted 80th
    percentile over the 20th ('verhouding p80/p20') or minus it ('verschil p80-p20'), each wijk
    weighted by the input `weight` (inhabitants, dwellings, households). Wijken are taken from the
    facts with WK codes; a wijk belongs to the gemeente of its code (WK019301 → GM0193) and wijken of
    gemeenten that no longer exist are left out (wijken are not harmonised over a herindeling)."""

    statistic: Literal["verhouding p80/p20", "verschil p80-p20"]
    weight: str
    minimum_wijken: int = Field(4, ge=2)
    reason: str  # why this statistic and minimum


class Indicator(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    description: str
    domain: Literal[DOMAINS]  # type: ignore[valid-type]
    unit: str  # as a reader sees it: 'inwoners', '%', 'per 1.000 inwoners', 'euro'
    decimals: int = 0
    direction: Literal["hoger is beter", "hoger is slechter", "neutraal"] = "neutraal"
    variants: list[Variant] = Field(min_length=1)
    live: list[str] = []  # CBS tables that feed it on a connected machine (see sources/catalog.yaml)
    citation: str
    note: str = ""
    spread: Spread | None = None  # the value is the spread between the gemeente's wijken

    @model_validator(mode="after")
    def _spread_weight(self) -> "Indicator":
        if self.spread and any(self.spread.weight not in v.inputs for v in self.variants):
            raise ValueError(f"{self.id}: 'spread.weight' moet een invoer van elke variant zijn")
        return self

    @field_validator("live")
    @classmethod
    def _live(cls, v: list[str]) -> list[str]:
        return [t.strip() for t in v]

    def tables(self) -> set[str]:
        return {r.table for var in self.variants for refs in var.inputs.values() for r in refs}


class Registry(BaseModel):
    indicators: list[Indicator]

    @model_validator(mode="after")
    def _unique(self) -> "Registry":
        seen = set()
        for i in self.indicators:
            if i.id in seen:
                raise ValueError(f"indicator-id {i.id!r} komt twee keer voor")
            seen.add(i.id)
        return self

    def get(self, id: str) -> Indicator:
        for i in self.indicators:
            if i.id == id:
                return i
        raise KeyError(id)

    def series_read(self) -> set[tuple[str, str]]:
        """(table, dims) of every series some indicator reads: all a FactIndex for them must hold."""
        return {(ref.table, ref.dims_key) for i in self.indicators for v in i.variants
                for refs in v.inputs.values() for ref in refs}


def load(path: Path = REGISTRY) -> Registry:
    raw = load_yaml(path)
    try:
        return Registry.model_validate(raw)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None


# --- formulas ---------------------------------------------------------------------------------

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _parse(formula: str) -> ast.expr:
    try:
        tree = ast.parse(formula, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"formule {formula!r} is ongeldig: {exc.msg}") from None
    for node in ast.walk(tree):
        ok = isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Call, ast.Load,
                               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub))
        if not ok or (isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))):
            raise ValueError(f"formule {formula!r}: alleen + - * /, getallen, invoernamen en lag() zijn toegestaan")
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id == "lag" and node.args
                    and isinstance(node.args[0], ast.Name) and len(node.args) <= 2
                    and (len(node.args) == 1 or isinstance(node.args[1], ast.Constant))):
                raise ValueError(f"formule {formula!r}: alleen lag(naam) of lag(naam, jaren) is toegestaan")
    return tree


def _formula_names(formula: str) -> set[str]:
    tree = _parse(formula)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls}


def _lags(formula: str) -> set[tuple[str, int]]:
    """(input, years) pairs the formula looks back to, including (name, 0) for plain use."""
    tree = _parse(formula)
    out = set()
    calls = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            calls.add(id(n.func))
            calls.add(id(n.args[0]))
            out.add((n.args[0].id, int(n.args[1].value) if len(n.args) == 2 else 1))
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and id(n) not in calls:
            out.add((n.id, 0))
    return out


def evaluate(tree: ast.expr, values: dict[tuple[str, int], float]) -> float | None:
    """Evaluate a parsed formula; None on a missing value or a division by zero."""
    if isinstance(tree, ast.Constant):
        return float(tree.value)
    if isinstance(tree, ast.Name):
        return values.get((tree.id, 0))
    if isinstance(tree, ast.Call):
        years = int(tree.args[1].value) if len(tree.args) == 2 else 1
        return values.get((tree.args[0].id, years))
    if isinstance(tree, ast.UnaryOp):
        v = evaluate(tree.operand, values)
        return None if v is None else -v
    if isinstance(tree, ast.BinOp):
        a, b = evaluate(tree.left, values), evaluate(tree.right, values)
        if a is None or b is None:
            return None
        if isinstance(tree.op, ast.Div) and b == 0:
            return None
        return _OPS[type(tree.op)](a, b)
    raise ValueError("onverwachte formule")


# --- evaluation over facts ---------------------------------------------------------------------

Cell = tuple[float, str | None, bool]  # value, status, harmonised


class IndicatorValue(NamedTuple):
    """One value of an indicator (a named tuple: the build makes a few hundred thousand)."""

    indicator_id: str
    region_code: str  # a GM code or a group id (G4, G40, M50, PV27, GK4, NL01, …)
    period: str
    value: float
    status: str | None
    provenance: str
    harmonised: bool = False  # an input was re-expressed on today's gemeenten (herindeling)


class Aligned(NamedTuple):
    """A series in one period over a list of regions (FactIndex.aligned): per region whether it
    has a value, the value (0.0 where not), whether it was harmonised, its status."""

    present: np.ndarray
    values: np.ndarray
    harmonised: np.ndarray
    statuses: tuple


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # shared by every indicator that reads the series
    return array


class FactIndex:
    """Facts by (table, measure, dims) → {(region, period): (value, status)}, and measure titles
    (with their units, so a title that occurs once per unit can be told apart)."""

    def __init__(self, facts: Iterable, measure_titles: dict[tuple[str, str], str],
                 measure_units: dict[tuple[str, str], str] | None = None):
        self.series: dict[tuple[str, str, str], dict[tuple[str, str], Cell]] = {}
        setdefault = self.series.setdefault
        with gcpause.paused():
            for f in facts:
                if f.value is None:
                    continue
                setdefault((f.table_id, f.measure, f.dims), {})[(f.region_code, f.period)] = (
                    f.value, f.status, bool(getattr(f, "harmonised", False)))
        self.by_title: dict[tuple[str, str], list[str]] = {}
        for (table, measure), title in measure_titles.items():
            self.by_title.setdefault((table, fold_title(title)), []).append(measure)
        self.units = {k: fold_title(u) for k, u in (measure_units or {}).items()}
        self._by_period: dict[tuple[str, str, str], dict[str, dict[str, Cell]]] = {}
        self._periods: dict[tuple[str, str, str], frozenset[str]] = {}
        self._aligned: dict[tuple, Aligned] = {}

    def add_table(self, table) -> None:
        """The rows of an Arrow table of facts or observations (without `harmonised`: False), as
        the constructor adds facts, column by column rather than as objects."""
        from itertools import repeat

        from ..sources.records import text_values

        columns = {name: text_values(table.column(name)) for name in table.column_names}
        harmonised = columns["harmonised"] if "harmonised" in columns else repeat(False)
        setdefault = self.series.setdefault
        with gcpause.paused():
            for key, where, cell in zip(zip(columns["table_id"], columns["measure"], columns["dims"]),
                                        zip(columns["region_code"], columns["period"]),
                                        zip(columns["value"], columns["status"], harmonised)):
                if cell[0] is not None:
                    setdefault(key, {})[where] = cell

    def periods(self, key: tuple[str, str, str]) -> frozenset[str]:
        """The periods of one series (worked out once: many indicators read the same series)."""
        got = self._periods.get(key)
        if got is None:
            got = self._periods[key] = frozenset(p for _, p in self.series[key])
        return got

    def at(self, key: tuple[str, str, str], period: str) -> dict[str, Cell]:
        """One series in one period: region → cell (grouped once per series, on first use)."""
        by_period = self._by_period.get(key)
        if by_period is None:
            by_period = self._by_period[key] = {}
            for (region, p), cell in self.series[key].items():
                by_period.setdefault(p, {})[region] = cell
        return by_period.get(period, {})

    def aligned(self, key: tuple[str, str, str], period: str, regions: tuple[str, ...]) -> "Aligned":
        """One series in one period as columns over `regions` (worked out once per series, period
        and list of regions: many indicators read the same inputs)."""
        got = self._aligned.get((key, period, regions))
        if got is None:
            cells = self.at(key, period)
            row = [cells.get(r) for r in regions]
            got = Aligned(_read_only(np.array([c is not None for c in row], dtype=bool)),
                          _read_only(np.array([c[0] if c is not None else 0.0 for c in row], dtype=np.float64)),
                          _read_only(np.array([c is not None and c[2] for c in row], dtype=bool)),
                          tuple(c[1] if c is not None else None for c in row))
            self._aligned[(key, period, regions)] = got
        return got

    def resolve(self, ref: Ref) -> list[tuple[str, str, str]]:
        measures = [ref.measure] if ref.measure else self.by_title.get((ref.table, fold_title(ref.title or "")), [])
        if ref.unit is not None:
            measures = [m for m in measures if self.units.get((ref.table, m)) == fold_title(ref.unit)]
        return [(ref.table, m, ref.dims_key) for m in measures if (ref.table, m, ref.dims_key) in self.series]

    def tables(self) -> set[str]:
        return {k[0] for k in self.series}


def _period_back(period: str, years: int) -> str:
    return f"{int(period[:4]) - years}{period[4:]}"


def _combine(statuses: Iterable[str | None]) -> str | None:
    s = list(statuses)
    if "Voorlopig" in s:
        return "Voorlopig"
    if "NaderVoorlopig" in s:
        return "NaderVoorlopig"
    return "Definitief" if s and all(x == "Definitief" for x in s) else None


class _Compiled:
    def __init__(self, indicator: Indicator, index: FactIndex):
        self.indicator = indicator
        self.variants = []
        for v in indicator.variants:
            inputs = {name: [k for ref in refs for k in index.resolve(ref)] for name, refs in v.inputs.items()}
            self.variants.append((v, _parse(v.formula), _lags(v.formula), inputs))

    def periods(self, index: FactIndex) -> set[str]:
        out = set()
        for v, _, lags, inputs in self.variants:
            keys = [k for name, _ in lags if name in inputs for k in inputs[name]]
            for k in keys:
                out |= index.periods(k)
        return out


def _input_cell(index: FactIndex, keys: list[tuple[str, str, str]], region: str, period: str):
    for k in keys:
        cell = index.series[k].get((region, period))
        if cell is not None:
            return cell, k
    return None, None


def _member_inputs(index, variant, lags, inputs, region, period):
    """The values a variant needs for one gemeente and period, or None if one is missing."""
    values: dict[tuple[str, int], float] = {}
    statuses, used = [], set()
    harmonised = False
    needed = set(lags)
    if variant.aggregate == "gewogen gemiddelde":
        needed.add((variant.weight, 0))
    for name, years in needed:
        cell, key = _input_cell(index, inputs.get(name, []), region, _period_back(period, years))
        if cell is None:
            return None
        values[(name, years)] = cell[0]
        if years == 0:
            statuses.append(cell[1])
        used.add(key)
        harmonised = harmonised or cell[2]
    return values, statuses, used, harmonised


def _provenance(used: set[tuple[str, str, str]]) -> str:
    return "; ".join(f"{t} {m}" + (f" [{d}]" if d else "") for t, m, d in sorted(used))


def weighted_percentile(points: list[tuple[float, float]], q: float) -> float:
    """The value below which a share q (0-1) of the total weight lies; points are (value, weight)."""
    points = sorted(points)
    total = sum(w for _, w in points)
    running = 0.0
    for value, w in points:
        running += w
        if running >= q * total:
            return value
    return points[-1][0]


def _spread_values(indicator: Indicator, compiled: "_Compiled", index: FactIndex, gemeenten: list[str],
                   period: str) -> list[IndicatorValue]:
    """A spread indicator's value for every gemeente with enough wijken in one period."""
    spread = indicator.spread
    current = set(gemeenten)
    keys = {k for _, _, _, inputs in compiled.variants for ks in inputs.values() for k in ks}
    wijken = sorted({r for k in keys for (r, p) in index.series[k] if r.startswith("WK") and p == period})
    per_gemeente: dict[str, list[tuple[float, float, str | None, set]]] = {}
    for wk in wijken:
        gm = "GM" + wk[2:6]
        if gm not in current:
            continue
        for variant, tree, lags, inputs in compiled.variants:
            got = _member_inputs(index, variant, lags, inputs, wk, period)
            if got is None:
                continue
            value = evaluate(tree, got[0])
            weight_cell, key = _input_cell(index, inputs.get(spread.weight, []), wk, period)
            if value is None or weight_cell is None or weight_cell[0] <= 0:
                continue
            per_gemeente.setdefault(gm, []).append((value, weight_cell[0], _combine(got[1]), got[2] | {key}))
            break
    out = []
    for gm in sorted(per_gemeente):
        rows = per_gemeente[gm]
        if len(rows) < spread.minimum_wijken:
            continue
        points = [(v, w) for v, w, _, _ in rows]
        p20, p80 = weighted_percentile(points, 0.2), weighted_percentile(points, 0.8)
        if spread.statistic == "verhouding p80/p20":
            if p20 <= 0:
                continue
            value = p80 / p20
        else:
            value = p80 - p20
        used = set().union(*(r[3] for r in rows))
        out.append(IndicatorValue(indicator.id, gm, period, value, _combine(r[2] for r in rows),
                                  f"{len(rows)} wijken, {spread.statistic} gewogen met {spread.weight}: "
                                  f"{_provenance(used)}"))
    return out


def _evaluate_columns(tree: ast.expr, columns: dict[tuple[str, int], "np.ndarray"]):
    """`evaluate` over whole columns at once: (values, valid), valid False where `evaluate` gives
    None (a division by zero). The same IEEE operations in the same order, so the same figures."""
    if isinstance(tree, ast.Constant):
        return np.float64(float(tree.value)), True
    if isinstance(tree, ast.Name):
        return columns[(tree.id, 0)], True
    if isinstance(tree, ast.Call):
        years = int(tree.args[1].value) if len(tree.args) == 2 else 1
        return columns[(tree.args[0].id, years)], True
    if isinstance(tree, ast.UnaryOp):
        v, ok = _evaluate_columns(tree.operand, columns)
        return -v, ok
    if isinstance(tree, ast.BinOp):
        (a, oka), (b, okb) = _evaluate_columns(tree.left, columns), _evaluate_columns(tree.right, columns)
        ok = oka & okb
        if isinstance(tree.op, ast.Div):
            ok = ok & (b != 0)
        return _OPS[type(tree.op)](a, b), ok
    raise ValueError("onverwachte formule")


class _Inputs:
    """One variant's inputs for every region in one period, looked up once: per region whether
    all are present (`ok`), their values (`columns`, by (name, years)), and, as numbers into
    shared lists, the statuses of this period's inputs and the keys used; for a group these
    combine over its members without a loop over them (see `_group_values`)."""

    def __init__(self, index: FactIndex, variant: Variant, lags: set[tuple[str, int]],
                 inputs: dict[str, list[tuple[str, str, str]]], regions: tuple[str, ...], period: str,
                 status_memo: "_Numbered", used_memo: "_Numbered"):
        needed = list(set(lags) | ({(variant.weight, 0)} if variant.aggregate == "gewogen gemiddelde" else set()))
        n = len(regions)
        self.ok = np.ones(n, dtype=bool)
        self.harmonised = np.zeros(n, dtype=bool)
        self.columns: dict[tuple[str, int], np.ndarray] = {}
        now: list[list] = []  # per input of this period, per region: its status
        chosen: list[list | tuple] = []  # per input: the key it came from (per region where there are several)
        for entry in needed:
            name, years = entry
            back = _period_back(period, years)
            sources = [(k, index.aligned(k, back, regions)) for k in inputs.get(name, []) if index.at(k, back)]
            if len(sources) == 1:
                k, got = sources[0]
                chosen.append((k,))
            else:  # per region the first source with a value
                present, values, harmonised = np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n, dtype=bool)
                statuses: list = [None] * n
                keys: list = [None] * n
                for k, one in sources:
                    take = one.present & ~present
                    values[take], harmonised[take] = one.values[take], one.harmonised[take]
                    for i in np.flatnonzero(take).tolist():
                        statuses[i], keys[i] = one.statuses[i], k
                    present |= take
                got = Aligned(present, values, harmonised, statuses)
                chosen.append(keys)
            self.ok &= got.present
            self.columns[entry] = got.values
            self.harmonised |= got.harmonised
            if years == 0:
                now.append(got.statuses)
        # The numbers are meaningful only where `ok`: elsewhere nothing is computed from them.
        number = status_memo.number
        self.status = status_memo.numbers(zip(*now)) if now else [number(())] * n
        if all(isinstance(c, tuple) for c in chosen):
            self.used = [used_memo.number(frozenset(c[0] for c in chosen))] * n
        else:
            columns = [c * n if isinstance(c, tuple) else c for c in chosen]
            number = used_memo.number
            seen: dict[tuple, int] = {}  # the same keys recur for most regions: one frozenset each
            self.used = [seen[keys] if keys in seen else seen.setdefault(keys, number(frozenset(keys).difference((None,))))
                         for keys in zip(*columns)]


class _Numbered:
    """Distinct values numbered in order of appearance."""

    def __init__(self):
        self.values: list = []
        self._numbers: dict = {}

    def number(self, value) -> int:
        got = self._numbers.get(value)
        if got is None:
            got = self._numbers[value] = len(self.values)
            self.values.append(value)
        return got

    def numbers(self, values) -> list[int]:
        """`number` of each of `values` (one loop, for a whole column)."""
        known, distinct, out = self._numbers, self.values, []
        for value in values:
            got = known.get(value)
            if got is None:
                got = known[value] = len(distinct)
                distinct.append(value)
            out.append(got)
        return out


def compute(indicator: Indicator, index: FactIndex, gemeenten: list[str],
            groups: dict[str, list[str]]) -> list[IndicatorValue]:
    """Values of one indicator for every gemeente and group, for every period with data. A spread
    indicator (see `Spread`) has values for gemeenten only: a group has no wijken of its own.
    Per period and variant the inputs of all gemeenten are looked up once and the formula is
    evaluated over whole columns (numpy); a group's sums add its members in order."""
    compiled = _Compiled(indicator, index)
    if indicator.spread is not None:
        return [v for period in sorted(compiled.periods(index))
                for v in _spread_values(indicator, compiled, index, gemeenten, period)]
    regions = list(gemeenten)
    position = {r: i for i, r in enumerate(regions)}
    for members in groups.values():
        for r in members:
            if r not in position:
                position[r] = len(regions)
                regions.append(r)
    regions = tuple(regions)  # the same for every indicator: FactIndex.aligned keeps columns per list of regions
    ngem = len(gemeenten)
    # Groups as a padded matrix of member positions; padding points at a row past the regions
    # (value 0.0, inputs present), added after the members so that sums stay exactly the same.
    gids = [gid for gid, members in groups.items() if members]
    width = max((len(groups[gid]) for gid in gids), default=0)
    member_rows = np.full((len(gids), width), len(regions), dtype=np.intp)
    for g, gid in enumerate(gids):
        member_rows[g, :len(groups[gid])] = [position[r] for r in groups[gid]]
    statuses, used = _Numbered(), _Numbered()
    combined: list[str | None] = []
    provenance: list[str] = []
    out: list[IndicatorValue] = []
    for period in sorted(compiled.periods(index)):
        per_variant = [_Inputs(index, variant, lags, inputs, regions, period, statuses, used)
                       for variant, _, lags, inputs in compiled.variants]
        combined.extend(_combine(s) for s in statuses.values[len(combined):])
        provenance.extend(_provenance(u) for u in used.values[len(provenance):])
        evaluated = []
        for (variant, tree, _, _), got in zip(compiled.variants, per_variant):
            with np.errstate(all="ignore"):
                values, valid = _evaluate_columns(tree, got.columns)
            evaluated.append((np.broadcast_to(values, got.ok.shape), got.ok & valid))
        lists = [(got, values.tolist(), valid.tolist(), got.harmonised.tolist())
                 for got, (values, valid) in zip(per_variant, evaluated)]
        for i in range(ngem):
            for got, values, valid, harmonised in lists:
                if valid[i]:
                    out.append(IndicatorValue(indicator.id, regions[i], period, values[i], combined[got.status[i]],
                                              provenance[got.used[i]], harmonised[i]))
                    break
        if gids:
            out.extend(_group_values(indicator.id, compiled, gids, groups, member_rows, per_variant, evaluated,
                                     period, index, statuses, combined, used))
    return out


NEDERLAND = "NL01"


def _national_value(indicator_id, index, variant, tree, lags, inputs, used, period) -> IndicatorValue | None:
    """Nederland from the NL01 facts of the same tables and measures the gemeenten used, or None
    when one the formula needs has no NL01 value in this period (a weight is not needed: the
    national average is published as such)."""
    same = {name: [k for k in keys if k in used] or keys for name, keys in inputs.items()}
    unweighted = variant.model_copy(update={"aggregate": "herberekenen"})
    got = _member_inputs(index, unweighted, lags, same, NEDERLAND, period)
    if got is None:
        return None
    value = evaluate(tree, got[0])
    if value is None:
        return None
    return IndicatorValue(indicator_id, NEDERLAND, period, value, _combine(got[1]),
                          f"Nederland zoals CBS publiceert: {_provenance(got[2])}", got[3])


_VOORLOPIG, _NADER, _ANY, _DEFINITIEF = range(4)


def _group_values(indicator_id, compiled, gids, groups, member_rows, per_variant, evaluated, period, index,
                  statuses: _Numbered, combined: list, used: _Numbered) -> list[IndicatorValue]:
    """Every group's value in one period: per group the first variant for which all members have
    their inputs and the value can be computed (for Nederland first as CBS publishes it). The
    statuses combine as `_combine` over all members' statuses: per distinct set of statuses four
    flags (a Voorlopig, a NaderVoorlopig, any status, all Definitief), over the members any/all."""
    flags = np.array([("Voorlopig" in s, "NaderVoorlopig" in s, len(s) > 0, all(x == "Definitief" for x in s))
                      for s in statuses.values] + [(False, False, False, True)], dtype=bool).reshape(-1, 4)
    done = np.zeros(len(gids), dtype=bool)
    found: dict[int, IndicatorValue] = {}
    for (variant, tree, lags, inputs), got, (values, valid) in zip(compiled.variants, per_variant, evaluated):
        complete = np.append(got.ok, True)[member_rows].all(axis=1) & ~done
        if not complete.any():
            continue
        rows = member_rows[complete]
        zeros = np.zeros((len(rows), 1))
        with np.errstate(all="ignore"):
            if variant.aggregate == "herberekenen":
                # Each input summed over the members in order, starting at 0.0, then the formula.
                summed = {entry: np.cumsum(np.concatenate([zeros, np.append(column, 0.0)[rows]], axis=1), axis=1)[:, -1]
                          for entry, column in got.columns.items()}
                value, ok = _evaluate_columns(tree, summed)
                value = np.broadcast_to(value, (len(rows),))
                ok = np.broadcast_to(ok, (len(rows),))
            else:
                weight = np.append(got.columns[(variant.weight, 0)], 0.0)[rows]
                member_value = np.append(np.where(valid, values, 0.0), 0.0)[rows]
                num = np.cumsum(np.concatenate([zeros, member_value * weight], axis=1), axis=1)[:, -1]
                den = np.cumsum(np.concatenate([zeros, weight], axis=1), axis=1)[:, -1]
                value = num / np.where(den != 0, den, 1.0)
                ok = np.append(valid, True)[rows].all(axis=1) & (den != 0)
        member_flags = flags[np.append(np.array(got.status, dtype=np.intp), -1)[rows]]
        voorlopig = member_flags[:, :, _VOORLOPIG].any(axis=1).tolist()
        nader = member_flags[:, :, _NADER].any(axis=1).tolist()
        definitief = (member_flags[:, :, _ANY].any(axis=1) & member_flags[:, :, _DEFINITIEF].all(axis=1)).tolist()
        harmonised = np.append(got.harmonised, False)[rows].any(axis=1).tolist()
        used_rows = np.append(np.array(got.used, dtype=np.intp), -1)[rows].tolist()
        value, ok = value.tolist(), ok.tolist()
        for j, g in enumerate(np.flatnonzero(complete).tolist()):
            gid = gids[g]
            keys = frozenset().union(*(used.values[u] for u in set(used_rows[j]) if u >= 0))
            if gid == NEDERLAND:
                published = _national_value(indicator_id, index, variant, tree, lags, inputs, keys, period)
                if published is not None:
                    found[g] = published
                    done[g] = True
                    continue
            if ok[j]:
                how = "som van de leden" if variant.aggregate == "herberekenen" else f"gewogen met {variant.weight}"
                status = ("Voorlopig" if voorlopig[j] else "NaderVoorlopig" if nader[j]
                          else "Definitief" if definitief[j] else None)
                found[g] = IndicatorValue(indicator_id, gid, period, value[j], status,
                                          f"{len(groups[gid])} gemeenten, {how}: {_provenance(keys)}", harmonised[j])
                done[g] = True
    return [found[g] for g in sorted(found)]


def missing_inputs(indicator: Indicator, index: FactIndex) -> list[str]:
    """When no variant can be computed: the references that are absent (table and measure)."""
    compiled = _Compiled(indicator, index)
    if any(all(keys for keys in inputs.values()) for _, _, _, inputs in compiled.variants):
        return []
    absent = []
    for variant in indicator.variants:
        for refs in variant.inputs.values():
            if not any(index.resolve(ref) for ref in refs):
                absent.extend(ref.label() for ref in refs)
    return sorted(set(absent))


def derive(registry: Registry, index: FactIndex, gemeenten: list[str], groups: dict[str, list[str]],
           progress=None) -> tuple[list[IndicatorValue], dict[str, list[str]]]:
    """Every indicator's values, and per indicator that cannot be computed what is missing."""
    values: list[IndicatorValue] = []
    missing: dict[str, list[str]] = {}
    with gcpause.paused():
        for i, indicator in enumerate(registry.indicators):
            got = compute(indicator, index, gemeenten, groups)
            if got:
                values.extend(got)
            else:
                missing[indicator.id] = missing_inputs(indicator, index) or ["geen periode met alle invoer"]
            if progress:
                progress(i + 1, len(registry.indicators))
    return values, missing
