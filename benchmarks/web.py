"""Web benchmark: start the server as `trendstudie serve` does (trendstudie.web.serve with its
uvicorn worker processes) on a free loopback port, drive it with 50 concurrent clients (httpx,
asyncio, spread over two processes) and print latency, errors and the server's CPU time per
request against the goals of issue 16:

- cold, every URL different: all 342 gemeente pages, every indicator page, the lists, trends
  and samenhang pages, each requested exactly once by one of the 50 clients: p95 <= 1 s;
- warm, cached pages (the same URLs again, random order, for --seconds): p95 <= 100 ms;
- downloads, each the first time it is asked for (all indicators as CSV, Excel and JSON, a
  gemeente's data, a prognose, a chart as PNG, a report): every one <= 3 s.

Three servers, each started from an empty memory cache:

1. without an edition (`prepare=False`, empty disk cache): the cold URLs rendered on request, as
   in the first minutes after a new build; its CPU time per page is what rendering costs;
2. `trendstudie serve` as shipped: it prepares the edition (the heavy pages and downloads,
   rendered once per build into the page cache on disk, see trendstudie/web/edition.py) in the
   background, one process per core at the lowest priority; the time and CPU that takes are
   printed, and what one visitor meanwhile waits for a page rendered on request;
3. a restart on the prepared edition (new worker processes: nothing in memory): cold, warm, API
   (its 40 profiles removed from the page cache first: asked for the first time) and downloads.
   This is what visitors get once the edition is there, and where the goals apply: the summary
   names every goal that is not met. Step 1 is printed for comparison, without a goal: that
   rendering cost is what the edition exists for.

The clients speak HTTP/1.1 through h11 on one keep-alive connection each (`--client httpx` for
httpx's client, as before): on two cores shared with the server, httpx's own CPU (30 ms to make a
client, 4 ms per request) was what the latency measured. Each line prints the clients' CPU per
request beside the server's.

The machine may be shared: the load average at the start is printed, and the server's CPU time
per request (from /proc, all its processes) does not depend on the other load.

    python benchmarks/web.py [--home DIR] [--seconds 10] [--clients 50] [--workers 2] [--client-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
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
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: Path, workers: int, prepare: bool, idle: bool = True) -> tuple[subprocess.Popen, str]:
    """The server as `trendstudie serve --workers N` runs it (`prepare`: with the edition); with
    `idle`, returns once its processes are idle (see `settle`)."""
    port = free_port()
    code = ("import sys; from trendstudie.web import serve; "
            "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), prepare=sys.argv[4] == '1')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(database), str(workers), "1" if prepare else "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600  # a crowded machine: starting two workers can take minutes
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server stopped: " + proc.stderr.read().decode(errors="replace"))
        try:
            if httpx.get(base + "/api/v1/info", timeout=5).status_code == 200:
                # every worker answers (uvicorn spreads connections over them; each loads the store)
                for _ in range(4 * workers):
                    httpx.get(base + "/api/v1/info", timeout=120)
                if idle:
                    settle(proc)
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit("server did not start within 600 s")


def settle(proc: subprocess.Popen, timeout: float = 300) -> None:
    """Wait until the server's processes are idle (under a tenth of a core for two seconds): every
    worker has loaded the store and warmed up before the clock starts. The edition helper, when
    it has work, never settles: then the timeout ends the wait."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        c0 = cpu_seconds(proc.pid)
        time.sleep(2)
        if cpu_seconds(proc.pid) - c0 < 0.2:
            return


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(x) for x in task.read_text().split()]
        except OSError:
            pass
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants alive now (the uvicorn
    workers, the edition helper), in seconds."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(p)
    return total


