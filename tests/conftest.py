"""Shared fixtures: where the shared bundle and seeds are (../shared beside the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No test may depend on timing: Hypothesis's deadline and its "too slow" health checks would make
# a property test fail on a busy machine. One profile for every property test.
settings.register_profile("trendstudie", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("trendstudie")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRENDSTUDIE_SHARED", REPO.parent / "shared"))
BUNDLE = SHARED / "data" / "bundle"
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="session")
def bundle() -> Path:
    assert BUNDLE.is_dir(), f"the data bundle is expected at {BUNDLE} (set TRENDSTUDIE_SHARED)"
    return BUNDLE


@pytest.fixture(scope="session")
def seeds() -> Path:
    assert SEEDS.is_dir(), f"the seed studies are expected at {SEEDS} (set TRENDSTUDIE_SHARED)"
    return SEEDS


@pytest.fixture(scope="session")
def built_home(tmp_path_factory, bundle) -> Path:
    """One full build from the bundle, shared by every test that reads the store."""
    from trendstudie.build import build
    from trendstudie.config import settings

    home = tmp_path_factory.mktemp("home")
    build(settings(home=home, bundle=bundle))
    return home


@pytest.fixture(scope="session")
def con(built_home):
    """A read-only connection to the shared store."""
    from trendstudie import store

    c = store.connect(built_home / "trendstudie.duckdb")
    yield c
    c.close()
