"""`trendstudie bijwerken` against the loopback fake CBS: CBS publishes a new version of a table
(a revised value, a new period, a provisional figure made definitive), discontinues another with
a successor, and announces a herindeling for next year; `bijwerken` fetches exactly the changed
table, reports the rest, rebuilds and regenerates the report in the folder; with nothing new it
does nothing. Exit codes for cron: 69 without CBS, 65 when the build fails, 75 when partly done.

The herindeling and the successor table are invented for the test (the fake is CBS as it could
publish); every other value is the bundle's."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from fake_cbs import FakeCBS, Fault

EDITIONS = importlib.util.find_spec("trendstudie.editions") is not None  # `wijzigingen` (issue 17, point 3)
NEXT = date.today().year + 1  # "next year", as the command sees it
V1 = "2026-02-17T00:00:00+01:00"
V2 = "2026-11-20T00:00:00+01:00"
CATALOG = """tables:
  - id: 83625NED
    title: "Bestaande koopwoningen; gemiddelde verkoopprijzen, regio"
  - id: 82235NED
    title: "Voorraad woningen; standen en mutaties vanaf 1921"
"""
STOPPED = ("Deze tabel bevat de voorraad woningen.\r\n\r\nWijzigingen per 20 november 2026:\r\nGeen, deze tabel is "
           "stopgezet. De cijfers worden voortgezet in de tabel Voorraad woningen; standen en mutaties vanaf 2012 "
           "(86110NED).\r\n\r\nWanneer komen er nieuwe cijfers?\r\nNiet meer van toepassing.\r\n\r\n"
           "3. KOPPELINGEN NAAR RELEVANTE TABELLEN\r\nZie ook Bevolking op 1 januari (03759ned).")
GEBIEDEN = {
    "Properties": {"Identifier": "86200NED", "Title": f"Gebieden in Nederland {NEXT}", "Status": "Regulier",
                   "Modified": V2, "Catalog": "CBS"},
    "RegioSCodes": {"value": [
        {"Identifier": "GM2001", "Title": "Waddeneilanden", "DimensionGroupId": "GMPV21",
         "Description": f"Ontstaan per 01-01-{NEXT}, ontvangen van:\r\n- Ameland (GM0060),\r\n... 5826 hectare met "
                        f"2150 woningen en 3812 inwoners\r\n- Schiermonnikoog (GM0088),\r\n... 4000 hectare met 620 "
                        f"woningen en 951 inwoners\r\nBegindatum 01-01-{NEXT}\r\n"},
        {"Identifier": "GM0193", "Title": "Zwolle", "DimensionGroupId": "GMPV23", "Description": "Begindatum voor 1830"},
    ]},
}


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def endpoints(bundle: Path, table: str) -> dict:
    return {p.stem: load(p) for p in (bundle / "odata-v4" / table).glob("*.json")}


def with_periods(doc: dict, status: dict[str, str], extra: list[dict] = ()) -> dict:
    return {**doc, "value": [dict(r, Status=status.get(r["Identifier"], r.get("Status"))) for r in doc["value"]] + list(extra)}


def prices_v1(bundle: Path) -> dict:
    """83625NED as CBS published it earlier: 2025 still provisional."""
    t = endpoints(bundle, "83625NED")
    t["Properties"] = {**t["Properties"], "Modified": V1, "ObservationsModified": V1}
    t["PeriodenCodes"] = with_periods(t["PeriodenCodes"], {"2025JJ00": "Voorlopig"})
    return t


def prices_v2(v1: dict) -> dict:
    """The new version: Zwolle's 2024 price revised, 2025 definitive, a provisional 2026 added."""
    rows = v1["Observations"]["value"]
    revised = [dict(r, Value=r["Value"] + 1000) if r["RegioS"].strip() == "GM0193" and r["Perioden"] == "2024JJ00" else r
               for r in rows]
    new = [dict(r, Id=100000 + i, Perioden="2026JJ00", Value=r["Value"] + 5000) for i, r in enumerate(rows)
           if r["Perioden"] == "2025JJ00" and r["RegioS"].strip() in ("GM0193", "NL01")]
    return {
        "Properties": {**v1["Properties"], "Modified": V2, "ObservationsModified": V2},
        "PeriodenCodes": with_periods(v1["PeriodenCodes"], {"2025JJ00": "Definitief"}, [
            {"Identifier": "2026JJ00", "Index": 99, "Title": "2026*", "Description": "", "DimensionGroupId": "0",
             "Status": "Voorlopig"}]),
        "Observations": {**v1["Observations"], "value": revised + new},
    }


