"""Indicators of the spread between a gemeente's wijken, computed at build time (registry `Spread`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from trendstudie.indicators import registry as reg

KWB_2024 = "raw/niquedegraaff__Wikipedia-Generator-CBS-Kerncijfers-Wijken-en-Buurten/2024/cbs_data/stripped_filtered_data_2024.json"


@dataclass
class Row:
    table_id: str
    measure: str
    region_code: str
    period: str
    value: float | None
    status: str | None = None
    dims: str = ""


def density_spread(minimum: int = 4) -> reg.Indicator:
    """A spread indicator over the wijk figures the offline bundle has: inhabitants per km²."""
    return reg.Indicator.model_validate({
        "id": "spreiding_dichtheid", "title": "Verschil in dichtheid tussen wijken", "description": "test",
        "domain": "wonen en ruimte", "unit": "keer", "decimals": 2, "citation": "CBS 85984NED",
        "variants": [{"inputs": {"d": [{"table": "85984NED", "measure": "Bevolkingsdichtheid"}],
                                 "w": [{"table": "85984NED", "measure": "AantalInwoners"}]},
                      "formula": "d"}],
        "spread": {"statistic": "verhouding p80/p20", "weight": "w", "minimum_wijken": minimum, "reason": "test"}})


def test_weighted_percentile():
    points = [(10.0, 1.0), (20.0, 1.0), (30.0, 3.0)]  # 20% of the weight lies at 10, 40% up to 20
    assert reg.weighted_percentile(points, 0.2) == 10.0
    assert reg.weighted_percentile(points, 0.4) == 20.0
    assert reg.weighted_percentile(points, 0.8) == 30.0


def test_spread_over_real_wijken_matches_the_raw_file(con, bundle):
    """Zwolle's wijken in KWB 2024 (as the store holds them from the raw JSON): the inhabitant-weighted
    80th over 20th percentile of wijk densities, recomputed here from the raw file."""
    rows = [Row(*r) for r in con.execute(
        "SELECT table_id, measure, region_code, period, value FROM observations "
        "WHERE table_id = '85984NED' AND region_code LIKE 'WK%' "
        "AND measure IN ('Bevolkingsdichtheid', 'AantalInwoners')").fetchall()]
    index = reg.FactIndex(rows, {})
    values = {v.region_code: v for v in reg.compute(density_spread(), index, ["GM0193", "GM0096"], {})}
    raw = json.loads((bundle / KWB_2024).read_text(encoding="utf-8"))
    wijken = [(v["Bevolkingsdichtheid_34"], v["AantalInwoners_5"]) for k, v in raw.items()
              if k.startswith("WK0193") and v.get("Bevolkingsdichtheid_34") is not None and v.get("AantalInwoners_5")]
    expected = reg.weighted_percentile(wijken, 0.8) / reg.weighted_percentile(wijken, 0.2)
    assert values["GM0193"].value == pytest.approx(expected)
    assert values["GM0193"].period == "2024JJ00" and values["GM0193"].provenance.startswith(f"{len(wijken)} wijken")
    # Vlieland has fewer than four wijken: no spread
    assert sum(k.startswith("WK0096") for k in raw) < 4 and "GM0096" not in values


def test_wijken_of_a_gemeente_that_no_longer_exists_are_left_out():
    rows = [Row("85984NED", m, f"WK0001{i:02d}", "2024JJ00", v) for i in range(5)
            for m, v in (("Bevolkingsdichtheid", 100.0 * (i + 1)), ("AantalInwoners", 10.0))]
    index = reg.FactIndex(rows, {})
    assert [v.region_code for v in reg.compute(density_spread(), index, ["GM0001"], {})] == ["GM0001"]
    assert reg.compute(density_spread(), index, ["GM0002"], {}) == []  # GM0001 is gone: its wijken are not moved
    assert reg.compute(density_spread(minimum=6), index, ["GM0001"], {}) == []  # too few wijken


def test_spread_indicators_in_the_registry_name_their_weight():
    spreads = [i for i in reg.load().indicators if i.spread]
    assert {i.id for i in spreads} >= {"spreiding_woz_wijken", "spreiding_laag_inkomen_wijken"}
    for i in spreads:
        assert i.spread.reason and all(i.spread.weight in v.inputs for v in i.variants)
