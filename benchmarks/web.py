"""Web benchmark: start the server on a free loopback port and drive it with 50 concurrent
clients (httpx, asyncio, spread over two processes); print p50/p95 latency and errors against
the goals of issue 16:

- cold, every URL different: all 342 gemeente pages, every indicator page, the lists, trends
  and samenhang pages, each requested exactly once by one of the 50 clients: p95 <= 1 s;
- warm, cached pages (the same URLs again, random order, for --seconds): p95 <= 100 ms;
- downloads, each the first time it is asked for (all indicators as CSV, Excel and JSON, a
  gemeente's data, a prognose, a chart as PNG): every one <= 3 s.

The server prepares the edition (renders the heavy pages and downloads once per build into the
page cache on disk, see trendstudie/web/edition.py) before the clients start; the time that
takes is printed. `--zonder-editie` measures the cold pages as rendered on request instead.

    python benchmarks/web.py [--home DIR] [--seconds 10] [--clients 50] [--workers 2] [--client-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

GOAL_COLD_P95 = 1000.0
GOAL_WARM_P95 = 100.0
GOAL_DOWNLOAD = 3000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: Path, workers: int, prepare: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = ("import sys; from trendstudie.web import serve; "
            "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), prepare=sys.argv[4] == '1')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(database), str(workers), "1" if prepare else "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server stopped: " + proc.stderr.read().decode(errors="replace"))
        try:
            if httpx.get(base + "/api/v1/info", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("server did not start within 90 s")


async def drive(base: str, urls: list[str], seconds: float, clients: int, first: int = 0) -> tuple[list[float], int]:
    """`clients` simulated clients (numbered from `first`) for `seconds`: their latencies and error count."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    # One keep-alive connection per simulated client: httpx's shared pool is itself a bottleneck
    # at 50 connections and would be measured instead of the server.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def one_client(i: int) -> None:
        nonlocal errors
        rnd = random.Random(i)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            while time.perf_counter() < stop:
                url = rnd.choice(urls)
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    if r.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(one_client(first + i) for i in range(clients)))
    return latencies, errors


def _drive_part(args: tuple) -> tuple[list[float], int]:
    return run(drive(*args))


async def drive_once(base: str, urls: list[str], clients: int) -> tuple[list[float], int]:
    """`clients` clients take the URLs from one queue, so that each URL is asked for exactly once."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue = asyncio.Queue()
    for u in urls:
        queue.put_nowait(u)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def one_client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120,
                                     headers={"accept-encoding": "gzip"}) as client:
            while not queue.empty():
                url = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    if r.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies, errors


def _drive_once_part(args: tuple) -> tuple[list[float], int]:
    return run(drive_once(*args))


def load_once(base: str, urls: list[str], clients: int, processes: int) -> dict:
    """Every URL once, shuffled, split over `processes` load generators with their share of clients."""
    urls = list(urls)
    random.Random(7).shuffle(urls)
    shares = [clients // processes + (1 if k < clients % processes else 0) for k in range(processes)]
    parts_urls = [urls[k::processes] for k in range(processes)]
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_drive_once_part, [(base, u, n) for u, n in zip(parts_urls, shares) if n and u])
    elapsed = time.perf_counter() - t0
    return summary([x for lat, _ in parts for x in lat], sum(e for _, e in parts), elapsed)


def summary(latencies: list[float], errors: int, elapsed: float) -> dict:
    latencies = sorted(latencies)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"n": len(latencies), "rps": len(latencies) / elapsed if elapsed else 0.0, "p50": q[49] * 1000,
            "p95": q[94] * 1000, "max": latencies[-1] * 1000 if latencies else 0.0, "errors": errors}


def load(base: str, urls: list[str], seconds: float, clients: int, processes: int) -> dict:
    """Spread the clients over `processes` load-generator processes, so that on a small machine
    the client's own CPU (parsing, gzip) is not what is measured."""
    shares = [clients // processes + (1 if k < clients % processes else 0) for k in range(processes)]
    firsts = [sum(shares[:k]) for k in range(processes)]
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_drive_part, [(base, urls, seconds, n, f) for n, f in zip(shares, firsts) if n])
    elapsed = time.perf_counter() - t0
    latencies = sorted(x for lat, _ in parts for x in lat)
    errors = sum(e for _, e in parts)
    # elapsed includes starting the processes; the rate uses the driving time itself
    return summary(latencies, errors, min(elapsed, seconds))


