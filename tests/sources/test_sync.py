"""`sync` against a fake CBS service on loopback: layout equal to the bundle's mirror, faults
survived, atomic tables, resumption after an interruption, and the packaged catalogue."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fake_cbs import FakeCBS, Fault, compile_filter, police_table
from trendstudie.errors import InputError, TrendstudieError
from trendstudie.sources.catalog import Catalog, load_catalog, parse_catalog
from trendstudie.sources.odata import ODataClient
from trendstudie.sources.sync import SYNC_FILE, sync, table_dir

POP_FILTER = (
    "Geslacht eq 'T001038' and Leeftijd eq '10000' and BurgerlijkeStaat eq 'T001019' and "
    "(startswith(RegioS,'NL') or startswith(RegioS,'PV') or startswith(RegioS,'GM')) and "
    "Perioden ge '2019JJ00'"
)
MIRRORED = ("03759ned", "83625NED", "82235NED")


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def mirror_catalog(*extra: dict) -> Catalog:
    """The bundle's tables with the filters they were captured with (so results equal the files)."""
    return parse_catalog(
        {
            "tables": [
                {"id": "82235NED", "title": "Voorraad woningen; standen en mutaties vanaf 1921"},
                {"id": "03759ned", "title": "Bevolking op 1 januari en gemiddeld", "filter": POP_FILTER},
                {"id": "83625NED", "title": "Bestaande koopwoningen; gemiddelde verkoopprijzen, regio"},
                {
                    "id": "47018NED",
                    "catalog": "Politie",
                    "title": "Geregistreerde misdrijven",
                    "filter": "(startswith(RegioS,'NL') or startswith(RegioS,'GM')) and Perioden ge '2020JJ00'",
                },
                *extra,
            ]
        }
    )


@pytest.fixture
def cbs(bundle: Path):
    fake = FakeCBS(page_size=2000)
    for table in MIRRORED:
        fake.add_mirror(bundle / "odata-v4" / table)
    fake.add_table("Politie", "47018NED", police_table(bundle / "tidy" / "47018NED_geregistreerde_misdrijven.csv"))
    with fake:
        yield fake


def fast_client(cbs: FakeCBS, **kw) -> ODataClient:
    kw.setdefault("timeout", 60.0)  # no answer is that slow, however busy the machine: counts stay exact
    kw.setdefault("max_retries", 3)
    return ODataClient(cbs.base_url, backoff=0.001, max_backoff=0.005, sleep=lambda s: None, **kw)


def assert_equals_mirror(synced: Path, mirrored: Path) -> None:
    """Same files, same content: the importer cannot tell them apart."""
    assert sorted(p.name for p in synced.glob("*.json") if p.name != SYNC_FILE) == sorted(
        p.name for p in mirrored.glob("*.json")
    )
    for path in mirrored.glob("*.json"):
        assert load(synced / path.name) == load(path), path.name


def test_sync_writes_the_mirror_layout_and_survives_every_fault(cbs: FakeCBS, bundle: Path, tmp_path: Path):
    cbs.inject(
        Fault("429", endpoint="Properties", table="03759ned", retry_after="0"),
        Fault("500", endpoint="RegioSCodes", times=2),
        Fault("timeout", endpoint="Observations", table="83625NED", from_page=2),
        Fault("truncated", endpoint="Observations", table="03759ned", from_page=4),
        Fault("drop", endpoint="PeriodenCodes", table="47018NED"),
        Fault("500", endpoint="Observations", table="47018NED"),
    )
    seen: list[tuple[str, int, int | None]] = []
    # The time-out is raised by the transport, not by a clock, and nothing else can time out within a
    # minute: the count of retries is the count of injected faults, however slow the machine.
    with fast_client(cbs, transport=cbs.transport()) as client:
        report = sync(mirror_catalog(), None, tmp_path, progress=lambda t, n, tot: seen.append((t, n, tot)), client=client)
        assert client.stats.retries == 7
        assert not [f for f in cbs.faults if f.times > 0]  # every fault fired, once
    assert report.success, report.summary()
    assert [t.status for t in report.tables] == ["ok"] * 4
    for table in MIRRORED:
        assert_equals_mirror(tmp_path / "CBS" / table, bundle / "odata-v4" / table)
    assert report["03759ned"].rows == 13568 and report["83625NED"].rows == 8195 and report["82235NED"].rows == 889

    population = load(tmp_path / "CBS" / "03759ned" / "Observations.json")["value"]
    amsterdam = [r["Value"] for r in population if r["RegioS"].strip() == "GM0363" and r["Perioden"] == "2019JJ00" and r["Measure"] == "M000352"]
    assert amsterdam == [862965]

    police = tmp_path / "Politie" / "47018NED"
    assert sorted(p.name for p in police.glob("*.json")) == sorted(
        ["Properties.json", "Dimensions.json", "MeasureCodes.json", "SoortMisdrijfCodes.json", "RegioSCodes.json",
         "PeriodenCodes.json", "Observations.json", SYNC_FILE]
    )
    rows = load(police / "Observations.json")["value"]
    assert {r["Perioden"] for r in rows} == {f"{y}JJ00" for y in range(2020, 2026)}
    with (bundle / "tidy" / "47018NED_geregistreerde_misdrijven.csv").open(encoding="utf-8") as fh:
        expected = {(r["SoortMisdrijf"], r["region_code"], r["period"]): r["value"] for r in csv.DictReader(fh) if r["period"] >= "2020"}
    got = {(r["SoortMisdrijf"], r["RegioS"], r["Perioden"]): r["Value"] for r in rows}
    assert len(rows) == len(expected) == len(got)
    assert got == {k: int(v) if v else None for k, v in expected.items()}

    meta = load(police / SYNC_FILE)
    assert meta["catalog"] == "Politie" and meta["rows"] == len(rows) and meta["url"].startswith(cbs.base_url + "/Politie/47018NED/Observations?")
    assert not list(tmp_path.rglob(".partial/*")) and not list(tmp_path.rglob("_pages"))
    # only complete tables are visible to a reader that walks <catalog>/*/Properties.json
    assert sorted(p.parent.name for p in tmp_path.glob("*/*/Properties.json")) == sorted([*MIRRORED, "47018NED"])

    # progress: rising counts per table, ending at the row count; total known only without filter
    pop = [(n, tot) for t, n, tot in seen if t == "03759ned"]
    assert [n for n, _ in pop] == [2000, 4000, 6000, 8000, 10000, 12000, 13568] and {tot for _, tot in pop} == {None}
    stock = [(n, tot) for t, n, tot in seen if t == "82235NED"]
    assert stock == [(889, load(bundle / "odata-v4" / "82235NED" / "Properties.json")["ObservationCount"])]


