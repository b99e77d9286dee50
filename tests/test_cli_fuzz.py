"""A fuzz test over the CLI (issue 13, point 10): hypothesis builds argument lists from the real
commands and options of the typer app, mixed with hostile text (rich markup such as `[/x]`,
unicode, paths, numbers, former gemeente codes) and files with random contents, and runs them
through `run(argv)`, the CLI's one error boundary.

Whatever it gives, no traceback may reach the user, the exit code is never 1 (an unhandled
exception) or 70 (an internal error), and the database file is left exactly as it was.

Commands that build, sync or serve are left out (they are slow, need the network or never end),
and so are options that would write outside a temporary folder or reach a server; everything
that writes (--uit, --uitvoer) writes into a temporary folder."""

from __future__ import annotations

import io
import uuid
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trendstudie import boundary
from trendstudie import cli
from helpers import sha, store_copy

SKIPPED_COMMANDS = {"serve", "build", "sync", "bijwerken"}
# options never fuzzed: the home is set for the whole test; --url reaches a server; --alle, --groep
# and --pdf make many or heavy reports; --verwijder and --bundle change or rebuild the store;
# --wachtwoord asks on the terminal (getpass opens /dev/tty itself).
SKIPPED_OPTIONS = {"--home", "--url", "--alle", "--groep", "--group", "--pdf", "--verwijder", "--bundle",
                   "--wachtwoord"}
OUTPUT_OPTIONS = {"--uit", "--uitvoer"}
FILE_OPTIONS = {"--groepen", "--scenariobestand", "--logo"}
FILE_ARGUMENTS = {("importeer", "bestand")}


def _commands() -> list[tuple[tuple[str, ...], list]]:
    """Every leaf command of the app as (its words, its parameters)."""
    found: list[tuple[tuple[str, ...], list]] = []

    def walk(group, words: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if name in SKIPPED_COMMANDS:
                continue
            if hasattr(command, "commands"):
                walk(command, words + (name,))
            else:
                found.append((words + (name,), list(command.params)))

    walk(typer.main.get_command(cli.app), ())
    return found


COMMANDS = _commands()

hostile = st.sampled_from([
    "[/x]", "[/red]", "[bold]x[/]", "data [kopie]", "[link=file:///etc/passwd]x[/link]", "]]][[[",
    "GM0501", "GM0193", "GM9999", "gm0501", "Brielle", "Voorne aan Zee", "Zwolle", "Zwole", "'s-Hertogenbosch",
    "Nederland", "NL01", "PV23", "0", "-1", "1e308", "-1e308", "nan", "inf", "1800", "2030", "99999999999999999999",
    "", " ", "-", "--", "--help", "../..", "/", "/dev/null", "/proc/self/status", "~", "é", "Ĳsselstein",
    "日本", "🙂", "\u202e", "a\tb", "x\ny", "%s%n", "{0}", "$(echo x)", "`id`", "; rm -rf /",
])
numbers = st.one_of(st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str))
free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
value = st.one_of(hostile, numbers, free_text)

# sensible values, drawn 7 times in 10, so that commands get past their first check and reach
# the files, years and formats further on
SENSIBLE = {
    "gemeente": ["Zwolle", "Zwolle", "GM0193", "GM0193", "GM0501", "Brielle", "Amsterdam", "GM0363", "Voorne aan Zee"],
    "naam_of_code": ["Zwolle", "GM0193", "GM0501", "Brielle", "Nederland"],
    "regions": ["Zwolle", "GM0193", "GM0501", "GM0193,GM0363"],
    "region": ["GM0193", "GM0501", "NL01"],
    "fmt": ["tekst", "json", "csv", "xlsx", "dot", "graphml", "schema", "markdown"],
    "van": ["1800", "2000", "2015", "2030"], "tot": ["1850", "2020", "2030", "2050", "2100"],
    "from_year": ["2000", "2015"], "to_year": ["2020", "1800"], "table": ["70072ned", "70072NED", "x"],
    "measure": ["GemiddeldAantalInwoners", "x"],
    "id": ["1", "2", "0"], "oorsprong": ["2015", "2020", "1900"], "werkers": ["1", "2", "0", "1000"],
    "domein": ["demografie", "wonen en ruimte", "[/x]"], "vergelijk": ["G40", "g40", "PV23", "GM0501"], "diepte": ["1", "2", "-1", "100"],
}

file_content = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    st.sampled_from([
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        "<svg onload='alert(1)'><foreignObject>[/x]</foreignObject></svg>",
        "groepen:\n  - id: x\n    titel: '[/red]'\n    leden: [GM0501, GM9999]\n",
        "scenarios:\n  - id: a\n    titel: A\n    basis: a\n",
        "scenarios: !!python/object/apply:os.system ['echo x']\n",
        "Perioden;Regio's;Waarde\n2020JJ00;GM0193;nan\n2021JJ00;\"GM0193;inf\n",
        "regio,jaar,waarde\nGM0501,2020,1e309\n",
        "a: [\n", "- - - [/x]\n", "\ufeff{}", "null\n",
    ]),
)


