"""Reading the sources in two processes (build.read_sources with buildworker.py): the same as in
one, bad input reported the same, and a worker that fails only makes the build read by itself."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from trendstudie import build, buildworker
from trendstudie.config import settings
from trendstudie.errors import InputError
from trendstudie.geo.regions import RegionRegistry

from helpers import linked_copy


def _read(home: Path, bundle: Path, parallel: bool):
    s = settings(home=home, bundle=bundle)
    registry = RegionRegistry.from_regioscodes(build._registry_source(s, bundle))
    tables: list = []
    reread: list[str] = []
    out = build.read_sources(s, bundle, registry, use_cache=False, parallel=parallel, tables=tables, reread=reread)
    return out, tables, reread


def _same(a, b) -> None:
    (one, one_tables, one_reread), (two, two_tables, two_reread) = a, b
    assert one.observations == two.observations
    assert one.tables == two.tables and one.warnings == two.warnings
    assert [t.equals(u) for t, u in zip(one_tables, two_tables)] == [True] * len(one_tables)
    assert one_reread == two_reread


def test_two_processes_read_what_one_reads(bundle, tmp_path, monkeypatch):
    started = []
    start = buildworker.start
    monkeypatch.setattr(buildworker, "start", lambda *a: started.append(a[3]) or start(*a))
    _same(_read(tmp_path / "one", bundle, parallel=False), _read(tmp_path / "two", bundle, parallel=True))
    assert started and "exports" not in started[0], "the build reads the largest source itself, a worker the rest"
    assert not list((tmp_path / "two" / "cache" / "build").glob(".lezen-*")), "the worker's folder is removed"


def test_bad_input_read_by_the_worker_is_reported_as_by_the_build(bundle, tmp_path, monkeypatch):
    exits = []
    collect = buildworker.collect
    monkeypatch.setattr(buildworker, "collect", lambda w: exits.append(w.process.wait()) or collect(w))
    copy = linked_copy(bundle, tmp_path / "bundle", own={"tidy"})
    path = copy / "tidy" / "70072ned_gemiddelde_bevolking.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("JJ00", "XX00", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = []
    for parallel in (False, True):
        with pytest.raises(InputError) as exc:
            _read(tmp_path / f"home-{parallel}", copy, parallel)
        errors.append((exc.value.path, exc.value.line, exc.value.column, exc.value.message))
    assert errors[0] == errors[1] and errors[0][1] == 4 and errors[0][0].endswith("70072ned_gemiddelde_bevolking.csv")
    assert exits == [buildworker.ERROR_EXIT], "the worker met the bad file and said so"


def test_a_worker_that_fails_leaves_the_reading_to_the_build(bundle, tmp_path, monkeypatch):
    def failing(home, bundle, folder, keys):
        import subprocess

        return buildworker.Worker(subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"]), folder, keys)

    monkeypatch.setattr(buildworker, "start", failing)
    _same(_read(tmp_path / "one", bundle, parallel=False), _read(tmp_path / "two", bundle, parallel=True))
