"""`trendstudie serve --workers N`: our own small supervisor of N worker processes, each with its
own listening socket on the same address (SO_REUSEPORT, Linux).

Why not uvicorn's own multi-worker mode: there all workers accept from one shared socket, and the
kernel hands a burst of connections to whichever worker happens to be waiting, so they split
unevenly (200 participants answering at once: counted 260/130 and 80/320 over two rounds) and one
worker queues while the other idles. With one SO_REUSEPORT socket per worker the kernel spreads
the connections over the workers by a hash of their addresses: about evenly, whatever the timing.

The parent (`supervise`):
- checks first that the address is free (a plain bind, without SO_REUSEPORT, so that another
  server on the port is found even when it shares its port in the same way) and says so in Dutch;
- starts N workers, each `python -m trendstudie.web.workers …`: a new interpreter (no DuckDB
  connection or thread of the parent is inherited), which loads the store itself, warms up, and
  only then binds its socket and listens, so that no connection waits for a worker still loading;
- restarts a worker that stops unexpectedly, and gives up with a Dutch message when workers keep
  stopping before they are ready (back-off 1, 2, 4, 8 s; the fifth failure in a row ends it);
- on SIGINT or SIGTERM (Ctrl+C) asks every worker to stop (SIGTERM: uvicorn finishes the requests
  in flight), waits for them, and returns. The workers run in their own process group, so Ctrl+C
  reaches them once, through the parent; a worker whose parent is gone (killed) stops by itself.

Where SO_REUSEPORT does not spread connections (not Linux) `serve` uses uvicorn's own mode.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from ..errors import TrendstudieError

START_FAILURES = 5  # workers stopping before they are ready, in a row, before the server gives up
BACKOFF_MAX = 8.0  # seconds between restarts after a failed start (1, 2, 4, 8)
STOP_TIMEOUT = 30.0  # seconds a worker gets to finish its requests before it is killed
BACKLOG = 2048
FATAL = 78  # a worker's exit code for a problem a restart cannot solve (the address is taken)


def balanced() -> bool:
    """Whether one socket per worker spreads the connections: SO_REUSEPORT with the kernel's
    balancing is Linux's (elsewhere the option exists but the last socket takes everything)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _address(host: str, port: int):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TrendstudieError(f"Onbekend adres voor --host: {host!r}.") from None
    family, kind, proto, _, address = infos[0]
    return family, kind, proto, address


def _bind_error(exc: OSError, host: str, port: int) -> TrendstudieError:
    if exc.errno == errno.EADDRINUSE:
        return TrendstudieError(f"Poort {port} op {host} is al in gebruik door een ander programma; "
                                "kies een andere met --port.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return TrendstudieError(f"Geen toestemming om op poort {port} te luisteren; kies een poort boven "
                                "1024 met --port.")
    return TrendstudieError(f"Kan niet luisteren op {host}:{port} ({exc.strerror}); kies een ander "
                            "adres met --host of een andere poort met --port.")


def check_port(host: str, port: int) -> None:
    """The address can be listened on (a TrendstudieError in Dutch if not). A plain bind, without
    SO_REUSEPORT: that also fails when another server (an earlier `trendstudie serve`) listens
    there with SO_REUSEPORT, which our workers' sockets would otherwise silently join."""
    family, kind, proto, address = _address(host, port)
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        try:
            sock.bind(address)
        except OSError as exc:
            raise _bind_error(exc, host, port) from None


def listen(host: str, port: int) -> socket.socket:
    """A worker's own listening socket on host:port, shared with its siblings by SO_REUSEPORT."""
    family, kind, proto, address = _address(host, port)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise _bind_error(exc, host, port) from None
    sock.setblocking(False)
    return sock


# --- the parent -----------------------------------------------------------------------------------

class _Worker:
    def __init__(self, proc: subprocess.Popen, ready_fd: int):
        self.proc, self.ready_fd = proc, ready_fd
        self.ready = False
        self.message = b""  # what the worker wrote on its pipe: b"ok" when it listens, else why it stopped

    def close(self) -> None:
        if self.ready_fd >= 0:
            os.close(self.ready_fd)
            self.ready_fd = -1


