"""The release watch on its own: modification dates compared, successors read from a
discontinued table's description, herindelingen announced after today, and `sync` against the fake
CBS fetching only what its catalogue says changed (or, without a catalogue, what Properties say)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fake_cbs import FakeCBS
from trendstudie.sources.catalog import parse_catalog
from trendstudie.sources.odata import ODataClient
from trendstudie.sources.releases import (Release, ReleaseState, announced_herindelingen, classification_year,
                                          read_announcements, same_version, successors)
from trendstudie.sources.sync import SYNC_FILE, sync

TODAY = date(2026, 12, 6)
CATALOG = parse_catalog({"tables": [
    {"id": "82235NED", "title": "Voorraad woningen; standen en mutaties vanaf 1921"},
    {"id": "83625NED", "title": "Bestaande koopwoningen; gemiddelde verkoopprijzen, regio"},
]})


def test_same_version_compares_instants_not_spellings():
    recorded = {"modified": "2026-06-23T00:00:00+02:00", "observations_modified": "2026-06-23T00:00:00+02:00"}
    assert same_version(recorded, Release("t", "CBS", modified="2026-06-22T22:00:00Z",
                                          observations_modified="2026-06-23T00:00:00+02:00"))
    assert not same_version(recorded, Release("t", "CBS", modified="2026-11-20T00:00:00+01:00"))
    assert not same_version(recorded, Release("t", "CBS", modified="2026-06-23T00:00:00+02:00",
                                              observations_modified="2026-07-01T00:00:00+02:00"))
    # no date on either side: nobody can tell, so it counts as changed
    assert not same_version({"modified": None}, Release("t", "CBS", modified="2026-06-23T00:00:00+02:00"))
    assert not same_version(recorded, Release("t", "CBS"))
    assert not same_version(None, Release("t", "CBS", modified="2026-06-23T00:00:00+02:00"))
    # v3 writes local times without an offset: compared as written
    assert same_version({"modified": "2025-03-27T02:00:00"}, Release("t", "CBS", modified="2025-03-27T02:00:00"))


def test_successors_are_the_tables_named_as_replacing_it():
    text = ("Gegevens beschikbaar van 2010 tot en met 2018.<br><br>Wijzigingen per 1 november 2021:<br>Geen, deze "
            "tabel is stopgezet. De cijfers worden voortgezet in <a href='https://opendata.cbs.nl/statline/#/CBS/nl/"
            "dataset/85916NED/table'>Internationaliseringsmonitor</a>.<br>Zie ook de tabel 37259ned over migratie.")
    assert successors(Release("81234NED", "CBS", description=text)) == ["85916NED"]
    assert successors(Release("81234NED", "CBS", description="Deze tabel wordt opgevolgd door 85001NED en 85002NED. "
                                                              "Opvolger van 70001ned.")) == ["85001NED", "85002NED", "70001ned"]
    assert successors(Release("81234NED", "CBS", description="Geen, deze tabel is stopgezet.")) == []
    # the table itself is never its own successor
    assert successors(Release("81234NED", "CBS", description="Vervangen: 81234NED wordt 81234ned.")) == []


def test_announced_herindelingen_are_the_changes_after_today():
    rows = [
        {"Identifier": "GM2001", "Title": "Waddeneilanden", "Description":
            "Ontstaan per 01-01-2027, ontvangen van:\r\n- Ameland (GM0060),\r\n... 5826 hectare met 2150 woningen en "
            "3812 inwoners\r\n- Schiermonnikoog (GM0088),\r\n... 4000 hectare met 620 woningen en 951 inwoners\r\n"
            "Begindatum 01-01-2027\r\n"},
        {"Identifier": "GM0193", "Title": "Zwolle", "Description":
            "Grenswijziging per 01-01-2027, ontvangen van:\r\n- Dalfsen (GM0148),\r\n... 45 hectare met 7 woningen en "
            "27 inwoners\r\n\r\nGrenswijziging per 01-01-2001, ontvangen van:\r\n- Hasselt (GM0161),\r\n... 294 hectare "
            "met 12 woningen en 39 inwoners\r\n\r\nBegindatum voor 1830\r\n"},
        {"Identifier": "GM1992", "Title": "Voorne aan Zee", "Description":
            "Ontstaan per 01-01-2023, ontvangen van:\r\n- Brielle (GM0501),\r\n... 2755 hectare met 8301 woningen en "
            "18024 inwoners\r\n"},
        {"Identifier": "GM0060", "Title": "Ameland", "Description": "Opgeheven per 01-01-2027, overgegaan naar:\r\n"
            "- Waddeneilanden (GM2001),\r\n... 5826 hectare met 2150 woningen en 3812 inwoners\r\n"},
        {"Identifier": "GM0999", "Title": "Kapot", "Description": "Dit is geen herindelingstekst"},
        {"Identifier": "PV21", "Title": "Fryslân", "Description": ""},
    ]
    found, warnings = announced_herindelingen(rows, TODAY, "86200NED")
    assert [a.sentence() for a in found] == [
        "Per 1 januari 2027 grenswijziging: van Dalfsen (GM0148) naar Zwolle (GM0193), 27 inwoners "
        "(bron: CBS-tabel 86200NED).",
        "Per 1 januari 2027 ontstaat Waddeneilanden (GM2001) uit Ameland (GM0060) en Schiermonnikoog (GM0088) "
        "(bron: CBS-tabel 86200NED).",
    ]
    assert found[1].new and found[1].ended == ("GM0060",) and found[1].sources[0] == ("GM0060", "Ameland", 3812)
    assert len(warnings) == 1 and "GM0999" in warnings[0] and "regel 1" in warnings[0]
    # a day after it took effect it is history, not an announcement
    assert announced_herindelingen(rows, date(2027, 1, 1), "86200NED")[0] == []


def test_classification_tables_by_title():
    assert classification_year("Gebieden in Nederland 2027") == 2027
    assert classification_year("Bevolking op 1 januari en gemiddeld") is None


@pytest.fixture
def cbs(bundle: Path):
    fake = FakeCBS(page_size=5000)
    for table in ("82235NED", "83625NED"):
        fake.add_mirror(bundle / "odata-v4" / table)
    with fake:
        yield fake


def client(cbs: FakeCBS) -> ODataClient:
    return ODataClient(cbs.base_url, timeout=60.0, max_retries=2, backoff=0.001, sleep=lambda s: None)


def test_sync_fetches_only_what_the_catalogue_says_changed(cbs: FakeCBS, tmp_path: Path):
    with client(cbs) as c:
        first = sync(CATALOG, None, tmp_path, client=c, today=TODAY)
    assert [t.status for t in first.tables] == ["ok", "ok"] and first.catalogue
    recorded = json.loads((tmp_path / "CBS" / "83625NED" / SYNC_FILE).read_text(encoding="utf-8"))
    assert recorded["modified"] == "2026-02-17T00:00:00+01:00" and recorded["status"] == "Regulier"

    props = cbs.tables[("CBS", "83625NED")]["Properties"]
    cbs.publish("CBS", "83625NED", Properties={**props, "Modified": "2026-11-20T00:00:00+01:00"})
    cbs.requests.clear()
    with client(cbs) as c:
        second = sync(CATALOG, None, tmp_path, client=c, today=TODAY)
    assert [(t.name, t.status, t.changed) for t in second.tables] == [("82235NED", "skipped", False),
                                                                     ("83625NED", "ok", True)]
    assert second["82235NED"].reason == "ongewijzigd bij CBS (laatst gewijzigd 20 maart 2026)"
    assert second["83625NED"].previous_modified == "2026-02-17T00:00:00+01:00"
    assert [r.endpoint for r in cbs.requests if r.table == "82235NED"] == []  # one catalogue question covered it
    assert len([r for r in cbs.requests if r.endpoint == "Datasets"]) == 1
    assert second.discontinued == [] and second.herindelingen == []
    state = ReleaseState.load(tmp_path)
    assert state.tables["CBS/83625NED"]["modified"] == "2026-11-20T00:00:00+01:00"


def test_without_a_catalogue_properties_tell_what_changed(bundle: Path, tmp_path: Path):
    with FakeCBS(page_size=5000, catalogue=False) as fake:
        fake.add_mirror(bundle / "odata-v4" / "82235NED")
        catalog = parse_catalog({"tables": [{"id": "82235NED", "title": "Woningvoorraad"}]})
        with client(fake) as c:
            assert sync(catalog, None, tmp_path, client=c, today=TODAY)["82235NED"].status == "ok"
        fake.requests.clear()
        with client(fake) as c:
            again = sync(catalog, None, tmp_path, client=c, today=TODAY)
        assert again["82235NED"].status == "skipped" and not again.catalogue
        assert [r.endpoint for r in fake.requests if r.status == 200] == ["Properties"]
        assert "catalogus CBS" in again.notices[0] and "Properties" in again.notices[0]
        # CBS discontinues it, saying so only in Properties: reported (once as new), not refetched
        props = fake.tables[("CBS", "82235NED")]["Properties"]
        fake.publish("CBS", "82235NED", Properties={**props, "Status": "Vervallen", "Description": "Geen opvolger."})
        with client(fake) as c:
            stopped = sync(catalog, None, tmp_path, client=c, today=TODAY)
            later = sync(catalog, None, tmp_path, client=c, today=TODAY)
    assert stopped["82235NED"].status == "skipped"
    assert [d.table_id for d in stopped.new_discontinued] == ["82235NED"] and later.new_discontinued == []
    assert "CBS noemt in de tabeltoelichting geen opvolger" in stopped.discontinued[0].sentence()
    assert later.news(only_new=True) == [("Let op", later.notices[0])]


def test_announcements_are_kept_for_the_build_and_said_once(cbs: FakeCBS, tmp_path: Path):
    rows = [{"Identifier": "GM2001", "Title": "Waddeneilanden", "Description":
             "Ontstaan per 01-01-2027, ontvangen van:\r\n- Ameland (GM0060),\r\n... 5826 hectare met 2150 woningen en "
             "3812 inwoners\r\n- Schiermonnikoog (GM0088),\r\n... 4000 hectare met 620 woningen en 951 inwoners\r\n"}]
    cbs.add_table("CBS", "86200NED", {"Properties": {"Identifier": "86200NED", "Title": "Gebieden in Nederland 2027",
                                                     "Status": "Regulier", "Modified": "2026-11-20T00:00:00+01:00"},
                                      "RegioSCodes": {"value": rows}})
    cbs.add_table("CBS", "85500NED", {"Properties": {"Identifier": "85500NED", "Title": "Gebieden in Nederland 2026",
                                                     "Status": "Regulier", "Modified": "2025-11-20T00:00:00+01:00"},
                                      "RegioSCodes": {"value": []}})
    with client(cbs) as c:
        first = sync(CATALOG, None, tmp_path, client=c, today=TODAY)
        cbs.requests.clear()
        second = sync(CATALOG, None, tmp_path, client=c, today=TODAY)
    assert [a.to_code for a in first.new_herindelingen] == ["GM2001"] and second.new_herindelingen == []
    assert [a.to_code for a in second.herindelingen] == ["GM2001"]
    assert not [r for r in cbs.requests if r.table in ("86200NED", "85500NED")]  # unchanged: not asked again
    assert [a.to_code for a in read_announcements(tmp_path, TODAY)] == ["GM2001"]
    assert read_announcements(tmp_path, date(2027, 1, 1)) == []
