"""The DuckDB store: schema, atomic writes and the queries the rest of the product uses.

A build writes a complete new database next to the old one and renames it into place only
when everything succeeded, so a failed build leaves the previous database as it was.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DatabaseError, TrendstudieError

if TYPE_CHECKING:  # both imported where they are used: a command answered from caches needs neither
    import duckdb
    import pyarrow as pa

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE build_info (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE source_tables (
    table_id VARCHAR, title VARCHAR, catalog VARCHAR, source VARCHAR, modified VARCHAR);
CREATE TABLE measures (
    table_id VARCHAR, measure VARCHAR, title VARCHAR, unit VARCHAR, decimals INTEGER,
    aggregation VARCHAR, basis VARCHAR);
CREATE TABLE dimension_codes (table_id VARCHAR, dimension VARCHAR, code VARCHAR, title VARCHAR);
CREATE TABLE observations (
    table_id VARCHAR NOT NULL, measure VARCHAR NOT NULL, dims VARCHAR NOT NULL,
    region_code VARCHAR NOT NULL, period VARCHAR NOT NULL, value DOUBLE, status VARCHAR,
    reason VARCHAR, source VARCHAR NOT NULL, fetched_at TIMESTAMP);
CREATE TABLE facts (
    table_id VARCHAR NOT NULL, measure VARCHAR NOT NULL, dims VARCHAR NOT NULL,
    region_code VARCHAR NOT NULL, period VARCHAR NOT NULL, value DOUBLE, status VARCHAR,
    harmonised BOOLEAN NOT NULL, method VARCHAR NOT NULL, provenance VARCHAR, reason VARCHAR);
CREATE TABLE regions (
    code VARCHAR PRIMARY KEY, name VARCHAR, title VARCHAR, kind VARCHAR, province VARCHAR,
    valid_from DATE, valid_to DATE, current BOOLEAN);
CREATE TABLE region_events (
    date DATE, from_code VARCHAR, to_code VARCHAR, kind VARCHAR,
    hectares DOUBLE, dwellings BIGINT, inhabitants BIGINT);
CREATE TABLE groups (
    group_id VARCHAR PRIMARY KEY, title VARCHAR, kind VARCHAR, peildatum DATE,
    source VARCHAR, description VARCHAR, changes VARCHAR);
CREATE TABLE group_members (group_id VARCHAR, region_code VARCHAR);
CREATE TABLE indicators (
    indicator_id VARCHAR PRIMARY KEY, title VARCHAR, description VARCHAR, domain VARCHAR, unit VARCHAR,
    decimals INTEGER, direction VARCHAR, citation VARCHAR, note VARCHAR, live VARCHAR, missing VARCHAR,
    position INTEGER);
CREATE TABLE indicator_values (
    indicator_id VARCHAR NOT NULL, region_code VARCHAR NOT NULL, period VARCHAR NOT NULL,
    value DOUBLE NOT NULL, status VARCHAR, provenance VARCHAR, harmonised BOOLEAN NOT NULL);
CREATE TABLE boundaries (region_code VARCHAR PRIMARY KEY, name VARCHAR, geometry VARCHAR, source VARCHAR);
CREATE TABLE warnings (stage VARCHAR, message VARCHAR);
"""

TABLES = tuple(re.findall(r"CREATE TABLE (\w+)", SCHEMA))

# No secondary indexes: DuckDB plans every query of the store as a scan (its zone maps do the
# pruning), and the three ART indexes once made here were never used while they took half of the
# write time and three quarters of the file.


@dataclass
class Content:
    """Everything one build writes, as plain rows (lists of dicts or tuples) and Arrow tables; a big
    table already handed to a `Writer` with `add` is None here."""

    info: dict[str, str] = field(default_factory=dict)
    source_tables: list[tuple] = field(default_factory=list)
    measures: list[tuple] = field(default_factory=list)
    dimension_codes: list[tuple] = field(default_factory=list)
    observations: pa.Table | None = None
    facts: pa.Table | None = None
    indicators: list[tuple] = field(default_factory=list)
    boundaries: list[tuple] = field(default_factory=list)
    indicator_values: pa.Table | None = None
    regions: list[tuple] = field(default_factory=list)
    region_events: list[tuple] = field(default_factory=list)
    groups: list[tuple] = field(default_factory=list)
    group_members: list[tuple] = field(default_factory=list)
    warnings: list[tuple] = field(default_factory=list)


