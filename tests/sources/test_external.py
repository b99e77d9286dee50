"""`sync` of the sources that are not CBS tables (Klimaatmonitor, Leefbaarometer) against loopback
fakes: the mirror layout the build reads, API keys, clear failures, and the indicators they feed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from fake_external import FakeFiles, FakeKlimaatmonitor
from trendstudie.sources.catalog import parse_catalog
from trendstudie.sources.external import KLIMAATMONITOR_KEY_ENV
from trendstudie.sources.mirror import read_table
from trendstudie.sources.odata import ODataClient
from trendstudie.sources.sync import sync, table_dir

G4 = ("GM0363", "GM0599", "GM0518", "GM0344")
GEMEENTEN = (*G4, "GM0193")


def km_row(gm: str, year: int, value: str) -> dict:
    return {"ExternalCode": f"gemeente_{int(gm[2:])}", "GeoLevel": "gemeente", "PeriodLevel": "year",
            "Period": str(year), "ValueString": value}


# Per gemeente and year, distinct values (test input, not data): energy use, renewables, CO2.
def energy(gm: str, year: int) -> float:
    return 10_000 + int(gm[2:]) * 7 + (year - 2020) * 11


def renewable(gm: str, year: int) -> float:
    return 500 + int(gm[2:]) % 97 * 3 + (year - 2020) * 13


def co2(gm: str, year: int) -> float:
    return 900 + int(gm[2:]) % 89 + (year - 2020)


VARIABLES = {
    "energie_totaal_combi": {"Name": "Totaal energieverbruik"},
    "hern_tot": {"Name": "Totaal hernieuwbare energie", "Unit": "TJ"},
    "co2_tot_x": {"Name": "Totale CO2-uitstoot", "Unit": "kton"},
    "co2_won_x": {"Name": "CO2-uitstoot woningen", "Unit": "kton"},
}


def km_values() -> dict[str, list[dict]]:
    years = (2021, 2022)
    vals = {
        "energie_totaal_combi": [km_row(g, y, f"{energy(g, y):.1f}") for g in GEMEENTEN for y in years],
        "hern_tot": [km_row(g, y, f"{renewable(g, y):.1f}".replace(".", ",")) for g in GEMEENTEN for y in years],
        "co2_tot_x": [km_row(g, y, f"{co2(g, y):.1f}") for g in GEMEENTEN for y in years],
    }
    vals["co2_tot_x"].append(km_row("GM0014", 2022, "?"))  # not known for Groningen
    return vals


LBM_HEADER = "gm_code,jaar,lbm,afw,fys,onv,soc,vrz,won"


def lbm(gm: str, year: int) -> float:
    return round(3.9 + int(gm[2:]) % 50 / 100 + (year - 2020) / 100, 4)


def lbm_csv() -> str:
    lines = [LBM_HEADER]
    for g in GEMEENTEN:
        for y in (2020, 2022):
            parts = [0.01, -0.02, 0.03, 0.04, -0.01]
            lines.append(f"{g},{y},{lbm(g, y)},{sum(parts)},{','.join(str(p) for p in parts)}")
    return "\n".join(lines) + "\n"


def lbm_zip(member: str = "Leefbaarometer-scores gemeenten 2002-2024.csv") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"Leefbaarometer 3.0 - Meting 2024 - open data/{member}", lbm_csv())
        z.writestr("Leefbaarometer 3.0 - Meting 2024 - open data/Leefbaarometer-scores buurten 2002-2024.csv",
                   "bu_code,jaar,lbm\nBU03630000,2022,4.1\n")
    return buf.getvalue()


def catalogue(km_url: str = "http://127.0.0.1:9/x", lbm_url: str = "http://127.0.0.1:9/y.zip",
              variables: list[dict] | None = None, member: str = "leefbaarometer-scores gemeenten*.csv"):
    return parse_catalog({"tables": [
        {"id": "RKM", "kind": "klimaatmonitor", "catalog": "Klimaatmonitor", "title": "Klimaatmonitor",
         "url": km_url, "variables": variables or [
             {"code": "energie_totaal_combi", "unit": "TJ"}, {"code": "hern_tot", "unit": "TJ"},
             {"title": "Totale CO2-uitstoot", "unit": "kton"}]},
        {"id": "LBM3", "kind": "leefbaarometer", "catalog": "BZK", "title": "Leefbaarometer", "url": lbm_url,
         "member": member},
    ]})


def client() -> ODataClient:
    # The CBS client is not used for these entries; its patience is copied (no waiting in tests).
    return ODataClient("http://127.0.0.1:9/odata/v1", max_retries=2, backoff=0, sleep=lambda s: None)


@pytest.fixture
def km():
    with FakeKlimaatmonitor(VARIABLES, km_values()) as fake:
        yield fake


@pytest.fixture
def files():
    with FakeFiles({"/resources/lbm.zip": lbm_zip()}, cut_short=1) as fake:
        yield fake


def test_klimaatmonitor_lands_in_the_mirror_layout_with_codes_titles_and_units(km, tmp_path: Path):
    cat = catalogue(km.base_url)
    report = sync(cat, None, tmp_path, tables=["RKM"], client=client(), keys={"klimaatmonitor": "geheim"})
    assert report.success, report.summary()
    imported = read_table(table_dir(tmp_path, cat.get("RKM")))
    table = imported.tables[0]
    assert table.catalog == "Klimaatmonitor"
    assert {m: (meta.title, meta.unit, meta.aggregation) for m, meta in table.measures.items()} == {
        "energie_totaal_combi": ("Totaal energieverbruik", "TJ", "sum"),
        "hern_tot": ("Totaal hernieuwbare energie", "TJ", "sum"),
        "co2_tot_x": ("Totale CO2-uitstoot", "kton", "sum"),  # found by its title
    }
    got = {(o.measure, o.region_code, o.period): o.value for o in imported.observations}
    assert got[("energie_totaal_combi", "GM0193", "2022JJ00")] == pytest.approx(energy("GM0193", 2022))
    assert got[("hern_tot", "GM0344", "2021JJ00")] == pytest.approx(renewable("GM0344", 2021))  # decimal comma
    assert got[("co2_tot_x", "GM0014", "2022JJ00")] is None  # '?' is not known, not zero
    missing = next(o for o in imported.observations if o.region_code == "GM0014")
    assert missing.reason
    assert len(imported.observations) == 3 * len(GEMEENTEN) * 2 + 1  # every page followed


def test_klimaatmonitor_without_a_key_is_skipped_with_how_to_get_one(km, tmp_path: Path, monkeypatch):
    monkeypatch.delenv(KLIMAATMONITOR_KEY_ENV, raising=False)
    cat = catalogue(km.base_url)
    report = sync(cat, None, tmp_path, tables=["RKM"], client=client())
    assert report.success and report["RKM"].status == "skipped"
    assert KLIMAATMONITOR_KEY_ENV in report["RKM"].reason and "klimaatmonitor.databank.nl" in report["RKM"].reason
    assert not table_dir(tmp_path, cat.get("RKM")).exists()
    assert not km.requests  # nothing asked without a key
    monkeypatch.setenv(KLIMAATMONITOR_KEY_ENV, "geheim")  # the environment is where the CLI's key comes from
    assert sync(cat, None, tmp_path, tables=["RKM"], client=client()).success


def test_klimaatmonitor_failures_name_what_was_wrong(km, tmp_path: Path):
    cases = [
        ({"klimaatmonitor": "fout"}, None, ["401", "API-sleutel"]),
        ({"klimaatmonitor": "geheim"}, [{"code": "bestaat_niet", "unit": "TJ"}], ["bestaat_niet"]),
        ({"klimaatmonitor": "geheim"}, [{"title": "Totale CO2 uitstoot", "unit": "kton"}],
         ["Totale CO2 uitstoot", "lijkt op", "Totale CO2-uitstoot"]),
        ({"klimaatmonitor": "geheim"}, [{"code": "hern_tot", "unit": "GWh"}], ["'TJ'", "'GWh'"]),
    ]
    for keys, variables, words in cases:
        cat = catalogue(km.base_url, variables=variables)
        report = sync(cat, None, tmp_path, tables=["RKM"], client=client(), keys=keys)
        result = report["RKM"]
        assert result.status == "failed", words
        for w in words:
            assert w in result.reason, (w, result.reason)
        assert not table_dir(tmp_path, cat.get("RKM")).exists()


def test_a_klimaatmonitor_row_that_is_not_a_gemeente_fails_naming_the_row(tmp_path: Path):
    values = {"hern_tot": [km_row("GM0193", 2022, "5"), {**km_row("GM0193", 2022, "5"), "ExternalCode": "provincie_23"}]}
    with FakeKlimaatmonitor(VARIABLES, values) as fake:
        cat = catalogue(fake.base_url, variables=[{"code": "hern_tot", "unit": "TJ"}])
        result = sync(cat, None, tmp_path, tables=["RKM"], client=client(), keys={"klimaatmonitor": "geheim"})["RKM"]
    assert result.status == "failed" and "rij 2" in result.reason and "provincie_23" in result.reason


def test_leefbaarometer_zip_is_downloaded_again_when_cut_short_and_read_per_gemeente(files, tmp_path: Path):
    cat = catalogue(lbm_url=f"{files.root}/resources/lbm.zip")
    report = sync(cat, None, tmp_path, tables=["LBM3"], client=client())
    assert report.success, report.summary()
    assert files.requests.count("/resources/lbm.zip") == 2  # the truncated zip was retried
    folder = table_dir(tmp_path, cat.get("LBM3"))
    imported = read_table(folder)
    assert imported.tables[0].table_id == "LBM3" and imported.tables[0].catalog == "BZK"
    got = {(o.measure, o.region_code, o.period): o.value for o in imported.observations}
    assert got[("lbm", "GM0599", "2022JJ00")] == pytest.approx(lbm("GM0599", 2022))
    assert got[("won", "GM0193", "2020JJ00")] == pytest.approx(-0.01)
    assert len(got) == 7 * len(GEMEENTEN) * 2
    assert (folder / "bron.csv").read_text(encoding="utf-8") == lbm_csv()  # the publisher's file, kept
    again = sync(cat, None, tmp_path, tables=["LBM3"], client=client())
    assert again["LBM3"].status == "skipped"


def test_leefbaarometer_zip_without_the_gemeente_file_fails_listing_what_it_holds(tmp_path: Path):
    with FakeFiles({"/lbm.zip": lbm_zip(member="scores-wijken.csv")}) as fake:
        cat = catalogue(lbm_url=f"{fake.root}/lbm.zip")
        result = sync(cat, None, tmp_path, tables=["LBM3"], client=client())["LBM3"]
    assert result.status == "failed"
    assert "leefbaarometer-scores gemeenten*.csv" in result.reason and "scores-wijken.csv" in result.reason


def test_synced_klimaatmonitor_and_leefbaarometer_feed_their_indicators(km, files, bundle: Path, tmp_path: Path):
    from trendstudie import store
    from trendstudie.build import build
    from trendstudie.config import settings

    s = settings(home=tmp_path, bundle=bundle)
    cat = catalogue(km.base_url, f"{files.root}/resources/lbm.zip")
    assert sync(cat, None, s.synced, client=client(), keys={"klimaatmonitor": "geheim"}).success
    build(s)
    con = store.connect(s.database)
    try:
        def value(ind: str, region: str, period: str) -> float | None:
            row = con.execute("SELECT value FROM indicator_values WHERE indicator_id=? AND region_code=? "
                              "AND period=?", [ind, region, period]).fetchone()
            return row[0] if row else None

        pop = dict(con.execute("SELECT region_code, value FROM facts WHERE table_id='03759ned' "
                               "AND measure='M000352' AND period='2022JJ00' "
                               "AND dims='BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000'").fetchall())
        g = "GM0193"
        assert value("co2_per_inwoner", g, "2022JJ00") == pytest.approx(co2(g, 2022) * 1000 / pop[g])
        assert value("energieverbruik_per_inwoner", g, "2021JJ00") is not None
        assert value("hernieuwbare_energie_aandeel", g, "2022JJ00") == pytest.approx(
            renewable(g, 2022) / energy(g, 2022) * 100)
        assert value("leefbaarometer", g, "2022JJ00") == pytest.approx(lbm(g, 2022))
        # a group sums its members' renewables and energy use; the Leefbaarometer is weighted by inhabitants
        assert value("hernieuwbare_energie_aandeel", "G4", "2022JJ00") == pytest.approx(
            sum(renewable(m, 2022) for m in G4) / sum(energy(m, 2022) for m in G4) * 100)
        assert value("leefbaarometer", "G4", "2022JJ00") == pytest.approx(
            sum(lbm(m, 2022) * pop[m] for m in G4) / sum(pop[m] for m in G4))
        assert value("co2_per_inwoner", "G40", "2022JJ00") is None  # not every member is known
        missing = dict(con.execute("SELECT indicator_id, missing FROM indicators").fetchall())
        assert missing["leefbaarometer"] is None and missing["co2_per_inwoner"] is None
    finally:
        con.close()
