"""The incremental build: unchanged sources come from the build cache, an unchanged build leaves the
store alone, a changed source is read again and its new values reach the store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trendstudie import buildcache
from trendstudie.build import build, source_fingerprints, sources, store_fingerprint
from trendstudie.config import settings
from helpers import first_rows, linked_copy, sha

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from same_figures import differences  # noqa: E402

CRIME = "tidy/47018NED_geregistreerde_misdrijven.csv"
CELL = "47018NED,GeregistreerdeMisdrijven,1.1.1,GM0363,2012JJ00,"


@pytest.fixture(scope="module")
def copy(tmp_path_factory, bundle) -> Path:
    """The bundle with its own tidy/ folder (the rest linked), so a test can change a source."""
    return linked_copy(bundle, tmp_path_factory.mktemp("bundle"), {"tidy"})


@pytest.fixture(scope="module")
def home(tmp_path_factory, copy) -> Path:
    home = tmp_path_factory.mktemp("home")
    report = build(settings(home=home, bundle=copy))
    assert not report.unchanged and report.cached == []
    return home


ALL = ["OData v4-spiegel", "tidy CSV", "StatLine- en v3-exports", "KWB en overige bestanden", "eigen bestanden"]


def test_a_rebuild_without_change_leaves_the_database_untouched(home, copy):
    db = home / "trendstudie.duckdb"
    build(settings(home=home, bundle=copy))  # whatever another test changed is built now
    before, stamp = sha(db), db.stat().st_mtime_ns
    report = build(settings(home=home, bundle=copy))
    assert report.unchanged and report.built_at and report.reread == []
    assert sha(db) == before and db.stat().st_mtime_ns == stamp


def test_touching_one_source_rereads_only_that_source_and_changes_no_figure(home, copy, tmp_path):
    s = settings(home=home, bundle=copy)
    build(s)
    shutil.copy(home / "trendstudie.duckdb", tmp_path / "before.duckdb")
    os.utime(copy / CRIME)  # same content, new modification time
    report = build(s)
    assert not report.unchanged
    assert report.reread == ["tidy CSV"] and report.cached == [n for n in ALL if n != "tidy CSV"]
    # every figure the same; only when the file was fetched (its modification time) moved
    assert differences(tmp_path / "before.duckdb", home / "trendstudie.duckdb", ignore=("observations.fetched_at",)) == []


def test_a_changed_value_reaches_the_store_and_a_damaged_cache_entry_is_read_again(home, copy):
    s = settings(home=home, bundle=copy)
    build(s)
    text = (copy / CRIME).read_text(encoding="utf-8")
    old = text.split(CELL, 1)[1].split(",", 1)[0]
    new = str(int(old) + 1234)
    (copy / CRIME).write_text(text.replace(CELL + old + ",", CELL + new + ","), encoding="utf-8")
    (buildcache.cache_dir(home) / "odata-v4.parquet").write_bytes(b"geen parquet")
    report = build(s)
    assert sorted(report.reread) == ["OData v4-spiegel", "tidy CSV"]
    got, fact = first_rows(home, *(f"SELECT value FROM {t} WHERE table_id='47018NED' AND dims='SoortMisdrijf=1.1.1' "
                                   "AND region_code='GM0363' AND period='2012JJ00'" for t in ("observations", "facts")))
    assert got == (float(new),) and fact == (float(new),)
    # the damaged entry was replaced by a good one: the next change finds it in the cache
    os.utime(copy / CRIME)
    assert build(s).reread == ["tidy CSV"]


def test_a_change_of_the_parsing_code_invalidates_every_cached_source(home, copy, monkeypatch):
    s = settings(home=home, bundle=copy)
    steps = sources(s, copy)
    before = source_fingerprints(s, copy, steps)
    whole = store_fingerprint(s, copy, before, None)
    monkeypatch.setattr(buildcache, "parse_code_version", lambda: "een andere versie van de importeurs")
    after = source_fingerprints(s, copy, steps)
    assert all(before[k] != after[k] for k in before)
    assert store_fingerprint(s, copy, after, None) != whole
    for step in steps:  # what is kept under the old fingerprint is not used
        assert buildcache.load(home, step.key, after[step.key]) is None
    monkeypatch.undo()
    monkeypatch.setattr(buildcache, "code_version", lambda parts=None: "een ander programma")
    assert store_fingerprint(s, copy, before, None) != whole  # any program change rebuilds the store


def test_cli_says_nothing_changed_and_opnieuw_builds_everything(home, copy):
    env = {**os.environ, "TRENDSTUDIE_HOME": str(home)}
    s = settings(home=home, bundle=copy)
    db = home / "trendstudie.duckdb"
    build(s)
    before = sha(db)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "trendstudie", "build", "--bundle", str(copy), *args],
                              capture_output=True, text=True, env=env, timeout=600)

    r = cli()
    assert r.returncode == 0 and "Niets veranderd sinds de vorige bouw" in r.stderr and "Traceback" not in r.stderr
    assert sha(db) == before
    r = cli("--opnieuw")
    assert r.returncode == 0 and "Database gebouwd" in r.stderr and "bouwcache" not in r.stderr, r.stderr
    assert sha(db) != before  # written anew (another build time)
    assert build(s).unchanged  # and it recorded what it was built from
