"""`serve --workers 2` through our own supervisor (web/workers.py): every worker has its own
listening socket (SO_REUSEPORT) and the kernel spreads the connections over them; a killed worker
is replaced; SIGTERM stops every worker (no orphans); a port in use is a Dutch message and an exit
code other than 0; workers that keep failing to start end the server with a Dutch message.

Nothing here depends on timing: the tests wait (with a generous limit) for conditions, such as both
workers listening, and the spread over the workers is the kernel's hash of the connections'
addresses: 64 connections all landing on one of two listening workers has a chance of 2⁻⁶³."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from trendstudie.errors import TrendstudieError
from trendstudie.web import workers

from test_serve import _children, _gone

pytestmark = pytest.mark.skipif(not workers.balanced(), reason="one socket per worker is Linux's (SO_REUSEPORT)")

WORKER = "trendstudie.web.workers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listeners(port: int) -> int:
    """Sockets listening on the loopback port (Linux /proc/net/tcp, state 0A)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
            count += 1
    return count


def _wait(condition, what: str, seconds: float = 240) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


def _worker_pids(proc: subprocess.Popen) -> set[int]:
    return {pid for pid, cmd in _children(proc.pid).items() if WORKER in cmd}


def _owners(port: int, n: int = 64) -> dict[int, int]:
    """n new connections, one request each (answered, so accepted by a worker); which worker
    process holds each."""
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.sendall(b"GET /api/v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert s.recv(12).startswith(b"HTTP/1.1 200"), "a worker did not answer"
            socks.append(s)
        return dict(workers.connection_owners(port, [s.getsockname()[1] for s in socks]))
    finally:
        for s in socks:
            s.close()


@pytest.fixture
def two_workers(database):
    port = free_port()
    code = ("import sys; from trendstudie.web import serve; "
            "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], 2, prepare=False)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(database)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _wait(lambda: proc.poll() is not None or (_listeners(port) == 2 and len(_worker_pids(proc)) == 2),
          "two workers listening")
    assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)
    for pid in _worker_pids(proc):
        subprocess.run(["kill", "-9", str(pid)], check=False)


def test_both_workers_serve_and_a_killed_one_is_replaced(two_workers):
    proc, port = two_workers
    pids = _worker_pids(proc)
    seen = _owners(port)
    assert set(seen) == pids, f"connections per worker {seen}, workers {pids}"
    assert sum(seen.values()) == 64
    # another `serve` on this port would share it silently through SO_REUSEPORT; the check binds
    # without it and so refuses
    with pytest.raises(TrendstudieError, match="al in gebruik"):
        workers.check_port("127.0.0.1", port)
    victim = min(pids)
    subprocess.run(["kill", "-9", str(victim)], check=True)
    _wait(lambda: len(_worker_pids(proc)) == 2 and victim not in _worker_pids(proc) and _listeners(port) == 2,
          "the killed worker replaced")
    assert proc.poll() is None
    replaced = _worker_pids(proc)
    assert replaced - pids and set(_owners(port)) == replaced
    assert httpx.get(f"http://127.0.0.1:{port}/api/v1/info", timeout=60).status_code == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_sigterm_and_ctrl_c_stop_every_worker(two_workers, sig):
    proc, port = two_workers
    pids = _worker_pids(proc)
    assert len(pids) == 2
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 0
    assert all(_gone(pid) for pid in pids), "a worker outlived its server"
    assert _listeners(port) == 0
    err = proc.stderr.read().decode(errors="replace")
    assert "Traceback" not in err and "leaked" not in err, err


def test_a_worker_without_its_parent_stops(two_workers):
    """The supervisor killed outright (it cannot pass a signal on): its workers stop by themselves."""
    proc, port = two_workers
    pids = _worker_pids(proc)
    proc.kill()
    proc.wait(timeout=30)
    assert all(_gone(pid, 60) for pid in pids), "a worker outlived its killed server"


def test_port_in_use_is_a_dutch_message(database):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "trendstudie", "serve", "--port", str(port), "--workers", "2",
                              "--home", str(database.parent)], capture_output=True, text=True, timeout=120)
        assert run.returncode != 0
        assert f"Poort {port} op 127.0.0.1 is al in gebruik" in run.stderr and "Traceback" not in run.stderr
        with pytest.raises(TrendstudieError, match="al in gebruik"):  # the supervisor's own check
            workers.supervise("127.0.0.1", port, database, 2, warm=False)
        with pytest.raises(TrendstudieError, match="al in gebruik"):  # a worker's socket (SO_REUSEPORT)
            workers.listen("127.0.0.1", port)


