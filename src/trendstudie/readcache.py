"""What a reading command loads from the store, kept on disk beside it, so that a short command
such as `trendstudie trends Zwolle` reads one small file instead of opening the store (DuckDB
alone costs a tenth of a second of CPU to import) and building the same objects again.

Each part is a file `<TRENDSTUDIE_HOME>/cache/<prefix><key>.pickle`: the Localiser
(knowledge/cache.py) and the regions with their history and name index (reader.py). The key
is a hash of the store file's identity and of the program: the file's device, inode, size and
modification time in nanoseconds (and those of a DuckDB write-ahead file beside it), the program
version, the store's schema version and the text of the code and data the part is made from. A
build writes a new store file and renames it into place, and any write to the file changes its
modification time, so a stale part is never read; nothing needs to be read from the store to know.
A hard link to the file (the previous store an edition compares with) has the same key.
Files of other keys are removed when a new one is written. A file that cannot be read back
(damaged, truncated, written by another Python) is ignored and made again, without a message:
it is only a cache. It is written atomically (atomic.py); when the folder cannot be written, the
part is simply not kept. Reading a pickle can run code, so a file is only read when the user
owns it and others cannot write it.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Callable, TypeVar

from . import __version__, atomic, gcpause

FORMAT = 2  # raise when the files' layout changes
SUFFIX = ".pickle"
PACKAGE = Path(__file__).resolve().parent

T = TypeVar("T")


def folder(database: Path) -> Path:
    return Path(database).parent / "cache"


def identity(database: Path) -> str:
    """The store file as it is now (raises OSError when it is missing)."""
    parts = []
    for path in (Path(database), Path(str(database) + ".wal")):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if parts:  # no write-ahead file: the usual case
                parts.append("-")
                continue
            raise
        parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return "/".join(parts)


def source_hash(package: Path, names: tuple[str, ...]) -> str:
    """A hash of the text of these files and folders (their .py and .yaml files) under `package`."""
    h = hashlib.sha256()
    for name in names:
        top = package / name
        files = sorted(p for p in top.rglob("*") if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts) \
            if top.is_dir() else [top]
        for p in files:
            h.update(str(p.relative_to(package)).encode() + b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def key(database: Path, *parts: object) -> str:
    """The key of a part made from this store by this program (`parts`: what else it depends on,
    such as its source hash). Raises OSError when the store file is missing."""
    from .store import SCHEMA_VERSION

    h = hashlib.sha256()
    for part in (FORMAT, __version__, SCHEMA_VERSION, identity(database), *parts):
        h.update(str(part).encode() + b"\0")
    return h.hexdigest()[:32]


def read_bytes(path: Path) -> bytes | None:
    """The bytes of a cache file the user owns and others cannot write, else None."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o002:
                return None  # a pickle runs code when read: only one the user wrote, that others cannot change
            return f.read()
    except OSError:
        return None


def loads(raw: bytes):
    """Unpickle without the garbage collector walking the many small objects again and again;
    None for anything that is not a readable pickle. The objects read are moved out of the
    collector's sight (gc.freeze): they live as long as the command, hold no reference cycles
    (reference counting still frees them), and walking them cost a command such as `trends`
    several hundredths of a second in collections after the load."""
    with gcpause.paused():
        try:
            return pickle.loads(raw)
        except Exception:  # noqa: BLE001 - a damaged cache file of any kind is only a miss
            return None
        finally:
            _freeze()


def _freeze() -> None:
    global _frozen
    gc.freeze()
    if not _frozen:
        _frozen = True
        atexit.register(_unfreeze_for_duckdb)


def _unfreeze_for_duckdb() -> None:
    """At exit, give frozen objects back to the final collection when DuckDB is loaded: its
    binding (nanobind) reports every object of its own that the collection did not free, and its
    module objects may have been frozen with the rest. Without DuckDB (a command answered from
    these files) the final walk over the loaded objects is not needed."""
    if "duckdb" in sys.modules:
        gc.unfreeze()


_frozen = False


def read(path: Path, wanted: str, kind: type[T]) -> T | None:
    """The object kept in `path` under key `wanted` if it is a `kind`, or None (missing, other
    key, unreadable)."""
    raw = read_bytes(path)
    found = loads(raw) if raw is not None else None
    if not (isinstance(found, dict) and found.get("key") == wanted and isinstance(found.get("value"), kind)):
        return None
    return found["value"]


def write_file(directory: Path, prefix: str, wanted: str, data: bytes) -> None:
    """Keep `data` as the file of key `wanted`, and remove the files of other keys; never fails."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(directory / f"{prefix}{wanted}{SUFFIX}") as tmp:
            os.chmod(tmp, 0o600)  # the user's own (see read_bytes)
            tmp.write_bytes(data)
    except Exception:  # noqa: BLE001 - a full disk or a read-only home: then there is no cache
        return
    for old in directory.glob(f"{prefix}*{SUFFIX}"):
        if old.name != f"{prefix}{wanted}{SUFFIX}":
            try:
                old.unlink()
            except OSError:
                pass


def write(directory: Path, prefix: str, wanted: str, value: object) -> None:
    try:
        data = pickle.dumps({"key": wanted, "value": value}, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - nothing to keep
        return
    write_file(directory, prefix, wanted, data)


def kept(database: Path, prefix: str, parts: tuple, make: Callable[[], T], kind: type[T]) -> T:
    """The part of this store under `prefix`: from its file when that holds this key, else
    `make()`, kept for the next command."""
    try:
        wanted = key(database, *parts)
    except OSError:
        return make()
    directory = folder(database)
    found = read(directory / f"{prefix}{wanted}{SUFFIX}", wanted, kind)
    if found is not None:
        return found
    made = make()
    write(directory, prefix, wanted, made)
    return made
