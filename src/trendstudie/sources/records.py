"""The common shape every importer produces: observations as published, plus table metadata.

An importer is a pure function `read(path, ...) -> Imported`. It never writes to the store;
the build collects what all importers return and writes it in one transaction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import InputError

STATUSES = ("Definitief", "Voorlopig", "NaderVoorlopig")

_PERIOD = re.compile(r"^(\d{4})(JJ00|KW0[1-4]|MM(0[1-9]|1[0-2]))$")
_REGION = re.compile(r"^(NL\d\d|LD\d\d|PV\d\d|CR\d\d|GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4})$")


class Observation(NamedTuple):
    """One published value. `value` None means missing; `reason` then says why.

    A named tuple rather than a frozen dataclass: a build makes a million of them, and a tuple is
    made three times as fast (the dataclass sets every field through object.__setattr__)."""

    table_id: str
    measure: str
    region_code: str
    period: str
    value: float | None
    status: str | None = None
    dims: str = ""  # canonical "Dim=code;Dim2=code" sorted by dimension name, "" when none
    reason: str | None = None
    source: str = ""


# No published statistic comes near this (all of NL's area in m² is 4e10); a bound this far away keeps
# every sum and weighted mean over gemeenten finite, so nothing becomes inf or nan after arithmetic.
MAX_MAGNITUDE = 1e15


def number_problem(value: float | int) -> str | None:
    """Why `value` cannot be a published figure (NaN, infinite, absurdly large), or None."""
    try:
        value = float(value)
    except OverflowError:  # an integer beyond the range of a float
        return "getal buiten bereik (hoogstens 10^15 in absolute waarde)"
    if not math.isfinite(value):
        return "geen eindig getal (nan, inf en Infinity zijn niet toegestaan)"
    if abs(value) > MAX_MAGNITUDE:
        return "getal buiten bereik (hoogstens 10^15 in absolute waarde)"
    return None


def checked_value(value: float | int, raw: object, path: str | Path, line: int | None,
                  column: int | str | None) -> float:
    """`value` as a float, or an InputError naming file, line and column when it is no usable figure.
    Every importer passes its numbers through here (or through number_problem)."""
    if type(value) is float and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # the usual case, quickly (nan fails)
        return value
    problem = number_problem(value)
    if problem:
        raise InputError(path, f"waarde {raw!r}: {problem}", line=line, column=column)
    return float(value)


Aggregation = str  # "sum" (counts), "mean" (averages, rates, shares) or "" (not harmonisable)


@dataclass
class MeasureMeta:
    """What a measure is and how it may be carried over municipal boundary changes.

    aggregation: "sum" for counts (a merged gemeente's past is the sum of its predecessors),
    "mean" for averages, rates and shares (weighted by `basis`, and flagged as such), "" when
    the importer cannot tell: such values are only carried over where a gemeente did not change.
    basis: "inwoners" or "woningen": whose share moves with a boundary change.
    """

    title: str
    unit: str = ""
    decimals: int | None = None
    aggregation: Aggregation = ""
    basis: str = "inwoners"


@dataclass
class TableMeta:
    table_id: str
    title: str
    catalog: str = "CBS"
    measures: dict[str, MeasureMeta] = field(default_factory=dict)
    dimensions: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = ""
    modified: str | None = None


class Imported:
    """What an importer read: its observations, the metadata of its tables and its warnings.

    An importer gives its observations as Observation tuples, or column-wise as `columns` (an
    Arrow table, buildcache.OBSERVATION_COLUMNS). Given only `columns`, the tuples are made from
    them on the first use of `observations`; the build works on the table and never asks for
    them, so that a million tuples are not made for nothing. When both are there, `columns` is
    exactly `observations` (same rows, same order)."""

    def __init__(self, tables: list[TableMeta] | None = None, observations: list[Observation] | None = None,
                 warnings: list[str] | None = None, columns: Any = None):
        self.tables: list[TableMeta] = tables if tables is not None else []
        self.warnings: list[str] = warnings if warnings is not None else []
        self.columns = columns  # pyarrow.Table | None (pyarrow is imported only where tables are made)
        self._observations = observations  # None: not made (yet) from `columns`

    @property
    def observations(self) -> list[Observation]:
        if self._observations is None:
            self._observations = observations_of(self.columns) if self.columns is not None else []
        return self._observations

    @observations.setter
    def observations(self, value: list[Observation]) -> None:
        self._observations = value

    def count(self) -> int:
        """How many observations (without making them)."""
        if self._observations is None:
            return self.columns.num_rows if self.columns is not None else 0
        return len(self._observations)

    def __repr__(self) -> str:
        return f"Imported({self.count()} observaties, {len(self.tables)} tabellen, {len(self.warnings)} waarschuwingen)"

    def extend(self, other: "Imported") -> None:
        """Add `other`; `columns` stays only while every part brought its own. Tuples are made
        only where one side already has them."""
        if other.count():
            if other.columns is not None and (self.columns is not None or not self.count()):
                if self._observations is not None or other._observations is not None:
                    self._observations = self.observations + other.observations  # before `columns` changes
                if self.columns is None:
                    self.columns = other.columns
                else:
                    import pyarrow as pa

                    self.columns = pa.concat_tables([self.columns, other.columns])
            else:
                self._observations = self.observations + other.observations
                self.columns = None
        self.tables.extend(other.tables)
        self.warnings.extend(other.warnings)

    def check_sum(self, where: str, code: str, values: dict, total: str, parts: list[str]) -> None:
        """Warn (do not fail) when the parts of a row do not add up to its total, e.g. men + women."""
        if values.get(total) is None or any(values.get(p) is None for p in parts):
            return
        s = sum(values[p] for p in parts)
        if abs(s - values[total]) > 0.5:
            self.warnings.append(f"{where}: {code}: de som van {', '.join(parts)} is {s:g}, "
                                 f"maar {total} is {values[total]:g}")


def dims_key(dims: dict[str, str]) -> str:
    """Canonical text form of a dimension selection, e.g. 'SoortMisdrijf=1.1.1'."""
    return ";".join(f"{k}={dims[k].strip()}" for k in sorted(dims))


def fold_title(text: object) -> str:
    """A title as compared across editions and sources: case and runs of spaces ignored."""
    return " ".join(str(text or "").lower().split())


def parse_dims(key: str) -> dict[str, str]:
    if not key:
        return {}
    return dict(part.split("=", 1) for part in key.split(";"))


def is_period(code: str) -> bool:
    return bool(_PERIOD.match(code))


def is_region(code: str) -> bool:
    return bool(_REGION.match(code))


def period_year(code: str) -> int:
    return int(code[:4])


def year_period(year: int) -> str:
    return f"{year}JJ00"


def observations_of(table) -> list[Observation]:
    """The rows of an Arrow table of observations (buildcache.OBSERVATION_COLUMNS; text columns
    dictionary-encoded or not) as Observation tuples; each distinct text one object."""
    columns = [text_values(table.column(name)) for name in Observation._fields]
    return list(map(tuple.__new__, repeat(Observation), zip(*columns)))


def text_values(column) -> list:
    """An Arrow column as a Python list; each distinct text one object (texts repeat: a code on
    every row of its region), so that the list is made faster and takes less memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if column.type == pa.string():
        column = pc.dictionary_encode(column)
    if not pa.types.is_dictionary(column.type):
        return column.to_pylist()
    return pick(column.dictionary.to_pylist(), column.indices.fill_null(-1).to_numpy(zero_copy_only=False))


def pick(texts: list, numbers) -> list:
    """`texts[k]` for each k of the integer array `numbers` (-1: None), as a list (in C: numpy
    takes from an array of the objects, three times as fast as a Python loop)."""
    import numpy as np

    objects = np.empty(len(texts) + 1, dtype=object)  # the last: None
    objects[:len(texts)] = texts
    return objects[numbers].tolist()
