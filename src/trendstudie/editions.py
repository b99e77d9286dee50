"""Editions and what changed: every build that writes a new store is an edition, and what it
changed against the previous store is recorded, one row per change.

The history lives beside the store, in `TRENDSTUDIE_HOME/edities/`, so that it survives the
swap of the database file:

- `index.json`: the editions, oldest first (number, when built, the source tables with the
  modification dates CBS gives them, a fingerprint per table, the number of changes per kind);
- `NNNN-wijzigingen.parquet`: the changes of edition NNNN (none for the first edition);
- `NNNN-oordelen.parquet`, `NNNN-prognoses.parquet`: the verdicts and projections of that
  edition's store, kept when they were computed, so the next edition need not compute them again
  for its previous store.

Every file is written atomically (atomic.py) and the index last: an edition exists once the
index names it. `recording(settings)` is the build's one hook: it keeps a hard link to the
current database while the build writes the new one, and afterwards compares the two.

Kinds of change (`soort`):
- `waarde`: a cell of a CBS table (harmonised to today's gemeenten) got another value or status
  (voorlopig → definitief), appeared in a period that existed already, or disappeared;
- `periode`: a cell of a period the table did not have before;
- `oordeel`: a trend plays with another strength in a gemeente ("enigszins → sterk");
- `prognose`: the basis projection for the end year left the 90%-margin of the previous one.

Verdicts compare gemeenten with each other (percentiles, groups), so one changed figure can
change a verdict elsewhere: they are judged for all gemeenten, but only for the trends that use an
indicator whose values differ between the two stores (verdict.indicators_used), on the values of
just those indicators; every trend when something all verdicts share differs (the register,
regions, groups, own rules, the newest year). Projections are made again, for every gemeente
(the models project them together), only when what they are made of differs (forecast.inputs:
the facts the demographic models read, the gemeenten, the groups). The previous store's verdicts
and projections come from the previous edition's snapshot when it has one, and a whole
Localiser of the previous store from the home's cache when a command kept it there.
Docs: docs/wijzigingen.md; timing: benchmarks/editions.py.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from typing import TYPE_CHECKING

import duckdb
from pydantic import BaseModel, ValidationError

from . import atomic, formatting
from .errors import TrendstudieError
from .reader import indicator_rows

if TYPE_CHECKING:  # pyarrow is imported only where editions are written or read (it costs the CLI 0.2 s)
    import pyarrow as pa

FOLDER = "edities"
INDEX = "index.json"
KINDS = ("waarde", "periode", "oordeel", "prognose")
PROJECTION_SCENARIO = "basis"
# relative tolerance for a revised value: a re-summed harmonised figure may differ in its last bits
TOLERANCE = 1e-9

Progress = Callable[[str, int, int | None], None]

@functools.cache
def schemas() -> dict[str, "pa.Schema"]:
    """The Parquet schemas of the edition files: changes, saved verdicts, saved projections."""
    import pyarrow as pa

    return {
        "CHANGE_SCHEMA": pa.schema([
            ("editie", pa.int32()), ("region_code", pa.string()), ("soort", pa.string()), ("onderwerp", pa.string()),
            ("dims", pa.string()), ("period", pa.string()), ("oud", pa.float64()), ("nieuw", pa.float64()),
            ("oud_tekst", pa.string()), ("nieuw_tekst", pa.string()), ("oud_status", pa.string()),
            ("nieuw_status", pa.string()), ("afgeleid", pa.bool_()), ("label", pa.string()),
        ]),
        "VERDICT_SCHEMA": pa.schema([("region_code", pa.string()), ("trend", pa.string()), ("sterkte", pa.string())]),
        "PROJECTION_SCHEMA": pa.schema([("region_code", pa.string()), ("indicator_id", pa.string()),
                                        ("period", pa.string()), ("value", pa.float64()), ("lower", pa.float64()),
                                        ("upper", pa.float64())]),
    }


def __getattr__(name: str):
    """editions.CHANGE_SCHEMA etc. for callers outside, built on first use."""
    if name in ("CHANGE_SCHEMA", "VERDICT_SCHEMA", "PROJECTION_SCHEMA"):
        return schemas()[name]
    raise AttributeError(name)


class Source(BaseModel):
    tabel: str
    titel: str | None = None
    catalogus: str | None = None
    bron: str | None = None
    gewijzigd: str | None = None  # the modification date CBS gives the table (OData v4 Properties)


class Snapshot(BaseModel):
    bestand: str
    invoer: str  # fingerprint of what it was computed from (data and program)


class Edition(BaseModel):
    nummer: int
    gebouwd: str  # built_at of the store (UTC, ISO 8601)
    vastgelegd: str  # when this edition was recorded
    bronnen: list[Source]
    vingerafdrukken: dict[str, str]  # table id (and 'indicatoren', 'regio's', …) → fingerprint of its content
    vingerafdruk: str  # of the whole store's content
    vorige: int | None = None
    wijzigingen: dict[str, int] = {}  # soort → number of changes
    opmerking: str | None = None
    oordelen: Snapshot | None = None
    prognoses: Snapshot | None = None

    @property
    def total(self) -> int:
        return sum(self.wijzigingen.values())


class Index(BaseModel):
    versie: int = 1
    edities: list[Edition] = []


@dataclass(frozen=True)
class Change:
    """One recorded change, as the CLI, web and report show it."""

    editie: int
    region_code: str
    soort: str
    onderwerp: str
    dims: str | None
    period: str | None
    oud: float | None
    nieuw: float | None
    oud_tekst: str | None
    nieuw_tekst: str | None
    oud_status: str | None
    nieuw_status: str | None
    afgeleid: bool | None  # a cell trendstudie computes (a sum or weighting of gemeenten), not one a source gives
    label: str

    def as_json(self) -> dict:
        """One row of `wijzigingen --format json` and of the API (Dutch keys, docs/wijzigingen.md)."""
        text = self.soort == "oordeel"
        return {"editie": self.editie, "region_code": self.region_code, "soort": self.soort,
                "onderwerp": self.onderwerp, "dims": self.dims or None, "period": self.period,
                "oud": self.oud_tekst if text else self.oud, "nieuw": self.nieuw_tekst if text else self.nieuw,
                "oud_status": self.oud_status, "nieuw_status": self.nieuw_status, "afgeleid": self.afgeleid,
                "label": self.label}


COLUMNS = ["editie", "region_code", "soort", "onderwerp", "dims", "period", "oud", "nieuw", "oud_status",
           "nieuw_status", "afgeleid", "label"]
# how the harmonisation made a cell that no source gives as such (harmonise.py): a derived figure
DERIVED = {"samengeteld": "samengeteld", "gewogen": "gewogen", "benaderd": "benaderd"}


# --- where and reading ------------------------------------------------------------------------------

def folder(home: Path) -> Path:
    return Path(home) / FOLDER


def load_index(home: Path) -> Index:
    path = folder(home) / INDEX
    if not path.exists():
        return Index()
    try:
        return Index.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise TrendstudieError(f"{path}: de lijst van edities is beschadigd ({first}). Verwijder de map {path.parent} "
                               "om opnieuw te beginnen; de volgende build wordt dan editie 1.") from None


def history(home: Path) -> list[Edition]:
    """Every edition, oldest first."""
    return load_index(home).edities


def stamp(home: Path) -> str:
    """Changes when a new edition is recorded: for the web's ETag and the reports' inputs."""
    path = folder(home) / INDEX
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_mtime_ns}:{st.st_size}"


def require_edition(home: Path, number: int) -> Edition:
    editions = history(home)
    if not editions:
        raise TrendstudieError(f"Er zijn nog geen edities in {folder(home)}: elke build legt er een vast, "
                               "de eerste zonder wijzigingen.")
    for e in editions:
        if e.nummer == number:
            return e
    raise TrendstudieError(f"Editie {number} bestaat niet; er zijn edities {editions[0].nummer} tot en met "
                           f"{editions[-1].nummer} (zie `trendstudie wijzigingen --edities`).")


def changes(home: Path, code: str | None = None, since: int | None = None) -> list[Change]:
    """The changes of the editions after `since` (default: of the latest edition only, i.e. what is
    new since the previous edition), of one gemeente or of all, in edition order."""
    editions = history(home)
    if not editions:
        return []
    if since is None:
        chosen = [editions[-1]]
    else:
        if since != 0:
            require_edition(home, since)
        chosen = [e for e in editions if e.nummer > since]
    out: list[Change] = []
    for e in chosen:
        out += _read_changes(home, e, code)
    return out


def served(home: Path, built_at: str) -> list[Edition]:
    """The editions up to the store built at `built_at` (a web server or a report shows the
    store it reads; an edition recorded for a later store is not theirs). An unchanged rebuild
    records no edition, so its store is served by the edition before it."""
    everything = history(home)
    moment = _moment(built_at)
    return [e for e in everything if _moment(e.gebouwd) <= moment]


def news(home: Path, built_at: str, code: str) -> tuple[Edition | None, list[Change]]:
    """The edition that the store built at `built_at` belongs to, and what it changed in `code`:
    "Nieuw sinds de vorige editie"."""
    editions = served(home, built_at)
    if not editions:
        return None, []
    return editions[-1], _read_changes(home, editions[-1], code)


def _moment(iso: str) -> datetime:
    try:
        m = datetime.fromisoformat(iso)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return m if m.tzinfo else m.replace(tzinfo=timezone.utc)


IMPORTANCE = {"oordeel": 0, "prognose": 1, "waarde": 2, "periode": 3}


def by_importance(changes: list[Change]) -> list[Change]:
    """Verdicts first, then projections, revised values and new periods (for short lists)."""
    return sorted(changes, key=lambda c: IMPORTANCE.get(c.soort, 9))


def _changes_file(home: Path, number: int) -> Path:
    return folder(home) / f"{number:04d}-wijzigingen.parquet"


def _read_changes(home: Path, edition: Edition, code: str | None) -> list[Change]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _changes_file(home, edition.nummer)
    if not edition.total:
        return []
    if not path.exists():
        raise TrendstudieError(f"{path} ontbreekt: de wijzigingen van editie {edition.nummer} zijn niet meer te lezen.")
    try:
        table = pq.read_table(path, filters=[("region_code", "=", code)] if code else None)
    except (OSError, pa.ArrowException) as exc:
        raise TrendstudieError(f"{path} kan niet gelezen worden ({str(exc)[:200]}).") from None
    fields = [f.name for f in dataclasses.fields(Change)]  # a file of an older version may lack a column
    return [Change(**{f: row.get(f) for f in fields}) for row in table.to_pylist()]


# --- the build's hook ---------------------------------------------------------------------------------

@contextmanager
def recording(settings, progress: Progress | None = None) -> Iterator[None]:
    """Around the write of a new store: keep the current one (a hard link, which the swap leaves
    alone), and when the write succeeded record the new edition with what it changed."""
    home = Path(settings.home)
    database = Path(settings.database)
    base = atomic.ensure_dir(folder(home))
    for stale in base.glob(".vorige-*.duckdb"):  # of builds that were killed (we hold the build lock)
        stale.unlink(missing_ok=True)
    previous = None
    if database.exists():
        previous = base / f".vorige-{os.getpid()}.duckdb"
        try:
            os.link(database, previous)
        except OSError:  # another file system, or no hard links: a copy then
            shutil.copy2(database, previous)
    try:
        yield
        if previous is not None and previous.exists() and os.path.samefile(previous, database):
            return  # the build left the store as it was: no new edition
        try:
            record(home, database, previous, progress)
        except (duckdb.Error, OSError, TrendstudieError) as exc:
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]
            raise TrendstudieError(f"De database is gebouwd, maar de editie kon niet worden vastgelegd: {first}") from None
    finally:
        if previous is not None:
            previous.unlink(missing_ok=True)


def record(home: Path, database: Path, previous: Path | None, progress: Progress | None = None) -> Edition | None:
    """Record the store at `database` as a new edition, with its changes against the store at
    `previous` (None for a first build). None when the content did not change at all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    atomic.ensure_dir(folder(home))
    index = load_index(home)
    new = duckdb.connect(str(database), read_only=True)
    try:
        built_at, sources, prints = _describe(new)
    finally:
        new.close()
    whole = _combine(prints)
    last = index.edities[-1] if index.edities else None
    if last is not None and last.vingerafdruk == whole and previous is not None:
        return None  # nothing changed: no new edition
    number = (last.nummer + 1) if last else 1
    edition = Edition(nummer=number, gebouwd=built_at, vastgelegd=_now(), bronnen=sources, vingerafdrukken=prints,
                      vingerafdruk=whole, vorige=last.nummer if last else None,
                      wijzigingen={k: 0 for k in KINDS})
    rows: list[dict] = []
    if last is None:
        pass  # the first edition: nothing to compare with (a store from before editions is no edition)
    elif previous is None:
        edition.opmerking = "Er was geen vorige database om mee te vergelijken."
    else:
        old_info = _info(previous)
        if old_info is None:
            edition.opmerking = "De vorige database was van een andere versie; er is niet vergeleken."
        else:
            old_prints = _store_prints(previous)
            tables = sorted(k.removeprefix("tabel ") for k in old_prints.keys() | prints.keys()
                            if k.startswith("tabel ") and old_prints.get(k) != prints.get(k))
            rows += value_changes(previous, database, progress, tables)
            stores = (previous, old_prints), (database, prints)
            verdict_rows, edition.oordelen = _verdict_changes(home, last, *stores, number, progress)
            rows += verdict_rows
            projection_rows, edition.prognoses = _projection_changes(home, last, previous, database, number, progress)
            rows += projection_rows
    for r in rows:
        r["editie"] = number
        edition.wijzigingen[r["soort"]] += 1
    if rows:
        table = pa.Table.from_pylist(rows, schema=schemas()["CHANGE_SCHEMA"])
        atomic.save_with(_changes_file(home, number), lambda p: pq.write_table(table, p))
    index.edities.append(edition)
    atomic.write_text(folder(home) / INDEX, index.model_dump_json(indent=1))
    _prune(home, index)
    return edition


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _info(path: Path) -> dict | None:
    """build_info of a store, or None when it is of another schema version (or unreadable)."""
    from . import store

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        info = dict(con.execute("SELECT key, value FROM build_info").fetchall())
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    except duckdb.Error:
        return None
    finally:
        con.close()
    if info.get("schema_version") != str(store.SCHEMA_VERSION) or not {"facts", "measures"} <= tables:
        return None
    return info