@st.composite
def argument_lists(draw, folder: Path) -> list[str]:
    words, params = draw(st.sampled_from(COMMANDS))
    argv = list(words)

    def a_file() -> str:
        path = folder / f"{uuid.uuid4().hex}{draw(st.sampled_from(['.yaml', '.svg', '.csv', '.xlsx', '.txt', '']))}"
        content = draw(file_content)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return str(path)

    def a_value(name: str):
        sensible = SENSIBLE.get(name)
        if not sensible:
            return value
        return st.integers(0, 9).flatmap(lambda i: st.sampled_from(sensible) if i < 7 else value)

    for param in params:
        opts = [o for o in param.opts if o.startswith("-")]
        if param.param_type_name == "argument":
            if (words[-1], param.name) in FILE_ARGUMENTS and draw(st.booleans()):
                argv.append(a_file())
            elif draw(st.integers(0, 9)) > 0:  # mostly given: an argument missing is dull
                argv.append(draw(a_value(param.name)))
            continue
        if not opts or set(param.opts) & SKIPPED_OPTIONS or not draw(st.booleans()):
            continue
        opt = draw(st.sampled_from(opts))
        if getattr(param, "is_flag", False):
            argv.append(opt)
        elif opt in OUTPUT_OPTIONS:
            argv += [opt, str(folder / "uit" / f"{uuid.uuid4().hex}{draw(st.sampled_from(['.csv', '.json', '.html', '']))}")]
        elif opt in FILE_OPTIONS:
            argv += [opt, a_file() if draw(st.integers(0, 3)) > 0 else draw(value)]
        else:
            argv += [opt, draw(a_value(param.name))]
    if words == ("importeer",):
        argv.append("--controle")  # check only: never stores an import or rebuilds
    if draw(st.integers(0, 9)) == 0:  # now and then something that fits nowhere
        argv.insert(draw(st.integers(0, len(argv))), draw(value))
    return argv


@pytest.fixture(scope="module")
def fuzz_home(built_home, tmp_path_factory) -> Path:
    """A copy of the shared store: verkenning writes its own database beside it."""
    return store_copy(built_home, tmp_path_factory.mktemp("fuzz-home"))


def test_no_argument_list_ends_in_a_traceback(fuzz_home, tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDSTUDIE_HOME", str(fuzz_home))
    monkeypatch.delenv("TRENDSTUDIE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)  # a relative path in the arguments lands here
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing waits for input
    (tmp_path / "uit").mkdir()
    database = fuzz_home / "trendstudie.duckdb"
    before = sha(database)

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def case(data):
        argv = data.draw(argument_lists(tmp_path))
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = cli.run(argv)
        said = stdout.getvalue() + stderr.getvalue()
        event(f"{' '.join(argv[:2] if argv[:1] == ['verkenning'] else argv[:1])} -> exit {code}")
        assert "Traceback" not in said, (argv, said)
        assert code not in (1, boundary.EXIT_INTERNAL), (argv, code, said)
        assert isinstance(code, int), (argv, code)

    case()
    assert sha(database) == before


LOGOS = st.sampled_from([
    "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><script>alert(1)</script><rect width='5' height='5'/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><foreignObject>[/x]</foreignObject></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><image href='http://example.org/x.png'/></svg>",
    "geen svg [/x]",
])


def test_reports_written_from_hostile_options_are_safe(fuzz_home, tmp_path, monkeypatch):
    """The general fuzz test rarely gets a report all the way to disk; this one always aims there:
    a real gemeente, a fresh output folder, and hostile titles, logos, domains and years. Whatever
    it gives: no traceback, exit 0 or a usage/file error, and a written report never carries a
    script, event handler or external reference from the logo."""
    monkeypatch.setenv("TRENDSTUDIE_HOME", str(fuzz_home))
    monkeypatch.delenv("TRENDSTUDIE_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    written = []

    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(title=st.one_of(hostile, free_text), logo=LOGOS,
           domain=st.sampled_from(["demografie", "veiligheid", "[/x]", "wonen en ruimte"]),
           years=st.sampled_from([[], ["--van", "2015"], ["--tot", "2020"], ["--van", "1800"], ["--van", "2020", "--tot", "2015"]]))
    def case(title, logo, domain, years):
        out = tmp_path / uuid.uuid4().hex
        logo_file = tmp_path / f"{uuid.uuid4().hex}.svg"
        logo_file.write_text(logo, encoding="utf-8")
        argv = ["rapport", "Zwolle", "--geen-pdf", "--uit", str(out), "--titel", title, "--logo", str(logo_file),
                "--domein", domain, *years]
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = cli.run(argv)
        said = stdout.getvalue() + stderr.getvalue()
        assert "Traceback" not in said, (argv, said)
        assert code in (0, 2, 3), (argv, code, said)
        for html in out.glob("*.html") if code == 0 else []:
            text = html.read_text(encoding="utf-8").lower()
            written.append(html)
            assert "alert(1)" not in text and "onload=" not in text and "example.org" not in text, argv

    case()
    assert written, "no hostile case reached the writing of a report"
