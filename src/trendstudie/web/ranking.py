"""Sortable rankings of gemeenten, without JavaScript: the column headers are links
(`?sorteer=waarde|naam&richting=op|af`), the page is rendered in that order on the server and
the header of the current order carries `aria-sort`.

The ranking's position stays the position by value (1 = highest) in every order, so sorting by
name still tells where a gemeente stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Sequence
from urllib.parse import urlencode

from fastapi import HTTPException, Query

from ..geo.regions import normalise_name

SORT_KEYS = {"waarde": "waarde", "naam": "naam"}  # query value -> column
DIRECTIONS = {"op": "oplopend", "af": "aflopend"}
# the order a column gets when it is chosen: values from high to low, names from A to Z
FIRST_DIRECTION = {"waarde": "af", "naam": "op"}
DEFAULT_KEY = "waarde"

# The query parameters, declared on every page with a ranking (so app.QueryParameters counts them
# as known: other parameters are still redirected away, these are kept in the cache key).
Sorteer = Annotated[str | None, Query(max_length=20, description="waarde of naam")]
Richting = Annotated[str | None, Query(max_length=20, description="op of af")]


@dataclass(frozen=True)
class Sort:
    key: str = DEFAULT_KEY
    direction: str = FIRST_DIRECTION[DEFAULT_KEY]

    @property
    def is_default(self) -> bool:
        return self == Sort()

    def aria(self, column: str) -> str | None:
        """The aria-sort value of a column header: the current order, or None."""
        if column != self.key:
            return None
        return "ascending" if self.direction == "op" else "descending"

    def next_for(self, column: str) -> "Sort":
        """The order a click on a column's header asks for: that column in its first direction,
        or, when it is the current column already, the other way round."""
        if column == self.key:
            return Sort(column, "af" if self.direction == "op" else "op")
        return Sort(column, FIRST_DIRECTION[column])

    def params(self) -> list[tuple[str, str]]:
        """The query parameters of this order; none for the default (one URL per page)."""
        return [] if self.is_default else [("sorteer", self.key), ("richting", self.direction)]

    def describe(self) -> str:
        """The order in words, for the table's caption."""
        if self.key == "naam":
            return "op naam, van A tot Z" if self.direction == "op" else "op naam, van Z tot A"
        return "van hoog naar laag" if self.direction == "af" else "van laag naar hoog"


def parse_sort(sorteer: str | None, richting: str | None) -> Sort:
    """The order asked for in the query string; a clear Dutch 400 for a value that is not one."""
    if sorteer is not None and sorteer not in SORT_KEYS:
        raise HTTPException(400, f"Onbekende sortering sorteer={sorteer[:20]!r}: kies sorteer=waarde (op de waarde) "
                                 "of sorteer=naam (op de naam van de gemeente).")
    if richting is not None and richting not in DIRECTIONS:
        raise HTTPException(400, f"Onbekende richting richting={richting[:20]!r}: kies richting=op (oplopend) of "
                                 "richting=af (aflopend).")
    key = sorteer or DEFAULT_KEY
    return Sort(key, richting or FIRST_DIRECTION[key])


def ordered(ranking: Sequence[tuple[str, float]], names: dict[str, str], sort: Sort
            ) -> list[tuple[int, str, float]]:
    """(position by value, code, value) in the asked order. `ranking` is highest first."""
    rows = [(i + 1, code, v) for i, (code, v) in enumerate(ranking)]
    if sort.key == "naam":
        rows.sort(key=lambda r: (normalise_name(names.get(r[1], r[1])), r[1]), reverse=sort.direction == "af")
    elif sort.direction == "op":
        rows.reverse()
    return rows


def sort_link(path: str, keep: Sequence[tuple[str, str | None]], sort: Sort, anchor: str = "") -> str:
    """The URL of this page in `sort`'s order, keeping the page's other parameters (periode, …)."""
    params = [(k, v) for k, v in keep if v] + sort.params()
    return path + (f"?{urlencode(params)}" if params else "") + (f"#{anchor}" if anchor else "")


__all__ = ["Sort", "Sorteer", "Richting", "parse_sort", "ordered", "sort_link", "SORT_KEYS", "DIRECTIONS"]
