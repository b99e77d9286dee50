"""The loaded Localiser (knowledge base, rules, indicator values, figure labels) kept on disk, so
that a command such as `trendstudie trends Zwolle` does not read the knowledge base's YAML and
every indicator value of the store again (about a second of CPU) but one file (a fifth of that).

The file is `<TRENDSTUDIE_HOME>/cache/localiser-<key>.pickle`. Its key is a hash of everything the
loaded Localiser is made of: the store (its build_info, which holds built_at and the user's own
rules, and the database file's identity: a build writes a new file), the program version, and the
text of the knowledge base, the rules and vocabulary, the indicator register and the code that
reads them. Any change gives another key, so a stale file is never read; files of other keys are
removed when a new one is written. A file that cannot be read back (damaged, truncated, written
by another Python) is ignored and made again, without a message: it is only a cache. It is
written atomically (atomic.py); when the folder cannot be written, the Localiser is simply not
kept. Reading a pickle can run code, so a file is only read when the user owns it and others
cannot write it.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
from pathlib import Path

from .. import __version__, atomic

FORMAT = 1  # raise when the file's layout changes
PREFIX = "localiser-"
SUFFIX = ".pickle"
_PACKAGE = Path(__file__).resolve().parents[1]
# What a loaded Localiser is made of, besides the store: these folders' and files' text.
_SOURCES = ("knowledge", "analysis", "indicators", "textfile.py", "errors.py", "formatting.py")


def _source_hash() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        top = _PACKAGE / name
        files = sorted(p for p in top.rglob("*") if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts) \
            if top.is_dir() else [top]
        for p in files:
            h.update(str(p.relative_to(_PACKAGE)).encode() + b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def key(con, database: Path) -> str:
    """The cache key of the Localiser for this store and this program."""
    st = os.stat(database)
    info = sorted(con.execute("SELECT key, value FROM build_info").fetchall())
    h = hashlib.sha256()
    for part in (FORMAT, __version__, st.st_ino, st.st_size, st.st_mtime_ns, repr(info), _source_hash()):
        h.update(str(part).encode() + b"\0")
    return h.hexdigest()[:32]


def read(path: Path, wanted: str):
    """The Localiser kept in `path` under key `wanted`, or None (missing, other key, unreadable)."""
    from .verdict import Localiser

    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o002:
                return None  # a pickle runs code when read: only one the user wrote, that others cannot change
            raw = f.read()
    except OSError:
        return None
    enabled = gc.isenabled()
    gc.disable()  # millions of small objects: the collector would walk them again and again
    try:
        found = pickle.loads(raw)
    except Exception:  # noqa: BLE001 - a damaged cache file of any kind is only a miss
        return None
    finally:
        if enabled:
            gc.enable()
    if not (isinstance(found, dict) and found.get("key") == wanted and isinstance(found.get("localiser"), Localiser)):
        return None
    return found["localiser"]


def write(folder: Path, wanted: str, localiser) -> None:
    """Keep `localiser` under key `wanted`, and remove the files of other keys; never fails."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps({"key": wanted, "localiser": localiser}, protocol=pickle.HIGHEST_PROTOCOL)
        with atomic.atomic_path(folder / f"{PREFIX}{wanted}{SUFFIX}") as tmp:
            os.chmod(tmp, 0o600)  # the user's own (see read)
            tmp.write_bytes(data)
    except Exception:  # noqa: BLE001 - a full disk or a read-only home: then there is no cache
        return
    for old in folder.glob(f"{PREFIX}*{SUFFIX}"):
        if old.name != f"{PREFIX}{wanted}{SUFFIX}":
            try:
                old.unlink()
            except OSError:
                pass


def cached(con, database: Path, folder: Path):
    """The Localiser of this store when `folder` holds it, else None (nothing is made or kept):
    for a store beside the home's own, such as the previous one a build compares with (a hard
    link to the file the cache was made for has its key)."""
    try:
        wanted = key(con, database)
    except OSError:
        return None
    return read(Path(folder) / f"{PREFIX}{wanted}{SUFFIX}", wanted)


def localiser(con, database: Path, make):
    """The Localiser of this store: from the cache when it holds this key, else `make()`, kept."""
    folder = Path(database).parent / "cache"
    try:
        wanted = key(con, database)
    except OSError:
        return make()
    found = read(folder / f"{PREFIX}{wanted}{SUFFIX}", wanted)
    if found is not None:
        return found
    made = make()
    write(folder, wanted, made)
    return made
