"""What makes a build incremental: a fingerprint of every source, and a cache of what each
source's importer returned.

A source's fingerprint is a hash of the files it reads (path relative to its root, size and
modification time in nanoseconds, like `make` and git's index), of the program code that parses
them (`PARSE_CODE`) and of whatever else its importer takes in (the region registry's file). The
store records the fingerprint of the whole build (every source, all program code and YAML of the
package, the user's own groups and indicators); a build whose fingerprint equals the store's has
nothing to do.

The cache keeps one file per source in `<home>/cache/build/`: a Parquet file with the
observations as columns and, in its metadata, the source's fingerprint, its table metadata and
its warnings. It is written atomically; an entry that cannot be read or belongs to another
fingerprint is ignored and the source read again. Nothing here changes a figure: a cached source
gives back exactly the observations its importer returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from . import atomic
from .sources.records import Imported, MeasureMeta, Observation, TableMeta
from .store import few_texts

if TYPE_CHECKING:  # imported where tables are made: a build with nothing to do needs no pyarrow
    import pyarrow as pa

PACKAGE = Path(__file__).resolve().parent
# Everything an importer runs (the modules below and the YAML beside them, e.g. exports.yaml):
# a change to any of it invalidates every cached source.
PARSE_CODE = ("sources", "geo", "textfile.py", "errors.py", "formatting.py", "eigen.py", "buildcache.py")
CACHE_FORMAT = "1"  # raise when the layout of a cache file changes

@cache
def _observation_columns() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema([
        ("table_id", few_texts()), ("measure", few_texts()), ("region_code", pa.string()), ("period", few_texts()),
        ("value", pa.float64()), ("status", pa.string()), ("dims", few_texts()), ("reason", pa.string()),
        ("source", few_texts()),
    ])  # Observation's fields, in its order; few_texts: texts repeated on many rows, dictionary-encoded


def __getattr__(name: str):
    if name == "OBSERVATION_COLUMNS":  # the schema of a source's observations as a table, made on first use
        return _observation_columns()
    raise AttributeError(name)


def _digest(parts: Iterable[object]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def file_states(paths: Iterable[Path], root: Path | None = None) -> list[tuple[str, int, int]]:
    """(path, size, mtime in ns) of every file named or below every folder named, sorted; a
    missing path counts as (path, -1, -1), so its appearing is a change too."""
    out = []
    for path in paths:
        path = Path(path)
        name = lambda p: os.path.relpath(p, root) if root else str(p)  # noqa: E731
        if path.is_dir():
            for folder, dirs, files in os.walk(path, followlinks=True):
                dirs.sort()
                for f in sorted(files):
                    full = os.path.join(folder, f)
                    try:
                        st = os.stat(full)
                    except OSError:
                        continue
                    out.append((name(full), st.st_size, st.st_mtime_ns))
        else:
            try:
                st = path.stat()
                out.append((name(path), st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((name(path), -1, -1))
    return sorted(out)


def code_version(parts: Iterable[str] | None = None) -> str:
    """A hash of the package's Python and YAML files below `parts` (names relative to the
    package; all of it when None), by content."""
    files: list[Path] = []
    for part in (parts if parts is not None else [""]):
        base = PACKAGE / part if part else PACKAGE
        if base.is_file():
            files.append(base)
        elif base.is_dir():
            files.extend(p for p in base.rglob("*") if p.suffix in (".py", ".yaml", ".yml") and p.is_file()
                         and "__pycache__" not in p.parts)
    h = hashlib.blake2b(digest_size=16)
    for p in sorted(set(files)):
        h.update(str(p.relative_to(PACKAGE)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


_parse_code: str | None = None


def parse_code_version() -> str:
    global _parse_code
    if _parse_code is None:
        _parse_code = code_version(PARSE_CODE)
    return _parse_code


def fingerprint(key: str, inputs: Iterable[Path], root: Path | None = None, extra: Iterable[object] = ()) -> str:
    """The fingerprint of one source: its files, the parsing code and `extra` inputs."""
    return _digest([CACHE_FORMAT, key, parse_code_version(), *extra,
                    *(f"{n}|{s}|{m}" for n, s, m in file_states(inputs, root))])


def combine(parts: dict[str, str], extra: Iterable[object] = ()) -> str:
    return _digest([*extra, *(f"{k}={v}" for k, v in sorted(parts.items()))])


# --- the cache of parsed sources ------------------------------------------------------------------

def cache_dir(home: Path) -> Path:
    return Path(home) / "cache" / "build"


def file_name(key: str, suffix: str) -> str:
    """A source key as a file name (sync keys hold a catalogue's name)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key) + suffix


def _entry(home: Path, key: str) -> Path:
    return cache_dir(home) / file_name(key, ".parquet")


def observations_table(observations: list[Observation]) -> pa.Table:
    import pyarrow as pa

    schema = _observation_columns()
    if not observations:
        return schema.empty_table()
    columns = zip(*observations)  # observations are tuples: their columns, transposed in C
    return pa.Table.from_arrays([pa.array(c, type=t) for c, t in zip(columns, schema.types)], schema=schema)


def table_of(data: Imported) -> pa.Table:
    """An Imported's observations as a table: its `columns`, or made from its tuples."""
    return data.columns if data.columns is not None else observations_table(data.observations)


def save(home: Path, key: str, fp: str, data: Imported, table: pa.Table | None = None) -> None:
    """Keep what `key`'s importer returned under fingerprint `fp` (replacing an older entry);
    `table` is `table_of(data)`, when already made."""
    meta = {"fingerprint": fp, **describe(data)}
    table = (table if table is not None else table_of(data)).replace_schema_metadata(
        {"trendstudie": json.dumps(meta, ensure_ascii=False)})
    path = _entry(home, key)
    atomic.ensure_dir(path.parent)

    def write(tmp: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table, str(tmp), compression="lz4")  # cheap to write and read; the files are small

    atomic.save_with(path, write)


def load(home: Path, key: str, fp: str) -> tuple[Imported, pa.Table] | None:
    """What was kept for `key` under fingerprint `fp` (and its observations as a table), or None
    (none kept, another fingerprint, or an entry that cannot be read: then it is removed and the
    source read again)."""
    path = _entry(home, key)
    if not path.exists():
        return None
    try:
        import pyarrow.parquet as pq

        kept = pq.read_table(str(path))
        meta = json.loads(kept.schema.metadata[b"trendstudie"])
        if meta.get("fingerprint") != fp:
            return None
        imported = imported_from(meta, kept.replace_schema_metadata(None))
        table = imported.columns
    except Exception:  # noqa: BLE001 - a damaged cache entry is never an error: read the source again
        path.unlink(missing_ok=True)
        return None
    return imported, table


def describe(data: Imported) -> dict:
    """What an Imported holds besides its observations, as JSON-able data (see `imported_from`)."""
    return {"tables": [asdict(t) for t in data.tables], "warnings": data.warnings}


def imported_from(meta: dict, table: pa.Table) -> Imported:
    """The Imported that `describe` gave `meta`, with `table`'s rows as its observations (made
    into tuples only when asked for, see Imported)."""
    tables = [TableMeta(**{**t, "measures": {k: MeasureMeta(**m) for k, m in t["measures"].items()}})
              for t in meta["tables"]]
    schema = _observation_columns()
    return Imported(tables=tables, warnings=[str(w) for w in meta["warnings"]],
                    columns=table if table.schema.equals(schema) else table.cast(schema))


def observations_with_fetched(table: pa.Table, fetched_at, schema: pa.Schema) -> pa.Table:
    """The observations of all sources (`observations_table`'s columns) in the store's `schema`,
    with `fetched_at(source)` as the column fetched_at (worked out per chunk: a source's table
    names few sources, so each is looked up once without copying the column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = schema.field("fetched_at").type
    stamps = []
    for chunk in table.column("source").chunks:
        sources = pc.dictionary_encode(chunk)
        stamps.append(pa.array([fetched_at(s) for s in sources.dictionary.to_pylist()], type=kind).take(sources.indices))
    columns = {name: table.column(name) for name in _observation_columns().names}
    columns["fetched_at"] = pa.chunked_array(stamps, type=kind)
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
