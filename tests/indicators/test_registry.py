"""Indicators: the registry's rules, and computed values against values computed here from the raw files."""

from __future__ import annotations

import csv
import json

import pytest

from trendstudie.errors import InputError
from trendstudie.indicators import registry as reg

POP = ("BurgerlijkeStaat", "T001019")


@pytest.fixture(scope="module")
def v4(bundle):
    rows = json.loads((bundle / "odata-v4/03759ned/Observations.json").read_text())["value"]
    return {(r["Measure"], r["RegioS"].strip(), r["Perioden"]): r["Value"] for r in rows if r["Value"] is not None}


@pytest.fixture(scope="module")
def crime(bundle):
    with open(bundle / "tidy/47018NED_geregistreerde_misdrijven.csv", encoding="utf-8") as fh:
        return {(r["SoortMisdrijf"], r["region_code"], r["period"]): float(r["value"]) for r in csv.DictReader(fh) if r["value"]}


def value(con, indicator, region, period):
    row = con.execute("SELECT value FROM indicator_values WHERE indicator_id=? AND region_code=? AND period=?",
                      [indicator, region, period]).fetchone()
    return row[0] if row else None


def test_registry_loads_and_covers_the_domains():
    r = reg.load()
    assert len(r.indicators) >= 45
    assert {i.domain for i in r.indicators} == set(reg.DOMAINS)


def test_at_least_35_indicators_are_computed_from_the_bundle(con):
    computed = con.execute("SELECT count(DISTINCT indicator_id) FROM indicator_values").fetchone()[0]
    assert computed >= 35
    missing = con.execute("SELECT indicator_id, live, missing FROM indicators WHERE missing IS NOT NULL").fetchall()
    for id_, live, why in missing:
        assert live and why, f"{id_} is missing without naming its live table"
    total = con.execute("SELECT count(*) FROM indicators").fetchone()[0]
    assert computed + len(missing) == total


def test_burglary_rate_of_zwolle(con, v4, crime):
    expected = crime[("1.1.1", "GM0193", "2020JJ00")] / v4[("M000365", "GM0193", "2020JJ00")] * 1000
    assert value(con, "woninginbraak_per_1000", "GM0193", "2020JJ00") == pytest.approx(expected)


def test_population_of_a_merged_gemeente(con, v4):
    expected = sum(v4[("M000352", c, "2019JJ00")] for c in ("GM0501", "GM0530", "GM0614"))
    assert value(con, "bevolking", "GM1992", "2019JJ00") == expected


def test_group_rate_is_summed_numerator_over_summed_denominator(con, v4, crime):
    members = {"GM0363": ("GM0363", "GM0457"), "GM0599": ("GM0599",), "GM0518": ("GM0518",), "GM0344": ("GM0344",)}
    num = sum(crime[(c, code, "2021JJ00")] for code in members for c in ("1.4.2", "1.4.4", "1.4.5"))
    den = sum(v4[("M000365", old, "2021JJ00")] for olds in members.values() for old in olds)
    got = value(con, "geweld_per_1000", "G4", "2021JJ00")
    assert got == pytest.approx(num / den * 1000)
    rates = [value(con, "geweld_per_1000", code, "2021JJ00") for code in members]
    assert got != pytest.approx(sum(rates) / 4, rel=1e-6)


def test_share_of_65_plus_from_the_kwb_2019_extract(con, bundle):
    with open(bundle / "raw/ujjwalx__dsa2022/kwb-2019.csv", encoding="utf-8") as fh:
        rows = {r["unique_id"]: r for r in csv.DictReader(fh)}
    for code in ("GM0193", "GM0014", "GM0518"):
        expected = int(rows[code]["b_65_oo"]) / int(rows[code]["population"]) * 100
        assert value(con, "aandeel_65_plus", code, "2019JJ00") == pytest.approx(expected)


def test_birth_rate_from_the_population_dynamics_file(con, bundle, v4):
    path = bundle / "raw/ValenteMendez__population-dynamics-netherlands/250112_CLEAN_population_regional_NL.csv"
    with open(path, encoding="utf-8") as fh:
        births = {(r["Regions"].strip(), r["Periods"]): float(r["LiveBornChildren_3"]) for r in csv.DictReader(fh)
                  if r["Sex"] == "T001038" and r["LiveBornChildren_3"]}
    expected = births[("GM0193", "2021JJ00")] / v4[("M000365", "GM0193", "2021JJ00")] * 1000
    assert value(con, "geboorten_per_1000", "GM0193", "2021JJ00") == pytest.approx(expected)


