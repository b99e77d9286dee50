"""The one resolver for what a user types as a gemeente: former codes and names lead to their
successor (or, when split, to all of them), typos get suggestions."""

from __future__ import annotations

from datetime import date

import pytest

from trendstudie.errors import TrendstudieError
from trendstudie.geo.herindeling import Transfer
from trendstudie.geo.regions import Region, RegionRegistry
from trendstudie.geo.resolve import ALL_KINDS, UnknownRegionError, resolve_gemeente


@pytest.fixture(scope="module")
def registry(bundle):
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


@pytest.mark.parametrize("text", ["GM0501", "gm0501", "Brielle", "brielle"])
def test_former_gemeente_leads_to_its_successor(registry, text):
    r = resolve_gemeente(text, registry)
    assert (r.code, r.former, r.name) == ("GM1992", "GM0501", "Voorne aan Zee")
    assert r.message == ("GM0501 (Brielle) is op 1 januari 2023 opgegaan in GM1992 Voorne aan Zee; "
                         "hieronder Voorne aan Zee.")
    assert r.require() == "GM1992"
    assert r.history == "GM0501 (Brielle) is op 1 januari 2023 opgegaan in GM1992 Voorne aan Zee."


def test_current_gemeente_has_no_message(registry):
    r = resolve_gemeente("Zwolle", registry)
    assert (r.code, r.former, r.message) == ("GM0193", None, None)


def test_split_names_every_successor_and_refuses(registry):
    r = resolve_gemeente("Haaren", registry)
    assert r.split and r.code is None and r.former == "GM0788"
    assert {s.code for s in r.successors} == {"GM0824", "GM0865", "GM0757", "GM0855"}
    assert abs(sum(s.share for s in r.successors) - 1) < 1e-9
    for name in ("Oisterwijk", "Vught", "Boxtel", "Tilburg"):
        assert name in r.message
    with pytest.raises(TrendstudieError, match="opgedeeld over"):
        r.require()


def test_chain_of_herindelingen_is_told(registry):
    r = resolve_gemeente("Esch", registry)  # into Haaren in 1996, Haaren split in 2021
    assert "opgegaan in GM0788 Haaren, en die is op 1 januari 2021 opgedeeld over" in r.message


@pytest.mark.parametrize("typo, meant", [("Zwole", "Zwolle"), ("Voorn aan Zee", "Voorne aan Zee"),
                                         ("Amsterdm", "Amsterdam")])
def test_typos_get_suggestions(registry, typo, meant):
    with pytest.raises(UnknownRegionError) as e:
        resolve_gemeente(typo, registry)
    assert meant in e.value.suggestions
    assert f"Bedoelde u: {meant}" in str(e.value)


def test_nonsense_gets_no_suggestion(registry):
    with pytest.raises(UnknownRegionError) as e:
        resolve_gemeente("[/x]", registry)
    assert e.value.suggestions == [] and "Bedoelde u" not in str(e.value)


def test_other_kinds_only_when_asked(registry):
    assert resolve_gemeente("NL01", registry, kinds=ALL_KINDS).code == "NL01"
    with pytest.raises(UnknownRegionError):
        resolve_gemeente("NL01", registry)


def _toy() -> RegionRegistry:
    d = date(2020, 1, 1)
    regions = {
        "GM0001": Region("GM0001", "Oud", "Oud", "GM", valid_to=d),
        "GM0002": Region("GM0002", "Nieuw", "Nieuw", "GM", valid_from=d),
        "GM0003": Region("GM0003", "Verdwenen", "Verdwenen", "GM", valid_to=d),
        "GM0004": Region("GM0004", "Groot", "Groot", "GM", valid_to=d),
        "GM0005": Region("GM0005", "Buur", "Buur", "GM"),
    }
    transfers = [Transfer(d, "GM0001", "GM0002", "naamswijziging"),
                 Transfer(d, "GM0004", "GM0002", "herindeling", inhabitants=950),
                 Transfer(d, "GM0004", "GM0005", "herindeling", inhabitants=50)]
    return RegionRegistry(regions, transfers)


def test_rename_is_told_as_a_rename():
    r = resolve_gemeente("Oud", _toy())
    assert r.code == "GM0002" and "hernoemd tot GM0002 Nieuw" in r.message


def test_minor_parts_are_named():
    r = resolve_gemeente("GM0004", _toy())
    assert r.code == "GM0002" and "een klein deel ging naar GM0005 Buur" in r.message


def test_ended_without_successor_refuses():
    r = resolve_gemeente("Verdwenen", _toy())
    assert r.code is None and "in geen andere gemeente opgegaan" in r.message
