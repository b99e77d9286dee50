"""A second process that reads some of the build's sources while the build reads the largest one
itself: the sources are independent, and reading is Python work that one process does on one
core. `start` launches `python -m trendstudie.buildworker HOME BUNDLE FOLDER KEY...`; the worker
reads each source (build.sources, by key) and leaves per source an Arrow IPC file of its
observations with what else it read (tables, warnings) in the file's metadata; `collect` waits
for it and gives the Imported parts with their tables. A file that cannot be read raises the
same InputError as when the build reads it itself (the worker hands over path, message, line and
column). Should the worker fail otherwise, `collect` returns None and the build reads those
sources itself: only slower."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, TrendstudieError

ERROR_FILE = "fout.json"
ERROR_EXIT = 3  # the worker met bad input and said so in ERROR_FILE


@dataclass
class Worker:
    process: subprocess.Popen
    folder: Path
    keys: list[str]


def start(home: Path, bundle: Path, folder: Path, keys: list[str]) -> Worker | None:
    """The worker, reading the sources `keys` into `folder` (which it creates); None when no
    second process can be started here (then the build reads them itself)."""
    if not sys.executable:
        return None
    try:
        process = subprocess.Popen([sys.executable, "-m", "trendstudie.buildworker", str(home), str(bundle), str(folder),
                                    *keys], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    except OSError:
        return None
    return Worker(process, folder, keys)


def collect(worker: Worker) -> dict | None:
    """{key: (Imported, its observations as an Arrow table)} once the worker is done; an InputError
    or TrendstudieError as the worker met it; None when it failed in another way."""
    import pyarrow as pa

    from . import buildcache

    code = worker.process.wait()
    if code == ERROR_EXIT:
        try:
            error = json.loads((worker.folder / ERROR_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if error.get("path") is not None:
            raise InputError(error["path"], error["message"], line=error.get("line"), column=error.get("column"))
        raise TrendstudieError(error["message"])
    if code != 0:
        return None
    out = {}
    try:
        for key in worker.keys:
            with pa.memory_map(str(_entry(worker.folder, key))) as source:
                table = pa.ipc.open_file(source).read_all()
            meta = json.loads(table.schema.metadata[b"trendstudie"])
            table = table.replace_schema_metadata(None)
            out[key] = (buildcache.imported_from(meta, table), table)
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None
    return out


def _entry(folder: Path, key: str) -> Path:
    from .buildcache import file_name

    return folder / file_name(key, ".arrow")


def _run(home: Path, bundle: Path, folder: Path, keys: list[str]) -> int:
    import pyarrow as pa

    from . import buildcache, gcpause
    from .build import _registry_source, sources
    from .config import settings
    from .geo.regions import RegionRegistry

    s = settings(home=home, bundle=bundle)
    steps = {step.key: step for step in sources(s, bundle)}
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with gcpause.paused():
            registry = RegionRegistry.from_regioscodes(_registry_source(s, bundle))
            for key in keys:
                part = steps[key].read(registry)
                table = buildcache.table_of(part)
                table = table.replace_schema_metadata({"trendstudie": json.dumps(buildcache.describe(part),
                                                                                 ensure_ascii=False)})
                with pa.OSFile(str(_entry(folder, key)), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                    writer.write_table(table)
    except InputError as exc:
        _error(folder, {"path": exc.path, "message": exc.message, "line": exc.line, "column": exc.column})
        return ERROR_EXIT
    except TrendstudieError as exc:
        _error(folder, {"path": None, "message": str(exc)})
        return ERROR_EXIT
    return 0


def _error(folder: Path, error: dict) -> None:
    (folder / ERROR_FILE).write_text(json.dumps(error, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    home, bundle, folder, *keys = sys.argv[1:]
    try:
        code = _run(Path(home), Path(bundle), Path(folder), keys)
    except Exception:  # noqa: BLE001 - the build then reads these sources itself (and reports what it meets)
        code = 1
    sys.stdout.flush()
    os._exit(code)