def run(home: Path, cbs: FakeCBS, bundle: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRENDSTUDIE_HOME": str(home), "TRENDSTUDIE_CBS_URL": cbs.base_url,
           "TRENDSTUDIE_BUNDLE": str(bundle), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "trendstudie", *args], capture_output=True, text=True, env=env,
                          timeout=900)


def published_changes(v1: dict, v2: dict) -> dict[tuple[str, str], tuple]:
    """What CBS changed in 83625NED between two versions, cell by cell: (region, period) →
    ((old value, old status) or None, (new value, new status) or None)."""
    def cells(t: dict) -> dict:
        status = {p["Identifier"]: p.get("Status") for p in t["PeriodenCodes"]["value"]}
        return {(r["RegioS"].strip(), r["Perioden"]): (r["Value"], status.get(r["Perioden"]))
                for r in t["Observations"]["value"] if r["Measure"] == "M001534"}
    a, b = cells(v1), cells(v2)
    # a cell without a figure on both sides (a former gemeente's code) is no change
    return {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys()
            if a.get(k) != b.get(k) and (a.get(k, (None,))[0], b.get(k, (None,))[0]) != (None, None)}


def zwolle_prices(home: Path, cbs: FakeCBS, bundle: Path) -> dict[str, tuple[str, str]]:
    r = run(home, cbs, bundle, "facts", "--table", "83625NED", "--measure", "M001534", "--region", "GM0193",
            "--from", "2023", "--as-published")
    assert r.returncode == 0, r.stderr
    return {row["period"]: (row["value"], row["status"]) for row in csv.DictReader(io.StringIO(r.stdout))}


def check_changes(home: Path, cbs: FakeCBS, bundle: Path, v1: dict, v2: dict) -> None:
    """`wijzigingen` lists exactly the cells CBS changed (values, statuses, the new period), nothing of
    the tables it did not change, and no verdict or projection outside the one gemeente whose figures moved."""
    r = run(home, cbs, bundle, "wijzigingen", "--format", "json")
    assert r.returncode == 0, r.stderr
    changes = json.loads(r.stdout)["wijzigingen"]
    cells = {(c["region_code"], c["period"]): ((c["oud"], c["oud_status"]) if c["oud_status"] else None,
                                               (c["nieuw"], c["nieuw_status"])) for c in changes
             if c["soort"] in ("waarde", "periode") and c["onderwerp"] == "83625NED/M001534"}
    assert cells == published_changes(v1, v2) and len(cells) == 362  # 359 regions' 2025 made definitive, 1 + 2
    assert {c["soort"] for c in changes if c["period"] == "2026JJ00"} == {"periode"}
    assert {c["region_code"] for c in changes if c["soort"] not in ("waarde", "periode")} <= {"GM0193"}
    assert len(changes) == len(cells) + len([c for c in changes if c["soort"] not in ("waarde", "periode")])


@pytest.fixture
def cbs(bundle: Path):
    fake = FakeCBS(page_size=3000)
    fake.add_table("CBS", "83625NED", prices_v1(bundle))
    fake.add_mirror(bundle / "odata-v4" / "82235NED")
    with fake:
        yield fake