def test_workers_that_keep_failing_to_start_end_the_server(tmp_path):
    broken = tmp_path / "trendstudie.duckdb"
    broken.write_text("geen database")
    notices: list[str] = []
    with pytest.raises(TrendstudieError, match="stoppen steeds tijdens het starten"):
        workers.supervise("127.0.0.1", free_port(), broken, 2, warm=False, notice=notices.append, backoff_max=0.01)
    assert any("poging 2 van" in n for n in notices), notices


def test_the_workers_share_the_rate_limit(two_workers):
    """The failed-token limit is kept in each worker's memory and one address's connections are
    spread over the workers: each allows half, so that together they allow the limit (not twice
    it). 100 wrong links, each on a new connection: exactly TOKEN_FAILURES answered 404, then 429
    (a worker seeing fewer than half of the 100 attempts has a chance of about 10⁻¹³)."""
    from trendstudie.web.routes_verkenning import TOKEN_FAILURES

    _, port = two_workers
    statuses = []
    for k in range(100):
        with httpx.Client(timeout=60) as c:
            statuses.append(c.get(f"http://127.0.0.1:{port}/deelname/{'D' * 30}{k:02d}").status_code)
    assert set(statuses) == {404, 429} and statuses.count(404) == TOKEN_FAILURES, statuses


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_stop_while_a_worker_loads_ends_it_without_an_error(tmp_path, sig):
    """Ctrl+C, or the supervisor's SIGTERM, while a worker still loads the app (DuckDB turns either
    into "Query interrupted" when it arrives during a query): the worker stops with exit code 0
    and says nothing."""
    script = tmp_path / "worker.py"
    script.write_text(
        "import os, signal, sys\n"
        "from trendstudie.web import app, workers\n"
        "def loading(database, warm):\n"
        "    try:\n"
        f"        os.kill(os.getpid(), signal.{sig})\n"
        "        signal.sigtimedwait([], 5)  # not reached: the handler raises at once\n"
        "    except (KeyboardInterrupt, SystemExit):\n"
        "        raise RuntimeError('Query interrupted') from None  # as DuckDB does\n"
        "    raise AssertionError('het signaal kwam niet aan')\n"
        "app.serving_app = loading\n"
        "r, w = os.pipe()\n"
        "sys.exit(workers.worker('127.0.0.1', 0, 'geen.duckdb', False, w))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Fout" not in done.stderr and "Traceback" not in done.stderr


def test_load_app_gives_none_when_asked_to_stop_and_restores_the_handlers():
    """The one-process server and each worker load the app through load_app: a SIGINT or SIGTERM
    while loading gives None whatever the loading made of it; other errors pass; the signal
    handlers are as before afterwards."""
    import os

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def interrupted(sig):
        def load():
            try:
                os.kill(os.getpid(), sig)
                signal.sigtimedwait([], 5)  # not reached: the handler raises at once
            except KeyboardInterrupt:
                raise RuntimeError("Query interrupted") from None  # as DuckDB does
            raise AssertionError("het signaal kwam niet aan")
        return load

    assert workers.load_app(interrupted(signal.SIGINT)) is None
    assert workers.load_app(interrupted(signal.SIGTERM)) is None
    assert workers.load_app(lambda: "app") == "app"
    with pytest.raises(ValueError):
        workers.load_app(lambda: int("geen getal"))
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


ORPHAN = """
import sys, threading
from trendstudie.web.workers import when_parent_gone
acted = threading.Event()
when_parent_gone(lambda: (open(sys.argv[1], "w").write("weg"), acted.set()), "ouder", int(sys.argv[2]))
sys.exit(0 if acted.wait(60) else 1)
"""


def test_when_parent_gone_acts_once_the_parent_is_gone(tmp_path):
    """The fallback of workers and the edition helper when their parent is killed without passing
    a signal on: a process whose parent ended acts, and one told to stop watching does not."""
    import threading

    flag = tmp_path / "weg"
    middle = ("import subprocess, sys, os; subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2], "
              "str(os.getpid())])")
    subprocess.run([sys.executable, "-c", middle, ORPHAN, str(flag)], check=True, timeout=60)
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert flag.read_text() == "weg"

    acted, watching = threading.Event(), threading.Event()
    workers.when_parent_gone(acted.set, "ouder", parent=-1, until=lambda: watching.set() or True)
    assert watching.wait(30) and not acted.is_set()
