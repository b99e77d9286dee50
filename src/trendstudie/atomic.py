"""The one way trendstudie writes an output file: into a temporary file in the same folder,
flushed to disk (fsync), then renamed over the target. On any error (a full disk, no rights,
Ctrl-C) the temporary file is removed, so a reader sees the old file or the new one, never a
half-written one. Also the checks that a folder can be written before work starts."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

TMP_SUFFIX = ".tmp"


def _refuse(code: int, path: Path, text: str) -> OSError:
    return OSError(code, text, str(path))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_file_target(path: str | Path) -> Path:
    """A file can be written at `path`: its folder exists and is a folder, and `path` is no folder.
    Raises OSError naming the path (the CLI turns it into a Dutch message)."""
    path = Path(path)
    if path.is_dir():
        raise _refuse(errno.EISDIR, path, "Is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise _refuse(errno.ENOTDIR, parent, "Not a directory")
    if not parent.exists():
        raise _refuse(errno.ENOENT, parent, "No such file or directory")
    return path


def ensure_dir(path: str | Path) -> Path:
    """Create the folder `path` (and its parents) if needed and prove it can be written by
    creating and removing a file in it (permission bits alone say nothing for root or on a
    read-only file system)."""
    path = Path(path)
    for p in [path, *path.parents]:
        if p.exists() and not p.is_dir():
            raise _refuse(errno.ENOTDIR, p, "Not a directory")
        if p.exists():
            break
    path.mkdir(parents=True, exist_ok=True)
    probe_writable(path)
    return path


def probe_writable(folder: str | Path) -> None:
    folder = Path(folder)
    try:
        fd, name = tempfile.mkstemp(prefix=".trendstudie-probe-", suffix=TMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from None
    os.close(fd)
    os.unlink(name)


def check_free_space(folder: str | Path, needed: int, what: str) -> None:
    """Refuse before the work starts when `folder` has less than `needed` bytes free."""
    from .errors import TrendstudieError

    free = shutil.disk_usage(folder).free
    if free < needed:
        raise TrendstudieError(
            f"Te weinig vrije ruimte in {folder}: {what} heeft ongeveer {needed / 1e6:,.0f} MB nodig, er is "
            f"{free / 1e6:,.0f} MB vrij. Maak ruimte vrij of kies een andere map.".replace(",", "."))


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (openpyxl, a database);
    renamed over `path` when the block ends without error, removed otherwise."""
    path = check_file_target(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | Path, binary: bool = False, encoding: str = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """Open a stream whose content replaces `path` only when the block ends without error."""
    with atomic_path(path) as tmp:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": encoding, "newline": newline}
        try:
            with open(tmp, mode, **kwargs) as f:
                yield f
                f.flush()
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from None


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, binary=True) as f:
        f.write(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def save_with(path: str | Path, save: Callable[[Path], None]) -> None:
    """`save(tmp)` writes the file (e.g. `workbook.save`); it replaces `path` only if that succeeded."""
    with atomic_path(path) as tmp:
        try:
            save(tmp)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from None


def remove_stale(folder: str | Path, prefix: str, alive: Callable[[Path], bool]) -> list[Path]:
    """Remove temporary files `prefix*.tmp` in `folder` that no living process still writes
    (`alive(path)` says whether one does). Returns what was removed."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.glob(f"{prefix}*"):
        if p.is_file() and (p.name.endswith(TMP_SUFFIX) or p.name.endswith(TMP_SUFFIX + ".wal")) and not alive(p):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def write_json(path: Path, data: Any, *, indent: int | None = None) -> None:
    """Write JSON to a temporary file beside `path` (its folder made when missing), then rename it
    into place (no fsync: for the many files of a sync or a mirror, which can be fetched again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, ensure_ascii=False, indent=indent))  # dumps uses the C encoder
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