def test_bijwerken_picks_up_exactly_what_cbs_published(cbs: FakeCBS, bundle: Path, tmp_path: Path):
    home, out = tmp_path / "home", tmp_path / "rapporten"
    catalog = tmp_path / "catalogus.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    common = ("--catalogus", str(catalog), "--uit", str(out), "--geen-pdf")

    # the first run fetches everything and builds; there are no reports yet
    first = run(home, cbs, bundle, "bijwerken", *common)
    assert first.returncode == 0, first.stderr
    assert "Database gebouwd" in first.stderr and "Geen rapporten in" in first.stderr
    assert {r.table for r in cbs.observation_requests()} == {"83625NED", "82235NED"}
    before = zwolle_prices(home, cbs, bundle)
    assert before["2025JJ00"][1] == "Voorlopig" and "2026JJ00" not in before
    r = run(home, cbs, bundle, "rapport", "Zwolle", "--uit", str(out), "--geen-pdf")
    assert r.returncode == 0, r.stderr
    html_report = out / "GM0193-zwolle.html"
    stamp = html_report.stat().st_mtime_ns

    # CBS publishes: a new version of 83625NED, 82235NED discontinued, next year's classification
    v1 = cbs.tables[("CBS", "83625NED")]
    v2 = {**v1, **prices_v2(v1)}
    cbs.publish("CBS", "83625NED", **prices_v2(v1))
    stock = cbs.tables[("CBS", "82235NED")]["Properties"]
    cbs.publish("CBS", "82235NED", Properties={**stock, "Status": "Gediscontinueerd", "Description": STOPPED})
    cbs.list_dataset("CBS", {"Identifier": "86110NED", "Title": "Voorraad woningen; standen en mutaties vanaf 2012",
                             "Status": "Regulier", "Modified": V2})
    cbs.add_table("CBS", "86200NED", GEBIEDEN)
    cbs.requests.clear()

    second = run(home, cbs, bundle, "bijwerken", *common)
    assert second.returncode == 0, second.stderr
    err = second.stderr
    assert "Traceback" not in err
    # only the changed table was fetched
    assert {r.table for r in cbs.observation_requests()} == {"83625NED"}
    assert "CBS/83625NED: nieuwe versie (17 februari 2026 → 20 november 2026)" in err
    assert "1 tabellen ongewijzigd bij CBS" in err
    # the discontinued table with its successor (not the table named only as related)
    assert "Gediscontinueerd: Tabel 82235NED (Voorraad woningen; standen en mutaties vanaf 1921) is door CBS " \
           "gediscontinueerd" in err
    assert "Opvolger: 86110NED (Voorraad woningen; standen en mutaties vanaf 2012)." in err and "03759ned" not in err
    # the announced herindeling
    assert (f"Aangekondigd: Per 1 januari {NEXT} ontstaat Waddeneilanden (GM2001) uit Ameland (GM0060) en "
            f"Schiermonnikoog (GM0088) (bron: CBS-tabel 86200NED).") in err
    assert [r.endpoint for r in cbs.requests if r.table == "86200NED"] == ["RegioSCodes"]
    kept = load(home / "cache" / "odata" / "_releases.json")
    assert [a["to_code"] for a in kept["aangekondigde_herindelingen"]] == ["GM2001"]
    assert kept["discontinued"]["82235NED"]["successors"][0]["id"] == "86110NED"
    # the new figures are in the store: revised, definitive, new period
    after = zwolle_prices(home, cbs, bundle)
    assert int(after["2024JJ00"][0]) == int(before["2024JJ00"][0]) + 1000
    assert after["2025JJ00"] == (before["2025JJ00"][0], "Definitief")
    assert after["2026JJ00"][1] == "Voorlopig" and int(after["2026JJ00"][0]) == int(before["2025JJ00"][0]) + 5000
    assert {k: v for k, v in after.items() if k not in ("2024JJ00", "2025JJ00", "2026JJ00")} == \
           {k: v for k, v in before.items() if k not in ("2024JJ00", "2025JJ00")}
    # `wijzigingen` lists exactly what CBS published (once editions are in the tree)
    if EDITIONS:
        check_changes(home, cbs, bundle, v1, v2)
        assert "Editie 2: 360 cijfers herzien of definitief, 2 cijfers van een nieuwe periode" in err
    # the report in the folder was regenerated
    assert "Rapport Zwolle (GM0193) vernieuwd" in err and html_report.stat().st_mtime_ns > stamp
    stamp = html_report.stat().st_mtime_ns

    # nothing new: nothing fetched, nothing built, nothing written; quietly, not a word
    cbs.requests.clear()
    third = run(home, cbs, bundle, "bijwerken", *common, "--stil")
    assert third.returncode == 0 and third.stderr.strip() == "", third.stderr
    assert cbs.observation_requests() == [] and html_report.stat().st_mtime_ns == stamp
    loud = run(home, cbs, bundle, "bijwerken", *common)
    assert loud.returncode == 0 and "Niets nieuws bij CBS" in loud.stderr and "Database gebouwd" not in loud.stderr
    assert "Aangekondigd: Per 1 januari" in loud.stderr  # still coming: said again when not quiet

    # a damaged release: the build refuses it (65), the old database stays; fixed, the next run builds
    broken = cbs.tables[("CBS", "83625NED")]
    rows = broken["Observations"]["value"]
    cbs.publish("CBS", "83625NED", Properties={**broken["Properties"], "Modified": "2026-11-27T00:00:00+01:00"},
                Observations={**broken["Observations"], "value": [dict(rows[0], Value=1e20)] + rows[1:]})
    failed = run(home, cbs, bundle, "bijwerken", *common, "--stil")
    assert failed.returncode == 65 and "Bouwen mislukt" in failed.stderr and "Traceback" not in failed.stderr
    assert "vorige database blijft in gebruik" in failed.stderr
    assert zwolle_prices(home, cbs, bundle) == after


