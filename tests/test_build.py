"""A full build from the bundle: real values against the raw files, atomicity, the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from trendstudie import store
from trendstudie.build import build
from trendstudie.config import settings
from trendstudie.errors import InputError
from helpers import linked_copy, sha

POP_DIMS = "BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000"


@pytest.fixture(scope="session")
def home(built_home) -> Path:
    return built_home


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRENDSTUDIE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "trendstudie", *args], capture_output=True, text=True, env=env, timeout=120)


def test_every_bundle_data_file_is_ingested(con, bundle):
    sources = {r[0] for r in con.execute("SELECT DISTINCT source FROM observations").fetchall()}
    covered = set()
    for s in sources:
        path = bundle / s
        covered |= set(path.rglob("*")) if path.is_dir() else {path}
    # Files that are not observations, each used elsewhere: the region registry, the boundary
    # maps (geo/shapes.py), v3 metadata read with its data file, the classification lists checked
    # against the registry, the processed source the tidy files were converted from, and the
    # MapInfo originals of the derived GeoJSON.
    not_observations = {"RegioSCodes.json", "nl_gemeenten.geojson", "gemeente_2014_wgs84.geojson", "DataProperties.json",
                        "TableInfos.json", "gemeenten-alfabetisch-2021.csv", "gemeenten-alfabetisch-2023.csv", "data.json"}
    missing = []
    for p in sorted(bundle.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in (".csv", ".json", ".geojson") or p.name.endswith(".meta.json"):
            continue
        if p not in covered and p.name not in not_observations and "odata-v4" not in p.parts:
            missing.append(str(p.relative_to(bundle)))
    assert not missing


@pytest.mark.parametrize("code, year, value", [("GM0363", 2019, 862965), ("GM0014", 2026, None), ("GM1992", 2023, None)])
def test_population_as_published_equals_the_raw_file(con, bundle, code, year, value):
    rows = json.loads((bundle / "odata-v4/03759ned/Observations.json").read_text())["value"]
    raw = {(r["RegioS"].strip(), r["Perioden"]): r["Value"] for r in rows if r["Measure"] == "M000352"}
    expected = raw[(code, f"{year}JJ00")]
    if value is not None:
        assert expected == value
    got = con.execute("SELECT value, status FROM observations WHERE table_id='03759ned' AND measure='M000352' "
                      "AND dims=? AND region_code=? AND period=?", [POP_DIMS, code, f"{year}JJ00"]).fetchone()
    assert got == (expected, "Definitief")


def test_house_prices_and_crime_equal_the_raw_files(con, bundle):
    rows = json.loads((bundle / "odata-v4/83625NED/Observations.json").read_text())["value"]
    price = {(r["RegioS"].strip(), r["Perioden"]): r["Value"] for r in rows}
    for code in ("GM0193", "GM0344", "GM0014"):
        got = con.execute("SELECT value FROM facts WHERE table_id='83625NED' AND measure='M001534' AND region_code=? "
                          "AND period='2024JJ00'", [code]).fetchone()[0]
        assert got == price[(code, "2024JJ00")]
    with open(bundle / "tidy/47018NED_geregistreerde_misdrijven.csv", encoding="utf-8") as fh:
        crime = {(r["SoortMisdrijf"], r["region_code"], r["period"]): (r["value"], r["status"]) for r in csv.DictReader(fh)}
    for key in (("1.4.5", "GM0599", "2025JJ00"), ("1.1.1", "GM0363", "2012JJ00"), ("3.1.1", "GM0193", "2024JJ00")):
        got = con.execute("SELECT value, status FROM facts WHERE table_id='47018NED' AND dims=? AND region_code=? AND period=?",
                          [f"SoortMisdrijf={key[0]}", key[1], key[2]]).fetchone()
        assert got == (float(crime[key][0]), crime[key][1])


def test_harmonised_amsterdam_includes_weesp(con, bundle):
    rows = json.loads((bundle / "odata-v4/03759ned/Observations.json").read_text())["value"]
    raw = {(r["RegioS"].strip(), r["Perioden"]): r["Value"] for r in rows if r["Measure"] == "M000352"}
    got = con.execute("SELECT value, harmonised FROM facts WHERE table_id='03759ned' AND measure='M000352' AND dims=? "
                      "AND region_code='GM0363' AND period='2021JJ00'", [POP_DIMS]).fetchone()
    assert got == (raw[("GM0363", "2021JJ00")] + raw[("GM0457", "2021JJ00")], True)


def test_facts_are_only_on_todays_gemeenten(con):
    codes = {r[0] for r in con.execute("SELECT DISTINCT region_code FROM facts WHERE region_code LIKE 'GM%'").fetchall()}
    current = {r[0] for r in con.execute("SELECT code FROM regions WHERE current").fetchall()}
    assert len(current) == 342 and codes <= current


def test_groups_are_stored(con):
    counts = dict(con.execute("SELECT group_id, count(*) FROM group_members GROUP BY 1").fetchall())
    assert counts["G4"] == 4 and counts["NL01"] == 342
    assert sum(n for g, n in counts.items() if g.startswith("PV")) == 342


def test_a_build_that_fails_while_reading_leaves_the_database_as_it_was(home, bundle, tmp_path):
    broken = linked_copy(bundle, tmp_path / "bundle", {"odata-v4/83625NED/Observations.json"})
    obs = broken / "odata-v4/83625NED/Observations.json"
    obs.write_text(obs.read_text()[:5000])  # truncated JSON
    before = sha(home / "trendstudie.duckdb")
    files = sorted(p.name for p in home.iterdir() if p.is_file())  # other tests may have left a verkenning here
    with pytest.raises(InputError) as e:
        build(settings(home=home, bundle=broken))
    assert "83625NED" in str(e.value) and "regel" in str(e.value)
    assert sha(home / "trendstudie.duckdb") == before
    assert sorted(p.name for p in home.iterdir() if p.is_file() and p.name != ".build.lock") == \
        [f for f in files if f != ".build.lock"]  # no temporary file left behind


def test_a_build_that_fails_while_writing_leaves_the_database_as_it_was(home, bundle, monkeypatch):
    before = sha(home / "trendstudie.duckdb")
    files = sorted(p.name for p in home.iterdir() if p.is_file() and p.name != ".build.lock")
    monkeypatch.setattr(store, "INDEXES", "CREATE INDEX broken ON no_such_table (x);")
    with pytest.raises(duckdb.Error):
        build(settings(home=home, bundle=bundle), full=True)  # a full build: an unchanged one writes nothing
    assert sha(home / "trendstudie.duckdb") == before
    assert sorted(p.name for p in home.iterdir() if p.is_file() and p.name != ".build.lock") == files


def test_cli_facts_csv_has_the_stable_columns_and_only_data(home, bundle):
    r = run(home, "facts", "--table", "03759ned", "--measure", "M000352", "--region", "GM1992", "--region", "Amsterdam",
            "--from", "2019", "--to", "2020")
    assert r.returncode == 0, r.stderr
    raw = json.loads((bundle / "odata-v4/03759ned/Observations.json").read_text())["value"]
    pop = {(o["RegioS"].strip(), o["Perioden"]): o["Value"] for o in raw if o["Measure"] == "M000352"}
    members = {"GM0363": ("GM0363", "GM0457"), "GM1992": ("GM0501", "GM0530", "GM0614")}
    expected = [["table_id", "measure", "region_code", "period", "value", "status", "harmonised"]]
    for code in ("GM0363", "GM1992"):
        for year in (2019, 2020):
            total = sum(pop[(m, f"{year}JJ00")] for m in members[code])
            expected.append(["03759ned", "M000352", code, f"{year}JJ00", str(total), "Definitief", "true"])
    assert list(csv.reader(io.StringIO(r.stdout))) == expected


def test_cli_facts_as_published_and_json(home):
    r = run(home, "facts", "--table", "47018NED", "--measure", "GeregistreerdeMisdrijven", "--dim", "SoortMisdrijf=1.4.5",
            "--region", "GM0363", "--from", "2024", "--as-published", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [d["period"] for d in data] == ["2024JJ00", "2025JJ00"]
    assert {d["status"] for d in data} == {"Voorlopig"} and not any(d["harmonised"] for d in data)


@pytest.mark.parametrize("args, message", [
    (["facts", "--table", "47018NED", "--measure", "GeregistreerdeMisdrijven"], "Kies een dimensie"),
    (["facts", "--table", "03759NED", "--measure", "M000352"], "Bedoelt u 03759ned"),
    (["facts", "--table", "03759ned", "--measure", "M9"], "geen maatstaf"),
    (["facts", "--table", "03759ned", "--measure", "M000352", "--region", "Atlantis"], "Onbekende regionaam"),
    (["facts", "--table", "03759ned", "--measure", "M000352", "--format", "xml"], "Onbekend formaat"),
    (["regio", "Bergen"], "niet eenduidig"),
    (["facts", "--table", "03759ned", "--measure", "M000352", "--region", "Haaren"], "opgedeeld over GM0824 Oisterwijk"),
])
def test_cli_errors_are_clear_and_without_traceback(home, args, message):
    r = run(home, *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr and r.stdout == ""


def test_cli_former_gemeente_is_answered_by_its_successor(home):
    r = run(home, "facts", "--table", "03759ned", "--measure", "M000352", "--region", "Weesp", "--from", "2024")
    assert r.returncode == 0, r.stderr
    assert "GM0457 (Weesp) is op 24 maart 2022 opgegaan in GM0363 Amsterdam; hieronder Amsterdam." in r.stderr
    assert {row["region_code"] for row in csv.DictReader(io.StringIO(r.stdout))} == {"GM0363"}


def test_cli_regio_shows_history(home):
    r = run(home, "regio", "GM1992")
    assert r.returncode == 0, r.stderr
    for text in ("Voorne aan Zee", "Brielle", "Hellevoetsluis", "Westvoorne", "18.024", "1 januari 2023"):
        assert text in r.stdout


def test_cli_without_database_says_how_to_build(tmp_path):
    r = run(tmp_path, "regio", "GM0363")
    assert r.returncode == 2 and "trendstudie build" in r.stderr
