"""The build lock: one build at a time per home. A second build refuses with a message naming the
lock file and the process that holds it, or waits for it (`build --wacht`).

The lock is an fcntl lock on `<home>/.build.lock`, so it is released by the operating system
when the holder ends in any way (also when killed); the file itself may stay and means nothing
without the lock. Whoever holds the lock may remove temporary files of earlier builds: no other
build can be writing them."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import TrendstudieError

LOCK_NAME = ".build.lock"


class BuildLocked(TrendstudieError):
    """Another build holds the lock."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "onbekend"
    return text if text.isdigit() else "onbekend"


@contextmanager
def build_lock(home: Path, wait: bool = False, waiting: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the build lock of `home` for the duration of the block."""
    path = Path(home) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(path)
            if not wait:
                raise BuildLocked(
                    f"Er loopt al een build in {home} (proces {pid}; slot {path}). Wacht tot die klaar is, "
                    "of geef --wacht om erna te bouwen.") from None
            if waiting:
                waiting(f"Wacht op de build die al loopt (proces {pid}; slot {path}) …")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        os.fsync(fd)
        yield path
    finally:
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)  # releases the lock