def _prune(home: Path, index: Index) -> None:
    """Verdict and projection snapshots are only needed for the latest edition."""
    keep = {s.bestand for e in index.edities[-1:] for s in (e.oordelen, e.prognoses) if s}
    for path in folder(home).glob("*-oordelen.parquet"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
    for path in folder(home).glob("*-prognoses.parquet"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


# --- fingerprints ---------------------------------------------------------------------------------

FINGERPRINTS = {
    # name → query giving (count, hash) of a part of the store, independent of row order
    "indicatoren": "SELECT count(*), bit_xor(hash(indicator_id, region_code, period, value, status, harmonised)) "
                   "FROM indicator_values",
    "register": "SELECT count(*), bit_xor(hash(indicator_id, title, domain, unit, decimals, direction)) FROM indicators",
    "regio's": "SELECT count(*), bit_xor(hash(code, name, kind, province, valid_from, valid_to, current)) FROM regions",
    "herindelingen": "SELECT count(*), bit_xor(hash(date, from_code, to_code, kind, hectares, dwellings, inhabitants)) "
                     "FROM region_events",
    "groepen": "SELECT count(*), bit_xor(hash(g.group_id, g.kind, m.region_code)) "
               "FROM groups g JOIN group_members m USING (group_id)",
    # the user's own imports and rules (eigen.py); other build_info (times, paths) is no content
    "eigen regels": "SELECT count(*), bit_xor(hash(key, value)) FROM build_info WHERE key LIKE 'eigen%'",
}
VERDICT_INPUTS = ("indicatoren", "register", "regio's", "herindelingen", "groepen", "eigen regels")


def _describe(con) -> tuple[str, list[Source], dict[str, str]]:
    built_at = con.execute("SELECT value FROM build_info WHERE key = 'built_at'").fetchone()[0]
    sources = [Source(tabel=r[0], titel=r[1], catalogus=r[2], bron=r[3], gewijzigd=r[4]) for r in con.execute(
        "SELECT table_id, title, catalog, source, modified FROM source_tables ORDER BY table_id, source").fetchall()]
    prints = {f"tabel {t}": f"{n}:{h}" for t, n, h in con.execute(
        "SELECT table_id, count(*), bit_xor(hash(measure, dims, region_code, period, value, status)) "
        "FROM facts GROUP BY table_id ORDER BY table_id").fetchall()}
    for name, sql in FINGERPRINTS.items():
        n, h = con.execute(sql).fetchone()
        prints[name] = f"{n}:{h}"
    return built_at, sources, prints


def _combine(prints: dict[str, str], names=None, extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for key in sorted(prints):
        if names is None or key in names or (names == "tabellen" and key.startswith("tabel ")):
            h.update(f"{key}={prints[key]}\n".encode())
    return h.hexdigest()[:24]


def _code(*subpackages: str) -> str:
    """A hash of the program parts a computation runs (so a changed rule recomputes)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for sub in subpackages:
        for path in sorted((root / sub).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml"):
                h.update(path.relative_to(root).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _store_prints(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _describe(con)[2]
    finally:
        con.close()


# --- values and periods -----------------------------------------------------------------------------

def value_changes(old: Path, new: Path, progress: Progress | None = None,
                  tables: list[str] | None = None) -> list[dict]:
    """Every cell of the harmonised facts that differs between the two stores; `tables`: only
    those tables are compared (the others' fingerprints are the same, so are their cells)."""
    if progress:
        progress("editie: cijfers vergelijken", 0, 1)
    if tables is not None and not tables:
        if progress:
            progress("editie: cijfers vergelijken", 1, 1)
        return []
    only = "" if tables is None else "WHERE table_id IN (SELECT unnest($tables))"
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{_sql_path(old)}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{_sql_path(new)}' AS new (READ_ONLY)")
        diff = con.execute(f"""
            WITH o AS (SELECT table_id, measure, dims, region_code, period, value, status, method, true AS here
                       FROM old.facts {only}),
                 n AS (SELECT table_id, measure, dims, region_code, period, value, status, method, true AS here
                       FROM new.facts {only})
            SELECT table_id, measure, dims, region_code, period, o.value, n.value, o.status, n.status,
                   o.here IS NOT NULL, n.here IS NOT NULL, coalesce(n.method, o.method)
            FROM o FULL OUTER JOIN n USING (table_id, measure, dims, region_code, period)
            WHERE o.here IS NULL OR n.here IS NULL OR o.status IS DISTINCT FROM n.status
               OR (o.value IS NULL) <> (n.value IS NULL)
               OR abs(o.value - n.value) > {TOLERANCE} * greatest(abs(o.value), abs(n.value))
            ORDER BY region_code, table_id, measure, dims, period""", {} if tables is None else {"tables": tables}).fetchall()
        old_periods = set(con.execute("SELECT DISTINCT table_id, period FROM old.facts").fetchall())
        tables = sorted({r[0] for r in diff})
        measures = {}
        dim_titles = {}
        names = {}
        if diff:
            for db in ("old", "new"):  # the new store's titles win
                measures.update({(t, m): (title, dec) for t, m, title, dec in con.execute(
                    f"SELECT table_id, measure, title, decimals FROM {db}.measures WHERE table_id IN (SELECT unnest(?))",
                    [tables]).fetchall()})
                dim_titles.update({(t, d, c): title for t, d, c, title in con.execute(
                    f"SELECT table_id, dimension, code, title FROM {db}.dimension_codes "
                    "WHERE table_id IN (SELECT unnest(?))", [tables]).fetchall()})
                names.update(dict(con.execute(f"SELECT code, name FROM {db}.regions").fetchall()))
    finally:
        con.close()
    rows = []
    for table, measure, dims, region, period, old_v, new_v, old_s, new_s, in_old, in_new, method in diff:
        title, decimals = measures.get((table, measure), (measure, None))
        dims_text = "; ".join(dim_titles.get((table, *part.split("=", 1)), part.split("=", 1)[-1])
                              for part in dims.split(";") if part) if dims else ""
        subject = f"{title} ({table}" + (f"; {dims_text}" if dims_text else "") + ")"
        when = _period(period)
        kind = "periode" if in_new and not in_old and (table, period) not in old_periods else "waarde"
        old_text = _number(old_v, decimals) if in_old else None
        new_text = _number(new_v, decimals) if in_new else None
        if not in_old:
            label = f"Nieuw: {subject}, {when}: {new_text}"
        elif not in_new:
            label = f"Vervallen: {subject}, {when} (was {old_text})"
        else:
            label = f"{subject}, {when}: {old_text} → {new_text}" if old_text != new_text or old_v != new_v \
                else f"{subject}, {when}: {new_text}"
            if old_s != new_s:
                label += f" ({(old_s or 'zonder status').lower()} → {(new_s or 'zonder status').lower()})"
        if method in DERIVED:
            label += f" (door trendstudie {DERIVED[method]})"
        rows.append({"region_code": region, "soort": kind, "onderwerp": f"{table}/{measure}", "dims": dims or None,
                     "period": period, "oud": old_v if in_old else None, "nieuw": new_v if in_new else None,
                     "oud_tekst": old_text, "nieuw_tekst": new_text, "oud_status": old_s if in_old else None,
                     "nieuw_status": new_s if in_new else None, "afgeleid": method in DERIVED, "label": label})
    if progress:
        progress("editie: cijfers vergelijken", 1, 1)
    return rows


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _period(code: str) -> str:
    try:
        return formatting.period(code)
    except (ValueError, IndexError):
        return code


def _number(value: float | None, decimals: int | None) -> str:
    if value is None:
        return "geen cijfer"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    return formatting.number(value, max(0, min(int(decimals), 6)))


# --- verdicts -----------------------------------------------------------------------------------------

def _snapshot(home: Path, snap: Snapshot | None, fingerprint: str, schema: pa.Schema) -> pa.Table | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if snap is None or snap.invoer != fingerprint:
        return None
    path = folder(home) / snap.bestand
    try:
        return pq.read_table(path, schema=schema)
    except (OSError, pa.ArrowException):
        return None


def _verdict_inputs(prints: dict[str, str]) -> str:
    return _combine(prints, VERDICT_INPUTS, extra="oordelen:" + _code("knowledge", "analysis"))


def _knowledge():
    """The knowledge base and the rules (the program's, the same for both stores): read once
    while their files stay the same."""
    return _knowledge_of(_code("knowledge"))


@functools.lru_cache(maxsize=1)
def _knowledge_of(code: str):
    from .knowledge.localise import load_rules
    from .knowledge.model import load

    return load(), load_rules()


def compute_verdicts(database: Path, progress: Progress | None = None, what: str = "", keep: bool = False,
                     trends: set[str] | None = None, home: Path | None = None) -> pa.Table:
    """The strength of every trend in every gemeente of the store (one Localiser call per gemeente).
    `keep`: the store is the home's own, so its loaded Localiser may go into the home's cache
    (knowledge/cache.py) for the commands after the build; the previous store's may not, but when
    `home`'s cache holds it (a command ran on that store) it is read from there.
    `trends`: only these trends, judged on the values of only the indicators they use
    (verdict.indicators_used), which gives the same strengths for a fraction of the cost; so is
    a store whose Localiser is neither cached nor to be kept judged (on the indicators any
    trend uses, without the figures' labels)."""
    import pyarrow as pa

    from .knowledge import cache
    from .reader import Reader

    if trends is not None:
        return _some_verdicts(database, trends, progress, what)
    localiser = None if keep or home is None else cache.cached(database, Path(home) / "cache")
    if localiser is None and not keep:  # nothing to keep it for: only what the strengths need
        return _some_verdicts(database, set(_knowledge()[0].trends), progress, what)
    reader = Reader(database) if localiser is None else None  # the home's own store, to be kept
    try:
        localiser = localiser or reader.localiser
        codes = localiser.gemeenten
        regions, trends_, strengths = [], [], []
        for i, code in enumerate(codes):
            if progress and i % 20 == 0:
                progress(f"editie: oordelen {what}", i, len(codes))
            for v in localiser.verdicts(code):
                regions.append(code)
                trends_.append(v.trend)
                strengths.append(v.strength)
        if progress:
            progress(f"editie: oordelen {what}", len(codes), len(codes))
        return pa.table({"region_code": regions, "trend": trends_, "sterkte": strengths},
                        schema=schemas()["VERDICT_SCHEMA"])
    finally:
        if reader is not None:
            reader.close()


def _some_verdicts(database: Path, trends: set[str], progress: Progress | None, what: str) -> pa.Table:
    import pyarrow as pa

    from . import store
    from .knowledge.localise import IndicatorData, own_rules
    from .knowledge.scopes import scope_rules
    from .knowledge.verdict import indicators_used, judge_all

    regions, names, strengths = [], [], []
    if not trends:
        return pa.table({"region_code": regions, "trend": names, "sterkte": strengths},
                        schema=schemas()["VERDICT_SCHEMA"])
    kb, rules = _knowledge()
    con = store.connect(database)
    try:
        used = indicators_used(kb, rules, own_rules(con))
        data = IndicatorData(con, rules.derived, only=set().union(*(used.get(t, ()) for t in trends)))
        codes = sorted(c for c in data.groups_of if c.startswith("GM"))  # as Localiser.gemeenten
        scopes: dict = {}
        conditions = scope_rules(kb)  # validated once, as the Localiser does
        for i, code in enumerate(codes):
            if progress and i % 50 == 0:
                progress(f"editie: oordelen {what}", i, len(codes))
            for v in judge_all(kb, data, code, rules, scopes, trends=trends, scope_rules=conditions):
                regions.append(code)
                names.append(v.trend)
                strengths.append(v.strength)
    finally:
        con.close()
    if progress:
        progress(f"editie: oordelen {what}", 1, 1)
    return pa.table({"region_code": regions, "trend": names, "sterkte": strengths}, schema=schemas()["VERDICT_SCHEMA"])


def _verdict_basis(path: Path) -> tuple[dict[str, str], str]:
    """Per indicator a fingerprint of its values, and one of what every verdict shares besides the
    register, regions, groups and own rules that VERDICT_INPUTS hold: the newest year of any
    figure (what is old) and the groups' titles (a province is matched by its title)."""
    from .knowledge.localise import newest_year

    con = duckdb.connect(str(path), read_only=True)
    try:
        per = {i: f"{n}:{h}" for i, n, h in con.execute(
            "SELECT indicator_id, count(*), bit_xor(hash(region_code, period, value, status, harmonised)) "
            "FROM indicator_values GROUP BY indicator_id").fetchall()}
        titles = con.execute("SELECT count(*), bit_xor(hash(group_id, title, kind)) FROM groups").fetchone()
        return per, f"{newest_year(con)};{titles[0]}:{titles[1]}"
    finally:
        con.close()


def affected_trends(old: Path, new: Path, old_prints: dict[str, str], new_prints: dict[str, str]) -> set[str] | None:
    """The trends whose verdicts can differ between the two stores: those that use an indicator
    whose values differ (verdict.indicators_used). None when something every verdict shares
    differs (the register, regions, groups, own rules, the newest year): then all of them."""
    from . import store
    from .knowledge.localise import own_rules
    from .knowledge.verdict import indicators_used

    if any(old_prints.get(k) != new_prints.get(k) for k in VERDICT_INPUTS if k != "indicatoren"):
        return None
    (old_values, old_shared), (new_values, new_shared) = _verdict_basis(old), _verdict_basis(new)
    if old_shared != new_shared:
        return None
    changed = {i for i in old_values.keys() | new_values.keys() if old_values.get(i) != new_values.get(i)}
    kb, rules = _knowledge()
    con = store.connect(new)
    try:
        used = indicators_used(kb, rules, own_rules(con))
    finally:
        con.close()
    return {t for t, indicators in used.items() if indicators & changed}


def _verdict_changes(home: Path, last: Edition | None, old_store: tuple[Path, dict[str, str]],
                     new_store: tuple[Path, dict[str, str]], number: int,
                     progress: Progress | None) -> tuple[list[dict], Snapshot | None]:
    """The verdict changes, computing as little as the changed inputs allow: nothing when the
    verdicts' inputs are the same; only the trends that use a changed indicator when nothing
    shared changed (their verdicts on both stores, or on the new one beside the previous
    edition's snapshot); otherwise every verdict of the new store and, without a snapshot, of
    the old one (its Localiser from the home's cache when a command kept it there)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    (old, old_prints), (new, new_prints) = old_store, new_store
    old_in, new_in = _verdict_inputs(old_prints), _verdict_inputs(new_prints)
    if old_in == new_in:  # the same inputs and rules: the same verdicts everywhere
        keep = last.oordelen if last and last.oordelen and last.oordelen.invoer == new_in else None
        return [], _carry(home, keep, number, "oordelen")
    before = _snapshot(home, last.oordelen if last else None, old_in, schemas()["VERDICT_SCHEMA"])
    trends = affected_trends(old, new, old_prints, new_prints)
    if trends is None:
        if before is None:
            before = compute_verdicts(old, progress, "(vorige editie)", home=home)
        after = compute_verdicts(new, progress, "(nieuwe editie)", keep=True)
    else:
        changed = compute_verdicts(new, progress, "(nieuwe editie)", trends=trends)
        if before is None:  # both stores, for these trends only; no snapshot for the next edition then
            return diff_verdicts(compute_verdicts(old, progress, "(vorige editie)", trends=trends), changed, new), None
        same = before.filter(pc.invert(pc.is_in(before.column("trend"), value_set=pa.array(sorted(trends), pa.string()))))
        after = pa.concat_tables([same, changed]).sort_by([("region_code", "ascending"), ("trend", "ascending")])
    snap = Snapshot(bestand=f"{number:04d}-oordelen.parquet", invoer=new_in)
    atomic.save_with(folder(home) / snap.bestand, lambda p: pq.write_table(after, p))
    return diff_verdicts(before, after, new), snap


def _carry(home: Path, snap: Snapshot | None, number: int, kind: str) -> Snapshot | None:
    """The previous edition's snapshot, still valid, under this edition's name."""
    if snap is None:
        return None
    source = folder(home) / snap.bestand
    target = folder(home) / f"{number:04d}-{kind}.parquet"
    if not source.exists():
        return None
    atomic.write_bytes(target, source.read_bytes())
    return Snapshot(bestand=target.name, invoer=snap.invoer)


def diff_verdicts(before: pa.Table, after: pa.Table, database: Path) -> list[dict]:
    old = {(r, t): s for r, t, s in zip(*(before.column(c).to_pylist() for c in ("region_code", "trend", "sterkte")))}
    new = {(r, t): s for r, t, s in zip(*(after.column(c).to_pylist() for c in ("region_code", "trend", "sterkte")))}
    differ = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    titles = {t.id: t.title for t in _knowledge()[0].trends.values()} if differ else {}
    rows = []
    for key in differ:
        a, b = old.get(key), new.get(key)
        region, trend = key
        title = titles.get(trend, trend)
        rows.append({"region_code": region, "soort": "oordeel", "onderwerp": trend, "dims": None, "period": None,
                     "oud": None, "nieuw": None, "oud_tekst": a, "nieuw_tekst": b, "oud_status": None,
                     "nieuw_status": None, "afgeleid": None,
                     "label": f"{title}: {a or 'niet beoordeeld'} → {b or 'niet meer beoordeeld'}"})
    return rows


# --- projections ----------------------------------------------------------------------------------

def _projection_inputs(path: Path) -> str:
    """What the basis projections of the end year are made of (forecast.inputs) and the program."""
    from . import forecast, store

    con = store.connect(path)
    try:
        return "prognoses:" + forecast.inputs(con, forecast.DEFAULT_UNTIL) + ":" + _code("forecast")
    finally:
        con.close()


def compute_projections(database: Path, progress: Progress | None = None, what: str = "") -> pa.Table:
    """The basis projection of every gemeente for the default end year: every indicator with a margin.
    The models project all gemeenten at once and keep that run for the next gemeente; the trend
    extrapolations are only made when one can reach the end year (forecast.extrapolates_to)."""
    import pyarrow as pa

    from . import forecast, store
    from .forecast import components

    con = store.connect(database)
    try:
        codes = components.current_gemeenten(con)
        end = f"{forecast.DEFAULT_UNTIL}JJ00"
        extrapolated = forecast.extrapolates_to(con, forecast.DEFAULT_UNTIL)
        out = {name: [] for name in schemas()["PROJECTION_SCHEMA"].names}
        for i, code in enumerate(codes):
            if progress and i % 20 == 0:
                progress(f"editie: prognoses {what}", i, len(codes))
            try:
                rows = forecast.project(con, code, PROJECTION_SCENARIO, extrapolated=extrapolated)
            except TrendstudieError:
                continue  # a gemeente the model cannot project (no population series): nothing to compare
            for r in rows:
                if r.period == end and r.lower is not None and r.upper is not None:
                    for name in schemas()["PROJECTION_SCHEMA"].names:
                        out[name].append(getattr(r, name))
        if progress:
            progress(f"editie: prognoses {what}", len(codes), len(codes))
        return pa.table(out, schema=schemas()["PROJECTION_SCHEMA"])
    finally:
        con.close()


def _projection_changes(home: Path, last: Edition | None, old: Path, new: Path, number: int,
                        progress: Progress | None) -> tuple[list[dict], Snapshot | None]:
    """Projections that left their margin; none computed when what they are made of is the same."""
    import pyarrow.parquet as pq

    old_in = _projection_inputs(old)
    new_in = _projection_inputs(new)
    if old_in == new_in:
        keep = last.prognoses if last and last.prognoses and last.prognoses.invoer == new_in else None
        return [], _carry(home, keep, number, "prognoses")
    before = _snapshot(home, last.prognoses if last else None, old_in, schemas()["PROJECTION_SCHEMA"])
    if before is None:
        before = compute_projections(old, progress, "(vorige editie)")
    after = compute_projections(new, progress, "(nieuwe editie)")
    snap = Snapshot(bestand=f"{number:04d}-prognoses.parquet", invoer=new_in)
    atomic.save_with(folder(home) / snap.bestand, lambda p: pq.write_table(after, p))
    return diff_projections(before, after, new), snap


def diff_projections(before: pa.Table, after: pa.Table, database: Path) -> list[dict]:
    """Projections whose new value lies outside the previous projection's 90% margin."""
    old = {(r["region_code"], r["indicator_id"], r["period"]): r for r in before.to_pylist()}
    rows = []
    con = duckdb.connect(str(database), read_only=True)
    try:
        meta = indicator_rows(con)  # the register, read as every reader reads it
    finally:
        con.close()
    for r in sorted(after.to_pylist(), key=lambda r: (r["region_code"], r["indicator_id"])):
        o = old.get((r["region_code"], r["indicator_id"], r["period"]))
        if o is None or o["lower"] <= r["value"] <= o["upper"]:
            continue
        m = meta.get(r["indicator_id"])
        title, decimals = (m.title, m.decimals) if m else (r["indicator_id"], 1)
        fmt = lambda v: _number(v, decimals if decimals is not None else 1)  # noqa: E731
        rows.append({"region_code": r["region_code"], "soort": "prognose", "onderwerp": r["indicator_id"], "dims": None,
                     "period": r["period"], "oud": o["value"], "nieuw": r["value"], "oud_tekst": fmt(o["value"]),
                     "nieuw_tekst": fmt(r["value"]), "oud_status": None, "nieuw_status": None, "afgeleid": None,
                     "label": f"Prognose {title} in {_period(r['period'])}: {fmt(o['value'])} → {fmt(r['value'])}, "
                              f"buiten de marge van de vorige prognose ({fmt(o['lower'])} tot {fmt(o['upper'])})"})
    return rows