class Connection:
    """One client's keep-alive HTTP/1.1 connection, parsed by h11 (the parser uvicorn itself may use):
    a tenth of the CPU per request of httpx's client, whose own cost on a machine of two cores,
    where the load generator runs beside the server, was measured as the server's latency."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.h11 = None

    async def get(self, target: str) -> tuple[int, int]:
        """GET `target`; the status and the number of body bytes (read whole, not unzipped: the
        clients' own gzip work would be measured as the server's latency)."""
        import h11

        if self.streams is None or self.h11.our_state is not h11.IDLE:
            await self.close()
            self.streams = await asyncio.open_connection(self.host, self.port)
            self.h11 = h11.Connection(h11.CLIENT)
        reader, writer = self.streams
        conn = self.h11
        writer.write(conn.send(h11.Request(method="GET", target=target, headers=[
            ("host", f"{self.host}:{self.port}"), ("accept-encoding", "gzip")])))
        writer.write(conn.send(h11.EndOfMessage()))
        status, size = 0, 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(1 << 16))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                size += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("de server sloot de verbinding")
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        return status, size

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def drive(base: str, urls: list[str], clients: int, seconds: float | None, seed: int,
                client_kind: str = "h11") -> tuple[list[float], int, float, float]:
    """`clients` simulated clients, each on one keep-alive connection (httpx's shared pool is
    itself a bottleneck at 50 connections and would be measured instead of the server).
    With `seconds` None every URL is asked for exactly once (the clients share one queue), else
    each client asks for random URLs until the time is up. The clients are made before the clock
    starts (httpx: one SSL context for all, else 30 ms of CPU per client; its transport's imports
    on a first request). Returns latencies, error count, and this process's CPU and wall seconds
    while the clock ran."""
    import ssl
    from urllib.parse import urlsplit

    import h11

    latencies: list[float] = []
    errors = 0
    queue = list(reversed(urls))
    if client_kind == "httpx":
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        context = ssl.create_default_context()
        made = [httpx.AsyncClient(base_url=base, limits=limits, timeout=300, verify=context,
                                  headers={"accept-encoding": "gzip"}) for _ in range(clients)]
        await made[0].get("/robots.txt")
    else:
        where = urlsplit(base)
        made = [Connection(where.hostname, where.port) for _ in range(clients)]

    async def fetch(client, url: str) -> int:
        if client_kind == "httpx":
            async with client.stream("GET", url) as r:
                async for _ in r.aiter_raw():
                    pass
            return r.status_code
        return (await client.get(url))[0]

    c0, t0 = time.process_time(), time.perf_counter()
    until = None if seconds is None else t0 + seconds

    def next_url(rnd: random.Random) -> str | None:
        if until is None:
            return queue.pop() if queue else None
        return rnd.choice(urls) if time.perf_counter() < until else None

    async def one_client(i: int) -> None:
        nonlocal errors
        rnd = random.Random(seed * 1000 + i)
        client = made[i]
        while (url := next_url(rnd)) is not None:
            t = time.perf_counter()
            try:
                if await fetch(client, url) != 200:
                    errors += 1
            except (httpx.HTTPError, OSError, h11.ProtocolError):  # (ConnectionError is an OSError)
                errors += 1
                if client_kind != "httpx":
                    await client.close()
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(one_client(i) for i in range(clients)))
    cpu, elapsed = time.process_time() - c0, time.perf_counter() - t0
    for client in made:
        await (client.aclose() if client_kind == "httpx" else client.close())
    return latencies, errors, cpu, elapsed


def _drive_part(args: tuple) -> tuple[list[float], int, float, float]:
    return asyncio.run(drive(*args))


def load(proc: subprocess.Popen, base: str, urls: list[str], clients: int, processes: int,
         seconds: float | None = None, client_kind: str = "h11") -> dict:
    """Spread the clients over `processes` load-generator processes (on a small machine one
    process's own CPU would be what is measured). Once (`seconds` None): every URL once,
    shuffled, each process its share of URLs and clients; else random URLs for `seconds`."""
    urls = list(urls)
    random.Random(7).shuffle(urls)
    shares = [clients // processes + (1 if k < clients % processes else 0) for k in range(processes)]
    parts = [(base, urls[k::processes] if seconds is None else urls, n, seconds, k, client_kind)
             for k, n in enumerate(shares) if n]
    with multiprocessing.get_context("spawn").Pool(len(parts)) as pool:
        pool.apply(time.sleep, (0,))  # the load generators are up before the clock starts
        cpu0 = cpu_seconds(proc.pid)
        results = pool.map(_drive_part, parts)
        cpu = cpu_seconds(proc.pid) - cpu0  # (the clients' set-up beside it: no work for the server)
    elapsed = max(r[3] for r in results)
    client_cpu = sum(r[2] for r in results)
    latencies = sorted(x for r in results for x in r[0])
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    n = len(latencies)
    return {"n": n, "rps": n / elapsed, "p50": q[49] * 1000, "p95": q[94] * 1000,
            "max": latencies[-1] * 1000 if latencies else 0.0, "errors": sum(r[1] for r in results),
            "cpu": cpu / n * 1000 if n else 0.0, "client_cpu": client_cpu / n * 1000 if n else 0.0,
            "cores_server": cpu / elapsed, "cores_clients": client_cpu / elapsed}


def line(name: str, res: dict, goal: float | None) -> bool:
    """Print one measurement; against its goal (p95 and no errors), or, with `goal` None, for
    comparison only. Besides the server's CPU per request the clients' own CPU per request and the
    cores both used on average: on a machine of two cores where the load generator runs beside
    the server, a latency the server's CPU does not explain is waiting for a core."""
    ok = res["errors"] == 0 and (goal is None or res["p95"] <= goal)
    verdict = ("ter vergelijking, geen doel" if goal is None else
               f"doel p95 <= {goal:.0f} ms: {'gehaald' if ok else 'NIET GEHAALD'}")
    print(f"{name:42s} {res['n']:5d} verzoeken {res['rps']:6.0f}/s  p50 {res['p50']:7.1f} ms  p95 {res['p95']:7.1f} ms"
          f"  max {res['max']:7.1f} ms  fouten {res['errors']}  CPU per verzoek: server {res['cpu']:5.1f} ms,"
          f" clients {res['client_cpu']:5.1f} ms (kernen bezet: server {res['cores_server']:.2f},"
          f" clients {res['cores_clients']:.2f})  {verdict}", flush=True)
    return ok


def visitor(proc: subprocess.Popen, base: str, urls: list[str]) -> None:
    """One visitor asking for pages, one after the other, while the edition is being prepared
    (each rendered on request by a worker, beside the preparation at the lowest priority); and the
    priority the preparing processes run at."""
    nice = set()
    for pid in _descendants(proc.pid):
        try:
            if b"trendstudie.web.edition" in Path(f"/proc/{pid}/cmdline").read_bytes():
                nice.add(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16]))
        except (OSError, ValueError, IndexError):  # gone meanwhile
            pass
    nice = sorted(nice)
    latencies = []
    for url in urls:
        t0 = time.perf_counter()
        httpx.get(base + url, timeout=300)
        latencies.append((time.perf_counter() - t0) * 1000)
    print(f"een bezoeker terwijl de editie wordt voorbereid (nice {', '.join(map(str, nice)) or '?'}): "
          f"{len(urls)} gemeentepagina's na elkaar, op verzoek gemaakt: mediaan {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms", flush=True)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def wait_for_edition(cache_root: Path, proc: subprocess.Popen, timeout: float) -> tuple[float, float] | None:
    """Seconds until the edition marker appears, and the server's CPU seconds meanwhile (None:
    not within `timeout`)."""
    t0, cpu0 = time.perf_counter(), cpu_seconds(proc.pid)
    cpu = 0.0
    while time.perf_counter() - t0 < timeout:
        cpu = max(cpu, cpu_seconds(proc.pid) - cpu0)  # the helper's CPU is gone once it exits
        if any(cache_root.glob("*/editie.json")):
            return time.perf_counter() - t0, cpu
        time.sleep(0.5)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="map met trendstudie.duckdb (standaard $TRENDSTUDIE_HOME)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duur van elke warme meting")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processen die de clients draaien (standaard 2: één proces is zelf de flessenhals)")
    parser.add_argument("--client", choices=["h11", "httpx"], default="h11",
                        help="de HTTP-client van de clients (standaard h11: een tiende van de CPU van httpx per verzoek)")
    parser.add_argument("--stappen", default="1,2,3",
                        help="welke stappen (standaard 1,2,3; 3 vraagt om een editie van stap 2)")
    args = parser.parse_args()
    steps = {int(x) for x in args.stappen.split(",") if x.strip()}
    from trendstudie.config import settings

    database = settings(home=args.home).database
    cache_root = database.parent / "cache" / "web-pages"

    def fresh() -> None:  # no page or report of an earlier run
        shutil.rmtree(cache_root, ignore_errors=True)
        shutil.rmtree(database.parent / "cache" / "web-rapporten", ignore_errors=True)

    print(f"belasting van de machine bij de start: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} kernen; "
          f"{args.clients} gelijktijdige clients ({args.client}) in {args.client_processes} processen, {args.workers} worker(s)", flush=True)
    goals: list[tuple[str, bool]] = []  # (what, held) of section 3, the goals of issue 16

    def goal(what: str, res: dict, limit: float) -> None:
        goals.append((what, line(what, res, limit)))

    if 1 in steps:
        fresh()
    proc, base = start(database, args.workers, prepare=False)
    try:
        codes = [r["code"] for r in httpx.get(base + "/api/v1/regions?kind=GM&current=true").json()]
        indicators = [m["indicator_id"] for m in httpx.get(base + "/api/v1/indicators").json() if m.get("last_period")]
        trends = [t["id"] for t in httpx.get(base + "/api/v1/trends").json()]
        cold = ([f"/gemeente/{c}" for c in codes] + [f"/indicator/{i}" for i in indicators]
                + [f"/trend/{t}" for t in trends] + [f"/samenhang/{t}" for t in trends]
                + ["/", "/indicatoren", "/trends", "/downloads", "/api", "/over"])
        if 1 in steps:
            print("1. ter vergelijking, geen doel: zonder voorbereide editie, elke pagina op verzoek gemaakt (wat het "
                  "maken van de pagina's kost; zo is het alleen terwijl een nieuwe editie wordt voorbereid: de zware "
                  "inhoud wordt eens per editie gemaakt, zie stap 2)", flush=True)
            res = load(proc, base, cold, args.clients, args.client_processes, client_kind=args.client)
            line(f"op verzoek: {len(cold)} verschillende URL's", res, None)
        stop(proc)
        if 2 in steps:
            print("2. trendstudie serve: de editie voorbereiden (op de achtergrond, met lagere prioriteit)", flush=True)
            fresh()
            t0 = time.perf_counter()
            proc, base = start(database, args.workers, prepare=True, idle=False)
            visitor(proc, base, [f"/gemeente/{c}" for c in random.Random(5).sample(codes, 10)])
            took = wait_for_edition(cache_root, proc, 3600)
            if took is None:
                raise SystemExit("de editie was niet binnen een uur voorbereid")
            done = json.loads(next(cache_root.glob("*/editie.json")).read_text(encoding="utf-8"))
            print(f"editie voorbereid: {done['urls']} pagina's en downloads in {done['seconds']:.0f} s "
                  f"({done.get('cpu_seconds', 0):.0f} s CPU, {done.get('processes', 1)} processen met nice 19; "
                  f"{time.perf_counter() - t0:.0f} s na de start van de server)", flush=True)
            stop(proc)
        if 3 not in steps:
            return
        if not any(cache_root.glob("*/editie.json")):
            raise SystemExit("stap 3 vraagt om een voorbereide editie: draai ook stap 2")

        print("3. herstart op de voorbereide editie (nieuwe workers, niets in het geheugen): de doelen van issue 16",
              flush=True)
        api = [f"/api/v1/gemeenten/{c}/profile" for c in codes[:40]]
        from trendstudie.web.app import ResponseCache

        for directory in cache_root.glob("*/"):  # asked for by an earlier run: then not the first time
            for url in api:
                ResponseCache(directory=directory).forget(url + "?")
        proc, base = start(database, args.workers, prepare=True)
        res = load(proc, base, cold, args.clients, args.client_processes, client_kind=args.client)
        goal(f"koud: {len(cold)} verschillende URL's", res, GOAL_COLD_P95)
        res = load(proc, base, cold, args.clients, args.client_processes, args.seconds, client_kind=args.client)
        goal(f"warm: dezelfde URL's, {args.seconds:.0f} s", res, GOAL_WARM_P95)
        res = load(proc, base, api, args.clients, args.client_processes, client_kind=args.client)
        goal(f"API-profiel, eerste keer ({len(api)} gemeenten)", res, GOAL_COLD_P95)
        res = load(proc, base, api, args.clients, args.client_processes, args.seconds, client_kind=args.client)
        goal(f"warm: API-profiel, {args.seconds:.0f} s", res, GOAL_WARM_P95)
        sample = random.Random(3).sample(codes, 3)
        downloads = ["/download/indicatoren.xlsx", "/download/indicatoren.csv", "/download/indicatoren.json",
                     f"/gemeente/{sample[0]}/data.xlsx", f"/gemeente/{sample[1]}/prognose.csv",
                     f"/download/indicatoren.xlsx?gemeente={sample[2]}", "/svg/kaart/bevolking.png",
                     f"/gemeente/{sample[0]}/rapport.html"]
        for u in downloads:
            t0 = time.perf_counter()
            r = httpx.get(base + u, timeout=300)
            ms = (time.perf_counter() - t0) * 1000
            good = r.status_code == 200 and ms <= GOAL_DOWNLOAD
            goals.append((f"download {u}", good))
            print(f"download {u:50s} {len(r.content) / 1e6:6.2f} MB {ms:8.0f} ms  doel <= {GOAL_DOWNLOAD:.0f} ms: "
                  f"{'gehaald' if good else 'NIET GEHAALD'}", flush=True)
        size = sum(f.stat().st_size for f in cache_root.rglob("*.resp"))
        from trendstudie.web.app import disk_cache_bytes

        cap = disk_cache_bytes()
        goals.append(("paginacache onder het plafond", size <= cap))
        print(f"paginacache op schijf: {size / 1e6:.1f} MB (plafond {cap / 1e6:.0f} MB)")
        print(f"belasting van de machine aan het eind: {os.getloadavg()[0]:.1f} (1 min)")
        missed = [what for what, held in goals if not held]
        print(f"samenvatting stap 3 (met voorbereide editie): {len(goals) - len(missed)} van {len(goals)} doelen gehaald"
              + ("" if not missed else "; NIET GEHAALD: " + "; ".join(missed)))
        if 1 in steps:
            print("stap 1 (zonder editie) staat er ter vergelijking: voor die situatie geldt geen doel")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
