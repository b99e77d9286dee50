"""Name resolution: the one place where a region name becomes a code."""

from __future__ import annotations

from datetime import date

import pytest

from trendstudie.errors import TrendstudieError
from trendstudie.geo.regions import RegionRegistry


@pytest.fixture(scope="module")
def registry(bundle):
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


@pytest.mark.parametrize("name, code", [
    ("Bergen (NH.)", "GM0373"), ("Bergen (L.)", "GM0893"), ("'s-Gravenhage", "GM0518"),
    ("s-Gravenhage (gemeente)", "GM0518"), ("’s-Gravenhage", "GM0518"), ("Den Haag", "GM0518"),
    ("Groningen (gemeente)", "GM0014"), ("groningen", "GM0014"), ("Beek (L.)", "GM0888"),
    ("Hengelo (O.)", "GM0164"), ("Súdwest-Fryslân", "GM1900"), ("Sudwest-Fryslan", "GM1900"),
    ("Nuenen, Gerwen en Nederwetten", "GM0820"), ("gm1992", "GM1992"), ("Voorne aan Zee", "GM1992"),
    ("Bergen (NH)", "GM0373"), ("Hengelo (O)", "GM0164"), ("s Hertogenbosch", "GM0796"), ("'s-Hertogenbosch", "GM0796"),
    ("Sudwest Fryslan", "GM1900"), ("Nuenen", "GM0820"), ("Rijswijk (Zuid-Holland)", "GM0603"),
    ("Bergen (Limburg)", "GM0893"),
])
def test_names_resolve(registry, name, code):
    assert registry.resolve(name) == code


def test_ambiguous_name_names_the_candidates(registry):
    with pytest.raises(TrendstudieError) as e:
        registry.resolve("Bergen")
    assert "GM0373" in str(e.value) and "GM0893" in str(e.value)


def test_unknown_name_is_a_clear_error(registry):
    with pytest.raises(TrendstudieError, match="Onbekende regionaam"):
        registry.resolve("Atlantis")


def test_historic_name_resolves_on_its_date(registry):
    assert registry.resolve("Weesp", on=date(2020, 1, 1)) == "GM0457"
    assert registry.resolve("Haaren", on=date(2015, 1, 1)) == "GM0788"


def test_province_resolves_only_when_asked(registry):
    assert registry.resolve("Fryslân", kinds=("PV",)) == "PV21"
    assert registry.resolve("Friesland", kinds=("PV",)) == "PV21"
