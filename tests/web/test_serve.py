"""`trendstudie serve` started as a user starts it: the command line, with the edition's
preparation on (the test servers of conftest.py start with prepare=False, and so once missed a
crash in the worker's warm-up, web/app.py `warm`). It answers, serves a gemeente page and the
API, and its edition helper (web/edition.py) runs beside it and stops with it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

EDITION = "trendstudie.web.edition"


def _children(pid: int) -> dict[int, str]:
    """The child processes of `pid` (Linux /proc) with their command lines."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == pid:
            out[int(entry.name)] = cmd
    return out


def _gone(pid: int, seconds: float = 30) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # ended, not yet reaped by its parent
            return True
        time.sleep(0.2)
    return False


def test_serve_as_a_user_starts_it(user_server, database):
    base, proc = user_server
    done = lambda: list((database.parent / "cache" / "web-pages").glob("*/editie.json"))  # noqa: E731
    helpers = [pid for pid, cmd in _children(proc.pid).items() if EDITION in cmd]
    # the helper renders the edition beside the server (or found it rendered already and ended)
    assert len(helpers) == 1 or done(), f"no edition helper beside the server: {_children(proc.pid)}"
    page = httpx.get(base + "/gemeente/GM0193", timeout=120)
    assert page.status_code == 200 and "Zwolle" in page.text and 'id="samenhang"' in page.text
    region = httpx.get(base + "/api/v1/regions/GM0193", timeout=60)
    assert region.status_code == 200 and region.json()["code"] == "GM0193"
    assert httpx.get(base + "/api/v1/info", timeout=30).json()
    # the helper still renders the edition, or has finished it (its marker) without an error
    assert all(not _gone(pid, 0) for pid in helpers) or done(), "the edition helper stopped without finishing"
    proc.terminate()
    proc.wait(timeout=30)
    err = proc.stderr.read().decode(errors="replace")
    assert "Traceback" not in err and "Fout" not in err, err
    assert all(_gone(pid) for pid in helpers), "the edition helper outlived its server"
