"""Web benchmark: start the server on a free loopback port, drive it with 50 concurrent clients
(httpx, asyncio, spread over two processes) for a bounded time per target, print requests/s,
p50/p95 latency and errors.

Goal: 0 errors and gemeente page p95 < 100 ms at 50 concurrent clients (pages are rendered once
per build and then served from the cache; the first request of each URL is a warm-up).

    python benchmarks/web.py [--home DIR] [--seconds 10] [--clients 50] [--workers 1] [--client-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = "import sys; from trendstudie.web import serve; serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))"
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(database), str(workers)],
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
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    # elapsed includes starting the processes; the rate uses the driving time itself
    return {"n": len(latencies), "rps": len(latencies) / min(elapsed, seconds), "p50": q[49] * 1000,
            "p95": q[94] * 1000, "errors": errors}


def run(coro):
    try:  # uvloop makes the load generator cheaper, leaving more of the CPU to the server
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="map met trendstudie.duckdb (standaard $TRENDSTUDIE_HOME)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processen die de clients draaien (standaard 2: één proces is zelf de flessenhals)")
    args = parser.parse_args()
    from trendstudie.config import settings

    database = settings(home=args.home).database
    proc, base = start(database, args.workers)
    try:
        codes = [r["code"] for r in httpx.get(base + "/api/v1/regions?kind=GM&current=true").json()]
        rnd = random.Random(1)
        sample = rnd.sample(codes, 40)
        targets = {
            "gemeentepagina": [f"/gemeente/{c}" for c in sample],
            "API profiel": [f"/api/v1/gemeenten/{c}/profile" for c in sample],
            "API indicatorwaarden": [f"/api/v1/indicator-values?indicator=bevolking&region={c}" for c in sample],
        }
        warm = time.perf_counter()
        for urls in targets.values():
            for u in urls:
                httpx.get(base + u, timeout=60).raise_for_status()
        print(f"opwarmen (elke URL eenmaal, {sum(len(v) for v in targets.values())} URL's): "
              f"{time.perf_counter() - warm:.1f} s")
        print(f"{args.clients} gelijktijdige clients in {args.client_processes} processen, {args.seconds:.0f} s per doel, "
              f"{args.workers} worker(s)")
        ok = True
        for name, urls in targets.items():
            res = load(base, urls, args.seconds, args.clients, args.client_processes)
            print(f"{name:22s} {res['rps']:8.0f} verzoeken/s  p50 {res['p50']:6.1f} ms  p95 {res['p95']:6.1f} ms  "
                  f"fouten {res['errors']} (van {res['n']})")
            ok &= res["errors"] == 0
            if name == "gemeentepagina":
                ok &= res["p95"] < 100
        print("doel gehaald (0 fouten, gemeentepagina p95 < 100 ms)" if ok else "DOEL NIET GEHAALD")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