def test_group_average_price_is_weighted_by_inhabitants(con, bundle, v4):
    rows = json.loads((bundle / "odata-v4/83625NED/Observations.json").read_text())["value"]
    price = {(r["RegioS"].strip(), r["Perioden"]): r["Value"] for r in rows if r["Value"] is not None}
    members = [r[0] for r in con.execute("SELECT region_code FROM group_members WHERE group_id='PV22'").fetchall()]
    num = sum(price[(c, "2024JJ00")] * v4[("M000352", c, "2024JJ00")] for c in members)
    den = sum(v4[("M000352", c, "2024JJ00")] for c in members)
    assert value(con, "gemiddelde_verkoopprijs", "PV22", "2024JJ00") == pytest.approx(num / den)


def test_nederland_is_the_sum_of_all_gemeenten(con, v4):
    gm = sum(v for (m, c, p), v in v4.items() if m == "M000352" and p == "2026JJ00" and c.startswith("GM"))
    assert value(con, "bevolking", "NL01", "2026JJ00") == gm == v4[("M000352", "NL01", "2026JJ00")]


def test_growth_uses_the_previous_year(con, v4):
    a, b = v4[("M000352", "GM0193", "2025JJ00")], v4[("M000352", "GM0193", "2026JJ00")]
    assert value(con, "bevolkingsgroei", "GM0193", "2026JJ00") == pytest.approx((b - a) / a * 100)


