"""The battery of bad inputs and a faulty environment (issue 13): every case ends in a Dutch
message, a non-zero exit code, no traceback, and the previous database intact.

The CLI runs in-process through `run(argv)` (the same boundary `trendstudie` uses), so faults of
the environment (a full disk, a read-only file system, Ctrl-C) can be injected where they happen."""

from __future__ import annotations

import errno
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from trendstudie import boundary
from trendstudie.cli import run
from helpers import sha, store_copy


@pytest.fixture(scope="module")
def home(built_home, tmp_path_factory) -> Path:
    """A copy of the shared store (cases must not be able to harm the shared one)."""
    return store_copy(built_home, tmp_path_factory.mktemp("faults-home"))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("faults-files")
    (d / "een-bestand").write_text("x")
    (d / "kring.yaml").write_text("scenarios:\n  - id: a\n    titel: A\n    basis: b\n"
                                  "  - id: b\n    titel: B\n    basis: a\n", encoding="utf-8")
    (d / "zelf.yaml").write_text("scenarios:\n  - id: basis\n    titel: B\n    basis: basis\n", encoding="utf-8")
    (d / "binair.yaml").write_bytes(b"\xff\xfe\x00[/x]\x00")
    (d / "tags.yaml").write_text("scenarios: !!python/object/apply:os.system ['echo x']\n", encoding="utf-8")
    (d / "lijst.yaml").write_text("scenarios:\n  - id: x\n    titel: X\n    basis: [1, 2]\n", encoding="utf-8")
    (d / "logo.txt").write_text("geen svg")
    return d


