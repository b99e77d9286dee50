"""The loaded Localiser (knowledge base, rules, indicator values, figure labels) kept on disk, so
that a command such as `trendstudie trends Zwolle` does not read the knowledge base's YAML and
every indicator value of the store again (about a second of CPU) but one file, and of that file
only what one gemeente needs.

The file is `<TRENDSTUDIE_HOME>/cache/localiser-<key>.pickle`, kept the way readcache.py keeps
every part a reading command loads: its key follows the store file and the program, here also
the text of the knowledge base, the rules and vocabulary, the indicator register and the code
that reads them (`_SOURCES`). Any change gives another key, so a stale file is never read; a
damaged one is ignored and made again, without a message.

Inside, the Localiser is kept in parts (Localiser.split_gemeenten): everything but the
gemeenten's own figures, and each gemeente's own figures apart. `localiser` reads them all;
`localiser_for` reads the rest and one gemeente's part, a third of the work.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from .. import readcache

PREFIX = "localiser-"
SUFFIX = readcache.SUFFIX
LAYOUT = 2  # the file's layout: raise when it changes
_PACKAGE = readcache.PACKAGE
# What a loaded Localiser is made of, besides the store: these folders' and files' text.
_SOURCES = ("knowledge", "analysis", "indicators", "textfile.py", "errors.py", "formatting.py")


def _source_hash() -> str:
    return readcache.source_hash(_PACKAGE, _SOURCES)


def key(database: Path) -> str:
    """The cache key of the Localiser for this store and this program (OSError without a store)."""
    return readcache.key(database, "localiser", LAYOUT, _source_hash())


def _path(database: Path, wanted: str) -> Path:
    return readcache.folder(database) / f"{PREFIX}{wanted}{SUFFIX}"


def _parts(path: Path, wanted: str) -> dict | None:
    raw = readcache.read_bytes(path)
    found = readcache.loads(raw) if raw is not None else None
    if not (isinstance(found, dict) and found.get("key") == wanted and isinstance(found.get("rest"), bytes)
            and isinstance(found.get("gemeenten"), dict)):
        return None
    return found


def _assemble(found: dict, codes) -> object | None:
    """The Localiser from the rest and the parts of `codes` (None: of every gemeente)."""
    from .verdict import Localiser

    loc = readcache.loads(found["rest"])
    if not isinstance(loc, Localiser):
        return None
    for code in found["gemeenten"] if codes is None else [c for c in codes if c in found["gemeenten"]]:
        part = readcache.loads(found["gemeenten"][code])
        if not (isinstance(part, tuple) and len(part) == 2):
            return None
        loc.add_gemeente(part)
    return loc


def read(path: Path, wanted: str, code: str | None = None):
    """The Localiser kept in `path` under key `wanted` (with `code`: holding that gemeente's own
    figures only), or None (missing, other key, unreadable)."""
    found = _parts(path, wanted)
    if found is None:
        return None
    loc = _assemble(found, None if code is None else [code])
    if loc is not None and code is not None:
        loc.only = code
    return loc


def write(folder: Path, wanted: str, localiser) -> None:
    """Keep `localiser` under key `wanted`, and remove the files of other keys; never fails."""
    try:
        rest, parts = localiser.split_gemeenten()
        data = pickle.dumps({"key": wanted, "rest": pickle.dumps(rest, protocol=pickle.HIGHEST_PROTOCOL),
                             "gemeenten": {c: pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for c, p in parts.items()}},
                            protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - nothing to keep
        return
    readcache.write_file(folder, PREFIX, wanted, data)


def cached(database: Path, folder: Path):
    """The Localiser of this store when `folder` holds it, else None (nothing is made or kept):
    for a store beside the home's own, such as the previous one a build compares with (a hard
    link to the file the cache was made for has its key)."""
    try:
        wanted = key(database)
    except OSError:
        return None
    return read(Path(folder) / f"{PREFIX}{wanted}{SUFFIX}", wanted)


def localiser(database: Path, make, code: str | None = None):
    """The Localiser of this store: from the cache when it holds this key, else `make()`, kept.
    With `code`, one that may hold only that gemeente's own figures (it judges only there)."""
    try:
        wanted = key(database)
    except OSError:
        return make()
    found = read(_path(database, wanted), wanted, code)
    if found is not None:
        return found
    made = make()
    write(readcache.folder(database), wanted, made)
    return made
