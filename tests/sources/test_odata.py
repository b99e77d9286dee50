"""The CBS OData v4 client against a fake service on loopback that serves the bundle's mirror."""

from __future__ import annotations

import csv
import json
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from fake_cbs import FakeCBS, Fault, FilterError, compile_filter, police_table
from trendstudie.errors import TrendstudieError
from trendstudie.sources.odata import ODataClient, ODataError, Unreachable, _retry_after_seconds

POP_FILTER = (
    "Geslacht eq 'T001038' and Leeftijd eq '10000' and BurgerlijkeStaat eq 'T001019' and "
    "(startswith(RegioS,'NL') or startswith(RegioS,'PV') or startswith(RegioS,'GM')) and "
    "Perioden ge '2019JJ00'"
)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mirror(bundle: Path) -> Path:
    return bundle / "odata-v4"


@pytest.fixture
def cbs(mirror: Path, bundle: Path):
    fake = FakeCBS(page_size=2500)
    for table in ("03759ned", "83625NED", "82235NED"):
        fake.add_mirror(mirror / table)
    fake.add_table("Politie", "47018NED", police_table(bundle / "tidy" / "47018NED_geregistreerde_misdrijven.csv"))
    with fake:
        yield fake


class Sleeps(list):
    """Records the waits the client asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(cbs: FakeCBS, **kw) -> ODataClient:
    kw.setdefault("timeout", 60.0)  # no answer is that slow, however busy the machine: counts stay exact
    kw.setdefault("backoff", 0.001)
    kw.setdefault("max_backoff", 0.01)
    kw.setdefault("max_retries", 3)
    return ODataClient(cbs.base_url, **kw)


# -- the fake's filter evaluator (the tests below depend on it being right) ----------------------


def test_filter_evaluator_precedence_parentheses_and_functions():
    row = {"RegioS": "GM0363    ", "Perioden": "2019JJ00", "Geslacht": "T001038", "Value": 5, "Name": "'s-Gravenhage"}
    assert compile_filter("startswith(RegioS,'GM') and Perioden ge '2019JJ00'")(row)
    assert not compile_filter("startswith(RegioS,'PV') or Perioden lt '2019JJ00'")(row)
    # and binds tighter than or: false or (true and true)
    assert compile_filter("RegioS eq 'NL01' or Geslacht eq 'T001038' and Value gt 4")(row)
    assert not compile_filter("(RegioS eq 'NL01' or Geslacht eq 'T001038') and Value gt 5")(row)
    assert compile_filter("RegioS eq 'GM0363'")(row)  # trailing spaces of codes do not count
    assert compile_filter("not (Value le 4) and endswith(Perioden,'JJ00')")(row)
    assert compile_filter("Name eq '''s-Gravenhage'")(row)
    with pytest.raises(FilterError):
        compile_filter("RegioS eq 'GM0363' and")
    with pytest.raises(FilterError):
        compile_filter("RegioS like 'GM'")


# -- endpoints ---------------------------------------------------------------------------------


def test_metadata_endpoints_equal_the_mirror(cbs: FakeCBS, mirror: Path):
    with client_for(cbs) as client:
        props = client.properties("CBS", "03759ned")
        assert props == load(mirror / "03759ned" / "Properties.json")
        assert props["Identifier"] == "03759ned"
        dims = client.dimensions("CBS", "03759ned")
        assert [d["Identifier"] for d in dims] == ["BurgerlijkeStaat", "Geslacht", "Leeftijd", "RegioS", "Perioden"]
        assert client.measure_codes("CBS", "03759ned") == load(mirror / "03759ned" / "MeasureCodes.json")["value"]
        regions = client.dimension_codes("CBS", "03759ned", "RegioS")
        assert regions == load(mirror / "03759ned" / "RegioSCodes.json")["value"]
        assert sum(1 for r in regions if r["Identifier"].startswith("GM")) == 835


def test_paged_observations_equal_the_mirror(cbs: FakeCBS, mirror: Path):
    with client_for(cbs) as client:
        pages = list(client.observation_pages("CBS", "03759ned", POP_FILTER))
    assert len(pages) == 6  # 13,568 rows in pages of 2,500
    assert all(p.next_url for p in pages[:-1]) and pages[-1].next_url is None
    rows = [r for p in pages for r in p.rows]
    assert rows == load(mirror / "03759ned" / "Observations.json")["value"]
    assert len(rows) == 13568
    amsterdam = [r for r in rows if r["RegioS"].strip() == "GM0363" and r["Perioden"] == "2019JJ00" and r["Measure"] == "M000352"]
    assert [r["Value"] for r in amsterdam] == [862965]


def test_filter_and_select_reach_the_service(cbs: FakeCBS, mirror: Path):
    flt = "Measure eq 'M000352' and RegioS eq 'GM0363' and (Perioden eq '2019JJ00' or Perioden ge '2025JJ00')"
    with client_for(cbs) as client:
        rows = client.observations("CBS", "03759ned", flt, select=["Perioden", "Value"])
    expected = [
        {"Perioden": r["Perioden"], "Value": r["Value"]}
        for r in load(mirror / "03759ned" / "Observations.json")["value"]
        if r["Measure"] == "M000352" and r["RegioS"].strip() == "GM0363" and (r["Perioden"] == "2019JJ00" or r["Perioden"] >= "2025JJ00")
    ]
    assert rows == expected
    assert [r["Perioden"] for r in rows] == ["2019JJ00", "2025JJ00", "2026JJ00"]
    assert rows[0] == {"Perioden": "2019JJ00", "Value": 862965}
    sent = cbs.observation_requests("03759ned")[-1].query
    assert sent["$filter"] == flt and sent["$select"] == "Perioden,Value"


def test_police_table_in_its_own_catalogue(cbs: FakeCBS, bundle: Path):
    tidy = bundle / "tidy" / "47018NED_geregistreerde_misdrijven.csv"
    with tidy.open(encoding="utf-8") as fh:
        expected = {
            (r["SoortMisdrijf"], r["period"]): int(r["value"])
            for r in csv.DictReader(fh)
            if r["region_code"] == "GM0363" and r["value"]
        }
    with client_for(cbs) as client:
        props = client.properties("Politie", "47018NED")
        rows = client.observations("Politie", "47018NED", "RegioS eq 'GM0363' and Perioden ge '2012JJ00'")
        assert client.url("Politie", "47018NED", "Observations").endswith("/Politie/47018NED/Observations")
        with pytest.raises(ODataError, match="hoofdlettergevoelig"):
            client.properties("CBS", "47018NED")  # not in the CBS catalogue
    assert props["Catalog"] == "Politie"
    got = {(r["SoortMisdrijf"], r["Perioden"]): r["Value"] for r in rows}
    assert got == expected
    assert len(got) == 12 * 14


# -- faults ------------------------------------------------------------------------------------


def test_429_honours_retry_after(cbs: FakeCBS, mirror: Path):
    cbs.inject(Fault("429", endpoint="Observations", from_page=1, times=2, retry_after="1"))
    sleeps = Sleeps()
    with client_for(cbs, sleep=sleeps) as client:
        rows = client.observations("CBS", "03759ned", POP_FILTER)
        assert client.stats.retries == 2
    assert sleeps == [1.0, 1.0]  # the server's Retry-After, not the (tiny) backoff
    assert len(rows) == 13568
    assert [r.status for r in cbs.observation_requests()].count(429) == 2


def test_5xx_is_retried_with_exponential_backoff(cbs: FakeCBS, mirror: Path):
    cbs.inject(Fault("500", endpoint="MeasureCodes", times=3))
    sleeps = Sleeps()
    with client_for(cbs, sleep=sleeps, backoff=0.5, max_backoff=1.5, max_retries=4) as client:
        codes = client.measure_codes("CBS", "82235NED")
    assert sleeps == [0.5, 1.0, 1.5]  # doubled, capped
    assert codes == load(mirror / "82235NED" / "MeasureCodes.json")["value"]


def test_a_time_out_mid_transfer_is_retried(cbs: FakeCBS, mirror: Path):
    cbs.inject(Fault("timeout", endpoint="Observations"))  # raised by the transport: no clock involved
    with client_for(cbs, transport=cbs.transport()) as client:
        rows = client.observations("CBS", "82235NED")
        assert client.stats.retries == 1
    assert rows == load(mirror / "82235NED" / "Observations.json")["value"]


def test_a_really_slow_answer_times_out_and_is_retried(cbs: FakeCBS, mirror: Path):
    cbs.inject(Fault("slow", endpoint="Observations", delay=30.0))  # far beyond the client's patience
    with client_for(cbs, timeout=3.0, max_retries=5) as client:
        rows = client.observations("CBS", "82235NED")
        assert client.stats.retries >= 1  # at least the slow one (a busy machine may add more)
    assert rows == load(mirror / "82235NED" / "Observations.json")["value"]


@pytest.mark.parametrize("kind", ["truncated", "drop", "html", "novalue"])
def test_cut_off_json_is_retried(cbs: FakeCBS, mirror: Path, kind: str):
    cbs.inject(Fault(kind, endpoint="Observations", from_page=2, times=2))
    with client_for(cbs) as client:
        rows = client.observations("CBS", "03759ned", POP_FILTER)
        assert client.stats.retries == 2
    assert rows == load(mirror / "03759ned" / "Observations.json")["value"]


def test_persistent_failure_gives_a_clear_bounded_error(cbs: FakeCBS):
    cbs.inject(Fault("500", endpoint="Observations", from_page=3, times=-1))
    with client_for(cbs, max_retries=2) as client:
        with pytest.raises(TrendstudieError) as info:
            client.observations("CBS", "03759ned", POP_FILTER)
    msg = str(info.value)
    assert "03759ned" in msg and "pagina 4" in msg and "3 pogingen" in msg and "HTTP 500" in msg
    assert info.value.url.startswith(cbs.base_url) and info.value.url.endswith("skip=7500")
    assert len([r for r in cbs.observation_requests() if r.query.get("$skip") == "7500"]) == 3


def test_wrong_case_table_id_is_a_clear_error(cbs: FakeCBS, mirror: Path):
    with client_for(cbs) as client:
        with pytest.raises(ODataError, match="hoofdlettergevoelig") as info:
            client.properties("CBS", "03759NED")
        assert "03759NED" in str(info.value) and info.value.status == 404
        assert client.stats.retries == 0  # 404 is not retried


def test_wrong_case_that_answers_empty_is_caught(mirror: Path):
    with FakeCBS(wrong_case="empty") as fake:
        fake.add_mirror(mirror / "83625NED")
        with client_for(fake) as client:
            assert client.observations("CBS", "83625ned") == []  # what the service does
            with pytest.raises(ODataError, match="gebruik '83625NED'"):
                client.properties("CBS", "83625ned")


def test_bad_filter_is_not_retried(cbs: FakeCBS):
    with client_for(cbs) as client:
        with pytest.raises(TrendstudieError, match="HTTP 400") as info:
            client.observations("CBS", "82235NED", "Perioden ge")
        assert "82235NED" in str(info.value)
        assert client.stats.requests == 1


# -- cache ------------------------------------------------------------------------------------


def test_cache_is_keyed_by_full_url_and_read_only_when_asked(mirror: Path, tmp_path: Path):
    with FakeCBS(page_size=3000) as fake:
        fake.add_mirror(mirror / "03759ned")
        base = fake.base_url
        with ODataClient(base, cache_dir=tmp_path) as client:
            full = client.observations("CBS", "03759ned", POP_FILTER)
            part = client.observations("CBS", "03759ned", "RegioS eq 'GM0363'")
    assert len(full) == 13568 and len(part) == 16
    # the server is gone: the cache answers, for exactly the URLs it saw
    with ODataClient(base, cache_dir=tmp_path, use_cache=True, max_retries=0, timeout=0.5) as client:
        assert client.observations("CBS", "03759ned", POP_FILTER) == full
        assert client.observations("CBS", "03759ned", "RegioS eq 'GM0363'") == part
        assert client.stats.requests == 0 and client.stats.cache_hits == 5 + 1
        with pytest.raises(Unreachable, match="niet bereikbaar"):  # nobody listens: not retried
            client.observations("CBS", "03759ned", "RegioS eq 'GM0014'")
    with ODataClient(base, cache_dir=tmp_path, use_cache=False, max_retries=0, timeout=0.5) as client:
        with pytest.raises(TrendstudieError):
            client.properties("CBS", "03759ned")


def test_retry_after_parsing():
    assert _retry_after_seconds("7") == 7.0
    assert _retry_after_seconds(None) is None
    assert _retry_after_seconds("soon") is None
    later = _retry_after_seconds(formatdate(time.time() + 120, usegmt=True))
    assert later is not None and 100 < later <= 121


def test_default_base_url_comes_from_settings(monkeypatch):
    monkeypatch.setenv("TRENDSTUDIE_CBS_URL", "http://127.0.0.1:9/odata/v1/")
    with ODataClient() as client:
        assert client.url("CBS", "03759ned", "Properties") == "http://127.0.0.1:9/odata/v1/CBS/03759ned/Properties"
    monkeypatch.delenv("TRENDSTUDIE_CBS_URL")
    with ODataClient() as client:
        assert client.base_url == "https://datasets.cbs.nl/odata/v1"


# -- properties ---------------------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

from trendstudie.sources.odata import squash_filter  # noqa: E402

_literal = st.text(alphabet=st.sampled_from(list("GMPV0123 &#%+?=/é'")), max_size=12)


@settings(max_examples=200, deadline=None)
@given(code=_literal, gap=st.text(alphabet=" \n\t", min_size=1, max_size=4))
def test_filters_reach_the_server_unchanged(code: str, gap: str):
    """Any literal (spaces, quotes, &, #, %, +) survives URL encoding; whitespace between tokens
    is squashed, whitespace inside literals is kept."""
    escaped = code.replace("'", "''")
    flt = f"RegioS{gap}eq{gap}'{escaped}'{gap}and{gap}startswith(Perioden,'20')"
    client = ODataClient("http://127.0.0.1:9/odata/v1")
    try:
        url = client.observations_url("CBS", "03759ned", flt, ["RegioS", "Value"])
    finally:
        client.close()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["$filter"] == f"RegioS eq '{escaped}' and startswith(Perioden,'20')"
    assert query["$select"] == "RegioS,Value"
    keep = compile_filter(query["$filter"])  # and the service reads back the very literal
    assert keep({"RegioS": code, "Perioden": "2020JJ00"})
    assert not keep({"RegioS": code + "x", "Perioden": "2020JJ00"})
    assert not keep({"RegioS": code, "Perioden": "1999JJ00"})


def test_squash_keeps_padded_codes():
    assert squash_filter("  RegioS   eq\n 'GM0363    '  and x eq 'a''  b' ") == "RegioS eq 'GM0363    ' and x eq 'a''  b'"