def write_database(path: Path, content: Content) -> None:
    """Write a new database atomically: build in a temporary file, then rename over `path`."""
    Writer(path).finish(content)


class Writer:
    """A new database, written into a temporary file while the build still computes the rest.

    `add` hands one of the big tables (Arrow) to a thread of the writer's own, which inserts it
    while the build goes on (DuckDB works without Python's lock, so on two cores the inserting
    costs the build next to no time); `finish` inserts the rest and renames the file into place
    only when all of it succeeded; `abort` (or any failure in `finish`) removes the temporary file
    and leaves the database at `path` as it was."""

    BIG_TABLES = ("observations", "facts", "indicator_values")

    def __init__(self, path: Path) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        for leftover in (self.tmp, Path(str(self.tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._jobs = [self._thread.submit(self._open)]  # one thread: the jobs run in this order

    def _open(self) -> None:
        import duckdb

        self._con = duckdb.connect(str(self.tmp))
        self._con.execute(SCHEMA)

    def _insert(self, table: str, arrow: pa.Table) -> None:
        if self._con is None:
            return  # the database could not be made: finish() reports why
        self._con.register(f"incoming_{table}", arrow)
        self._con.execute(f"INSERT INTO {table} SELECT * FROM incoming_{table}")
        self._con.unregister(f"incoming_{table}")

    def add(self, table: str, arrow: pa.Table | None) -> None:
        """Insert one of BIG_TABLES (in the schema's column order), in the background."""
        assert table in self.BIG_TABLES, table
        if arrow is not None and arrow.num_rows:
            self._jobs.append(self._thread.submit(self._insert, table, arrow))

    def checkpoint(self) -> None:
        """Write what was inserted so far into the file, in the background (so that `finish` has
        only the rest to write)."""
        self._jobs.append(self._thread.submit(self._checkpoint))

    def _checkpoint(self) -> None:
        if self._con is not None:
            self._con.execute("CHECKPOINT")

    def _wait(self) -> None:
        for job in self._jobs:
            job.result()  # the first failure, as it happened
        self._jobs = []

    def finish(self, content: Content) -> None:
        """Everything else of `content` (its big tables too, unless None), then the file into place."""
        try:
            self._wait()
            con = self._con
            info = {"schema_version": str(SCHEMA_VERSION), "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            info.update(content.info)
            _insert_rows(con, "build_info", list(info.items()))
            for table, rows in (
                ("source_tables", content.source_tables),
                ("measures", content.measures),
                ("dimension_codes", content.dimension_codes),
                ("regions", content.regions),
                ("region_events", content.region_events),
                ("groups", content.groups),
                ("group_members", content.group_members),
                ("indicators", content.indicators),
                ("boundaries", content.boundaries),
                ("warnings", content.warnings),
            ):
                if rows:
                    _insert_rows(con, table, rows)
            for table in self.BIG_TABLES:
                arrow = getattr(content, table)
                if arrow is not None and arrow.num_rows:
                    self._insert(table, arrow)
            con.execute("CHECKPOINT")
            con.close()
            self._con = None
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        finally:
            self._thread.shutdown()

    def abort(self) -> None:
        """Stop: nothing is renamed, the temporary file is removed."""
        self._thread.shutdown(wait=True, cancel_futures=True)
        self._jobs = []
        if self._con is not None:
            import duckdb

            try:
                self._con.close()
            except duckdb.Error:
                pass
            self._con = None
        self.tmp.unlink(missing_ok=True)
        Path(str(self.tmp) + ".wal").unlink(missing_ok=True)


@cache
def _arrow_types() -> dict:
    """DuckDB column type → Arrow type, for writing plain rows (pyarrow only when a build writes)."""
    import pyarrow as pa

    return {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
            "DATE": pa.date32(), "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us")}


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert plain rows in one go, as an Arrow table typed like the table's columns (row by row,
    `executemany`, takes seconds for a few thousand rows). Rows whose values do not convert exactly
    to those types go in the slow way, with DuckDB's own conversions."""
    import pyarrow as pa

    columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                          "ORDER BY column_index", [table]).fetchall()
    try:
        arrow = pa.Table.from_arrays(
            [pa.array([r[i] for r in rows], type=_arrow_types()[kind]) for i, (_name, kind) in enumerate(columns)],
            names=[name for name, _kind in columns])
    except (KeyError, IndexError, TypeError, pa.ArrowException):
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        return
    con.register("incoming_rows", arrow)
    con.execute(f"INSERT INTO {table} SELECT * FROM incoming_rows")
    con.unregister("incoming_rows")


def require(path: Path) -> Path:
    """The store file, or the error that says to build one first."""
    path = Path(path)
    if not path.exists():
        raise TrendstudieError(
            f"Er is nog geen database in {path.parent}. Bouw die eerst: trendstudie build --bundle <map met de databundel>"
        )
    return path


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the store read-only (several readers may share it)."""
    import duckdb

    path = require(path)
    rebuild = "Bouw haar opnieuw met: trendstudie build --bundle <map met de databundel>"
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
        raise DatabaseError(f"De database {path} kan niet geopend worden; ze is beschadigd of onvolledig "
                               f"({first}). {rebuild}") from None
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in TABLES if t not in present]
        if missing:
            raise DatabaseError(f"De database {path} is onvolledig: de tabel {missing[0]} ontbreekt. {rebuild}")
        version = con.execute("SELECT value FROM build_info WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as exc:
        con.close()
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
        raise DatabaseError(f"De database {path} is beschadigd ({first}). {rebuild}") from None
    except DatabaseError:
        con.close()
        raise
    if not version or not str(version[0]).isdigit() or int(version[0]) != SCHEMA_VERSION:
        con.close()
        raise DatabaseError(f"De database {path} is van een andere versie. {rebuild}")
    return con


def few_texts():
    """The Arrow type of a text column with few distinct texts that repeat on many rows (a table,
    measure, dimensions, period, source file, provenance): dictionary-encoded, so that a build does
    not hold and copy a text per row. DuckDB stores it as VARCHAR like any text. Arrow's string
    functions (starts_with, binary_join) take no such column: the region code stays plain text."""
    import pyarrow as pa

    return pa.dictionary(pa.int32(), pa.string())


@cache
def _schemas() -> dict:
    """The Arrow schemas a build writes with; pyarrow is imported only by a build (it costs a
    reading command such as `trends` a fifth of a second)."""
    import pyarrow as pa

    few = few_texts()
    return {
        "OBSERVATION_SCHEMA": pa.schema([
            ("table_id", few), ("measure", few), ("dims", few), ("region_code", pa.string()),
            ("period", few), ("value", pa.float64()), ("status", pa.string()), ("reason", pa.string()),
            ("source", few), ("fetched_at", pa.timestamp("us")),
        ]),
        "FACT_SCHEMA": pa.schema([
            ("table_id", few), ("measure", few), ("dims", few), ("region_code", pa.string()),
            ("period", few), ("value", pa.float64()), ("status", pa.string()), ("harmonised", pa.bool_()),
            ("method", few), ("provenance", few), ("reason", pa.string()),
        ]),
        "INDICATOR_VALUE_SCHEMA": pa.schema([
            ("indicator_id", few), ("region_code", pa.string()), ("period", pa.string()),
            ("value", pa.float64()), ("status", few), ("provenance", few), ("harmonised", pa.bool_()),
        ]),
    }


def __getattr__(name: str):
    """OBSERVATION_SCHEMA, FACT_SCHEMA and INDICATOR_VALUE_SCHEMA, made on first use."""
    if name in ("OBSERVATION_SCHEMA", "FACT_SCHEMA", "INDICATOR_VALUE_SCHEMA"):
        return _schemas()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_arrow(rows: list, schema: pa.Schema) -> pa.Table:
    """Named tuples (Fact, IndicatorValue) whose fields include the schema's columns to an Arrow
    table in the schema's column order. The rows are transposed once, in C (zip), rather than
    read field by field."""
    import pyarrow as pa

    if not rows:
        return schema.empty_table()
    fields = type(rows[0])._fields
    columns = list(zip(*rows))
    return pa.Table.from_arrays([pa.array(columns[fields.index(f.name)], type=f.type) for f in schema], schema=schema)


def boundaries(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Today's gemeente boundaries (GeoJSON geometry, WGS84) as stored by the build."""
    import json

    return {code: json.loads(geom) for code, geom in con.execute("SELECT region_code, geometry FROM boundaries").fetchall()}
