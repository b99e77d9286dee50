"""Nothing is lost: 200 participants submitting at once all land, with their values, also when
the server is killed and started again in the middle of the run (clients retry, as a browser's
autosave or another survey tool would). Against SQLite, and PostgreSQL when .ci/run started it.
The server is stopped after a number of acknowledged answers, not after a time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from trendstudie.verkenning import service
from trendstudie.verkenning.db import Database
from trendstudie.verkenning.models import Answer, Participant



def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

N = 200
ITEMS = 3


class Server:
    def __init__(self, database, url: str, workers: int = 1):
        self.database, self.url, self.port, self.workers = database, url, free_port(), workers
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        code = ("import sys; from trendstudie.web import serve; "  # answers only: no edition helper
                "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), prepare=False)")
        env = dict(os.environ, TRENDSTUDIE_DATABASE_URL=self.url)
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(self.port), str(self.database),
                                      str(self.workers)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(600):
            try:
                if httpx.get(self.base + "/api/v1/info", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
            if self.proc.poll() is not None:
                raise RuntimeError("server stopped: " + self.proc.stderr.read().decode(errors="replace"))
        raise RuntimeError("server did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def kill_worker(self):
        """One of the workers killed outright (web/workers.py: the supervisor starts another)."""
        from test_serve import _children

        pid = min(p for p, cmd in _children(self.proc.pid).items() if "trendstudie.web.workers" in cmd)
        os.kill(pid, 9)


def _scores(k: int, ids: list[int]) -> list[dict]:
    return [{"item": i, "impact": 1 + (k + j) % 5, "onzekerheid": 1 + (k * 3 + j) % 5,
             "horizon": service.HORIZONS[1 + (k + j) % 3], "relevantie": 1 + k % 5, "toelichting": f"deelnemer {k}"}
            for j, i in enumerate(ids)]


def _run(server: Server, tokens: list[str], ids: list[int], kill_after: int | None, restart=None) -> None:
    acknowledged = 0
    lock = threading.Lock()
    killed = threading.Event()
    restart_done = threading.Event()
    if kill_after is None:
        restart_done.set()

    def submit(k: int) -> int:
        with httpx.Client(timeout=60) as c:
            for _ in range(2000):  # bounded: retries only while the server is down or busy
                try:
                    r = c.put(f"{server.base}/api/v1/deelname/{tokens[k]}", json={"antwoorden": _scores(k, ids)})
                    if r.status_code == 200:
                        break
                    assert r.status_code >= 500, r.text
                except httpx.TransportError:
                    pass
                restart_done.wait(120)
                time.sleep(0.05)
            else:
                raise AssertionError(f"deelnemer {k} kwam er niet door")
        nonlocal acknowledged
        with lock:
            acknowledged += 1
            if kill_after is not None and acknowledged == kill_after:
                killed.set()
        return k

    with ThreadPoolExecutor(max_workers=N) as pool:
        futures = [pool.submit(submit, k) for k in range(N)]
        if kill_after is not None:
            assert killed.wait(600)
            if restart is None:
                server.kill()
                server.start()
            else:
                restart()
            restart_done.set()
        assert sorted(f.result() for f in futures) == list(range(N))


def _check(db: Database, tokens: list[str], ids: list[int]) -> None:
    with db.read() as s:
        pid = {p.token_hash: p.id for p in s.scalars(select(Participant))}
        got = {(a.participant_id, a.item_id): a for a in s.scalars(select(Answer))}
    mine = [pid[service.token_hash(t)] for t in tokens]
    assert sum(1 for (p, _) in got if p in set(mine)) == N * ITEMS
    for k, t in enumerate(tokens):
        for want in _scores(k, ids):
            a = got[(pid[service.token_hash(t)], want["item"])]
            assert (a.impact, a.onzekerheid, service.HORIZONS[a.horizon], a.relevantie, a.toelichting) == \
                (want["impact"], want["onzekerheid"], want["horizon"], want["relevantie"], want["toelichting"])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'verkenning.sqlite'}"
        return
    url = os.environ.get("TRENDSTUDIE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL-tests overgeslagen: TRENDSTUDIE_TEST_POSTGRES_URL is niet gezet")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "vk_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _verkenning(db: Database) -> tuple[list[str], list[int]]:
    items = [service.Prefill(None, f"Item {i}", "", "demografie", None, "eigen weging", []) for i in range(ITEMS)]
    made = service.create(db, "GM0193", "Zwolle", "Belasting", items)
    tokens = service.invite(db, made.id, N)
    with db.read() as s:
        ids = [i.id for i in s.get(service.Verkenning, made.id).items]
    return tokens, ids


def test_200_concurrent_submissions_all_land_also_across_a_restart(database, db_url):
    db = Database(db_url)
    server = Server(database, db_url)
    server.start()
    try:
        tokens, ids = _verkenning(db)
        _run(server, tokens, ids, kill_after=None)
        _check(db, tokens, ids)
        tokens, ids = _verkenning(db)
        _run(server, tokens, ids, kill_after=N // 4)
        _check(db, tokens, ids)
    finally:
        server.kill()
        db.dispose()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the supervisor of web/workers.py is Linux's")
def test_200_concurrent_submissions_all_land_when_a_worker_is_killed(database, db_url):
    """`serve --workers 2` (our supervisor): a worker killed in the middle of the run takes its
    connections with it; the clients retry on the other worker and the replacement, and every
    answer lands."""
    db = Database(db_url)
    server = Server(database, db_url, workers=2)
    server.start()
    try:
        tokens, ids = _verkenning(db)
        _run(server, tokens, ids, kill_after=N // 4, restart=server.kill_worker)
        _check(db, tokens, ids)
    finally:
        server.kill()
        db.dispose()
