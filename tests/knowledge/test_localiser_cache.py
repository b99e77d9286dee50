"""The Localiser kept on disk (knowledge/cache.py): a hit gives the very same verdicts; a file of
another build or of other knowledge-base text is never used; a damaged file is ignored quietly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from trendstudie.knowledge import cache
from trendstudie.knowledge.verdict import Localiser, as_json
from trendstudie.reader import Reader

# A sample over the country: merged gemeenten (Voorne aan Zee, Land van Cuijk, Dijk en Waard),
# a G4 city, a centrumstad, small and rural ones.
SAMPLE = ["GM1992", "GM1982", "GM1980", "GM0363", "GM0193", "GM1680", "GM0088", "GM0096", "GM1724", "GM0200"]


@pytest.fixture()
def home(built_home, tmp_path) -> Path:
    """A home of its own with a copy of the shared store (and no cache yet)."""
    h = tmp_path / "home"
    h.mkdir()
    shutil.copy2(built_home / "trendstudie.duckdb", h / "trendstudie.duckdb")
    return h


@pytest.fixture()
def made(monkeypatch) -> list[int]:
    """Counts how often a Localiser is made from the store (not taken from the cache)."""
    calls: list[int] = []
    original = Localiser.__init__

    def counting(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Localiser, "__init__", counting)
    return calls


def verdicts(home: Path, codes=SAMPLE) -> dict[str, list[dict]]:
    r = Reader(home / "trendstudie.duckdb")
    try:
        return {code: [as_json(r.kb, v) for v in r.verdicts(code)] for code in codes}
    finally:
        r.close()


def files(home: Path) -> list[Path]:
    return sorted((home / "cache").glob(f"{cache.PREFIX}*{cache.SUFFIX}"))


def test_a_hit_gives_the_same_verdicts(home, made):
    first = verdicts(home)
    assert len(made) == 1 and len(files(home)) == 1
    second = verdicts(home)
    assert len(made) == 1, "the second Reader made the Localiser again instead of reading the cache"
    assert json.dumps(second, sort_keys=True) == json.dumps(first, sort_keys=True)


def test_same_as_without_cache(home, built_home):
    """The cached Localiser judges exactly as one made from the store, for the sample and with the
    Reader's parts (kb, rules, data) being the Localiser's own."""
    from trendstudie import store

    verdicts(home)  # writes the cache
    cached = Reader(home / "trendstudie.duckdb")
    plain = Reader(connection=store.connect(built_home / "trendstudie.duckdb"))  # no file: no cache
    try:
        assert cached.data is cached.localiser.data and cached.kb is cached.localiser.kb
        for code in SAMPLE:
            assert [as_json(cached.kb, v) for v in cached.verdicts(code)] == \
                [as_json(plain.kb, v) for v in plain.verdicts(code)], code
    finally:
        cached.close()
        plain.close()


def test_a_new_build_is_not_served_the_old_cache(home, made):
    verdicts(home, SAMPLE[:1])
    old = files(home)
    db = home / "trendstudie.duckdb"
    con = duckdb.connect(str(db))  # what a build changes: built_at (and the file)
    con.execute("UPDATE build_info SET value = '2099-01-01T00:00:00+00:00' WHERE key = 'built_at'")
    con.close()
    verdicts(home, SAMPLE[:1])
    assert len(made) == 2
    assert len(files(home)) == 1 and files(home) != old, "the old build's file is replaced"


def test_the_same_build_elsewhere_or_rewritten_is_a_new_key(home, tmp_path):
    """The key follows the database file too: a build within the same second writes a new file."""
    r = Reader(home / "trendstudie.duckdb")
    before = cache.key(r.database)
    r.close()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(home / "trendstudie.duckdb", other / "trendstudie.duckdb")
    r = Reader(other / "trendstudie.duckdb")
    assert cache.key(r.database) != before
    r.close()


def test_changed_knowledge_yaml_is_a_new_key(monkeypatch, tmp_path, home):
    """Any change in the knowledge base's or the rules' text gives another key."""
    package = tmp_path / "package"
    for name in cache._SOURCES:
        src = cache._PACKAGE / name
        if src.is_dir():
            shutil.copytree(src, package / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            package.mkdir(exist_ok=True)
            shutil.copy(src, package / name)
    monkeypatch.setattr(cache, "_PACKAGE", package)
    r = Reader(home / "trendstudie.duckdb")
    try:
        before = cache.key(r.database)
        assert cache.key(r.database) == before
        rules = package / "knowledge" / "localisation.yaml"
        rules.write_text(rules.read_text(encoding="utf-8") + "\n# een kanttekening\n", encoding="utf-8")
        after_rules = cache.key(r.database)
        assert after_rules != before
        study = sorted((package / "knowledge" / "data").glob("*.yaml"))[0]
        study.write_text(study.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert cache.key(r.database) not in (before, after_rules)
        register = package / "indicators" / "registry.yaml"
        register.write_text(register.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert cache.key(r.database) not in (before, after_rules)
    finally:
        r.close()


@pytest.mark.parametrize("damage", [b"", b"geen pickle", b"\x80\x05\x95garbage", "truncate", "other-key"])
def test_a_damaged_cache_is_ignored_and_made_again(home, made, damage):
    first = verdicts(home, SAMPLE[:3])
    [path] = files(home)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "other-key":  # a valid file, but under the wrong name
        import pickle

        kept = pickle.loads(path.read_bytes())
        path.write_bytes(pickle.dumps({**kept, "key": "0" * 32}))
    else:
        path.write_bytes(damage)
    again = verdicts(home, SAMPLE[:3])
    assert again == first
    assert len(made) == 2
    assert cache.read(path, path.name[len(cache.PREFIX):-len(cache.SUFFIX)]) is not None, "made again and kept"


def test_no_cache_folder_possible(home, made):
    (home / "cache").write_text("een bestand, geen map")  # the cache cannot be written: still judged
    assert verdicts(home, SAMPLE[:1])
    assert verdicts(home, SAMPLE[:1])
    assert len(made) == 2


def _cli_env(home: Path) -> dict[str, str]:
    """The environment of a `python -m trendstudie` run on `home`, with this tree's sources first."""
    src = Path(__file__).resolve().parents[2] / "src"
    return dict(os.environ, TRENDSTUDIE_HOME=str(home), PYTHONPATH=str(src) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_cli_with_a_damaged_cache_says_nothing_of_it(home):
    env = _cli_env(home)
    run = [sys.executable, "-m", "trendstudie", "trends", "GM0193", "--format", "json"]
    first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    [path] = files(home)
    path.write_bytes(path.read_bytes()[:1000])
    second = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert "Traceback" not in second.stderr and second.stderr == first.stderr


def test_a_cache_file_others_can_write_is_not_read(home, made):
    verdicts(home, SAMPLE[:1])
    [path] = files(home)
    path.chmod(0o666)
    assert verdicts(home, SAMPLE[:1])
    assert len(made) == 2, "a file anyone could have replaced was read"
    assert not files(home)[0].stat().st_mode & 0o077  # made again, for the user only
    verdicts(home, SAMPLE[:1])
    assert len(made) == 2


def test_one_gemeente_read_alone_judges_the_same(home):
    """`trends GEMEENTE` reads only that gemeente's own figures from the cache (besides the rest):
    the verdicts are the very same as the whole Localiser's, and it refuses other gemeenten."""
    whole = verdicts(home)  # writes the cache
    for code in SAMPLE:
        r = Reader(home / "trendstudie.duckdb")
        try:
            loc = r.localiser_for(code)
            assert loc.only == code
            assert [as_json(loc.kb, v) for v in loc.verdicts(code)] == whole[code], code
            other = SAMPLE[0] if code != SAMPLE[0] else SAMPLE[1]
            with pytest.raises(ValueError):
                loc.verdicts(other)
        finally:
            r.close()


def test_one_gemeente_without_a_cache_makes_the_whole(home, made):
    r = Reader(home / "trendstudie.duckdb")
    try:
        loc = r.localiser_for("GM0193")
        assert loc.only is None and r.localiser is loc and len(made) == 1
    finally:
        r.close()
    assert len(files(home)) == 1


def test_regions_are_kept_and_the_store_not_opened(home):
    """The regions with their name index are kept beside the Localiser (readcache.py): a second
    Reader resolves names and judges one gemeente without opening the store."""
    from trendstudie import readcache

    r = Reader(home / "trendstudie.duckdb")
    try:
        first = r.resolution("Brielle")
        r.localiser_for(first.code).verdicts(first.code)
    finally:
        r.close()
    assert list((home / "cache").glob("regios-*.pickle"))
    r = Reader(home / "trendstudie.duckdb")
    try:
        again = r.resolution("Brielle")
        assert (again.code, again.message) == (first.code, first.message)
        r.localiser_for(again.code).verdicts(again.code)
        assert r.con._root is None, "the store was opened"
    finally:
        r.close()
    assert readcache.key(home / "trendstudie.duckdb") == readcache.key(home / "trendstudie.duckdb")


def test_trends_for_one_gemeente_opens_no_store_once_kept(home):
    """With the Localiser and the regions kept, `trends GEMEENTE` imports neither DuckDB nor PyYAML
    (what made it cost 0.8 s of CPU), and prints the same as the call that made them."""
    env = _cli_env(home)
    run = [sys.executable, "-X", "importtime", "-m", "trendstudie", "trends", "Zwolle"]
    first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0 and second.stdout == first.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines() if line.startswith("import time:")}
    assert "trendstudie.knowledge.verdict" in imported  # the importtime lines were read at all
    assert "duckdb" not in imported and "yaml" not in imported