def test_interrupted_sync_keeps_finished_tables_and_resumes_mid_table(cbs: FakeCBS, bundle: Path, tmp_path: Path):
    catalog = mirror_catalog()
    cbs.inject(Fault("500", endpoint="Observations", table="03759ned", from_page=3, times=-1))
    with fast_client(cbs) as client:
        first = sync(catalog, None, tmp_path, client=client)
    assert [(t.name, t.status) for t in first.tables] == [
        ("82235NED", "ok"), ("03759ned", "failed"), ("83625NED", "ok"), ("47018NED", "ok")
    ]
    reason = first["03759ned"].reason
    assert "03759ned" in reason and "pagina 4" in reason and "skip=6000" in reason and "HTTP 500" in reason
    assert "MISLUKT" in first.summary()
    # nothing half is visible; the finished tables are complete
    assert not (tmp_path / "CBS" / "03759ned").exists()
    partial = tmp_path / "CBS" / ".partial" / "03759ned"
    assert sorted(p.parent.name for p in tmp_path.glob("*/*/Properties.json")) == ["47018NED", "82235NED", "83625NED"]
    assert len(list((partial / "_pages").glob("*.json"))) == 3
    assert_equals_mirror(tmp_path / "CBS" / "82235NED", bundle / "odata-v4" / "82235NED")
    stamp = load(tmp_path / "CBS" / "82235NED" / SYNC_FILE)["fetched_at"]

    # the service recovers; the same call resumes where it stopped
    cbs.clear_faults()
    cbs.requests.clear()
    with fast_client(cbs) as client:
        second = sync(catalog, None, tmp_path, client=client)
    assert [(t.name, t.status) for t in second.tables] == [
        ("82235NED", "skipped"), ("03759ned", "ok"), ("83625NED", "skipped"), ("47018NED", "skipped")
    ]
    assert second["03759ned"].resumed_pages == 3 and second["82235NED"].rows == 889
    # one catalogue question per catalogue says the finished tables did not change at CBS
    assert [r.catalog for r in cbs.requests if r.endpoint == "Datasets"] == ["CBS", "Politie"]
    asked = [(r.table, r.endpoint, r.query.get("$skip")) for r in cbs.requests if r.endpoint != "Datasets"]
    assert asked[0] == ("03759ned", "Observations", "6000")  # metadata and first pages reused
    assert {t for t, _, _ in asked} == {"03759ned"}
    assert_equals_mirror(tmp_path / "CBS" / "03759ned", bundle / "odata-v4" / "03759ned")
    assert not partial.exists()
    assert load(tmp_path / "CBS" / "82235NED" / SYNC_FILE)["fetched_at"] == stamp


