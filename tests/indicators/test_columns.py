"""The indicators are computed for all gemeenten of a period at once (columns, numpy): the edge
cases of the per-gemeente rules, checked against values worked out one gemeente at a time."""

from __future__ import annotations

from trendstudie.harmonise import Fact
from trendstudie.indicators import registry as reg

GEMEENTEN = ["GM0001", "GM0002", "GM0003"]


def _facts(rows):
    return [Fact(t, m, "", region, period, v, status, harmonised, "ongewijzigd", "")
            for t, m, region, period, v, status, harmonised in rows]


def _indicator(*variants):
    return reg.Indicator(id="x", title="X", description="d", domain="wonen en ruimte", unit="per 1.000",
                         citation="c", variants=list(variants))


RATE = reg.Variant(inputs={"a": [reg.Ref(table="T1", measure="A"), reg.Ref(table="T2", measure="A")],
                           "b": [reg.Ref(table="T1", measure="B")]},
                   formula="a / b * 1000")
FALLBACK = reg.Variant(inputs={"c": [reg.Ref(table="T3", measure="C")]}, formula="-c + lag(c)")

ROWS = [
    # GM0001: b = 0, so the rate cannot be computed for it alone and the second variant is used.
    ("T1", "A", "GM0001", "2024JJ00", 3.0, "Voorlopig", False), ("T1", "B", "GM0001", "2024JJ00", 0.0, "Definitief", False),
    ("T3", "C", "GM0001", "2024JJ00", 5.0, "Definitief", False), ("T3", "C", "GM0001", "2023JJ00", 7.0, "Definitief", False),
    # GM0002: 'a' only in the second table of its list.
    ("T2", "A", "GM0002", "2024JJ00", 0.1, "Definitief", True), ("T1", "B", "GM0002", "2024JJ00", 0.7, "Definitief", False),
    # GM0003: no 'b', and 'c' without the year before: no value.
    ("T1", "A", "GM0003", "2024JJ00", 0.2, None, False), ("T3", "C", "GM0003", "2024JJ00", 1.0, "Definitief", False),
]


def test_per_gemeente_the_first_variant_that_gives_a_value_with_its_own_status_and_keys():
    got = {(v.region_code, v.period): v for v in reg.compute(_indicator(RATE, FALLBACK), reg.FactIndex(_facts(ROWS), {}),
                                                              GEMEENTEN, {})}
    assert set(got) == {("GM0001", "2024JJ00"), ("GM0002", "2024JJ00")}
    one, two = got[("GM0001", "2024JJ00")], got[("GM0002", "2024JJ00")]
    assert (one.value, one.status, one.provenance, one.harmonised) == (-5.0 + 7.0, "Definitief", "T3 C", False)
    assert (two.value, two.status, two.provenance, two.harmonised) == (0.1 / 0.7 * 1000, "Definitief", "T1 B; T2 A", True)


def test_a_group_sums_its_members_in_order_and_falls_back_only_when_a_member_lacks_an_input():
    groups = {"G12": ["GM0002", "GM0001"], "G3": ["GM0003"], "LEEG": []}
    got = {v.region_code: v for v in reg.compute(_indicator(RATE, FALLBACK), reg.FactIndex(_facts(ROWS), {}),
                                                 GEMEENTEN, groups) if v.period == "2024JJ00"}
    g12 = got["G12"]
    assert g12.value == (0.0 + 0.1 + 3.0) / (0.0 + 0.7 + 0.0) * 1000  # GM0001's b = 0 does not matter summed
    assert (g12.status, g12.harmonised) == ("Voorlopig", True)
    assert g12.provenance == "2 gemeenten, som van de leden: T1 A; T1 B; T2 A"
    assert "G3" not in got and "LEEG" not in got  # GM0003 lacks 'b', and 'c' of the year before


def test_a_weighted_group_mean_needs_every_member_value():
    weighted = reg.Variant(inputs={"p": [reg.Ref(table="T", measure="P")], "q": [reg.Ref(table="T", measure="Q")],
                                   "w": [reg.Ref(table="T", measure="W")]},
                           formula="p / q", aggregate="gewogen gemiddelde", weight="w")
    rows = [("T", m, region, "2024JJ00", v, "Definitief", False) for m, region, v in [
        ("P", "GM0001", 1.0), ("Q", "GM0001", 3.0), ("W", "GM0001", 0.3),
        ("P", "GM0002", 2.0), ("Q", "GM0002", 7.0), ("W", "GM0002", 0.9),
        ("P", "GM0003", 2.0), ("Q", "GM0003", 0.0), ("W", "GM0003", 1.0)]]
    groups = {"G12": ["GM0001", "GM0002"], "G123": ["GM0001", "GM0002", "GM0003"]}
    got = {v.region_code: v for v in reg.compute(_indicator(weighted), reg.FactIndex(_facts(rows), {}), GEMEENTEN, groups)}
    num = 0.0 + (1.0 / 3.0) * 0.3 + (2.0 / 7.0) * 0.9
    assert got["G12"].value == num / (0.0 + 0.3 + 0.9)
    assert got["G12"].provenance == "2 gemeenten, gewogen met w: T P; T Q; T W"
    assert "G123" not in got and "GM0003" not in got  # p / q has no value for GM0003
