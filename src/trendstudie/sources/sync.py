"""`sync`: fetch the catalogue's tables from the CBS OData v4 service into a local mirror.

Entries of another kind (the Klimaatmonitor, the Leefbaarometer: see `external.py`) are fetched
from their own service and written in the same layout; they are fetched whole each time (no page
resumption) and a Klimaatmonitor entry without an API key is skipped with the reason.

Every table lands in `<cache_dir>/<catalog>/<name>/` in exactly the layout of the bundle's
`odata-v4/<id>/` mirror, so one importer reads both:

    Properties.json        the Properties object as served
    Dimensions.json        {"@odata.context": …, "value": [...]}
    MeasureCodes.json      idem
    <Dimension>Codes.json  one per dimension (RegioSCodes.json, PeriodenCodes.json, …)
    Observations.json      {"@odata.context": …, "value": [all rows of all pages]}

plus `_sync.json` (when, from where, with which filter, how many rows, and the table's `Modified`
as CBS gave it), which the mirror lacks.

Release watch (`releases.py`): before fetching, `sync` asks the CBS catalogue for the `Modified`
date of every catalogue table and fetches only the tables that changed since they were fetched
(and the ones never fetched); a complete, unchanged table is skipped as "ongewijzigd bij CBS".
It reports tables CBS discontinued, with the successor CBS names, and the herindelingen CBS
announced for a coming year; what it saw is kept in `<cache_dir>/_releases.json`.

A table is built in `<cache_dir>/<catalog>/.partial/<name>/` and renamed into place only when
complete, so a sync that fails part-way never leaves half a table visible and loses nothing already
synced; a reader that walks `<catalog>/*/Properties.json` never sees work in progress. Resuming
(the same call again) skips complete tables (unless `refresh`), reuses the metadata files already
in the `.partial` folder and continues Observations at the `@odata.nextLink` of the last saved page.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..atomic import write_json
from ..errors import TrendstudieError
from . import external
from .catalog import Catalog, CatalogTable, load_catalog
from .odata import ODataClient, Unreachable
from .releases import (Announcement, Discontinued, Release, ReleaseState, coming_classifications, query_catalogue,
                       release_from, rules, same_version, successors, announced_herindelingen)

Progress = Callable[[str, int, "int | None"], None]

PARTIAL_DIR = ".partial"  # per catalogue; holds tables being fetched
PAGES_DIR = "_pages"
STATE_FILE = "_state.json"
SYNC_FILE = "_sync.json"

OK, SKIPPED, FAILED = "ok", "skipped", "failed"


@dataclass
class TableResult:
    name: str
    table_id: str
    catalog: str
    status: str  # "ok", "skipped" or "failed"
    path: Path
    rows: int | None = None
    reason: str | None = None
    resumed_pages: int = 0  # pages reused from an earlier, interrupted sync
    kind: str = "cbs"
    modified: str | None = None  # the table's Modified as CBS lists it now
    previous_modified: str | None = None  # as it was when last fetched (set when CBS changed the table)
    release: Release | None = None  # what the catalogue (or the table's Properties) said

    @property
    def changed(self) -> bool:
        """Fetched because CBS published a new version of a table fetched before."""
        return self.status == OK and self.previous_modified is not None


@dataclass
class SyncReport:
    tables: list[TableResult] = field(default_factory=list)
    discontinued: list[Discontinued] = field(default_factory=list)
    herindelingen: list[Announcement] = field(default_factory=list)  # announced, still to come
    new_discontinued: list[Discontinued] = field(default_factory=list)  # not reported by an earlier sync
    new_herindelingen: list[Announcement] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # things the user should know (catalogue not asked, …)
    catalogue: bool = False  # the CBS catalogue answered

    def by_status(self, status: str) -> list[TableResult]:
        return [t for t in self.tables if t.status == status]

    @property
    def ok(self) -> list[TableResult]:
        return self.by_status(OK)

    @property
    def skipped(self) -> list[TableResult]:
        return self.by_status(SKIPPED)

    @property
    def failed(self) -> list[TableResult]:
        return self.by_status(FAILED)

    @property
    def success(self) -> bool:
        return not self.failed

    def news(self, only_new: bool = False) -> list[tuple[str, str]]:
        """What a user should read after the tables, as (label, Dutch sentence): discontinued tables
        with their successor, announced herindelingen, and notices. only_new: leave out what an
        earlier sync already reported (for a quiet run from cron)."""
        stopped = self.new_discontinued if only_new else self.discontinued
        coming = self.new_herindelingen if only_new else self.herindelingen
        return ([("Gediscontinueerd", d.sentence()) for d in stopped]
                + [("Aangekondigd", a.sentence()) for a in coming]
                + [("Let op", n) for n in self.notices])

    def __getitem__(self, name: str) -> TableResult:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def summary(self) -> str:
        """A Dutch summary, one line per table."""
        lines = []
        for t in self.tables:
            if t.status == OK:
                extra = f", {t.resumed_pages} pagina's hervat" if t.resumed_pages else ""
                lines.append(f"{t.name}: opgehaald ({t.rows} observaties{extra})")
            elif t.status == SKIPPED:
                lines.append(f"{t.name}: overgeslagen ({t.reason})")
            else:
                lines.append(f"{t.name}: MISLUKT: {t.reason}")
        lines.append(
            f"{len(self.ok)} opgehaald, {len(self.skipped)} overgeslagen, {len(self.failed)} mislukt."
        )
        lines.extend(d.sentence() for d in self.discontinued)
        lines.extend(a.sentence() for a in self.herindelingen)
        lines.extend(self.notices)
        return "\n".join(lines)


def table_dir(cache_dir: str | Path, entry: CatalogTable) -> Path:
    """Where a synced table lives: `<cache_dir>/<catalog>/<name>/`."""
    return Path(cache_dir) / entry.catalog / entry.name


def partial_dir(cache_dir: str | Path, entry: CatalogTable) -> Path:
    """Where a table is assembled before it is renamed into place."""
    return Path(cache_dir) / entry.catalog / PARTIAL_DIR / entry.name


def is_complete(path: Path) -> bool:
    return (path / SYNC_FILE).is_file() and (path / "Observations.json").is_file()


def sync(
    catalog: Catalog | str | Path | None,
    base_url: str | None,
    cache_dir: str | Path,
    tables: list[str] | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
    client: ODataClient | None = None,
    keys: dict[str, str] | None = None,
    watch: bool = True,
    today: date | None = None,
) -> SyncReport:
    """Fetch every (selected) catalogue table into `cache_dir`. Never raises for one table's
    failure: the report says which tables failed and why. Unknown names in `tables` raise, and so
    does `Unreachable` when the service itself cannot be reached (no network, no DNS).
    keys: API keys per source kind ({"klimaatmonitor": …}); default from the environment.
    watch: ask CBS which tables changed and fetch only those (else: a complete table is kept
    until `refresh`); also report discontinued tables and herindelingen announced after `today`."""
    if not isinstance(catalog, Catalog):
        catalog = load_catalog(catalog)
    entries = catalog.select(tables)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    lock = _acquire_lock(cache_dir)
    own_client = client is None
    try:
        if client is None:
            client = ODataClient(base_url)
        report = SyncReport()
        today = today or date.today()
        state = ReleaseState.load(cache_dir) if watch else None
        releases: dict[tuple[str, str], Release] = {}
        coming: list[Release] = []
        if state is not None:
            releases, coming = _ask_catalogue(client, entries, today, report)
        for entry in entries:
            report.tables.append(_sync_table(client, entry, cache_dir, refresh, progress, keys,
                                             releases.get((entry.catalog, entry.id)), watch))
        if state is not None:
            _watch(client, entries, cache_dir, report, state, releases, coming, today)
    finally:
        if own_client and client is not None:
            client.close()
        lock.unlink(missing_ok=True)
    return report


LOCK_FILE = ".sync.lock"


class SyncBusy(TrendstudieError):
    """Another sync holds the cache."""


def _acquire_lock(cache_dir: Path) -> Path:
    """One sync per cache at a time: a lock file holding the owner's process id. A lock whose
    process is gone (a sync that was killed) is taken over."""
    lock = cache_dir / LOCK_FILE
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text(encoding="ascii").strip() or "0")
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise SyncBusy(
                    f"Er loopt al een sync in {cache_dir} (proces {pid}). Wacht tot die klaar is, "
                    f"of verwijder {lock} als dat proces niet meer bestaat."
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(str(os.getpid()))
        return lock
    raise TrendstudieError(f"Kan de vergrendeling {lock} niet aanmaken.")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ask_catalogue(client: ODataClient, entries: list[CatalogTable], today: date,
                   report: SyncReport) -> tuple[dict[tuple[str, str], Release], list[Release]]:
    """One catalogue request per catalogue: the listed version of every CBS table to sync, and the
    region classification tables of a coming year."""
    releases: dict[tuple[str, str], Release] = {}
    coming: list[Release] = []
    cbs = [e for e in entries if e.kind == "cbs"]
    for catalog in sorted({e.catalog for e in cbs}):
        titles = rules().classification_titles if catalog == "CBS" else []
        rows, problem = query_catalogue(client, catalog, [e.id for e in cbs if e.catalog == catalog], titles)
        if rows is None:
            report.notices.append(f"De catalogus {catalog} van CBS gaf geen antwoord ({problem}); per tabel is de "
                                  "wijzigingsdatum in Properties vergeleken.")
            continue
        report.catalogue = True
        for r in rows:
            releases[(catalog, r.table_id)] = r
        coming.extend(coming_classifications(rows, today))
    return releases, coming


def _sync_table(
    client: ODataClient, entry: CatalogTable, cache_dir: Path, refresh: bool, progress: Progress | None,
    keys: dict[str, str] | None = None, release: Release | None = None, watch: bool = False,
) -> TableResult:
    final = table_dir(cache_dir, entry)
    result = TableResult(entry.name, entry.id, entry.catalog, FAILED, final, kind=entry.kind, release=release)
    watching = watch and entry.kind == "cbs"
    try:
        if is_complete(final) and not refresh:
            done = _read_json(final / SYNC_FILE)
            wanted = _state_for(client, entry)
            # the same selection is skipped; a changed filter or $select (or source) in the catalogue refetches
            same = ("table_id", "filter", "select") if entry.kind == "cbs" else ("table_id", "url", "variables", "member")
            if isinstance(done, dict) and all(done.get(k) == wanted[k] for k in same):
                if watching and release is None:  # not in the catalogue's answer: ask the table itself
                    release = result.release = release_from(client.properties(entry.catalog, entry.id), entry.catalog)
                if not watching or same_version(done, release):
                    result.status = SKIPPED
                    result.reason = (f"ongewijzigd bij CBS (laatst gewijzigd {_date_text(release.modified)})"
                                     if watching else "al aanwezig; gebruik refresh om opnieuw op te halen")
                    result.rows = done.get("rows")
                    result.modified = release.modified if release else done.get("modified")
                    return result
                if watching:
                    result.previous_modified = str(done.get("modified") or "onbekend")
        if release is not None:
            result.modified = release.modified
        version = release.modified if watching and release is not None else None
        partial = partial_dir(cache_dir, entry)
        if entry.kind != "cbs":
            rows, resumed = _fetch_external(client, entry, partial, keys), 0
        else:
            wanted = _state_for(client, entry, version)
            done = _read_json(partial / SYNC_FILE) if is_complete(partial) and not refresh else None
            if isinstance(done, dict) and all(done.get(k) == v for k, v in wanted.items()):
                rows, resumed = int(done.get("rows") or 0), int(done.get("pages") or 0)  # fetched, not yet renamed
            else:
                rows, resumed = _fetch_into(client, entry, partial, refresh, progress, version)
        _publish(partial, final)
    except external.MissingKey as exc:  # a source that needs a key nobody gave: skipped, not failed
        shutil.rmtree(partial_dir(cache_dir, entry), ignore_errors=True)
        result.status = SKIPPED
        result.reason = str(exc)
        return result
    except Unreachable as exc:
        if exc.host == urlsplit(client.base_url).hostname:
            raise  # the service itself cannot be reached: the sync stops with one message, not one per table
        result.reason = str(exc)  # another source's host (a sibling client): only that table fails
        return result
    except TrendstudieError as exc:
        result.reason = str(exc)
        return result
    except OSError as exc:
        result.reason = f"schrijven in {partial_dir(cache_dir, entry)} mislukt: {exc}"
        return result
    result.status = OK
    result.rows = rows
    result.resumed_pages = resumed
    return result


def _date_text(text: str | None) -> str:
    from .releases import date_text

    return date_text(text)


def _release_on_disk(cache_dir: Path, entry: CatalogTable) -> Release | None:
    props = _read_json(table_dir(cache_dir, entry) / "Properties.json")
    return release_from(props, entry.catalog) if isinstance(props, dict) else None


def _watch(client: ODataClient, entries: list[CatalogTable], cache_dir: Path, report: SyncReport,
           state: ReleaseState, releases: dict[tuple[str, str], Release], coming: list[Release], today: date) -> None:
    """After the tables: which are discontinued (with successors), which herindelingen are
    announced; what is new since the last sync; the state saved for the next one."""
    before_announced = {a.key for a in state.announcements(today)}
    before_discontinued = set(state.discontinued)
    by_name = {t.name: t for t in report.tables}

    stopped: list[tuple[CatalogTable, Release, list[str]]] = []
    lookup: dict[str, list[str]] = {}
    for entry in entries:
        result = by_name.get(entry.name)
        if entry.kind != "cbs" or result is None:
            continue
        on_disk = _release_on_disk(cache_dir, entry)
        release = result.release or releases.get((entry.catalog, entry.id)) or on_disk
        if release is None:
            continue
        state.tables[f"{entry.catalog}/{entry.name}"] = {
            "table_id": entry.id, "title": release.title, "status": release.status, "modified": release.modified,
            "observations_modified": release.observations_modified}
        if not release.discontinued:
            continue
        if not release.description and on_disk is not None:
            release = Release(**{**release.__dict__, "description": on_disk.description})
        ids = successors(release)
        stopped.append((entry, release, ids))
        lookup.setdefault(entry.catalog, []).extend(i for i in ids if (entry.catalog, i) not in releases)
    for catalog, ids in lookup.items():
        if ids:
            rows, _ = query_catalogue(client, catalog, ids)
            for r in rows or []:
                releases[(catalog, r.table_id)] = r
    # tables not synced this time (a selection) keep what an earlier sync saw
    state.discontinued = {k: v for k, v in state.discontinued.items() if k not in by_name}
    for entry, release, ids in stopped:
        found = [releases.get((entry.catalog, i)) for i in ids]
        d = Discontinued(entry.name, entry.id, entry.catalog, release.title or entry.title, release.status or "",
                         release.modified,
                         [{"id": i, "title": r.title if r else None, "status": r.status if r else None}
                          for i, r in zip(ids, found)])
        report.discontinued.append(d)
        state.discontinued[entry.name] = d.__dict__
    report.new_discontinued = [d for d in report.discontinued if d.name not in before_discontinued]

    def remember(source: str, rows: list[dict[str, Any]]) -> None:
        announced, warnings = announced_herindelingen(rows, today, source)
        state.herindelingen[source] = [a.to_json() for a in announced]
        if warnings:
            more = f" (en {len(warnings) - 1} meer)" if len(warnings) > 1 else ""
            report.notices.append(f"Herindelingsgeschiedenis niet helemaal gelezen: {warnings[0]}{more}")

    for cls in coming:  # the region classification of a coming year, fetched again only when CBS changed it
        if cls.table_id in state.herindelingen and same_version(state.classifications.get(cls.table_id), cls):
            continue
        try:
            doc = client.list_endpoint(cls.catalog, cls.table_id, "RegioSCodes")
        except Unreachable:
            raise
        except TrendstudieError as exc:
            report.notices.append(f"De gemeentelijke indeling '{cls.title}' ({cls.table_id}) kon niet worden "
                                  f"opgehaald: {exc}")
            continue
        remember(cls.table_id, doc["value"])
        state.classifications[cls.table_id] = {"title": cls.title, "modified": cls.modified,
                                               "observations_modified": cls.observations_modified}
    for result in report.tables:  # a table just fetched may list next year's codes too
        if result.status == OK and result.kind == "cbs":
            doc = _read_json(result.path / "RegioSCodes.json")
            if isinstance(doc, dict) and isinstance(doc.get("value"), list):
                remember(result.table_id, doc["value"])
    report.herindelingen = state.announcements(today)
    report.new_herindelingen = [a for a in report.herindelingen if a.key not in before_announced]
    state.checked_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    state.save(cache_dir)


def _fetch_external(client: ODataClient, entry: CatalogTable, partial: Path, keys: dict[str, str] | None) -> int:
    """A non-CBS source, fetched whole into `partial` (no page resumption); returns the row count."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if partial.exists():
        shutil.rmtree(partial)
    rows = external.fetch(client, entry, partial, keys)
    write_json(partial / SYNC_FILE, {
        **_state_for(client, entry), "name": entry.name, "title": entry.title, "started_at": started,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}, indent=1)
    return rows