@pytest.mark.parametrize("formula, message", [
    ("a +", "ongeldig"), ("__import__('os')", "alleen"), ("a.b", "alleen"), ("lag(a, b)", "lag"), ("c / a", "onbekende invoer"),
])
def test_bad_formulas_are_refused(tmp_path, formula, message):
    path = tmp_path / "r.yaml"
    path.write_text(
        "indicators:\n- id: x\n  title: X\n  description: Een test.\n  domain: demografie\n  unit: aantal\n"
        "  citation: test\n  variants:\n  - inputs:\n      a: [{table: T, measure: M}]\n"
        f"    formula: \"{formula}\"\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        reg.load(path)


def test_evaluate_handles_division_by_zero_and_missing():
    tree = reg._parse("a / b * 100")
    assert reg.evaluate(tree, {("a", 0): 1.0, ("b", 0): 0.0}) is None
    assert reg.evaluate(tree, {("a", 0): 1.0}) is None
    assert reg.evaluate(reg._parse("(a - lag(a, 5)) / lag(a, 5)"), {("a", 0): 110.0, ("a", 5): 100.0}) == pytest.approx(0.1)


def test_every_live_table_of_an_indicator_is_in_the_sync_catalogue():
    from trendstudie.sources.catalog import load_catalog

    ids = {t.id.lower() for t in load_catalog().tables}
    for ind in reg.load().indicators:
        for table in ind.live:
            assert table.lower() in ids, f"{ind.id}: live table {table} is not in sources/catalog.yaml"


def test_values_say_whether_they_were_harmonised(con):
    merged = con.execute("SELECT harmonised FROM indicator_values WHERE indicator_id='bevolking' "
                         "AND region_code='GM1992' AND period='2019JJ00'").fetchone()[0]
    unchanged = con.execute("SELECT harmonised FROM indicator_values WHERE indicator_id='bevolking' "
                            "AND region_code='GM0344' AND period='2019JJ00'").fetchone()[0]
    assert merged is True and unchanged is False


def test_household_waste_per_inhabitant_from_the_2015_kerncijfers(con, bundle):
    """Waste is published in 1.000 kg; a merged gemeente (Dijk en Waard, 2022) sums its predecessors."""
    path = bundle / "raw/rubennaatje__R-datascience-project-/datasets/70072ned_UntypedDataSet_06062018_000805.csv"
    with open(path, encoding="utf-8-sig") as fh:
        rows = {r["RegioS"].strip(): r for r in csv.DictReader(fh, delimiter=";") if r["Perioden"] == "2015JJ00"}

    def per_inhabitant(codes, column):
        waste = sum(float(rows[c][column]) for c in codes)
        inhabitants = sum(float(rows[c]["TotaleBevolking_1"]) for c in codes)
        return waste * 1000 / inhabitants

    for code, predecessors in (("GM0193", ["GM0193"]), ("GM1980", ["GM0398", "GM0416"])):
        assert value(con, "huishoudelijk_afval_per_inwoner", code, "2015JJ00") == \
            pytest.approx(per_inhabitant(predecessors, "TotaalHuishoudelijkAfval_238"))
        assert value(con, "restafval_per_inwoner", code, "2015JJ00") == \
            pytest.approx(per_inhabitant(predecessors, "HuishoudelijkRestafval_239"))
    assert 150 < value(con, "restafval_per_inwoner", "GM0193", "2015JJ00") < 300  # kg per inhabitant, not tonnes


def test_a_title_that_occurs_once_per_unit_is_told_apart_by_unit():
    from trendstudie.harmonise import Fact

    facts = [Fact("T1", m, "", "GM0193", "2024JJ00", v, None, False, "ongewijzigd", "")
             for m, v in (("M1", 5000.0), ("M2", 61.0))]
    index = reg.FactIndex(facts, {("T1", "M1"): "Rioolheffing", ("T1", "M2"): "Rioolheffing"},
                          {("T1", "M1"): "1 000 euro", ("T1", "M2"): "euro per inwoner"})
    by_unit = reg.Ref(table="T1", title="rioolheffing", unit="1 000  Euro")  # case and spacing ignored
    assert index.resolve(by_unit) == [("T1", "M1", "")]
    assert index.resolve(reg.Ref(table="T1", title="Rioolheffing", unit="euro per inwoner")) == [("T1", "M2", "")]
    assert index.resolve(reg.Ref(table="T1", title="Rioolheffing", unit="euro")) == []
    assert {k[1] for k in index.resolve(reg.Ref(table="T1", title="Rioolheffing"))} == {"M1", "M2"}
    assert "(1 000  Euro)" in by_unit.label()
    with pytest.raises(ValueError, match="unit"):
        reg.Ref(table="T1", measure="M1", unit="euro")


def test_indicators_from_sources_other_than_cbs_are_declared_with_their_live_source(con):
    """Offline, the Klimaatmonitor, Leefbaarometer and budget indicators are reported missing with
    the catalogue entry `trendstudie sync` fetches them from (see tests/sources/test_external.py)."""
    rows = dict(con.execute("SELECT indicator_id, live FROM indicators WHERE missing IS NOT NULL").fetchall())
    for ind, live in [("leefbaarometer", "LBM3"), ("co2_per_inwoner", "RKM"), ("hernieuwbare_energie_aandeel", "RKM"),
                      ("energieverbruik_per_inwoner", "RKM"), ("ozb_per_inwoner", "83643NED"),
                      ("afvalstoffenheffing_per_inwoner", "83643NED"), ("rioolheffing_per_inwoner", "83643NED")]:
        assert rows.get(ind) == live, ind
    domains = {d for (d,) in con.execute("SELECT DISTINCT domain FROM indicators").fetchall()}
    assert domains == set(reg.DOMAINS)  # every domain has its indicators, 'bestuur' through the budgets


def test_cars_are_those_of_private_owners_so_lease_companies_do_not_count(con, bundle):
    """Almere hosts lease companies: all registered cars give 2,8 per household, private cars ~0,9."""
    path = bundle / "raw/rubennaatje__R-datascience-project-/datasets/70072ned_UntypedDataSet_06062018_000805.csv"
    with open(path, encoding="utf-8-sig") as fh:
        rows = {r["RegioS"].strip(): r for r in csv.DictReader(fh, delimiter=";") if r["Perioden"] == "2015JJ00"}
    for code in ("GM0034", "GM0193"):
        r = rows[code]
        private = float(r["PersonenautoSParticulieren_202"])
        assert value(con, "autos_per_huishouden", code, "2015JJ00") == \
            pytest.approx(private / float(r["TotaalAantalParticuliereHuishoudens_82"]))
        assert value(con, "autos_per_1000_inwoners", code, "2015JJ00") == \
            pytest.approx(private / float(r["TotaleBevolking_1"]) * 1000)
    assert value(con, "autos_per_huishouden", "GM0034", "2015JJ00") < 1.2
