"""Peer groups: the published lists, their journey through herindelingen, provinces, size
classes and user-defined groups, all against the real CBS data in the shared bundle."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trendstudie.errors import InputError, TrendstudieError
from trendstudie.geo import groups as G
from trendstudie.geo.regions import RegionRegistry

SEED = "001_4db66dc70a33111a.txt"


@pytest.fixture(scope="module")
def registry(bundle: Path) -> RegionRegistry:
    return RegionRegistry.from_regioscodes(bundle / "odata-v4" / "03759ned" / "RegioSCodes.json")


@pytest.fixture(scope="module")
def networks(registry: RegionRegistry) -> dict[str, G.Group]:
    return {g.id: g for g in G.network_groups(registry)}


@pytest.fixture(scope="module")
def spec() -> G.GroupsFile:
    return G.load_spec()[0]


@pytest.fixture(scope="module")
def population(bundle: Path) -> dict[tuple[str, str], float]:
    """Bevolking op 1 januari (M000352) per region code and period, from the OData mirror."""
    rows = json.loads((bundle / "odata-v4" / "03759ned" / "Observations.json").read_text(encoding="utf-8-sig"))["value"]
    return {
        (r["RegioS"].strip(), r["Perioden"]): r["Value"]
        for r in rows
        if r["Measure"] == "M000352" and r["Value"] is not None
    }


# --- Dutch number words, to read counts the study writes out ----------------------------------

_UNITS = {"een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9}
_TENS = {"twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70, "tachtig": 80, "negentig": 90}


def dutch_number(word: str) -> int:
    word = word.lower()
    if word in _TENS:
        return _TENS[word]
    if word in _UNITS:
        return _UNITS[word]
    m = re.fullmatch(r"(\w+?)(?:ën|en)(\w+)", word)
    if m and m.group(1) in _UNITS and m.group(2) in _TENS:
        return _UNITS[m.group(1)] + _TENS[m.group(2)]
    raise ValueError(word)


def test_dutch_number_reader() -> None:
    assert dutch_number("veertig") == 40
    assert dutch_number("drieënveertig") == 43
    assert dutch_number("zesentwintig") == 26
    with pytest.raises(ValueError):
        dutch_number("veertien")


# --- the published lists ------------------------------------------------------------------------


def _footnote_names(seeds: Path, lines: tuple[int, int]) -> list[str]:
    text = seeds.joinpath(SEED).read_text(encoding="utf-8").splitlines()[lines[0] - 1 : lines[1]]
    joined = " ".join(line.strip() for line in text if line.strip())
    joined = re.sub(r"^\d+\s+", "", joined)  # the footnote number
    return [name.strip() for name in joined.rstrip(". ").split(",") if name.strip()]


@pytest.mark.parametrize("gid", ["G40", "M50"])
def test_yaml_names_are_exactly_the_published_footnote(spec: G.GroupsFile, seeds: Path, gid: str) -> None:
    net = next(n for n in spec.networks if n.id == gid)
    assert net.source.seed == SEED
    assert net.peildatum.year == 2021
    assert net.source.lines is not None
    assert _footnote_names(seeds, net.source.lines) == net.members


def test_g4_has_the_four_big_cities(networks: dict[str, G.Group], registry: RegionRegistry) -> None:
    g4 = networks["G4"]
    assert len(g4.members) == 4
    names = {registry.get(c).name for c in g4.members}
    assert names == {"Amsterdam", "Rotterdam", "'s-Gravenhage", "Utrecht"}


def test_network_counts_match_what_the_study_says(networks: dict[str, G.Group], seeds: Path) -> None:
    text = " ".join(seeds.joinpath(SEED).read_text(encoding="utf-8").split())
    m = re.search(r"voor de (\w+) G40- en voor (\w+) M50-gemeenten", text)
    assert m, "the study's own count of G40 and M50 members is expected in its summary"
    # The list of 2021 has 40 and 43 names; since then herindelingen did not merge two members.
    assert len(networks["G40"].members) == dutch_number(m.group(1)) == 40
    assert len(networks["M50"].members) == dutch_number(m.group(2)) == 43


def test_published_lists_add_up_to_the_study_table(
    spec: G.GroupsFile, registry: RegionRegistry, population: dict, seeds: Path
) -> None:
    """Tabel 2.1 gives the 2020 population (prognosis base, x 1.000) of G4, G40 and M50; the
    published lists, read on their 2021 classification, add up to it within 0,7% in CBS's
    population of 1 januari 2020 (the prognosis base differs a little from the register).
    Leaving out any single member breaks it: the smallest weighs at least 1,3% of its group."""
    text = seeds.joinpath(SEED).read_text(encoding="utf-8")
    for net in spec.networks:
        m = re.search(rf"^{net.id}\s+([\d.]+,\d)\s", text, re.M)
        assert m, net.id
        published = float(m.group(1).replace(".", "").replace(",", ".")) * 1000
        codes = [registry.resolve(net.corrections.get(n, n), on=net.peildatum) for n in net.members]
        total = sum(population[(c, "2020JJ00")] for c in codes)
        assert abs(total - published) / published < 0.007, (net.id, total, published)


def test_every_member_is_a_current_gemeente(networks: dict[str, G.Group], registry: RegionRegistry) -> None:
    current = set(registry.current_gemeenten())
    assert len(current) == 342
    for group in networks.values():
        assert set(group.members) <= current, group.id
        assert group.members == sorted(set(group.members))


def test_herindelingen_since_the_list_are_followed_and_reported(
    networks: dict[str, G.Group], spec: G.GroupsFile, registry: RegionRegistry
) -> None:
    # Which published members no longer exist, read from the registry itself.
    ended: dict[str, list[str]] = {}
    for net in spec.networks:
        for name in net.members:
            code = registry.resolve(net.corrections.get(name, name), on=net.peildatum)
            if registry.get(code).valid_to is not None:
                ended.setdefault(net.id, []).append(code)
    assert ended == {"M50": ["GM0398", "GM0530"]}  # Heerhugowaard and Hellevoetsluis
    for code in ended["M50"]:
        region = registry.get(code)
        successors = {t.to_code for t in registry.transfers if t.from_code == code and t.date == region.valid_to}
        assert len(successors) == 1
        successor = successors.pop()
        assert code not in networks["M50"].members
        assert successor in networks["M50"].members
        note = next(c for c in networks["M50"].changes if f"({code})" in c)
        assert f"({successor})" in note and "per 1 januari" in note
    changes = networks["M50"].changes
    assert "Heerhugowaard (GM0398) is per 1 januari 2022 opgegaan in Dijk en Waard (GM1980), samen met Langedijk (GM0416)" in changes
    assert any(c.startswith("Hellevoetsluis (GM0530) is per 1 januari 2023 opgegaan in Voorne aan Zee (GM1992)") for c in changes)
    # The misspelt published name is read, and says so.
    assert "GM0861" in networks["M50"].members
    assert any("'Veldoven'" in c and "GM0861" in c for c in changes)
    # Weesp went into Amsterdam in 2022: the G4 did not change members but grew.
    assert any(c.startswith("Weesp (GM0457) is per 24 maart 2022 opgegaan in groepslid Amsterdam (GM0363)") for c in networks["G4"].changes)
    assert networks["G40"].changes == []


def test_carry_forward_of_a_split_goes_to_the_largest_receiver(registry: RegionRegistry) -> None:
    # Find a gemeente that CBS says was dissolved into more than one receiver.
    split = None
    for code, region in sorted(registry.regions.items()):
        if region.kind == "GM" and region.valid_to is not None:
            outs = [t for t in registry.transfers if t.from_code == code and t.date == region.valid_to and t.inhabitants]
            if len({t.to_code for t in outs}) > 1:
                split = (code, outs)
                break
    assert split is not None
    code, outs = split
    final, chain, notes = G.carry_forward(registry, code)
    biggest = max(outs, key=lambda t: t.inhabitants)
    assert chain[1][0] == biggest.to_code
    assert "verdeeld over" in notes[0] and f"({biggest.to_code}) kreeg het grootste deel" in notes[0]
    assert final in registry.current_gemeenten()


def test_provinces_cover_every_gemeente_exactly_once(registry: RegionRegistry) -> None:
    provinces = G.province_groups(registry)
    assert [g.id for g in provinces] == registry.provinces()
    assert len(provinces) == 12
    counts = Counter(code for g in provinces for code in g.members)
    assert set(counts) == set(registry.current_gemeenten())
    assert set(counts.values()) == {1}
    by_id = {g.id: g for g in provinces}
    assert "GM0363" in by_id["PV27"].members and by_id["PV27"].title == "Provincie Noord-Holland"
    assert len(by_id["PV24"].members) == 6  # Flevoland: Almere, Dronten, Lelystad, Noordoostpolder, Urk, Zeewolde


def test_nederland_is_all_342(registry: RegionRegistry) -> None:
    nl = G.nederland_group(registry)
    assert nl.id == "NL01" and nl.kind == "nederland"
    assert nl.members == registry.current_gemeenten() and len(nl.members) == 342


# --- size classes -------------------------------------------------------------------------------


def test_size_classes_on_real_populations(population: dict, registry: RegionRegistry) -> None:
    day = date(2025, 1, 1)
    names = ["Vlieland", "Schiermonnikoog", "Urk", "Zwolle", "Amsterdam", "Utrecht", "Oegstgeest", "Lelystad"]
    pops = {registry.resolve(n): population[(registry.resolve(n), "2025JJ00")] for n in names}
    groups = {g.id: g for g in G.size_class_groups(pops, day)}
    member_of = {code: gid for gid, g in groups.items() for code in g.members}
    assert set(member_of) == set(pops)
    spec = G.load_spec()[0].size_classes
    for code, value in pops.items():
        klass = next(c for c in spec.classes if c.code == int(member_of[code][2:]))
        assert klass.lower <= value and (klass.upper is None or value < klass.upper)
    assert member_of[registry.resolve("Vlieland")] == "GK1"
    assert member_of[registry.resolve("Amsterdam")] == "GK8"
    assert all(g.peildatum == day and g.kind == "grootteklasse" for g in groups.values())
    assert groups["GK8"].title == "Gemeenten met 250.000 inwoners of meer"


def test_size_classes_of_all_342_and_the_g4(population: dict, registry: RegionRegistry, networks: dict) -> None:
    current = registry.current_gemeenten()
    pops = {c: population[(c, "2025JJ00")] for c in current}
    groups = G.size_class_groups(pops, date(2025, 1, 1))
    counts = Counter(code for g in groups for code in g.members)
    assert set(counts) == set(current) and set(counts.values()) == {1}
    big = next(g for g in groups if g.id == "GK8")
    assert set(networks["G4"].members) <= set(big.members)
    assert len(big.members) == sum(1 for v in pops.values() if v >= 250_000)


def test_size_class_bounds_and_bad_figures() -> None:
    groups = G.size_class_groups({"GM0001": 4999, "GM0002": 5000, "GM0003": 250_000, "GM0004": math.nan, "GM0005": None}, date(2025, 1, 1))
    by_code = {code: g.id for g in groups for code in g.members}
    assert by_code == {"GM0001": "GK1", "GM0002": "GK2", "GM0003": "GK8"}  # NaN and None: in no class
    assert [g.id for g in groups] == ["GK1", "GK2", "GK8"]  # empty classes are left out
    with pytest.raises(TrendstudieError, match="alleen voor gemeenten"):
        G.size_class_groups({"PV20": 500_000}, date(2025, 1, 1))
    with pytest.raises(TrendstudieError, match="Ongeldig inwonertal"):
        G.size_class_groups({"GM0001": -1}, date(2025, 1, 1))


def test_all_groups(registry: RegionRegistry, population: dict, tmp_path: Path) -> None:
    pops = {c: population[(c, "2025JJ00")] for c in registry.current_gemeenten()}
    user = tmp_path / "eigen.yaml"
    user.write_text("groepen:\n  - id: buren\n    titel: Buren\n    leden: [Leiden, Oegstgeest]\n", encoding="utf-8")
    groups = G.all_groups(registry, pops, date(2025, 1, 1), user_file=user)
    ids = [g.id for g in groups]
    assert len(ids) == len(set(ids))
    assert {"G4", "G40", "M50", "PV20", "PV31", "GK8", "NL01", "buren"} <= set(ids)
    kinds = Counter(g.kind for g in groups)
    assert kinds["netwerk"] == 3 and kinds["provincie"] == 12 and kinds["nederland"] == 1 and kinds["eigen"] == 1
    dijk_en_waard = [g.id for g in G.groups_for("GM1980", groups)]
    assert dijk_en_waard[0] == "M50" and "PV27" in dijk_en_waard and "NL01" in dijk_en_waard
    assert not any(g.kind == "eigen" for g in G.groups_for("GM1980", groups))
    with pytest.raises(TrendstudieError, match="GM0398"):
        G.all_groups(registry, {**pops, "GM0398": 59_000}, date(2025, 1, 1))


# --- user groups --------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_user_groups_from_yaml(registry: RegionRegistry, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "groepen.yaml",
        """groepen:
  - id: kust
    titel: Kustgemeenten
    beschrijving: Eigen vergelijking
    leden:
      - Bergen (NH.)
      - Den Haag
      - GM0453
      - Heerhugowaard
  - id: stad-2021
    peildatum: 2021-01-01
    leden: [Hengelo, Groningen]