def run(coro):
    try:  # uvloop makes the load generator cheaper, leaving more of the CPU to the server
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def line(name: str, res: dict, goal: float, key: str = "p95") -> bool:
    ok = res["errors"] == 0 and res[key] <= goal
    print(f"{name:34s} {res['n']:5d} verzoeken {res['rps']:7.0f}/s  p50 {res['p50']:7.1f} ms  p95 {res['p95']:7.1f} ms  "
          f"max {res['max']:7.1f} ms  fouten {res['errors']}  doel {key} <= {goal:.0f} ms: {'gehaald' if ok else 'NIET GEHAALD'}")
    return ok


def wait_for_edition(cache_root: Path, timeout: float) -> float | None:
    """Seconds until the edition marker of the running server appears (None: not within timeout)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if any(cache_root.glob("*/editie.json")):
            return time.perf_counter() - t0
        time.sleep(0.5)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="map met trendstudie.duckdb (standaard $TRENDSTUDIE_HOME)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duur van de warme meting")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processen die de clients draaien (standaard 2: één proces is zelf de flessenhals)")
    parser.add_argument("--zonder-editie", action="store_true",
                        help="de editie niet voorbereiden: koude pagina's worden op verzoek gemaakt")
    args = parser.parse_args()
    from trendstudie.config import settings

    database = settings(home=args.home).database
    cache_root = database.parent / "cache" / "web-pages"
    # a cold start: no page or report of an earlier run
    shutil.rmtree(cache_root, ignore_errors=True)
    shutil.rmtree(database.parent / "cache" / "web-rapporten", ignore_errors=True)
    t_start = time.perf_counter()
    proc, base = start(database, args.workers, prepare=not args.zonder_editie)
    print(f"server gestart in {time.perf_counter() - t_start:.1f} s ({args.workers} worker(s))")
    try:
        if not args.zonder_editie:
            took = wait_for_edition(cache_root, 1800)
            if took is None:
                raise SystemExit("de editie was niet binnen 30 minuten voorbereid")
            print(f"editie voorbereid (zware pagina's en downloads, eenmaal per build) in {took:.0f} s na de start")
        # the server's own worker processes start with an empty memory cache: cold is cold
        proc.terminate()
        proc.wait(timeout=10)
        proc, base = start(database, args.workers, prepare=False)
        codes = [r["code"] for r in httpx.get(base + "/api/v1/regions?kind=GM&current=true").json()]
        indicators = [m["indicator_id"] for m in httpx.get(base + "/api/v1/indicators").json() if m.get("last_period")]
        trends = [t["id"] for t in httpx.get(base + "/api/v1/trends").json()]
        cold = ([f"/gemeente/{c}" for c in codes] + [f"/indicator/{i}" for i in indicators]
                + [f"/trend/{t}" for t in trends] + [f"/samenhang/{t}" for t in trends]
                + ["/", "/indicatoren", "/trends", "/downloads", "/api", "/over"])
        print(f"{args.clients} gelijktijdige clients in {args.client_processes} processen")
        ok = True
        res = load_once(base, cold, args.clients, args.client_processes)
        ok &= line(f"koud: {len(cold)} verschillende URL's", res, GOAL_COLD_P95)
        res = load(base, cold, args.seconds, args.clients, args.client_processes)
        ok &= line(f"warm: dezelfde URL's, {args.seconds:.0f} s", res, GOAL_WARM_P95)
        api = [f"/api/v1/gemeenten/{c}/profile" for c in codes[:40]]
        load_once(base, api, args.clients, args.client_processes)
        res = load(base, api, args.seconds, args.clients, args.client_processes)
        ok &= line("warm: API-profiel", res, GOAL_WARM_P95)
        sample = random.Random(3).sample(codes, 3)
        downloads = ["/download/indicatoren.xlsx", "/download/indicatoren.csv", "/download/indicatoren.json",
                     f"/gemeente/{sample[0]}/data.xlsx", f"/gemeente/{sample[1]}/prognose.csv",
                     f"/download/indicatoren.xlsx?gemeente={sample[2]}", "/svg/kaart/bevolking.png",
                     f"/gemeente/{sample[0]}/rapport.html"]
        worst = 0.0
        for u in downloads:
            t0 = time.perf_counter()
            r = httpx.get(base + u, timeout=300)
            ms = (time.perf_counter() - t0) * 1000
            worst = max(worst, ms)
            good = r.status_code == 200 and ms <= GOAL_DOWNLOAD
            ok &= good
            print(f"download {u:50s} {len(r.content) / 1e6:6.2f} MB {ms:8.0f} ms  doel <= {GOAL_DOWNLOAD:.0f} ms: "
                  f"{'gehaald' if good else 'NIET GEHAALD'}")
        size = sum(f.stat().st_size for f in cache_root.rglob("*.resp"))
        print(f"paginacache op schijf: {size / 1e6:.1f} MB (plafond {json.dumps(200)} MB)")
        print("alle doelen gehaald" if ok else "DOEL NIET GEHAALD")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
