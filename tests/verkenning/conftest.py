"""Databases for the verkenning's tests: a fresh SQLite file each test, and the PostgreSQL server
that .ci/run starts (TRENDSTUDIE_TEST_POSTGRES_URL); without it those tests skip with a notice."""

from __future__ import annotations

import os
import uuid

import pytest

PG_ENV = "TRENDSTUDIE_TEST_POSTGRES_URL"


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _pg_database():
    """A new database on the test server for one test (dropped afterwards)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(pg_url())
    name = "vk_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, name, base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated, empty verkenning database: SQLite, and PostgreSQL when the test server runs."""
    from trendstudie.verkenning.db import Database

    if request.param == "sqlite":
        d = Database(f"sqlite:///{tmp_path / 'verkenning.sqlite'}")
        yield d
        d.dispose()
        return
    if not pg_url():
        pytest.skip(f"PostgreSQL-tests overgeslagen: {PG_ENV} is niet gezet (.ci/run start een testserver)")
    from sqlalchemy import text

    admin, name, url = _pg_database()
    d = Database(url)
    yield d
    d.dispose()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_terminal_summary(terminalreporter):
    if not pg_url():
        terminalreporter.write_line(f"LET OP: de PostgreSQL-tests van de verkenning zijn overgeslagen ({PG_ENV} niet gezet).",
                                    yellow=True)
