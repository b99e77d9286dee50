"""Imported: observations given column-wise are made into tuples only when asked for, and then
exactly the rows of the table; parts put together keep one table and the same rows in order."""

from __future__ import annotations

from trendstudie.buildcache import observations_table
from trendstudie.sources.records import Imported, Observation, observations_of


def _obs(i: int, value: float | None = 1.5, status: str | None = "Definitief") -> Observation:
    return Observation("T1", f"M{i % 3}", f"GM{i:04d}", "2020JJ00", value, status, "Geslacht=T001038",
                       None if value is not None else "onbekend", "tidy/t.csv")


def test_tuples_from_columns_only_when_asked_and_equal():
    rows = [_obs(i) for i in range(5)] + [_obs(7, None, None)]
    part = Imported(columns=observations_table(rows))
    assert part.count() == 6 and part._observations is None
    assert part.observations == rows
    assert observations_of(observations_table(rows)) == rows


def test_extend_keeps_one_table_without_making_tuples():
    a, b = [_obs(i) for i in range(3)], [_obs(i, 2.0) for i in range(3, 7)]
    whole = Imported()
    whole.extend(Imported(columns=observations_table(a), warnings=["w1"]))
    whole.extend(Imported())  # nothing read: changes nothing
    whole.extend(Imported(columns=observations_table(b), warnings=["w2"]))
    assert whole._observations is None and whole.count() == 7
    assert whole.columns.num_rows == 7 and whole.warnings == ["w1", "w2"]
    assert whole.observations == a + b


def test_extend_with_tuples_drops_the_table_and_keeps_order():
    a, b = [_obs(i) for i in range(3)], [_obs(i, 3.0) for i in range(3, 5)]
    whole = Imported(columns=observations_table(a))
    whole.extend(Imported(observations=b))  # an importer that gave tuples only
    assert whole.columns is None and whole.observations == a + b
    more = Imported(observations=list(a), columns=observations_table(a))
    more.extend(Imported(columns=observations_table(b)))
    assert more.observations == a + b and more.columns.num_rows == 5
    assert observations_of(more.columns) == a + b