def test_refresh_refetches_and_replaces_atomically(cbs: FakeCBS, bundle: Path, tmp_path: Path):
    catalog = mirror_catalog()
    with fast_client(cbs) as client:
        sync(catalog, None, tmp_path, tables=["82235NED"], client=client)
        target = tmp_path / "CBS" / "82235NED"
        (target / "Observations.json").write_text('{"value": []}', encoding="utf-8")  # pretend it is stale
        # a refresh that fails leaves the old copy in place
        cbs.inject(Fault("500", endpoint="Observations", times=-1))
        failed = sync(catalog, None, tmp_path, tables=["82235NED"], refresh=True, client=client)
        assert failed["82235NED"].status == "failed"
        assert load(target / "Observations.json") == {"value": []}
        cbs.clear_faults()
        again = sync(catalog, None, tmp_path, tables=["82235NED"], refresh=True, client=client)
    assert again["82235NED"].status == "ok" and again["82235NED"].resumed_pages == 0
    assert_equals_mirror(target, bundle / "odata-v4" / "82235NED")
    assert sorted(p.name for p in (tmp_path / "CBS").iterdir()) == ["82235NED"]  # no .partial, no .old


def test_wrong_case_table_id_fails_clearly_and_leaves_nothing(cbs: FakeCBS, tmp_path: Path):
    catalog = parse_catalog({"tables": [{"id": "03759NED", "title": "Bevolking, verkeerd gespeld"}]})
    with fast_client(cbs) as client:
        report = sync(catalog, None, tmp_path, client=client)
    result = report["03759NED"]
    assert result.status == "failed" and not report.success
    assert "03759NED" in result.reason and "hoofdlettergevoelig" in result.reason
    assert f"{cbs.base_url}/CBS/03759NED/Properties" in result.reason
    assert not (tmp_path / "CBS" / "03759NED").exists()


def test_wrong_case_answered_with_empty_data_also_fails(bundle: Path, tmp_path: Path):
    catalog = parse_catalog({"tables": [{"id": "83625ned", "title": "Koopwoningen, verkeerd gespeld"}]})
    with FakeCBS(wrong_case="empty") as fake:
        fake.add_mirror(bundle / "odata-v4" / "83625NED")
        with fast_client(fake) as client:
            report = sync(catalog, None, tmp_path, client=client)
    assert report["83625ned"].status == "failed"
    assert "gebruik '83625NED'" in report["83625ned"].reason
    assert not (tmp_path / "CBS" / "83625ned").exists()


def test_empty_result_is_a_failure_not_an_empty_table(cbs: FakeCBS, tmp_path: Path):
    catalog = parse_catalog({"tables": [{"id": "82235NED", "title": "x", "filter": "Perioden ge '2100JJ00'"}]})
    with fast_client(cbs) as client:
        report = sync(catalog, None, tmp_path, client=client)
    assert report["82235NED"].status == "failed" and "0 observaties" in report["82235NED"].reason
    assert not (tmp_path / "CBS" / "82235NED").exists()


def test_unknown_table_name_is_an_error_with_a_hint(tmp_path: Path):
    with pytest.raises(TrendstudieError, match="Bedoelt u '03759ned'"):
        sync(mirror_catalog(), "http://127.0.0.1:9", tmp_path, tables=["03759NED"])


def test_second_slice_of_a_table_gets_its_own_folder(cbs: FakeCBS, tmp_path: Path):
    catalog = parse_catalog(
        {
            "tables": [
                {"id": "03759ned", "title": "Bevolking", "filter": POP_FILTER},
                {"id": "03759ned", "name": "03759ned_amsterdam", "title": "Bevolking Amsterdam",
                 "filter": "RegioS eq 'GM0363' and Measure eq 'M000352'"},
            ]
        }
    )
    with fast_client(cbs) as client:
        report = sync(catalog, None, tmp_path, client=client)
    assert report.success
    assert report["03759ned"].rows == 13568 and report["03759ned_amsterdam"].rows == 8
    rows = load(tmp_path / "CBS" / "03759ned_amsterdam" / "Observations.json")["value"]
    assert {r["Perioden"]: r["Value"] for r in rows}["2019JJ00"] == 862965
    assert load(tmp_path / "CBS" / "03759ned_amsterdam" / "Properties.json")["Identifier"] == "03759ned"


# -- the packaged catalogue ---------------------------------------------------------------------


def test_packaged_catalog_is_valid_and_matches_the_bundle(bundle: Path):
    catalog = load_catalog()
    ids = {t.id for t in catalog.tables}
    assert {"03759ned", "83625NED", "82235NED", "47018NED", "37259ned", "70072ned", "71486ned", "81955NED"} <= ids
    for entry in catalog.tables:
        for rel in entry.offline:
            assert (bundle / rel).exists(), f"{entry.name}: {rel} is not in the bundle"
        if entry.filter:
            compile_filter(entry.filter)  # the fake's evaluator parses every filter
    assert catalog.get("47018NED").catalog == "Politie"
    mirrored = {p.name for p in (bundle / "odata-v4").iterdir()}
    for entry in catalog.tables:
        if any(rel.startswith("odata-v4/") for rel in entry.offline):
            assert entry.id in mirrored and entry.checked  # exact case, as on the service


