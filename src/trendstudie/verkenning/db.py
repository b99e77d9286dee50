"""Where the verkenning's answers live: a transactional database through SQLAlchemy 2.

SQLite in TRENDSTUDIE_HOME (`verkenning.sqlite`, WAL mode) by default; PostgreSQL (or any
database SQLAlchemy knows) when TRENDSTUDIE_DATABASE_URL names one, e.g.
`postgresql+psycopg://user@localhost/trendstudie`. The schema is brought up to date with the
Alembic migrations in `migrations/` every time a `Database` is opened.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import TrendstudieError

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking only
    fcntl = None

MIGRATIONS = Path(__file__).parent / "migrations"
ENV_URL = "TRENDSTUDIE_DATABASE_URL"
SQLITE_NAME = "verkenning.sqlite"


def database_url(home: Path | str | None = None) -> str:
    """TRENDSTUDIE_DATABASE_URL if set, else the SQLite file in `home` (TRENDSTUDIE_HOME)."""
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        return url
    from ..config import settings

    base = Path(home) if home else settings().home
    return f"sqlite:///{(base / SQLITE_NAME).as_posix()}"


def _sqlite_engine(url, immediate: bool) -> Engine:
    path = url.database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                           pool_size=8, max_overflow=32, pool_timeout=120)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con, _record):
        dbapi_con.isolation_level = None  # let the 'begin' event below issue BEGIN itself
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock at once, so two writers never deadlock upgrading a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Two engines on one database: `read()` for pages, `write()` for changes (on SQLite the
    latter begins IMMEDIATE so concurrent writers queue instead of failing)."""

    def __init__(self, url: str):
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise TrendstudieError(f"{ENV_URL} is geen geldige database-URL: {url!r}") from None
        self.url = parsed
        self.sqlite = parsed.get_backend_name() == "sqlite"
        try:
            if self.sqlite:
                self.reader = _sqlite_engine(parsed, immediate=False)
                self.writer = _sqlite_engine(parsed, immediate=True)
            else:
                self.reader = self.writer = create_engine(parsed, pool_size=10, max_overflow=40, pool_timeout=120,
                                                          pool_pre_ping=True)
        except (ImportError, SQLAlchemyError) as exc:
            raise TrendstudieError(f"Kan de verkenningsdatabase {parsed.render_as_string(hide_password=True)} "
                                   f"niet openen: {exc}") from None
        # SQLite lets one writer in at a time, and a writer that finds the database locked polls
        # with growing sleeps (up to 100 ms). Writers queue on a lock instead: a thread lock within
        # this process and a file lock beside the database between processes (server workers, the
        # CLI), so the next writer starts the moment the previous one commits.
        self._write_lock = _WriteLock(parsed.database) if self.sqlite else None
        self._prepared: dict[str, Prepared] = {}
        self._read = sessionmaker(self.reader, expire_on_commit=False)
        self._write = sessionmaker(self.writer, expire_on_commit=False)
        self.migrate()

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with _migrate_lock, self.writer.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
        except OperationalError as exc:
            raise TrendstudieError(f"De verkenningsdatabase {self.describe()} is niet bereikbaar: "
                                   f"{str(exc.orig).strip()}") from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s:  # closing ends the transaction; loaded objects stay readable
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._writing(), self._write() as s, s.begin():
            yield s

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """One transaction on a plain connection (no ORM objects), for short hot writes."""
        with self._writing(), self.writer.begin() as conn:
            yield conn

    def prepared(self, name: str, make) -> "Prepared":
        """The statement `make()` compiled once for this database (see Prepared), kept under `name`:
        for the hot path of a submission, run on the driver's cursor without SQLAlchemy's
        per-statement work (about half of a submission's time in the database otherwise)."""
        p = self._prepared.get(name)
        if p is None:
            p = self._prepared[name] = Prepared(make(), self.writer.dialect)
        return p

    def _writing(self):
        return self._write_lock if self._write_lock is not None else nullcontext()

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()
        if self._write_lock is not None:
            self._write_lock.close()


class Prepared:
    """A Core statement compiled once for one dialect, to run on the driver's cursor: `sql` and
    `params(values)` (a tuple for drivers with positional placeholders such as sqlite3, else the
    dict), with the column types' conversions applied (SQLite keeps timestamps as text). An
    INSERT is compiled for its own columns and for executemany (no RETURNING)."""

    def __init__(self, stmt, dialect):
        from sqlalchemy.sql.dml import Insert

        keys = [c.key for c in stmt.table.columns if not c.primary_key] if isinstance(stmt, Insert) else None
        compiled = dialect.statement_compiler(dialect, stmt, column_keys=keys, for_executemany=keys is not None)
        self.sql = compiled.string
        self._order = list(compiled.positiontup) if compiled.positional else None
        self._convert = [(name, f) for name, b in compiled.binds.items()
                         if (f := b.type.dialect_impl(dialect).bind_processor(dialect)) is not None]

    def params(self, values: dict) -> tuple | dict:
        for name, f in self._convert:
            values[name] = f(values[name])
        return tuple(values[k] for k in self._order) if self._order is not None else values


class _WriteLock:
    """Writers one at a time: a thread lock, and (for a database file, where the system has
    them) an exclusive flock on `<database>-lock` that other processes wait for as well."""

    def __init__(self, database: str | None):
        self._thread = threading.Lock()
        self._path = f"{database}-lock" if database and database != ":memory:" else None
        self._fd: int | None = None

    def __enter__(self):
        self._thread.acquire()
        try:
            if self._path is not None and fcntl is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:  # no file lock to be had: SQLite's own locking (busy_timeout) still holds
            pass
        except BaseException:
            self._thread.release()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._fd is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        except OSError:
            pass
        finally:
            self._thread.release()
        return False

    def close(self) -> None:
        with self._thread:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


_migrate_lock = threading.Lock()
_open: dict[str, Database] = {}


def open_database(url: str | None = None, home: Path | str | None = None) -> Database:
    """The database for `url` (or the default one), opened and migrated once per process."""
    url = url or database_url(home)
    with _open_lock:
        if url not in _open:
            _open[url] = Database(url)
        return _open[url]


_open_lock = threading.Lock()
