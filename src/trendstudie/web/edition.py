"""Prepare an edition: render the site's heavy pages and downloads once per build, into the
page cache on disk that every worker process reads.

A gemeente page takes some tenths of a second to render (findings, report chapters, charts,
the analysis in words) and the Excel file of all indicators many seconds; with 50 visitors
asking for different pages at once that adds up to waits of many seconds. The store does not
change between builds, so `prepare` renders, once per build and program version, every page a
visitor can reach without typing (home, the 342 gemeenten, the indicators in their latest period,
trends, samenhang, lists) and the downloads of all indicators. What is not prepared (other
periods, comparisons, prognoses with other scenarios) is rendered on first request and then
cached as before.

The preparation runs in one process per core (at most 4, `processes`), each rendering its share of
the URLs, all at the lowest CPU priority (`lower_priority`): on an idle machine of two cores it
takes half the time of one process, and a visitor's page, rendered on request in a worker meanwhile,
is not queued behind it (the workers run at normal priority and render it themselves).

    python -m trendstudie.web.edition [DATABASE]      # or: trendstudie serve (starts it itself,
                                                      # with --met-server: it stops with the server)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

MARKER = "editie.json"


def edition_urls(data) -> list[str]:
    """Every URL of the edition, the downloads of all indicators first (slowest to make)."""
    urls = ["/download/indicatoren.xlsx", "/download/indicatoren.csv", "/download/indicatoren.json",
            "/", "/indicatoren", "/trends", "/downloads", "/api", "/over"]
    urls += [f"/gemeente/{g.code}" for g in data.sorted_gemeenten]
    urls += [f"/indicator/{m.id}" for m in data.indicators.values() if data.periods.get(m.id)]
    urls += [f"/trend/{t}" for t in sorted(data.kb.trends)]
    urls += [f"/samenhang/{t}" for t in sorted(data.kb.trends)]
    return urls


async def _get(app, url: str, past_cache: bool = False) -> int:
    """One GET through the whole app (middleware included, so the response lands in the cache;
    `past_cache`: neither answered from the page cache nor stored in it)."""
    path, _, query = url.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"editie"), (b"accept-encoding", b"gzip")], "client": ("127.0.0.1", 0),
             "server": ("editie", 80)}
    if past_cache:
        from .app import PAST_CACHE

        scope[PAST_CACHE] = True
    status = 0

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def marker(app) -> Path:
    return app.state.cache.directory / MARKER


def prepare(app, part: tuple[int, int] = (0, 1)) -> dict:
    """Render the URLs of the edition through `app` (whose cache keeps them on disk): with `part`
    (k, n) the k-th of n shares (URLs k, k+n, …: each process of a parallel preparation its own).
    Returns what was done; `main` writes the marker when every share succeeded."""
    k, n = part
    urls = edition_urls(app.state.data)[k::n]
    t0, cpu0 = time.perf_counter(), time.process_time()
    failed = []

    async def run():
        for url in urls:
            if await _get(app, url) != 200:
                failed.append(url)

    asyncio.run(run())
    result = {"urls": len(urls), "failed": failed, "seconds": round(time.perf_counter() - t0, 1),
              "cpu_seconds": round(time.process_time() - cpu0, 1)}
    return result


def write_marker(app, result: dict) -> None:
    path = marker(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result), encoding="utf-8")


def processes() -> int:
    """How many processes prepare an edition: one per core this process may use, at most 4 (each
    loads the store: some hundreds of MB). At the lowest priority they take only idle time, so
    they cost visitors nothing and finish in half the time on two cores."""
    from ..config import processes as per_core

    return per_core(4)


def lower_priority() -> int:
    """Run this process (and the threads it starts afterwards: DuckDB's) at the lowest CPU
    priority, behind the server's workers: a visitor's page, rendered on request while the edition
    is being prepared, is not queued behind the preparation. Returns the nice value now."""
    try:
        return os.nice(19 - os.nice(0))
    except OSError:
        return os.nice(0)


def _prepared_already(database: Path) -> bool:
    """Whether the edition of this build and program is on disk (the marker where `create_app`
    would put it), asking the store only for its build time."""
    from ..reader import Reader
    from .data import etag_of

    reader = Reader(database)
    try:
        built_at = reader.built_at
    finally:
        reader.close()
    return (database.parent / "cache" / "web-pages" / etag_of(database, built_at).strip('"') / MARKER).exists()


def main(argv: list[str] | None = None) -> int:
    """Prepare the edition of the store at DATABASE (default: $TRENDSTUDIE_HOME), in `processes()`
    processes at the lowest priority (`--deel k/n`: one share, started by the first process)."""
    import subprocess

    from ..config import settings
    from ..errors import TrendstudieError
    from . import create_app

    t0 = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--met-server" in argv:  # started by `trendstudie serve` (or by the first process): stop with it
        argv.remove("--met-server")
        from .workers import when_parent_gone

        # the cache files are written whole or not at all (os.replace): stopping at once is safe
        when_parent_gone(lambda: os._exit(0), "editie-bewaker")
        # Ctrl+C in the terminal reaches the whole process group: it is for the server, which then
        # ends this helper itself (a traceback of an interrupted helper would only confuse).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    part = None
    if "--deel" in argv:
        i = argv.index("--deel")
        k, _, n = argv[i + 1].partition("/")
        part = (int(k), int(n))
        del argv[i:i + 2]
    database = Path(argv[0]) if argv else settings().database
    lower_priority()
    helpers: list[subprocess.Popen] = []
    try:
        if part is None:
            if _prepared_already(database):  # without loading the app: seconds of CPU at every server start
                return 0
            n = processes()
            helpers = [subprocess.Popen([sys.executable, "-m", "trendstudie.web.edition", str(database), "--met-server",
                                         "--deel", f"{k}/{n}"], stdout=subprocess.DEVNULL) for k in range(1, n)]
            part = (0, n)
        app = create_app(database)
    except TrendstudieError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        for h in helpers:
            h.terminate()
        return 1
    result = prepare(app, part=part)
    if part[0] != 0:  # a share: the first process writes the marker when every share is done
        return 1 if result["failed"] else 0
    shares_ok = all(h.wait() == 0 for h in helpers)
    if result["failed"] or not shares_ok:
        example = f", bijvoorbeeld {result['failed'][0]}" if result["failed"] else ""
        print(f"Editie niet compleet: {len(result['failed'])} pagina's gaven een fout{example}"
              f"{'' if shares_ok else '; een van de andere processen stopte met een fout'}.", file=sys.stderr)
        return 1
    total = len(edition_urls(app.state.data))
    import resource

    shares = resource.getrusage(resource.RUSAGE_CHILDREN)  # the other processes, waited for above
    summary = {"urls": total, "failed": [], "seconds": round(time.perf_counter() - t0, 1), "processes": part[1],
               "cpu_seconds": round(time.process_time() + shares.ru_utime + shares.ru_stime, 1)}
    write_marker(app, summary)
    print(f"Editie voorbereid: {total} pagina's en downloads in {summary['seconds']} s, {summary['cpu_seconds']} s CPU "
          f"({part[1]} processen).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