def test_bijwerken_exit_codes_for_cron(cbs: FakeCBS, bundle: Path, tmp_path: Path):
    home = tmp_path / "home"
    catalog = tmp_path / "catalogus.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    # no CBS at all: 69, one message, nothing built
    env = {**os.environ, "TRENDSTUDIE_HOME": str(home), "TRENDSTUDIE_BUNDLE": str(bundle)}
    r = subprocess.run([sys.executable, "-m", "trendstudie", "bijwerken", "--catalogus", str(catalog), "--stil",
                        "--url", "http://nonexistent.invalid/odata/v1"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 69 and r.stderr.count("Geen verbinding met CBS") == 1 and "Traceback" not in r.stderr
    assert not (home / "trendstudie.duckdb").exists()
    # one table fails for good: 75, what did arrive is built; the next run fetches the rest
    cbs.inject(Fault("500", endpoint="Observations", table="82235NED", times=-1))
    partly = run(home, cbs, bundle, "bijwerken", "--catalogus", str(catalog), "--stil")
    assert partly.returncode == 75, partly.stderr
    assert "Niet opgehaald: CBS/82235NED" in partly.stderr and "Gedeeltelijk bijgewerkt" in partly.stderr
    assert (home / "trendstudie.duckdb").exists()
    cbs.clear_faults()
    cbs.requests.clear()
    again = run(home, cbs, bundle, "bijwerken", "--catalogus", str(catalog))
    assert again.returncode == 0, again.stderr
    assert {r.table for r in cbs.observation_requests()} == {"82235NED"}


def test_the_reports_to_keep_current_are_those_in_the_folder(tmp_path: Path):
    from trendstudie.commands.bijwerken import Pending, _synced_since_build, existing_reports, index_title
    from trendstudie.config import settings

    out = tmp_path / "rapporten"
    assert existing_reports(out) == [] and index_title(out) is None
    out.mkdir()
    for name in ("GM0193-zwolle.html", "GM0193-zwolle.pdf", "GM1992-voorne-aan-zee.html", "GM0363-amsterdam-data.csv",
                 "index.html", "notities.html"):
        (out / name).write_text("<title>Trendstudies G40 &amp; M50</title>" if name == "index.html" else "x",
                                encoding="utf-8")
    assert existing_reports(out) == ["GM0193", "GM1992"]
    assert index_title(out) == "Trendstudies G40 & M50"

    home = tmp_path / "home"
    home.mkdir()
    Pending(build=True, reports=False, built_from=12.5).save(home)
    assert Pending.load(home) == Pending(build=True, reports=False, built_from=12.5)
    (home / "bijwerken.json").write_text("{kapot", encoding="utf-8")
    assert Pending.load(home) == Pending()  # a damaged file costs one extra build, never an error

    s = settings(home=home)
    assert _synced_since_build(s, None)  # no database yet
    s.database.write_bytes(b"")
    table = s.synced / "CBS" / "83625NED"
    table.mkdir(parents=True)
    (table / "_sync.json").write_text("{}", encoding="utf-8")
    os.utime(s.database, (1000, 1000))
    os.utime(table / "_sync.json", (2000, 2000))
    assert _synced_since_build(s, None)  # fetched after the database was written
    assert not _synced_since_build(s, 3000.0)  # an incremental build started later left the database as it was
