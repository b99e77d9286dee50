"""Nederland (NL01) as CBS publishes it: national figures from the national rows, and national
totals of the police figures including what cannot be assigned to a gemeente (GM0000).

The expected values are read here from the raw bundle files, independently of the import code."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest

from trendstudie.harmonise import Fact
from trendstudie.indicators import registry as reg

POP_DIMS = {"BurgerlijkeStaat": "T001019", "Geslacht": "T001038", "Leeftijd": "10000"}


def v4_national(bundle, table: str, measure: str, dims: dict[str, str] | None = None) -> dict[str, float]:
    rows = json.loads((bundle / f"odata-v4/{table}/Observations.json").read_text(encoding="utf-8"))["value"]
    return {r["Perioden"]: float(r["Value"]) for r in rows
            if r["Measure"] == measure and str(r.get("RegioS", "")).strip() == "NL01" and r["Value"] is not None
            and all(r.get(k) == v for k, v in (dims or {}).items())}


def nl_values(con, indicator: str) -> dict[str, float]:
    return dict(con.execute("SELECT period, value FROM indicator_values WHERE indicator_id = ? AND region_code = 'NL01'",
                            [indicator]).fetchall())


def test_average_sale_price_of_nederland_is_cbs_national_average(con, bundle):
    published = v4_national(bundle, "83625NED", "M001534")
    ours = nl_values(con, "gemiddelde_verkoopprijs")
    assert published["2025JJ00"] == 479527  # not the 478.722 of a population-weighted mean of gemeenten
    assert ours["2025JJ00"] == published["2025JJ00"]
    common = set(ours) & set(published)
    assert len(common) >= 5
    for period in common:
        assert ours[period] == pytest.approx(published[period]), period


def test_population_and_its_growth_of_nederland_are_cbs_national_figures(con, bundle):
    published = v4_national(bundle, "03759ned", "M000352", POP_DIMS)
    population, growth = nl_values(con, "bevolking"), nl_values(con, "bevolkingsgroei")
    common = set(population) & set(published)
    assert len(common) >= 5
    for period in common:
        assert population[period] == pytest.approx(published[period]), period
    checked = 0
    for period in sorted(published):
        before = f"{int(period[:4]) - 1}JJ00"
        if before in published and period in growth:
            assert growth[period] == pytest.approx((published[period] - published[before]) / published[before] * 100)
            checked += 1
    assert checked >= 4


def test_crime_rate_of_nederland_counts_what_cannot_be_assigned_to_a_gemeente(con, bundle):
    cases: dict[str, float] = defaultdict(float)
    unassigned: dict[str, float] = defaultdict(float)
    with open(bundle / "tidy/47018NED_geregistreerde_misdrijven.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["SoortMisdrijf"] == "1.1.1" and r["region_code"].startswith("GM") and r["value"]:
                cases[r["period"]] += float(r["value"])
                if r["region_code"] == "GM0000":
                    unassigned[r["period"]] += float(r["value"])
    population = v4_national(bundle, "03759ned", "M000365", POP_DIMS)  # average population, as the indicator uses
    ours = nl_values(con, "woninginbraak_per_1000")
    periods = [p for p in sorted(cases) if p in population and p in ours]
    assert len(periods) >= 3
    for period in periods:
        assert unassigned[period] > 0, period
        assert ours[period] == pytest.approx(cases[period] / population[period] * 1000), period
    # The national total is a fact as well, with where it came from.
    fact = con.execute("SELECT value, provenance FROM facts WHERE table_id = '47018NED' AND region_code = 'NL01' "
                       "AND dims = 'SoortMisdrijf=1.1.1' AND period = ?", [periods[-1]]).fetchone()
    assert fact[0] == cases[periods[-1]] and "niet toe te delen" in fact[1]


def _facts(rows):
    return [Fact("T", m, "", region, "2024JJ00", v, "Definitief", False, "ongewijzigd", "") for m, region, v in rows]


def _price():
    return reg.Indicator(
        id="prijs", title="Prijs", description="d", domain="wonen en ruimte", unit="euro", citation="c",
        variants=[reg.Variant(inputs={"p": [reg.Ref(table="T", measure="P")], "w": [reg.Ref(table="T", measure="W")]},
                              formula="p", aggregate="gewogen gemiddelde", weight="w")])


def test_nederland_is_the_national_fact_when_every_input_has_one_and_the_members_otherwise():
    members = [("P", "GM0001", 100.0), ("W", "GM0001", 1.0), ("P", "GM0002", 200.0), ("W", "GM0002", 3.0)]
    groups = {"NL01": ["GM0001", "GM0002"], "G2": ["GM0001", "GM0002"]}
    with_national = reg.FactIndex(_facts(members + [("P", "NL01", 190.0)]), {})
    got = {v.region_code: v for v in reg.compute(_price(), with_national, ["GM0001", "GM0002"], groups)}
    assert got["NL01"].value == 190.0 and "CBS" in got["NL01"].provenance
    assert got["G2"].value == pytest.approx(175.0)  # other groups stay weighted means of their members
    without = reg.FactIndex(_facts(members), {})
    got = {v.region_code: v for v in reg.compute(_price(), without, ["GM0001", "GM0002"], groups)}
    assert got["NL01"].value == pytest.approx(175.0)
    # A national figure is used only where the gemeenten have the inputs too.
    only_national = reg.FactIndex(_facts([("P", "NL01", 190.0), ("P", "GM0001", 100.0), ("W", "GM0001", 1.0)]), {})
    assert [v for v in reg.compute(_price(), only_national, ["GM0001", "GM0002"], groups) if v.region_code == "NL01"] == []