def invoke(capsys, monkeypatch, home: Path, argv: list[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("TRENDSTUDIE_HOME", str(home))
    monkeypatch.delenv("TRENDSTUDIE_DEBUG", raising=False)
    code = run(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check(code: int, out: str, err: str, expected_code: int, message: str) -> None:
    assert "Traceback" not in out + err
    assert code == expected_code, (code, err)
    assert message in err, err
    assert err.startswith("Fout: ") or "\nFout: " in err, err  # one clear Dutch message


POP = ["--table", "03759ned", "--measure", "M000352"]

# (argv with {files}/{tmp} placeholders, exit code, a part of the message)
CASES = {
    # rich markup in arguments is printed literally, never interpreted
    "markup-in-name": (["regio", "[/x]"], 2, "Onbekende regionaam of -code: '[/x]'"),
    "markup-in-profiel": (["profiel", "[/red]"], 2, "'[/red]'"),
    "markup-in-table": (["facts", "--table", "[/x]", "--measure", "[b]x[/b]"], 2, "[/x]"),
    "markup-in-format": (["facts", *POP, "--format", "[/x]"], 2, "Onbekend formaat '[/x]'"),
    "markup-in-domain": (["trends", "Zwolle", "--domein", "[bold]x[/]"], 2, "'[bold]x[/]'"),
    "markup-in-path": (["export", "--region", "Zwolle", "--uit", "{tmp}/data [kopie]/x.csv"], 3, "data [kopie]"),
    # usage errors in Dutch
    "unknown-command": (["bogus"], 2, "Onbekende opdracht 'bogus'"),
    "unknown-option": (["facts", "--tabel", "x"], 2, "Onbekende optie --tabel"),
    "missing-argument": (["regio"], 2, "NAAM_OF_CODE ontbreekt"),
    "not-an-integer": (["facts", *POP, "--from", "[/x]"], 2, "--from: dat is geen geheel getal"),
    "extra-argument": (["regio", "Zwolle", "extra"], 2, "Onverwacht extra argument"),
    # former gemeenten and typos
    "split-gemeente": (["trends", "Haaren"], 2, "opgedeeld over GM0824 Oisterwijk, GM0865 Vught, GM0757 Boxtel en GM0855 Tilburg"),
    "split-in-export": (["export", "--region", "GM0788"], 2, "opgedeeld over"),
    "typo-profiel": (["profiel", "Zwole"], 2, "Bedoelde u: Zwolle"),
    "typo-trends": (["trends", "Zwole"], 2, "Bedoelde u: Zwolle"),
    "typo-export": (["export", "--region", "Zwole"], 2, "Bedoelde u: Zwolle"),
    "typo-facts": (["facts", *POP, "--region", "Zwole"], 2, "Bedoelde u: Zwolle"),
    "typo-prognose": (["prognose", "Zwole"], 2, "Bedoelde u: Zwolle"),
    "typo-rapport": (["rapport", "Zwole", "--uit", "{tmp}/r"], 2, "Bedoelde u: Zwolle"),
    "typo-regio": (["regio", "Amsterdm"], 2, "Bedoelde u: Amsterdam"),
    "typo-group": (["rapport", "--groep", "G4O", "--uit", "{tmp}/r"], 2, "Bedoelde u:"),
    "typo-vergelijk": (["rapport", "Zwolle", "--vergelijk", "g4O", "--uit", "{tmp}/r"], 2, "Bedoelde u:"),
    # years outside the data
    "years-before-data": (["rapport", "Zwolle", "--van", "1800", "--tot", "1850", "--uit", "{tmp}/r"], 2, "lopen van 2012 tot en met"),
    "year-after-data": (["rapport", "Zwolle", "--van", "2030", "--uit", "{tmp}/r"], 2, "--van 2030 ligt buiten de gegevens"),
    "years-reversed": (["rapport", "Zwolle", "--van", "2020", "--tot", "2015", "--uit", "{tmp}/r"], 2, "ligt na --tot 2015"),
    "facts-years-outside": (["facts", *POP, "--region", "Zwolle", "--from", "2030"], 2, "de reeks loopt van"),
    "facts-years-reversed": (["facts", *POP, "--from", "2020", "--to", "2010"], 2, "ligt na --to 2010"),
    "prognose-past": (["prognose", "Zwolle", "--tot", "1800"], 2, "Kies een eindjaar"),
    # bounds
    "too-many-workers": (["rapport", "Zwolle", "--werkers", "100000", "--uit", "{tmp}/r"], 2, "is te veel"),
    "zero-workers": (["rapport", "Zwolle", "--werkers", "0"], 2, "die moet minstens 1 zijn"),
    "depth-too-large": (["samenhang", "x", "--diepte", "9"], 2, "die mag hoogstens 4 zijn"),
    # files given by the user
    "uit-is-a-folder": (["export", "--region", "Zwolle", "--uit", "{tmp}"], 3, "is een map, geen bestand"),
    "uit-missing-parent": (["export", "--region", "Zwolle", "--uit", "{tmp}/nergens/x.csv"], 3, "bestaat niet"),
    "uit-under-a-file": (["export", "--region", "Zwolle", "--uit", "{files}/een-bestand/x.csv"], 3, "is een bestand, geen map"),
    "rapport-uit-is-a-file": (["rapport", "Zwolle", "--uit", "{files}/een-bestand"], 3, "is een bestand, geen map"),
    "kennisbank-uit-folder": (["kennisbank", "--uit", "{tmp}"], 3, "is een map, geen bestand"),
    "scenario-loop": (["prognose", "Zwolle", "--scenariobestand", "{files}/kring.yaml"], 2, "a → b → a"),
    "scenario-self": (["prognose", "Zwolle", "--scenariobestand", "{files}/zelf.yaml"], 2, "basis → basis"),
    "scenario-binary": (["prognose", "Zwolle", "--scenariobestand", "{files}/binair.yaml"], 2, "UTF-8"),
    "scenario-tags": (["prognose", "Zwolle", "--scenariobestand", "{files}/tags.yaml"], 2, "tags.yaml"),
    "scenario-basis-list": (["prognose", "Zwolle", "--scenariobestand", "{files}/lijst.yaml"], 2, "basis moet de id"),
    "scenario-missing": (["prognose", "Zwolle", "--scenariobestand", "{files}/weg.yaml"], 2, "bestaat niet"),
    "logo-not-svg": (["rapport", "Zwolle", "--logo", "{files}/logo.txt", "--uit", "{tmp}/r"], 2, "logo.txt"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_ends_in_a_clear_message(case, home, files, tmp_path, capsys, monkeypatch):
    argv, expected_code, message = CASES[case]
    argv = [a.format(files=files, tmp=tmp_path) for a in argv]
    before = sha(home / "trendstudie.duckdb")
    code, out, err = invoke(capsys, monkeypatch, home, argv)
    check(code, out, err, expected_code, message)
    assert sha(home / "trendstudie.duckdb") == before
    assert not list(tmp_path.rglob("*.tmp")), "no temporary file may be left behind"


# --- a damaged or missing database ----------------------------------------------------------

def test_truncated_database_says_rebuild(home, tmp_path, capsys, monkeypatch):
    damaged = tmp_path / "trendstudie.duckdb"
    damaged.write_bytes((home / "trendstudie.duckdb").read_bytes()[:300_000])
    code, out, err = invoke(capsys, monkeypatch, tmp_path, ["regio", "Zwolle"])
    check(code, out, err, boundary.EXIT_DATABASE, "trendstudie build")
    assert "beschadigd" in err and str(damaged) in err


def test_missing_table_says_rebuild(home, tmp_path, capsys, monkeypatch):
    shutil.copy2(home / "trendstudie.duckdb", tmp_path / "trendstudie.duckdb")
    con = duckdb.connect(str(tmp_path / "trendstudie.duckdb"))
    con.execute("DROP TABLE region_events")
    con.close()
    code, out, err = invoke(capsys, monkeypatch, tmp_path, ["trends", "Zwolle"])
    check(code, out, err, boundary.EXIT_DATABASE, "de tabel region_events ontbreekt")
    assert "trendstudie build" in err


def test_no_database_says_build(tmp_path, capsys, monkeypatch):
    code, out, err = invoke(capsys, monkeypatch, tmp_path, ["profiel", "Zwolle"])
    check(code, out, err, 2, "trendstudie build")


def test_a_database_error_during_a_query_says_rebuild(home, capsys, monkeypatch):
    from trendstudie.analysis import profile

    def broken(*a, **k):
        raise duckdb.CatalogException("Catalog Error: Table with name facts does not exist!")

    monkeypatch.setattr(profile, "build_profile", broken)
    code, out, err = invoke(capsys, monkeypatch, home, ["profiel", "Zwolle"])
    check(code, out, err, boundary.EXIT_DATABASE, "Bouw haar opnieuw")


# --- a faulty environment -------------------------------------------------------------------

class _FullDisk:
    """A file object that fills the disk after a few bytes."""

    def __init__(self, real):
        self.real, self.written = real, 0

    def write(self, data):
        self.written += len(data)
        if self.written > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


def test_full_disk_while_exporting_leaves_no_file(home, tmp_path, capsys, monkeypatch):
    from trendstudie import atomic

    monkeypatch.setattr(atomic, "open", lambda *a, **k: _FullDisk(open(*a, **k)), raising=False)
    target = tmp_path / "export.csv"
    code, out, err = invoke(capsys, monkeypatch, home, ["export", "--region", "Zwolle", "--uit", str(target)])
    check(code, out, err, boundary.EXIT_OS, "de schijf is vol")
    assert str(target) in err
    assert list(tmp_path.iterdir()) == []


def test_full_disk_keeps_the_previous_file(home, tmp_path, capsys, monkeypatch):
    from trendstudie import atomic

    target = tmp_path / "export.json"
    target.write_text("oud")
    monkeypatch.setattr(atomic, "open", lambda *a, **k: _FullDisk(open(*a, **k)), raising=False)
    code, out, err = invoke(capsys, monkeypatch, home, ["export", "--region", "Zwolle", "--format", "json",
                                                        "--uit", str(target)])
    check(code, out, err, boundary.EXIT_OS, "de schijf is vol")
    assert target.read_text() == "oud" and [p.name for p in tmp_path.iterdir()] == ["export.json"]


def _read_only(monkeypatch, under: Path):
    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir).resolve().is_relative_to(under.resolve()):
            raise OSError(errno.EROFS, "Read-only file system", str(dir))
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_read_only_uit_is_refused_before_the_work(home, tmp_path, capsys, monkeypatch):
    _read_only(monkeypatch, tmp_path)
    code, out, err = invoke(capsys, monkeypatch, home, ["rapport", "Zwolle", "--uit", str(tmp_path / "r")])
    check(code, out, err, boundary.EXIT_OS, "alleen-lezen")
    assert str(tmp_path / "r") in err


def test_build_in_a_read_only_home_is_refused_before_reading(home, tmp_path, bundle, capsys, monkeypatch):
    from trendstudie import build

    monkeypatch.setattr(build, "read_sources", lambda *a, **k: pytest.fail("the build started"))
    _read_only(monkeypatch, home)
    before = sha(home / "trendstudie.duckdb")
    code, out, err = invoke(capsys, monkeypatch, home, ["build", "--bundle", str(bundle)])
    check(code, out, err, boundary.EXIT_OS, "alleen-lezen")
    assert str(home) in err and sha(home / "trendstudie.duckdb") == before


def test_build_without_room_is_refused_before_reading(home, bundle, capsys, monkeypatch):
    import collections

    from trendstudie import atomic, build

    monkeypatch.setattr(build, "read_sources", lambda *a, **k: pytest.fail("the build started"))
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda p: collections.namedtuple("u", "total used free")(1, 1, 10_000))
    code, out, err = invoke(capsys, monkeypatch, home, ["build", "--bundle", str(bundle)])
    check(code, out, err, 2, "Te weinig vrije ruimte")


def test_sync_in_a_read_only_home_is_refused_before_fetching(tmp_path, capsys, monkeypatch):
    from trendstudie.sources import odata

    monkeypatch.setattr(odata.ODataClient, "__init__", lambda *a, **k: pytest.fail("sync started fetching"))
    _read_only(monkeypatch, tmp_path)
    code, out, err = invoke(capsys, monkeypatch, tmp_path, ["sync"])
    check(code, out, err, boundary.EXIT_OS, "alleen-lezen")


def test_second_build_is_refused_naming_lock_and_pid(home, bundle, capsys, monkeypatch):
    import os

    from trendstudie import build
    from trendstudie.lock import build_lock

    monkeypatch.setattr(build, "read_sources", lambda *a, **k: pytest.fail("the build started"))
    with build_lock(home):
        code, out, err = invoke(capsys, monkeypatch, home, ["build", "--bundle", str(bundle)])
    check(code, out, err, 2, "Er loopt al een build")
    assert f"proces {os.getpid()}" in err and ".build.lock" in err


HOLDER = """
import sys
from pathlib import Path
from trendstudie.lock import build_lock
with build_lock(Path(sys.argv[1])):
    print("vast", flush=True)
    sys.stdin.readline()
"""


def test_a_build_in_another_process_is_refused_then_waited_for(home, bundle, capsys, monkeypatch):
    """Two processes: one holds the lock (as a running build does), the CLI in this process
    refuses, naming the other process; `build --wacht` waits until the other is done and only then
    starts. No timing: the holder says when it holds, and the waiter says when it waits."""
    import subprocess
    import sys
    import threading

    from trendstudie import build

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "vast"
        started = threading.Event()

        def read_sources(*a, **k):
            started.set()
            raise build.TrendstudieError("gestopt door de test")

        monkeypatch.setattr(build, "read_sources", read_sources)
        code, out, err = invoke(capsys, monkeypatch, home, ["build", "--bundle", str(bundle)])
        check(code, out, err, 2, "Er loopt al een build")
        assert f"proces {holder.pid}" in err
        assert not started.is_set()

        waiting = threading.Event()
        real_lock = build.build_lock

        def observed_lock(home_dir, wait=False, waiting_cb=None, **kw):
            def said(message):
                waiting.set()
                if waiting_cb:
                    waiting_cb(message)
            return real_lock(home_dir, wait=wait, waiting=said if wait else waiting_cb)

        monkeypatch.setattr(build, "build_lock", lambda h, wait=False, waiting=None: observed_lock(h, wait, waiting))
        result: dict = {}
        waiter = threading.Thread(target=lambda: result.setdefault(
            "code", run(["build", "--bundle", str(bundle), "--wacht"])))
        monkeypatch.setenv("TRENDSTUDIE_HOME", str(home))
        waiter.start()
        assert waiting.wait(120), "build --wacht did not say it waits"
        assert not started.is_set(), "the waiting build started while the other held the lock"
        holder.stdin.write("klaar\n")
        holder.stdin.flush()
        waiter.join(300)
        assert started.is_set(), "the waiting build never started after the lock was released"
        assert result["code"] != 0  # stopped by the test's read_sources, with a message
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
    capsys.readouterr()


def test_ctrl_c_ends_with_a_word(home, capsys, monkeypatch):
    from trendstudie import store

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "connect", interrupted)
    code, out, err = invoke(capsys, monkeypatch, home, ["profiel", "Zwolle"])
    assert code == boundary.EXIT_INTERRUPTED and "Afgebroken." in err and "Traceback" not in err


def test_an_unforeseen_error_is_a_message_not_a_traceback(home, capsys, monkeypatch):
    from trendstudie import store

    def bug(*a, **k):
        raise ValueError("onverwacht [/x]")

    monkeypatch.setattr(store, "connect", bug)
    code, out, err = invoke(capsys, monkeypatch, home, ["profiel", "Zwolle"])
    check(code, out, err, boundary.EXIT_INTERNAL, "Interne fout (ValueError: onverwacht [/x])")


# --- text from data is never markup ---------------------------------------------------------

def test_group_title_with_markup_prints_literally(home, tmp_path, capsys, monkeypatch):
    shutil.copy2(home / "trendstudie.duckdb", tmp_path / "trendstudie.duckdb")
    con = duckdb.connect(str(tmp_path / "trendstudie.duckdb"))
    gid = con.execute("SELECT group_id FROM group_members WHERE region_code = 'GM0193' ORDER BY 1 LIMIT 1").fetchone()[0]
    con.execute("UPDATE groups SET title = 'Rood [/red] [kopie] [bold]' WHERE group_id = ?", [gid])
    con.close()
    for argv in (["regio", "Zwolle"], ["profiel", "Zwolle"]):
        code, out, err = invoke(capsys, monkeypatch, tmp_path, argv)
        assert code == 0, err
        assert "Rood [/red] [kopie] [bold]" in out


# --- former gemeenten: the same everywhere --------------------------------------------------

NOTE = "GM0501 (Brielle) is op 1 januari 2023 opgegaan in GM1992 Voorne aan Zee; hieronder Voorne aan Zee."


@pytest.mark.parametrize("argv", [
    ["trends", "GM0501", "--format", "json"],
    ["profiel", "Brielle", "--format", "json"],
    ["export", "--region", "GM0501", "--indicator", "bevolking"],
    ["facts", *POP, "--region", "brielle", "--from", "2024"],
    ["prognose", "GM0501", "--tot", "2030"],
])
def test_former_gemeente_is_answered_by_its_successor_everywhere(argv, home, capsys, monkeypatch):
    code, out, err = invoke(capsys, monkeypatch, home, argv)
    assert code == 0, err
    assert NOTE in err
    assert "GM0501" not in out


def test_regio_of_a_former_gemeente_shows_its_own_history(home, capsys, monkeypatch):
    code, out, err = invoke(capsys, monkeypatch, home, ["regio", "GM0501"])
    assert code == 0 and out.startswith("Brielle (GM0501)")
    assert "GM0501 (Brielle) is op 1 januari 2023 opgegaan in GM1992 Voorne aan Zee." in err
