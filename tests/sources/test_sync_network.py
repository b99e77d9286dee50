"""`sync` without a network, or with a host that does not resolve, stops at once with one clear
message (no retries, nothing to wait for); transient faults of a service that did answer are still
retried. Retries are counted, never timed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fake_cbs import FakeCBS, Fault
from trendstudie.sources.catalog import parse_catalog
from trendstudie.sources.odata import ODataClient, Unreachable
from trendstudie.sources.sync import LOCK_FILE, sync, table_dir

NOWHERE = "http://nonexistent.invalid/odata/v1"  # .invalid never resolves (RFC 2606)
CATALOG = parse_catalog({"tables": [
    {"id": "82235NED", "title": "Voorraad woningen; standen en mutaties vanaf 1921"},
    {"id": "83625NED", "title": "Bestaande koopwoningen; gemiddelde verkoopprijzen, regio"},
]})


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def cbs(bundle: Path):
    fake = FakeCBS(page_size=500)
    for table in ("82235NED", "83625NED"):
        fake.add_mirror(bundle / "odata-v4" / table)
    with fake:
        yield fake


def client(base_url: str, sleeps: Sleeps, **kw) -> ODataClient:
    return ODataClient(base_url, timeout=60.0, max_retries=5, backoff=1.0, sleep=sleeps, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nobody listens there


def test_a_host_that_does_not_resolve_stops_the_sync_at_once(tmp_path: Path):
    sleeps = Sleeps()
    with client(NOWHERE, sleeps) as c:
        with pytest.raises(Unreachable) as exc:
            sync(CATALOG, None, tmp_path, client=c)
        assert c.stats.retries == 0 and sleeps == []
    message = str(exc.value)
    assert "Geen verbinding met CBS" in message and "nonexistent.invalid" in message and "Is er internet" in message
    assert not (tmp_path / LOCK_FILE).exists()  # the next sync is not locked out
    assert not list(tmp_path.glob("*/*/Properties.json"))


def test_nobody_listening_stops_the_sync_at_once(tmp_path: Path):
    sleeps = Sleeps()
    with client(f"http://127.0.0.1:{free_port()}/odata/v1", sleeps) as c:
        with pytest.raises(Unreachable, match="niet bereikbaar"):
            sync(CATALOG, None, tmp_path, client=c)
        assert c.stats.retries == 0 and c.stats.requests == 1 and sleeps == []


def test_a_refused_first_connection_is_not_retried_but_a_later_one_is(cbs: FakeCBS, tmp_path: Path):
    cbs.inject(Fault("refused", endpoint="Datasets"))  # the very first request: the catalogue
    sleeps = Sleeps()
    with client(cbs.base_url, sleeps, transport=cbs.transport()) as c:
        with pytest.raises(Unreachable):
            sync(CATALOG, None, tmp_path, client=c)
        assert c.stats.retries == 0
    # the service answered before: a refused connection (a restart) is transient and retried
    cbs.inject(Fault("refused", endpoint="Observations", table="83625NED", from_page=3, times=2))
    sleeps = Sleeps()
    with client(cbs.base_url, sleeps, transport=cbs.transport()) as c:
        report = sync(CATALOG, None, tmp_path, client=c)
        assert c.stats.retries == 2 and sleeps == [1.0, 2.0]
    assert report.success and [t.status for t in report.tables] == ["ok", "ok"]


def test_a_name_that_stops_resolving_mid_sync_is_not_retried(cbs: FakeCBS, tmp_path: Path):
    cbs.inject(Fault("nodns", endpoint="Observations", table="83625NED", from_page=2))
    sleeps = Sleeps()
    with client(cbs.base_url, sleeps, transport=cbs.transport()) as c:
        with pytest.raises(Unreachable, match="niet te vinden"):
            sync(CATALOG, None, tmp_path, client=c)
        assert c.stats.retries == 0 and sleeps == []
    # what was complete stays; the interrupted table resumes on the next run
    assert (table_dir(tmp_path, CATALOG.get("82235NED")) / "Observations.json").is_file()
    with client(cbs.base_url, Sleeps(), transport=cbs.transport()) as c:
        report = sync(CATALOG, None, tmp_path, client=c)
    assert [t.status for t in report.tables] == ["skipped", "ok"] and report["83625NED"].resumed_pages == 2


def test_transient_faults_of_a_service_that_answers_are_still_retried(cbs: FakeCBS, tmp_path: Path):
    cbs.inject(Fault("500", endpoint="Properties", table="82235NED", times=2),  # the very first request
               Fault("timeout", endpoint="Observations", table="83625NED", from_page=1),
               Fault("drop", endpoint="Observations", table="83625NED", from_page=4))
    sleeps = Sleeps()
    with client(cbs.base_url, sleeps, transport=cbs.transport()) as c:
        report = sync(CATALOG, None, tmp_path, client=c)
        assert c.stats.retries == 4 and sleeps == [1.0, 2.0, 1.0, 1.0]
    assert report.success


def test_cli_sync_without_a_resolvable_host_says_so_once(tmp_path: Path):
    env = {**os.environ, "TRENDSTUDIE_HOME": str(tmp_path), "TRENDSTUDIE_CBS_URL": NOWHERE}
    r = subprocess.run([sys.executable, "-m", "trendstudie", "sync"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stderr.count("Geen verbinding met CBS") == 1 and "nonexistent.invalid" in r.stderr