def _state_for(client: ODataClient, entry: CatalogTable, version: str | None = None) -> dict[str, Any]:
    """What identifies a fetch: the same state resumes, another one starts over. `version` (the
    table's Modified as the catalogue lists it) makes pages of an older version count as another fetch."""
    if entry.kind != "cbs":
        return {"kind": entry.kind, "url": entry.url, "catalog": entry.catalog, "table_id": entry.id,
                "variables": [v.model_dump() for v in entry.variables], "member": entry.member}
    state = {
        "base_url": client.base_url,
        "catalog": entry.catalog,
        "table_id": entry.id,
        "filter": entry.filter,
        "select": entry.select,
    }
    if version is not None:
        state["version"] = version
    return state


def _fetch_into(
    client: ODataClient, entry: CatalogTable, partial: Path, refresh: bool, progress: Progress | None,
    version: str | None = None,
) -> tuple[int, int]:
    """Fill `partial` with a complete table; returns (observation rows, pages reused)."""
    state = _state_for(client, entry, version)
    if partial.exists():
        old_state = _read_json(partial / STATE_FILE)
        if refresh or old_state != state:
            shutil.rmtree(partial)  # other filter, other server, or a deliberate refresh: start over
    partial.mkdir(parents=True, exist_ok=True)
    write_json(partial / STATE_FILE, state)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    cat, tid = entry.catalog, entry.id

    # Metadata: each file is written atomically, so one that exists is complete and is reused.
    props_path = partial / "Properties.json"
    properties = _read_json(props_path)
    if not isinstance(properties, dict):
        properties = client.properties(cat, tid)
        write_json(props_path, properties)
    dims_doc = _metadata(client, partial, cat, tid, "Dimensions")
    _metadata(client, partial, cat, tid, "MeasureCodes")
    for dim in dims_doc.get("value", []):
        ident = dim.get("Identifier")
        if ident and dim.get("ContainsCodes", True):
            _metadata(client, partial, cat, tid, f"{ident}Codes")

    # Observations, page by page; each saved page records where the next one is.
    pages_dir = partial / PAGES_DIR
    pages_dir.mkdir(exist_ok=True)
    saved = sorted(pages_dir.glob("*.json"))
    rows_done = 0
    context = None
    next_url: str | None = None
    resumed = 0
    for path in saved:
        page = _read_json(path)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise TrendstudieError(f"Beschadigde opgeslagen pagina {path}; verwijder {partial} en synchroniseer opnieuw.")
        rows_done += len(page["value"])
        context = context or page.get("context")
        next_url = page.get("next")
        resumed += 1
    total = _total(properties, entry)
    if progress and resumed:
        progress(entry.name, rows_done, total)
    if not saved or next_url:
        for page in client.observation_pages(
            cat, tid, entry.filter, entry.select, start_url=next_url, first_number=len(saved) + 1
        ):
            write_json(
                pages_dir / f"{page.number:06d}.json",
                {"url": page.url, "next": page.next_url, "context": page.context, "value": page.rows},
            )
            context = context or page.context
            rows_done += len(page.rows)
            if page.count is not None:
                total = page.count
            if progress:
                progress(entry.name, rows_done, total)

    # Assemble Observations.json from the saved pages, in order.
    all_rows: list[dict[str, Any]] = []
    for path in sorted(pages_dir.glob("*.json")):
        all_rows.extend(_read_json(path)["value"])
    if not all_rows:
        raise TrendstudieError(
            f"Tabel {tid} (catalogus {cat}) gaf 0 observaties met filter {entry.filter!r} "
            f"({client.observations_url(cat, tid, entry.filter, entry.select)}). Controleer het filter "
            "en de hoofdletters van het tabel-id."
        )
    doc: dict[str, Any] = {}
    if context:
        doc["@odata.context"] = context
    doc["value"] = all_rows
    write_json(partial / "Observations.json", doc)
    write_json(
        partial / SYNC_FILE,
        {
            **state,
            "name": entry.name,
            "title": entry.title,
            "url": client.observations_url(cat, tid, entry.filter, entry.select),
            "started_at": started,
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rows": len(all_rows),
            "pages": len(list(pages_dir.glob("*.json"))),
            "modified": properties.get("Modified"),
            "observations_modified": properties.get("ObservationsModified"),
            "status": properties.get("Status"),
        },
        indent=1,
    )
    shutil.rmtree(pages_dir)
    (partial / STATE_FILE).unlink()
    return len(all_rows), resumed


def _metadata(client: ODataClient, partial: Path, catalog: str, table_id: str, endpoint: str) -> dict[str, Any]:
    path = partial / f"{endpoint}.json"
    doc = _read_json(path)
    if isinstance(doc, dict) and isinstance(doc.get("value"), list):
        return doc
    doc = client.list_endpoint(catalog, table_id, endpoint)
    write_json(path, doc)
    return doc


def _total(properties: dict[str, Any], entry: CatalogTable) -> int | None:
    """The number of rows to expect, when known: only without a filter (ObservationCount)."""
    if entry.filter:
        return None
    count = properties.get("ObservationCount")
    return count if isinstance(count, int) else None


def _publish(partial: Path, final: Path) -> None:
    """Swap the complete `partial` into place; an older copy is removed only afterwards."""
    old = partial.with_name(partial.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    partial.rename(final)
    if old.exists():
        shutil.rmtree(old)
    try:
        partial.parent.rmdir()  # the .partial folder goes once nothing is in progress
    except OSError:
        pass


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
