"""One app (and one uvicorn server for the browser tests) over the store built once per session, and
the browser the browser tests drive (Debian's Chromium through Playwright)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


@pytest.fixture(scope="session")
def database(built_home) -> Path:
    return built_home / "trendstudie.duckdb"


@pytest.fixture(scope="session")
def app(database):
    from trendstudie.web import create_app

    return create_app(database)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], base: str, timeout: float = 60) -> subprocess.Popen:
    """Start a server process (`argv`) and wait until `base` answers /api/v1/info; a server that
    stops before it answers fails the test with what it wrote on stderr."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(base + "/api/v1/info", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError("server stopped: " + proc.stderr.read().decode(errors="replace"))
    proc.terminate()
    raise RuntimeError(f"server did not start within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def _serve(database):
    """Start uvicorn on a free loopback port in its own process; yield the base URL, then stop it.
    (Without the edition's preparation and the worker's warm-up: test_serve.py starts the server
    as a user does.)"""
    port = free_port()
    code = ("import sys; from trendstudie.web import serve; "
            "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], 1, prepare=False)")
    base = f"http://127.0.0.1:{port}"
    proc = start_server([sys.executable, "-c", code, str(port), str(database)], base)
    yield base
    stop_server(proc)


@pytest.fixture(scope="session")
def server(database):
    """One server for the read-only page tests."""
    yield from _serve(database)


@pytest.fixture
def user_server(database):
    """`trendstudie serve` as a user starts it: the command line, with the edition's preparation
    and the worker's warm-up (a warm-up takes a while on a busy machine: a generous wait). Yields
    (base URL, process); stopped afterwards unless the test stopped it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "trendstudie", "serve", "--port", str(port), "--home", str(database.parent)]
    proc = start_server(argv, base, timeout=240)
    yield base, proc
    if proc.poll() is None:
        stop_server(proc)


@pytest.fixture(scope="module")
def own_server(database):
    """A server of the module's own, for tests that must not share the token rate limit with tests
    (schemathesis, probes) that send many wrong links from the same loopback address."""
    yield from _serve(database)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (which never downloads a browser of its own here), one
    per test module; the test skips where Playwright or Chromium is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if not executable:
        pytest.skip("Chromium is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()