def _start(host: str, port: int, database: Path, warm: bool) -> _Worker:
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "trendstudie.web.workers", host, str(port), str(database),
                                 "1" if warm else "0", str(write_fd)],
                                pass_fds=(write_fd,), process_group=0)  # Ctrl+C reaches it through us only
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    os.set_blocking(read_fd, False)
    return _Worker(proc, read_fd)


def _read(worker: _Worker) -> None:
    try:
        while chunk := os.read(worker.ready_fd, 4096):
            worker.message += chunk
    except BlockingIOError:
        pass
    if worker.message.startswith(b"ok"):
        worker.ready = True


def _stop(workers: list[_Worker], timeout: float = STOP_TIMEOUT) -> None:
    for w in workers:
        if w.proc.poll() is None:
            try:
                w.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    for w in workers:
        try:
            w.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        w.close()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signaal {signal.Signals(-code).name}"
        except ValueError:
            return f"signaal {-code}"
    return f"afsluitcode {code}"


def supervise(host: str, port: int, database: Path, n: int, warm: bool, notice=None,
              backoff_max: float = BACKOFF_MAX) -> None:
    """Run n workers on host:port until SIGINT or SIGTERM (see the module's description). Raises a
    TrendstudieError (Dutch) when the address is taken or workers keep failing to start."""
    notice = notice or (lambda text: print(text, file=sys.stderr, flush=True))
    check_port(host, port)
    workers: list[_Worker] = []
    stopping = [False]  # set by the signal handler (no lock there: it runs between any two lines)
    signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    wake_r, wake_w = os.pipe()  # the handler wakes the loop's select
    os.set_blocking(wake_w, False)

    def stop(sig, frame):
        if stopping[0] and sig == signal.SIGINT:  # a second Ctrl+C: no more waiting
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
        stopping[0] = True
        try:
            os.write(wake_w, b"x")
        except OSError:
            pass

    for sig in signals:
        signal.signal(sig, stop)
    failures = 0
    fatal: str | None = None
    try:
        workers = [_start(host, port, database, warm) for _ in range(n)]
        while not stopping[0]:
            select.select([wake_r] + [w.ready_fd for w in workers if w.ready_fd >= 0], [], [], 0.5)
            for i, w in enumerate(workers):
                _read(w)
                if w.ready and failures and w.proc.poll() is None:
                    failures = 0  # a worker started: the failures are not in a row any more
                code = w.proc.poll()
                if code is None or stopping[0]:
                    continue
                _read(w)
                w.close()
                why = w.message.decode(errors="replace")
                if why.startswith("fatal:"):
                    fatal = why[len("fatal:"):]
                    stopping[0] = True
                    break
                if w.ready:
                    notice(f"Een werker van de server (proces {w.proc.pid}) stopte onverwacht ({_describe(code)}); "
                           "een nieuwe wordt gestart.")
                    delay = 0.5
                else:
                    failures += 1
                    if failures >= START_FAILURES:
                        fatal = (f"De werkers van de server stoppen steeds tijdens het starten ({failures} keer "
                                 f"achter elkaar, laatst met {_describe(code)}); de server stopt. "
                                 "Zie de meldingen hierboven.")
                        stopping[0] = True
                        break
                    delay = min(backoff_max, 2.0 ** (failures - 1))
                    notice(f"Een werker van de server stopte tijdens het starten ({_describe(code)}); "
                           f"over {delay:g} s volgt poging {failures + 1} van {START_FAILURES}.")
                select.select([wake_r], [], [], delay)
                if stopping[0]:
                    break
                workers[i] = _start(host, port, database, warm)
    finally:
        _stop(workers)
        for sig, handler in signals.items():
            signal.signal(sig, handler)
        os.close(wake_r)
        os.close(wake_w)
    if fatal:
        raise TrendstudieError(fatal)


# --- a worker -------------------------------------------------------------------------------------

