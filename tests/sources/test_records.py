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


def test_tidy_dimensions_in_key_order_and_unknown_codes_named(tmp_path):
    """A tidy file's dimension columns, in any order, make the same dims key as records.dims_key;
    a code the meta file does not list is refused with its line and column."""
    import json

    import pytest

    from trendstudie.errors import InputError
    from trendstudie.sources.records import dims_key
    from trendstudie.sources.tidy import read_tidy

    (tmp_path / "t.meta.json").write_text(json.dumps({
        "table_id": "t1", "measures": {"M": {"unit": "aantal"}},
        "dimensions": {"Leeftijd": {"10000": "Totaal", "70100": "0 tot 5 jaar"}}}))
    path = tmp_path / "t.csv"
    path.write_text("table_id,measure,region_code,period,value,status,Geslacht,Leeftijd\n"
                    "t1,M,GM0193,2020JJ00,5,Definitief, T001038 ,10000\n"
                    "t1,M,GM0193,2021JJ00,,,3000,70100\n", encoding="utf-8")
    got = read_tidy(path).observations
    assert [o.dims for o in got] == [dims_key({"Leeftijd": "10000", "Geslacht": "T001038"}),
                                     dims_key({"Leeftijd": "70100", "Geslacht": "3000"})]
    assert [(o.value, o.status, o.reason) for o in got] == [(5.0, "Definitief", None), (None, None, "ontbreekt")]
    path.write_text(path.read_text(encoding="utf-8") + "t1,M,GM0193,2022JJ00,7,,3000,99999\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_tidy(path)
    assert exc.value.line == 4 and exc.value.column == "Leeftijd" and "99999" in str(exc.value)
