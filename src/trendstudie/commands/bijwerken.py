"""`trendstudie bijwerken`: one command to stay current, fit for cron or a systemd timer.

1. sync: ask CBS which catalogue tables changed and fetch only those (sources/sync.py, with the
   release watch of sources/releases.py: discontinued tables and announced herindelingen);
2. build: only when something new arrived (or an earlier build after a sync did not finish);
3. reports: regenerate the reports in the output folder (`--uit`, default `rapporten/`, as for
   `trendstudie rapport`) whose inputs changed; the report writer skips the others. Which reports:
   those already in that folder (so the folder a researcher set up once stays current), or the
   gemeenten given with --gemeente/--groep/--alle.

What still has to happen after a failure is remembered in `<home>/bijwerken.json`, so the next run
finishes it even when CBS has nothing new by then. Exit codes (boundary.py): 0 bijgewerkt or niets
nieuws; 69 CBS not reachable (nothing changed); 65 the build failed (the previous database stays);
75 partly done (a table or report failed, or another sync/build was running: the next run goes on).
`--stil` prints only what needs attention, and what an earlier run already said only once.
See docs/bijwerken.md.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import typer

from .. import atomic, jsonout
from ..boundary import EXIT_BUILD, EXIT_PARTIAL, EXIT_UNREACHABLE, describe_oserror, is_database_error
from ..config import Settings, require_bundle, settings
from ..console import err, styled
from ..errors import TrendstudieError

STATE_NAME = "bijwerken.json"
_REPORT_FILE = re.compile(r"^(GM\d{4})-.+\.html$")


@dataclass
class Pending:
    """What a run left to do: kept in `<home>/bijwerken.json`."""

    build: bool = False  # tables arrived since the last successful build
    reports: bool = False  # the database changed since the reports were last written
    last_run: str | None = None
    last_update: str | None = None  # the last run that built something
    built_from: float | None = None  # when that build started (epoch): synced tables older than this are in it

    @classmethod
    def load(cls, home: Path) -> "Pending":
        try:
            data = json.loads((home / STATE_NAME).read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in ("build", "reports", "last_run", "last_update", "built_from")
                          if k in data})
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, home: Path) -> None:
        atomic.write_bytes(home / STATE_NAME, jsonout.dumps(asdict(self), indent=1).encode("utf-8"))


class Say:
    """Progress and results on stderr; `quiet` keeps only what needs attention."""

    def __init__(self, quiet: bool):
        self.quiet = quiet

    def info(self, text: str) -> None:
        if not self.quiet:
            err.print(text, markup=False, highlight=False)

    def attention(self, label: str, text: str, colour: str = "yellow") -> None:
        err.print(styled((label, colour), f": {text}"), markup=False, highlight=False)


def existing_reports(folder: Path) -> list[str]:
    """The gemeente codes of the reports in `folder` (their HTML files, `GM0193-zwolle.html`)."""
    if not folder.is_dir():
        return []
    return sorted({m.group(1) for p in folder.iterdir() if (m := _REPORT_FILE.match(p.name))})


def index_title(folder: Path) -> str | None:
    """The title of an existing overview page, so that rewriting it keeps it."""
    try:
        text = (folder / "index.html").read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"<title>(.*?)</title>", text, re.S)
    return html.unescape(m.group(1)).strip() if m else None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def bijwerken(
    uit: Path = typer.Option(Path("rapporten"), "--uit", help="Map met de rapporten die bijgewerkt worden "
                             "(standaard rapporten/, zoals bij trendstudie rapport)."),
    gemeente: list[str] = typer.Option([], "--gemeente", help="Rapporten van deze gemeente(n) bijwerken in plaats "
                                       "van die in de map; herhaalbaar."),
    groep: Optional[str] = typer.Option(None, "--groep", help="Rapporten van alle gemeenten van deze groep."),
    alle: bool = typer.Option(False, "--alle", help="Rapporten van alle gemeenten."),
    pdf: bool = typer.Option(True, "--pdf/--geen-pdf", help="Ook de PDF's bijwerken."),
    stil: bool = typer.Option(False, "--stil", "-q", help="Alleen melden wat aandacht vraagt (voor cron)."),
    url: Optional[str] = typer.Option(None, "--url", help="Basisadres van de OData v4-dienst (standaard $TRENDSTUDIE_CBS_URL)."),
    catalogus: Optional[Path] = typer.Option(None, "--catalogus", help="Eigen catalogus van tabellen (YAML, zoals "
                                             "sources/catalog.yaml; standaard die van trendstudie)."),
    werkers: Optional[int] = typer.Option(None, "--werkers", min=1, help="Aantal processen voor de rapporten."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Map met de databundel (standaard $TRENDSTUDIE_BUNDLE)."),
    home: Optional[Path] = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME of ~/.trendstudie)."),
) -> None:
    """Haal nieuwe CBS-cijfers op, bouw de database opnieuw en werk de rapporten bij (voor cron)."""
    if sum(bool(x) for x in (gemeente, groep, alle)) > 1:
        raise TrendstudieError("Geef --gemeente, --groep of --alle, niet meer dan één daarvan.")
    s = settings(home=home, bundle=bundle)
    require_bundle(s)
    atomic.ensure_dir(s.synced)
    say = Say(stil)
    code = run(s, say, uit=uit, gemeenten=gemeente, groep=groep, alle=alle, pdf=pdf, url=url, workers=werkers,
               catalog=catalogus)
    if code:
        raise typer.Exit(code)


def run(s: Settings, say: Say, *, uit: Path, gemeenten: list[str] = (), groep: str | None = None, alle: bool = False,
        pdf: bool = True, url: str | None = None, workers: int | None = None, catalog: Path | None = None) -> int:
    """sync → build → reports; returns the exit code."""
    from ..lock import BuildLocked
    from ..sources.odata import ODataClient, Unreachable
    from ..sources.releases import date_text
    from ..sources.sync import FAILED, OK, SyncBusy, sync

    pending = Pending.load(s.home)
    pending.last_run = _now()

    # 1. sync: only what CBS changed
    say.info("CBS vragen welke tabellen veranderden …")
    client = ODataClient(url or s.cbs_url, cache_dir=s.http_cache)
    try:
        report = sync(catalog, url or s.cbs_url, s.synced, client=client,
                      progress=None if say.quiet else _table_progress(say))
    except Unreachable as exc:
        say.attention("Geen verbinding", f"{exc} Er is niets veranderd; de volgende keer wordt het opnieuw "
                      "geprobeerd.", "red")
        return EXIT_UNREACHABLE
    except SyncBusy as exc:
        say.attention("Bezig", str(exc), "red")
        return EXIT_PARTIAL
    finally:
        client.close()
    fetched = [t for t in report.tables if t.status == OK]
    failed = [t for t in report.tables if t.status == FAILED]
    for t in fetched:
        what = (f"nieuwe versie ({date_text(t.previous_modified)} → {date_text(t.modified)})" if t.changed
                else "opgehaald")
        say.info(f"{t.catalog}/{t.name}: {what}, {t.rows:,} observaties".replace(",", "."))
    unchanged = len(report.tables) - len(fetched) - len(failed)
    if unchanged:
        say.info(f"{unchanged} tabellen ongewijzigd bij CBS.")
    for t in failed:
        say.attention("Niet opgehaald", f"{t.catalog}/{t.name}: {t.reason}", "red")
    for label, text in report.news(only_new=say.quiet):
        say.attention(label, text)
    if fetched or _synced_since_build(s, pending.built_from):  # also what a separate `trendstudie sync` fetched
        pending.build = True
    database_missing = not s.database.exists()
    pending.save(s.home)

    # 2. build: only when something new arrived (or an earlier build did not finish)
    built = False
    if pending.build or database_missing:
        say.info("Database bouwen …")
        started = time.time()
        try:
            result = _build(s, say)
        except BuildLocked as exc:
            say.attention("Bezig", str(exc), "red")
            return EXIT_PARTIAL
        except (TrendstudieError, OSError) as exc:
            reason = describe_oserror(exc) if isinstance(exc, OSError) else str(exc)
            say.attention("Bouwen mislukt", f"{reason} De vorige database blijft in gebruik; de volgende "
                          "`trendstudie bijwerken` bouwt opnieuw.", "red")
            return EXIT_BUILD
        except Exception as exc:  # noqa: BLE001 - a damaged synced file must not become a traceback
            if not is_database_error(exc):
                raise
            say.attention("Bouwen mislukt", f"{exc} De vorige database blijft in gebruik.", "red")
            return EXIT_BUILD
        built = True
        pending.build, pending.reports, pending.last_update, pending.built_from = False, True, _now(), started
        pending.save(s.home)
        say.info(f"Database gebouwd: {result.observations:,} observaties in {result.seconds:.0f} s.".replace(",", "."))
        edition = _edition_summary(s, started)
        if edition:
            say.info(edition)

    # 3. reports whose inputs changed
    written, report_problem = 0, None
    codes, notes = _report_codes(s, uit, list(gemeenten), groep, alle)
    for note in notes:
        say.attention("Rapporten", note)
    if codes and (pending.reports or gemeenten or groep or alle):
        try:
            written = _write_reports(s, say, codes, uit, pdf, workers)
        except (TrendstudieError, OSError) as exc:
            report_problem = describe_oserror(exc) if isinstance(exc, OSError) else str(exc)
            say.attention("Rapporten niet bijgewerkt", f"{report_problem} De volgende keer opnieuw.", "red")
        else:
            pending.reports = False
    elif not codes and not notes:
        say.info(f"Geen rapporten in {uit} om bij te werken (maak ze met `trendstudie rapport GEMEENTE --uit {uit}`, "
                 "of geef --gemeente, --groep of --alle).")
    if not codes:
        pending.reports = False  # nothing to keep up to date
    pending.save(s.home)

    if failed or report_problem:
        say.attention("Gedeeltelijk bijgewerkt", f"{len(failed)} van {len(report.tables)} tabellen niet opgehaald"
                      + (", rapporten niet bijgewerkt" if report_problem else "")
                      + "; wat wel binnenkwam is verwerkt. De volgende keer gaat het verder.", "red")
        return EXIT_PARTIAL
    if built:
        say.info(f"Bijgewerkt: {len(fetched)} tabel(len) nieuw bij CBS, database gebouwd, {written} rapport(en) vernieuwd.")
    else:
        say.info("Niets nieuws bij CBS; alles is bij.")
    return 0


def _synced_since_build(s: Settings, built_from: float | None) -> bool:
    """Whether a table was fetched after the last build (by bijwerken, or by another `build`: the
    database's time) started: its `_sync.json` is newer. An incremental build may leave an unchanged
    database as it was, so the database's time alone does not tell."""
    try:
        built = max(s.database.stat().st_mtime, built_from or 0.0)
    except FileNotFoundError:
        return True
    return any(p.stat().st_mtime > built for p in s.synced.glob("*/*/_sync.json"))


def _edition_summary(s: Settings, started: float) -> str | None:
    """What the edition this build recorded changed, counted per kind (editions.py); None when the
    build recorded none (a first build, or one that left the store as it was)."""
    from datetime import datetime

    from .. import editions

    history = editions.history(s.home)
    if not history or history[-1].vorige is None:
        return None
    latest = history[-1]
    try:
        recorded = datetime.fromisoformat(latest.vastgelegd.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    if recorded < started - 1:
        return None
    words = {"waarde": ("cijfer herzien of definitief", "cijfers herzien of definitief"),
             "periode": ("cijfer van een nieuwe periode", "cijfers van een nieuwe periode"),
             "oordeel": ("oordeel veranderd", "oordelen veranderd"),
             "prognose": ("prognose verschoven", "prognoses verschoven")}
    parts = [f"{n:,}".replace(",", ".") + f" {words[k][n != 1]}" for k, n in latest.wijzigingen.items()
             if n and k in words]
    if not parts:
        return f"Editie {latest.nummer}: geen veranderde cijfers."
    return f"Editie {latest.nummer}: {', '.join(parts)}; zie `trendstudie wijzigingen`."


def _table_progress(say: Say):
    shown: set[str] = set()

    def progress(table: str, done: int, total: int | None) -> None:
        if table not in shown:
            shown.add(table)
            say.info(f"{table}: ophalen …")

    return progress


def _build(s: Settings, say: Say):
    from ..build import build

    def progress(stage: str, done: int, total: int | None) -> None:
        pass

    return build(s, progress, wait=True, waiting=say.info)


def _report_codes(s: Settings, uit: Path, gemeenten: list[str], groep: str | None, alle: bool) -> tuple[list[str], list[str]]:
    """The current gemeente codes whose reports to keep up to date, and notes (a report of a
    gemeente that no longer exists is continued as its successor's)."""
    from ..reader import Reader

    wanted = gemeenten or ([] if groep or alle else existing_reports(uit))
    if not (wanted or groep or alle) or not s.database.exists():
        return [], []
    reader = Reader(s.database)
    try:
        notes: list[str] = []
        if alle:
            return sorted(c for c, r in reader.regions.items() if r.current), notes
        if groep:
            gid = reader.group_id(groep, "--groep")
            return sorted(reader.group_members.get(gid, [])), notes
        codes: list[str] = []
        for text in wanted:
            res = reader.resolution(text, ("GM",))
            if res.code is None:
                notes.append(res.message or f"{text}: geen huidige gemeente; dit rapport wordt niet meer bijgewerkt.")
                continue
            if res.code != text and text in existing_reports(uit) and res.code not in existing_reports(uit):
                # said once: from the next run on, the successor's report is in the folder
                notes.append(f"{res.message or text} Het rapport wordt voortgezet als dat van {res.code}.")
            if res.code not in codes:
                codes.append(res.code)
        return sorted(codes), notes
    finally:
        reader.close()


def _write_reports(s: Settings, say: Say, codes: list[str], uit: Path, pdf: bool, workers: int | None) -> int:
    from ..report.content import Options
    from ..report.write import write_many

    atomic.ensure_dir(uit)
    say.info(f"Rapporten bijwerken in {uit} ({len(codes)} gemeenten) …")
    written = write_many(s.database, codes, uit, Options(), pdf=pdf, workers=workers,
                         title=index_title(uit) or "Trendstudies")
    made = [w for w in written if not w.skipped]
    for w in made:
        say.info(f"Rapport {w.name} ({w.code}) vernieuwd.")
    if len(made) < len(written):
        say.info(f"{len(written) - len(made)} rapporten ongewijzigd.")
    return len(made)
