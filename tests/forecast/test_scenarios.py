"""Scenario YAML: validation with file and line, inheritance, what-if overrides."""

from __future__ import annotations

import pytest

from trendstudie.errors import InputError, TrendstudieError
from trendstudie.forecast import project
from trendstudie.forecast.scenarios import Scenario, get_scenario, load_scenarios, parse_scenarios


def test_builtin_scenarios():
    s = load_scenarios()
    assert list(s) == ["basis", "hoog", "laag", "metropolisering", "spreiding", "de-urbanisatie"]
    assert {x.soort for x in s.values()} == {"wlo", "hcss"}
    assert s["hoog"].immigratie > 1 > s["laag"].immigratie
    # the HCSS scenarios only differ in where migration goes
    for sid in ("metropolisering", "spreiding", "de-urbanisatie"):
        assert (s[sid].vruchtbaarheid, s[sid].sterfte, s[sid].immigratie) == (1.0, 1.0, 1.0)
        assert s[sid].aantrekking


def test_user_file_with_inheritance(tmp_path):
    path = tmp_path / "eigen.yaml"
    path.write_text("scenarios:\n"
                    "  - id: krimp-plus\n    titel: Krimp plus\n    basis: laag\n    woningbouw: 0.5\n")
    s = load_scenarios(path)
    assert "basis" in s and "krimp-plus" in s
    assert s["krimp-plus"].immigratie == s["laag"].immigratie and s["krimp-plus"].woningbouw == 0.5
    assert get_scenario("krimp-plus", path).titel == "Krimp plus"


@pytest.mark.parametrize("body, line, words", [
    ("scenarios:\n  - id: a\n    titel: A\n  - id: b\n    titel: B\n    geboortes: 1.2\n", 4, "geboortes"),
    ("scenarios:\n  - id: a\n    titel: A\n    immigratie: -1\n", 2, "immigratie"),
    ("scenarios:\n  - id: a\n    titel: A\n    basis: bestaat-niet\n", 2, "bestaat-niet"),
    ("scenarios:\n  - id: a\n    titel: A\n  - id: a\n    titel: B\n", 4, "twee keer"),
    ("scenarios:\n  - id: a\n    titel: A\n    aantrekking: {G4: 0}\n", 2, "G4"),
    ("scenarios:\n  - id: A B\n    titel: A\n", 2, "id"),
    ("scenarios: [\n", 2, "YAML"),
    ("andere: 1\n", 1, "scenarios"),
])
def test_invalid_files_name_file_and_line(body, line, words):
    with pytest.raises(InputError) as err:
        parse_scenarios(body, "eigen.yaml")
    assert err.value.path == "eigen.yaml" and err.value.line == line
    assert words in str(err.value)


def test_missing_file_and_unknown_scenario(tmp_path):
    with pytest.raises(TrendstudieError, match="bestaat niet"):
        load_scenarios(tmp_path / "nee.yaml")
    with pytest.raises(TrendstudieError, match="Kies uit: basis, hoog"):
        get_scenario("middel")


def test_overrides_are_validated():
    base = get_scenario("basis")
    v = base.with_overrides({"immigratie": 1.2, "woningbouw": 2})
    assert (v.immigratie, v.woningbouw, v.id) == (1.2, 2.0, "basis-variant")
    assert base.with_overrides(None) is base
    with pytest.raises(TrendstudieError, match="Onbekende scenarioparameter.*geboorte"):
        base.with_overrides({"geboorte": 1.1})
    with pytest.raises(TrendstudieError, match="immigratie"):
        base.with_overrides({"immigratie": -0.5})
    assert isinstance(v, Scenario)


def test_what_if_changes_the_projection(con):
    def value(rows, ind, period):
        return next(r.value for r in rows if r.indicator_id == ind and r.period == period)

    basis = project(con, "GM0599", "basis", 2035)
    more = project(con, "GM0599", "basis", 2035, overrides={"immigratie": 1.5})
    build = project(con, "GM0599", "basis", 2035, overrides={"woningbouw": 2.0})
    assert value(more, "bevolking", "2035JJ00") > value(basis, "bevolking", "2035JJ00")
    assert {r.scenario for r in more} == {"basis-variant"}
    grow = value(basis, "woningvoorraad", "2035JJ00") - value(basis, "woningvoorraad", "2027JJ00")
    grow2 = value(build, "woningvoorraad", "2035JJ00") - value(build, "woningvoorraad", "2027JJ00")
    assert grow2 == pytest.approx(2 * grow)
    assert value(build, "bevolking", "2035JJ00") == value(basis, "bevolking", "2035JJ00")


def test_unknown_group_in_a_user_scenario(con, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("scenarios:\n  - id: x\n    titel: X\n    aantrekking: {G5: 1.2}\n")
    with pytest.raises(TrendstudieError, match="Onbekende groep.*G5"):
        project(con, "GM0599", "x", 2030, scenario_file=path)


def test_command_line_overrides():
    from trendstudie.forecast import parse_overrides
    got = parse_overrides(["immigratie=1,2", "aantrekking.G4=1.1", "woningbouw=2"])
    assert got == {"immigratie": 1.2, "aantrekking": {"G4": 1.1}, "woningbouw": 2.0}
    for bad, words in (("immigratie", "parameter=waarde"), ("immigratie=veel", "geen getal"),
                       ("geboorte=1", "Onbekende"), ("aantrekking=1.1", "groep"), ("sterfte.G4=1", "geen groepen")):
        with pytest.raises(TrendstudieError, match=words):
            parse_overrides([bad])
    # a group factor joins the scenario's own groups instead of replacing them all
    metro = get_scenario("metropolisering").with_overrides(parse_overrides(["aantrekking.G40=1.2"]))
    assert metro.aantrekking["G40"] == 1.2 and metro.aantrekking["G4"] == get_scenario("metropolisering").aantrekking["G4"]


@pytest.mark.parametrize("text, chain", [
    ("scenarios:\n  - id: basis\n    titel: B\n    basis: basis\n", "basis → basis"),
    ("scenarios:\n  - id: a\n    titel: A\n    basis: b\n  - id: b\n    titel: B\n    basis: a\n", "a → b → a"),
])
def test_a_loop_of_scenarios_is_reported_with_its_chain(text, chain):
    from trendstudie.errors import InputError
    from trendstudie.forecast.scenarios import builtin_scenarios, parse_scenarios

    with pytest.raises(InputError) as e:
        parse_scenarios(text, "eigen.yaml", builtin_scenarios())
    assert "kring" in str(e.value) and chain in str(e.value) and "eigen.yaml, regel" in str(e.value)


def test_a_scenario_may_build_on_one_defined_later_in_the_file():
    from trendstudie.forecast.scenarios import builtin_scenarios, parse_scenarios

    text = "scenarios:\n  - id: a\n    titel: A\n    basis: b\n  - id: b\n    titel: B\n    basis: hoog\n"
    got = parse_scenarios(text, "eigen.yaml", builtin_scenarios())
    assert got["a"].model_dump(exclude={"id", "titel", "basis"}) == got["b"].model_dump(exclude={"id", "titel", "basis"})