def test_packaged_filters_select_what_we_need_from_the_mirror(bundle: Path):
    """The product's 03759ned filter keeps NL/PV/GM totals; on the mirror it keeps every row."""
    entry = load_catalog().get("03759ned")
    keep = compile_filter(entry.filter)
    rows = load(bundle / "odata-v4" / "03759ned" / "Observations.json")["value"]
    assert all(keep(r) for r in rows)
    assert not keep({**rows[0], "Geslacht": "3000"}) and not keep({**rows[0], "RegioS": "WK036300"})
    assert not keep({**rows[0], "Perioden": "2009JJ00"})


def test_catalog_validation_names_the_problem(tmp_path: Path):
    bad = tmp_path / "catalog.yaml"
    bad.write_text("tables:\n  - id: 03759ned\n    title: a\n  - id: 03759ned\n    title: b\n", encoding="utf-8")
    with pytest.raises(InputError, match="twee keer"):
        load_catalog(bad)
    bad.write_text("tables:\n  - id: 'x y'\n    title: a\n", encoding="utf-8")
    with pytest.raises(InputError, match="ongeldig tabel-id"):
        load_catalog(bad)
    bad.write_text("tables:\n  - id: 1\n    title: a\n    filter: \"RegioS eq 'GM\"\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_catalog(bad)
    bad.write_text("tables: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="regel"):
        load_catalog(bad)
    assert table_dir(tmp_path, parse_catalog({"tables": [{"id": "47018NED", "catalog": "Politie", "title": "t"}]}).tables[0]) == tmp_path / "Politie" / "47018NED"


def test_the_mirror_importer_reads_a_synced_cache_like_the_bundle(cbs: FakeCBS, bundle: Path, tmp_path: Path):
    """One importer for both: what sync writes imports to the same observations as the bundle."""
    from trendstudie.sources import mirror

    with fast_client(cbs) as client:
        report = sync(mirror_catalog(), None, tmp_path, tables=list(MIRRORED), client=client)
    assert report.success
    # a table still in progress must not confuse the importer
    (tmp_path / "CBS" / ".partial" / "83625NED").mkdir(parents=True)
    (tmp_path / "CBS" / ".partial" / "83625NED" / "Properties.json").write_text("{}", encoding="utf-8")
    synced = mirror.read_mirror(tmp_path / "CBS", prefix="cache/CBS")
    offline = mirror.read_mirror(bundle / "odata-v4")

    def key(o):
        return (o.table_id, o.measure, o.dims, o.region_code, o.period, o.value, o.status, o.reason)

    assert sorted(map(key, synced.observations)) == sorted(map(key, offline.observations))
    assert {o.source for o in synced.observations} == {f"cache/CBS/{t}" for t in MIRRORED}
    assert sorted(t.table_id for t in synced.tables) == sorted(MIRRORED)


def test_one_sync_per_cache_at_a_time(cbs: FakeCBS, tmp_path: Path):
    import os
    import subprocess

    lock = tmp_path / ".sync.lock"
    lock.write_text(str(os.getppid()), encoding="ascii")  # a live process holds the cache
    with fast_client(cbs) as client:
        with pytest.raises(TrendstudieError, match="Er loopt al een sync"):
            sync(mirror_catalog(), None, tmp_path, tables=["82235NED"], client=client)
        assert lock.exists() and not (tmp_path / "CBS").exists()
        gone = subprocess.Popen(["true"])  # a process that has ended
        gone.wait()
        lock.write_text(str(gone.pid), encoding="ascii")  # a stale lock of a killed sync
        report = sync(mirror_catalog(), None, tmp_path, tables=["82235NED"], client=client)
    assert report.success and not lock.exists()


def test_a_changed_filter_refetches_a_complete_table(cbs: FakeCBS, tmp_path: Path):
    wide = parse_catalog({"tables": [{"id": "82235NED", "title": "Woningvoorraad"}]})
    narrow = parse_catalog({"tables": [{"id": "82235NED", "title": "Woningvoorraad", "filter": "Perioden ge '2010JJ00'"}]})
    with fast_client(cbs) as client:
        assert sync(wide, None, tmp_path, client=client)["82235NED"].rows == 889
        assert sync(wide, None, tmp_path, client=client)["82235NED"].status == "skipped"
        again = sync(narrow, None, tmp_path, client=client)["82235NED"]
    assert again.status == "ok"
    rows = load(tmp_path / "CBS" / "82235NED" / "Observations.json")["value"]
    assert len(rows) == again.rows and {r["Perioden"][:4] for r in rows} == {str(y) for y in range(2010, 2026)}
