"""Bounded caches: canonical URLs instead of junk query parameters, a disk cache under its cap,
robots.txt; and pages rendered by many threads at once (no global lock) come out whole."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from trendstudie.web.app import ResponseCache, canonical_query, disk_cache_bytes
from trendstudie.web.routes_api import REGION


def test_robots_txt(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/zoek", "/vergelijk", "/download/", "/svg/", "/api/", "/gemeente/*/prognose"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /gemeente/" not in lines  # the gemeente pages themselves may be read


@pytest.mark.parametrize("url, canonical", [
    ("/gemeente/GM0193?utm_source=x1", "/gemeente/GM0193"),
    ("/?fbclid=abc&utm_medium=mail", "/"),
    ("/indicator/bevolking?utm_source=x&periode=2020JJ00&gclid=1", "/indicator/bevolking?periode=2020JJ00"),
    ("/vergelijk?gemeente=Zwolle&x=1&gemeente=Deventer", "/vergelijk?gemeente=Zwolle&gemeente=Deventer"),
    ("/static/style.css?v=123", "/static/style.css"),
])
def test_unknown_parameters_redirect_to_the_canonical_url(client, url, canonical):
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == canonical
    assert client.get(url).status_code == 200


def test_known_parameters_stay(client):
    r = client.get("/indicator/bevolking?periode=2020JJ00", follow_redirects=False)
    assert r.status_code == 200


def test_api_still_refuses_unknown_parameters(client):
    r = client.get("/api/v1/regions?regio=GM0193")
    assert r.status_code == 422
    assert "Onbekende queryparameter" in r.json()["fout"]


def test_canonical_query_keeps_order_and_bytes():
    assert canonical_query("b=2&utm=1&a=%C3%A9&b=1", {"a", "b"}) == "b=2&a=%C3%A9&b=1"
    assert canonical_query("q=a+b", {"q"}) == "q=a+b"


def test_searches_are_not_kept(client):
    r = client.get("/zoek?q=zwol")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"


def test_disk_cache_cap_setting(monkeypatch):
    monkeypatch.delenv("TRENDSTUDIE_WEB_CACHE_MB", raising=False)
    assert disk_cache_bytes() == 200 * 1024 * 1024
    monkeypatch.setenv("TRENDSTUDIE_WEB_CACHE_MB", "5")
    assert disk_cache_bytes() == 5 * 1024 * 1024
    assert disk_cache_bytes(1) == 1024 * 1024
    monkeypatch.setenv("TRENDSTUDIE_WEB_CACHE_MB", "veel")
    from trendstudie.errors import TrendstudieError

    with pytest.raises(TrendstudieError, match="TRENDSTUDIE_WEB_CACHE_MB"):
        disk_cache_bytes()


def test_response_cache_evicts_least_recently_used(tmp_path):
    cache = ResponseCache(directory=tmp_path, disk_bytes=40_000)
    headers = [(b"content-type", b"application/octet-stream")]
    for i in range(100):
        cache.put(f"/x?{i}", headers, bytes(1000))
        assert cache.disk_size() <= 40_000
    files = list(tmp_path.glob("*.resp"))
    assert 0 < len(files) < 100
    # the newest survive; a new process finds them on disk
    other = ResponseCache(directory=tmp_path, disk_bytes=40_000)
    assert other.get("/x?99") is not None
    assert other.get("/x?0") is None
    # too large for a quarter of the cap: kept in memory only
    cache.put("/big", headers, bytes(20_000))
    assert not cache._file("/big").exists()


def test_thousands_of_distinct_urls_stay_under_the_cap(client, app):
    cache = app.state.cache
    old = cache.disk_bytes
    cap = 256 * 1024
    cache.disk_bytes = cap
    try:
        codes = [r["code"] for r in client.get("/api/v1/regions?kind=GM&current=true").json()]
        urls = []
        for i, code in enumerate(codes):  # junk parameters: redirected, the canonical page cached once
            urls.append(f"/svg/reeks/bevolking.svg?gemeente={code}&utm_source=x{i}&fbclid={i}")
        for ind in ("bevolking", "huishoudens", "bevolkingsdichtheid", "woningvoorraad"):
            urls += [f"/api/v1/indicator-values?indicator={ind}&region={c}" for c in codes]
        urls += [f"/api/v1/regions/{c}" for c in list(app.state.data.regions)
                 if re.fullmatch(REGION, c)][:600]
        assert len(urls) >= 2000
        statuses = {}
        for n, url in enumerate(urls, 1):
            r = client.get(url)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if n % 250 == 0:
                assert cache.disk_size() <= cap
        assert statuses.get(200, 0) >= 2000 and not any(s >= 500 for s in statuses), statuses
        assert cache.disk_size() <= cap
        assert len(list(cache.directory.glob("*.resp"))) < len(urls) / 4
    finally:
        cache.disk_bytes = old


def test_pages_render_in_parallel_threads(app):
    """Sixteen gemeente pages (not yet cached) requested from eight threads at once: each comes
    out whole and equal to the same page requested again (no shared connection to trip over)."""
    from fastapi.testclient import TestClient

    d = app.state.data
    codes = [g.code for g in d.sorted_gemeenten[-16:]]

    def fetch(code: str):
        with TestClient(app) as c:
            r = c.get(f"/gemeente/{code}")
            return r.status_code, r.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, codes))
    for code, (status, text) in zip(codes, results):
        assert status == 200, text[:300]
        assert d.gemeenten[code].name in text
        assert text.rstrip().endswith("</html>")
    with TestClient(app) as c:
        assert c.get(f"/gemeente/{codes[0]}").text == results[0][1]


def test_a_server_with_workers_keeps_its_disk_cache_under_the_cap(database, tmp_path):
    """The server as `trendstudie serve --workers 2` runs it, with a cap of 1 MB: thousands of
    distinct URLs from 16 clients at once, so that both worker processes write and evict at the
    same time. The files of both together never pass the cap (measured all along, not only at the
    end), and the cache still answers afterwards."""
    import os
    import shutil
    import subprocess
    import sys
    import threading
    import time

    import socket

    import httpx

    db = tmp_path / "trendstudie.duckdb"  # a copy: its own cache directory, beside it
    shutil.copy(database, db)
    cap = 1024 * 1024
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = ("import sys; from trendstudie.web import serve; "
            "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], 2, prepare=False)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(db)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "TRENDSTUDIE_WEB_CACHE_MB": "1"})
    base = f"http://127.0.0.1:{port}"
    pages = tmp_path / "cache" / "web-pages"
    sizes: list[int] = []
    done = threading.Event()

    def measure() -> None:
        while not done.is_set():
            total = 0
            for f in pages.rglob("*.resp"):
                try:
                    total += f.stat().st_size
                except FileNotFoundError:  # evicted meanwhile
                    pass
            sizes.append(total)
            time.sleep(0.01)

    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode(errors="replace"))
            try:
                if httpx.get(base + "/api/v1/info", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        codes = [r["code"] for r in httpx.get(base + "/api/v1/regions?kind=GM&current=true", timeout=60).json()]
        regions = [r["code"] for r in httpx.get(base + "/api/v1/regions", timeout=60).json()
                   if re.fullmatch(REGION, r["code"])]
        urls = [f"/api/v1/regions/{c}" for c in regions[:800]]
        for ind in ("bevolking", "huishoudens", "woningvoorraad", "bevolkingsdichtheid"):
            urls += [f"/api/v1/indicator-values?indicator={ind}&region={c}" for c in codes]
        urls += [f"/svg/reeks/bevolking.svg?gemeente={c}&utm_source=x{i}" for i, c in enumerate(codes[:200])]
        assert len(urls) >= 2000
        queue = list(urls)
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(base_url=base, timeout=120, follow_redirects=True) as c:
                while True:
                    with lock:
                        if not queue:
                            return
                        url = queue.pop()
                    status = c.get(url).status_code
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1

        sampler = threading.Thread(target=measure)
        sampler.start()
        clients = [threading.Thread(target=client) for _ in range(16)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        done.set()
        sampler.join()
        assert statuses.get(200, 0) >= 2000 and not any(s >= 500 for s in statuses), statuses
        assert len(sizes) > 10
        assert max(sizes) <= cap, f"{max(sizes)} bytes on disk at one moment, cap {cap}"
        assert max(sizes) > cap // 2  # the cap was reached: files were evicted, not merely few
        files = list(pages.rglob("*.resp"))
        assert 0 < len(files) < len(urls) * 0.6
        assert httpx.get(base + urls[0], timeout=60).status_code == 200
    finally:
        done.set()
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a crowded machine
            proc.kill()
            proc.wait()