""",
    )
    kust, stad = G.load_user_groups(path, registry)
    assert kust.kind == "eigen" and kust.title == "Kustgemeenten" and kust.description == "Eigen vergelijking"
    assert kust.members == sorted(["GM0373", "GM0518", "GM0453", "GM1980"])
    assert any("Heerhugowaard (GM0398)" in c and "GM1980" in c for c in kust.changes)
    assert stad.title == "stad-2021" and stad.peildatum == date(2021, 1, 1)
    assert stad.members == ["GM0014", "GM0164"]
    assert stad.source == "eigen groep uit groepen.yaml"


def test_user_groups_from_csv(registry: RegionRegistry, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "groepen.csv",
        "groep;titel;lid\r\nburen;Buurgemeenten van Leiden;Leiden\r\nburen;;Oegstgeest\r\nburen;;GM0575\r\nnoord;Noorden;'s-Gravenhage\r\n",
        encoding="utf-8-sig",
    )
    buren, noord = G.load_user_groups(path, registry)
    assert buren.id == "buren" and buren.title == "Buurgemeenten van Leiden"
    assert buren.members == sorted([registry.resolve("Leiden"), registry.resolve("Oegstgeest"), "GM0575"])
    assert noord.members == ["GM0518"]
    comma = _write(tmp_path, "komma.csv", "id,lid\nx,Zwolle\n")
    assert G.load_user_groups(comma, registry)[0].members == ["GM0193"]
    excel = _write(tmp_path, "excel.csv", "groep;lid;\nx;Zwolle;\nx;Kampen;\n")
    assert G.load_user_groups(excel, registry)[0].members == sorted([registry.resolve("Zwolle"), registry.resolve("Kampen")])


BAD_FILES = [
    ("onbekend.yaml", "groepen:\n  - id: a\n    leden:\n      - Leiden\n      - Nergenshuizen\n", 5, "Nergenshuizen"),
    ("code.yaml", "groepen:\n  - id: a\n    leden: [Leiden,\n      GM9999]\n", 4, "GM9999"),
    ("inspring.yaml", "groepen:\n  - id: a\n    leden: [Leiden]\n   titel: x\n", 4, "YAML"),
    ("sleutel.yaml", "groepen:\n  - id: a\n    ledn: [Leiden]\n", 3, "onbekende sleutel"),
    ("gereserveerd.yaml", "groepen:\n  - id: G40\n    leden: [Leiden]\n", 2, "ingebouwde groep"),
    ("dubbel.yaml", "groepen:\n  - id: a\n    leden: [Leiden]\n  - id: A\n    leden: [Delft]\n", 4, "twee keer"),
    ("tweemaal.yaml", "groepen:\n  - id: a\n    leden:\n      - Leiden\n      - GM0546\n", 5, "al eerder"),
    ("peildatum.yaml", "groepen:\n  - id: a\n    peildatum: gisteren\n    leden: [Leiden]\n", 3, "peildatum"),
    ("oud.yaml", "groepen:\n  - id: a\n    peildatum: 2025-01-01\n    leden: [Leiden, Heerhugowaard]\n", 4, "geen gemeente"),
    ("kop.csv", "groep;titel;gemeentenaam\na;b;Leiden\n", 1, "onbekende kolom"),
    ("kolommen.csv", "groep;lid\na;Leiden\na;Delft;extra\n", 3, "kolommen"),
    ("naam.csv", "groep;lid\na;Leiden\n\na;Atlantis\n", 4, "Atlantis"),
    ("titels.csv", "groep;titel;lid\na;Een;Leiden\na;Twee;Delft\n", 3, "twee titels"),
    ("id.csv", "groep;lid\nmet spatie;Leiden\n", 2, "ongeldige groep-id"),
    ("zonderkop.csv", "groep;lid;\na;Leiden;\na;Delft;x\n", 3, "zonder kopnaam"),
    ("lijst.yaml", "groepen:\n  id: a\n", 2, "lijst van groepen"),
]


@pytest.mark.parametrize(("name", "text", "line", "fragment"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_user_files_name_the_line(registry: RegionRegistry, tmp_path: Path, name: str, text: str, line: int, fragment: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as info:
        G.load_user_groups(path, registry)
    assert info.value.path == str(path)
    assert info.value.line == line, str(info.value)
    assert fragment in str(info.value)


def test_bad_user_files_without_a_line(registry: RegionRegistry, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="bestandstype"):
        G.load_user_groups(_write(tmp_path, "groepen.json", "{}"), registry)
    with pytest.raises(InputError, match="leeg"):
        G.load_user_groups(_write(tmp_path, "leeg.yaml", "   \n"), registry)
    with pytest.raises(InputError, match="kan niet gelezen"):
        G.load_user_groups(tmp_path / "bestaat-niet.csv", registry)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("groep;lid\na;Súdwest-Fryslân\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8") as info:
        G.load_user_groups(latin, registry)
    assert info.value.line == 2


def test_groups_yaml_errors_name_the_line(registry: RegionRegistry, tmp_path: Path) -> None:
    good = G.GROUPS_FILE.read_text(encoding="utf-8")
    broken = _write(tmp_path, "groups.yaml", good.replace("      - Zwolle\n", "      - Zwollle\n"))
    with pytest.raises(InputError, match="Zwollle") as info:
        G.network_groups(registry, broken)
    assert good.splitlines()[info.value.line - 1].strip() == "- Zwolle"
    no_date = _write(tmp_path, "groups2.yaml", good.replace("peildatum: 2021-01-01", "peildatum: 2021-13-01", 1))
    with pytest.raises(InputError, match="peildatum") as info:
        G.network_groups(registry, no_date)
    assert "peildatum: 2021-13-01" in no_date.read_text(encoding="utf-8").splitlines()[info.value.line - 1]


# --- mangled files: only InputError -------------------------------------------------------------

VALID_YAML = "groepen:\n  - id: kust\n    titel: Kust\n    peildatum: 2021-01-01\n    leden:\n      - Bergen (NH.)\n      - GM0453\n      - 's-Gravenhage\n"
VALID_CSV = "groep;titel;lid\nkust;Kust;Bergen (NH.)\nkust;;GM0453\nstad;\"Stad; groot\";Utrecht\n"
NOISE = st.text(alphabet=st.sampled_from(list("-:;,\"' \t\n[]{}#&*!|>%@`?~\x00éĳ0123456789GMabc")), max_size=6)


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix, text = draw(st.sampled_from([(".yaml", VALID_YAML), (".csv", VALID_CSV), (".yml", VALID_CSV), (".csv", VALID_YAML)]))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 5))
        text = text[:at] + draw(NOISE) + text[at + cut :]
    data = text.encode("utf-8")
    if draw(st.booleans()) and draw(st.booleans()):
        data = draw(st.binary(max_size=40)) + data[draw(st.integers(0, len(data))) :]
    return suffix, data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mangled")


@settings(max_examples=300, deadline=None)
@given(mangled())
def test_mangled_user_files_give_only_input_errors(registry: RegionRegistry, scratch: Path, case: tuple[str, bytes]) -> None:
    suffix, data = case
    path = scratch / f"groepen{suffix}"
    path.write_bytes(data)
    try:
        groups = G.load_user_groups(path, registry)
    except InputError as exc:
        assert exc.path == str(path)
        assert exc.line is None or exc.line >= 1
    else:
        current = set(registry.current_gemeenten())
        assert groups and all(set(g.members) <= current for g in groups)