def _die_with_parent() -> None:
    """Linux: a SIGTERM for this worker the moment its parent ends (PR_SET_PDEATHSIG), also when
    the parent is killed outright and cannot pass a signal on; when_parent_gone is the fallback."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def when_parent_gone(act, name: str, parent: int | None = None, until=lambda: False) -> None:
    """Call `act()` in a watching thread once the process that started this one (`parent`, by
    default the present one) is gone, killed outright too, when it could not stop its children
    itself: no orphan keeps the port or the machine. The watch ends early once `until()` is true."""
    parent = os.getppid() if parent is None else parent

    def watch():
        while not until():
            if os.getppid() != parent:
                act()
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name=name, daemon=True).start()


def load_app(load):
    """`load()` (the app), or None when Ctrl+C (SIGINT) or a SIGTERM came while it loaded: the
    process then stops without serving and without an error, whatever the loading made of the
    signal (DuckDB turns it into "Query interrupted" during a query; warming up carries on past
    errors). The signal handlers are as before afterwards."""
    stopped = []

    def stop(signum, frame):
        stopped.append(signum)
        raise KeyboardInterrupt

    before = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app = load()
    except (KeyboardInterrupt, Exception):
        if stopped:
            return None
        raise
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    return None if stopped else app


def worker(host: str, port: int, database: Path, warm: bool, ready_fd: int) -> int:
    """One worker: load the app, listen on its own socket, serve until SIGTERM/SIGINT. Tells the
    parent on `ready_fd` b"ok" once it listens, or b"fatal:<Dutch message>" when the address is
    taken (a restart would not help)."""
    import uvicorn

    from .app import serving_app

    def tell(message: bytes) -> None:
        try:
            os.write(ready_fd, message)
        except OSError:  # the parent is gone
            pass

    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # uvicorn passes a caught SIGTERM on after its shutdown
    _die_with_parent()
    if os.getppid() != parent:  # the parent ended before the line above
        return 0
    try:
        app = load_app(lambda: serving_app(database, warm))
    except TrendstudieError as exc:
        print(f"Fout bij het starten van een werker van de server: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - said in one line; the parent restarts the worker or gives up
        print(f"Fout bij het starten van een werker van de server: {type(exc).__name__}: {exc}", file=sys.stderr,
              flush=True)
        return 1
    if app is None:  # asked to stop while loading
        return 0
    try:
        sock = listen(host, port)
    except TrendstudieError as exc:
        tell(b"fatal:" + str(exc).encode())
        return FATAL

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                tell(b"ok")

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                            proxy_headers=False, backlog=BACKLOG)  # the access log is off at "warning" anyway
    server = Server(config)
    when_parent_gone(lambda: setattr(server, "should_exit", True), "ouder", parent, until=lambda: server.should_exit)
    server.run(sockets=[sock])
    return 0


def connection_owners(port: int, peers: list[int]) -> Counter:
    """Which process holds the server side of each loopback connection from the local ports
    `peers` to `port` (Linux /proc): {pid: connections}. For the benchmark and the tests, to see
    how the kernel spread the connections over the workers; connections not found are left out."""
    wanted = set(peers)
    inodes: dict[int, int] = {}  # socket inode → peer port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16), int(fields[9])
            if local == port and remote in wanted and inode:
                inodes[inode] = remote
    owners: Counter = Counter()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                owners[int(entry.name)] += 1
    return owners


def main(argv: list[str]) -> None:
    """`python -m trendstudie.web.workers HOST PORT DATABASE WARM FD`, as `supervise` starts it.
    Ends with os._exit: the answers are committed, and the interpreter's clean-up of the frozen
    read model (see app.settle) would only take time and have DuckDB's bindings report their
    objects as leaked."""
    host, port, database, warm, fd = argv[:5]
    try:
        code = worker(host, int(port), Path(database), warm == "1", int(fd))
    except KeyboardInterrupt:
        code = 0
    except SystemExit as exc:  # SIGTERM (see worker)
        code = exc.code if isinstance(exc.code, int) else 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
