"""Verkenning benchmark: 200 participants submit their answers at once (PUT
/api/v1/deelname/{token}, 10 items each) against the server on a free loopback port; prints the
p50/p95 latency and errors against the goal p95 ≤ 200 ms.

The answers go to a fresh SQLite file in a temporary folder (or to TRENDSTUDIE_DATABASE_URL when
set); the server reads the store in --home.

    python benchmarks/verkenning.py [--home DIR] [--deelnemers 200] [--items 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

GOAL_MS = 200.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: Path, url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = "import sys; from trendstudie.web import serve; serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], 1)"
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(database)],
                            env=dict(os.environ, TRENDSTUDIE_DATABASE_URL=url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(base + "/api/v1/info", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.3)
        if proc.poll() is not None:
            sys.exit("server stopped: " + proc.stderr.read().decode(errors="replace")[-2000:])
    proc.kill()
    sys.exit("server did not start within 120 s")


async def submit_all(base: str, tokens: list[str], ids: list[int]) -> tuple[list[float], int]:
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        # open the connections first, so the measurement is of the submissions, not of TCP set-up
        await asyncio.gather(*(client.get(base + "/api/v1/info") for _ in tokens))
        go = asyncio.Event()

        async def one(k: int, token: str) -> tuple[float, int]:
            body = {"antwoorden": [{"item": i, "impact": 1 + (k + j) % 5, "onzekerheid": 1 + (k * 3 + j) % 5,
                                    "horizon": "5-10 jaar", "relevantie": 3} for j, i in enumerate(ids)]}
            await go.wait()
            t0 = time.perf_counter()
            r = await client.put(f"{base}/api/v1/deelname/{token}", json=body)
            return (time.perf_counter() - t0) * 1000, r.status_code

        tasks = [asyncio.create_task(one(k, t)) for k, t in enumerate(tokens)]
        await asyncio.sleep(0)
        go.set()
        results = await asyncio.gather(*tasks)
    return [ms for ms, _ in results], sum(1 for _, status in results if status != 200)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), to tell the server's cost from a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default=os.environ.get("TRENDSTUDIE_HOME", str(Path.home() / ".trendstudie")))
    ap.add_argument("--deelnemers", type=int, default=200)
    ap.add_argument("--items", type=int, default=10)
    args = ap.parse_args()
    database = Path(args.home) / "trendstudie.duckdb"
    if not database.exists():
        sys.exit(f"Geen database in {args.home}: bouw die eerst (trendstudie build --bundle <map>).")
    from trendstudie.verkenning import service
    from trendstudie.verkenning.db import Database

    tmp = tempfile.mkdtemp(prefix="verkenning-bench-")
    url = os.environ.get("TRENDSTUDIE_DATABASE_URL") or f"sqlite:///{tmp}/verkenning.sqlite"
    db = Database(url)
    items = [service.Prefill(None, f"Item {i}", "", "demografie", None, "eigen weging", []) for i in range(args.items)]
    made = service.create(db, "GM0193", "Zwolle", "Benchmark", items)
    tokens = service.invite(db, made.id, args.deelnemers)
    with db.read() as s:
        ids = [i.id for i in s.get(service.Verkenning, made.id).items]
    proc, base = start(database, url)
    try:
        cpu0 = cpu_seconds(proc.pid)
        wall0 = time.perf_counter()
        latencies, errors = asyncio.run(submit_all(base, tokens, ids))
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        service.remove(db, made.id)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]
    backend = "SQLite" if url.startswith("sqlite") else url.split(":")[0]
    print(f"{args.deelnemers} gelijktijdige inzendingen ({args.items} items elk, {backend}): "
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms, fouten {errors}")
    print(f"server: {cpu / args.deelnemers * 1000:.1f} ms processortijd per inzending (incl. het openen van de "
          f"verbindingen), {wall:.1f} s voor alles; belasting van de machine: {os.getloadavg()[0]:.1f} op "
          f"{os.cpu_count()} kernen")
    print(f"doel: p95 ≤ {GOAL_MS:.0f} ms → {'gehaald' if p95 <= GOAL_MS and not errors else 'NIET gehaald'}")


if __name__ == "__main__":
    main()
