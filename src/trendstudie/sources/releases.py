"""Release watch: what CBS published since the last sync.

Three questions, each answered from what CBS itself publishes (see `releases.yaml`):

- Which tables changed? The OData v4 catalogue (`<service>/<catalog>/Datasets`, one request per
  catalogue for all tables of `catalog.yaml`) lists each table's `Modified` (and
  `ObservationsModified`); `sync` compares them with what it recorded when it fetched the table
  (`_sync.json`) and fetches only the tables that changed. A catalogue that cannot be asked (an
  older service, a catalogue without a `Datasets` list) falls back to each table's `Properties`,
  which carry the same fields.
- Which tables were discontinued, and what replaces them? The catalogue's `Status`; the
  successor from the sentences of the table's `Description` that name another table.
- Which herindelingen are coming? The region classification table of a coming year ("Gebieden
  in Nederland 2027") lists that year's gemeenten, and the `Description` of its `RegioSCodes`
  tells the herindelingen that create them, dated in the future; so may the `RegioSCodes` of any
  table just fetched. Every change dated after today is an announcement.

What was seen is kept in `<cache>/_releases.json` (`ReleaseState`), so the next sync can tell what
is new and the build or region registry can know the announced herindelingen.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, ValidationError

from ..atomic import write_json
from ..errors import InputError
from ..formatting import day
from ..geo.herindeling import History, merge_transfers, parse_description
from ..geo.regions import display_name
from ..textfile import load_yaml
from .odata import ODataClient, ODataError, Unreachable

RULES_FILE = Path(__file__).with_name("releases.yaml")
STATE_FILE = "_releases.json"


class ReleaseRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    discontinued: list[str]
    successor_words: list[str]
    classification_titles: list[str]


@lru_cache(maxsize=1)
def rules() -> ReleaseRules:
    try:
        return ReleaseRules.model_validate(load_yaml(RULES_FILE))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(RULES_FILE, f"{first.get('msg')} (bij {'.'.join(map(str, first.get('loc', ())))})") from None


# -- what the catalogue says about one table --------------------------------------------------


@dataclass(frozen=True)
class Release:
    """One table as CBS lists it: id, title, status and modification dates."""

    table_id: str
    catalog: str
    title: str = ""
    status: str | None = None
    modified: str | None = None
    observations_modified: str | None = None
    description: str = ""

    @property
    def discontinued(self) -> bool:
        return self.status in rules().discontinued


def release_from(row: dict[str, Any], catalog: str) -> Release:
    """A catalogue row (or a table's `Properties`) as a `Release`."""
    return Release(
        table_id=str(row.get("Identifier") or "").strip(),
        catalog=str(row.get("Catalog") or catalog),
        title=str(row.get("Title") or "").strip(),
        status=row.get("Status") if isinstance(row.get("Status"), str) else None,
        modified=row.get("Modified") if isinstance(row.get("Modified"), str) else None,
        observations_modified=row.get("ObservationsModified") if isinstance(row.get("ObservationsModified"), str) else None,
        description=str(row.get("Description") or row.get("ShortDescription") or ""),
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def catalogue_url(client: ODataClient, catalog: str, ids: list[str], titles: list[str] = ()) -> str:
    """`<service>/<catalog>/Datasets` filtered to these table ids and titles starting with `titles`."""
    parts = [f"Identifier eq {_quoted(i)}" for i in sorted(set(ids))]
    parts += [f"startswith(Title,{_quoted(t)})" for t in titles]
    url = f"{client.base_url}/{quote(catalog, safe='')}/Datasets"
    if parts:
        url += "?" + urlencode({"$filter": " or ".join(parts)}, quote_via=quote, safe="$(),'")
    return url


def query_catalogue(client: ODataClient, catalog: str, ids: list[str],
                    titles: list[str] = ()) -> tuple[list[Release] | None, str | None]:
    """The catalogue's rows for these tables (and titles), or (None, why not) when the catalogue
    cannot be asked; `Unreachable` (no network) is raised, as for any other request."""
    url = catalogue_url(client, catalog, ids, titles)
    try:
        rows: list[Release] = []
        for page in client.pages(url, what=f"catalogus {catalog} (Datasets)"):
            rows.extend(release_from(r, catalog) for r in page.rows if isinstance(r, dict))
        return rows, None
    except Unreachable:
        raise
    except ODataError as exc:
        return None, str(exc)


# -- modification dates -----------------------------------------------------------------------


def _instant(text: str | None) -> datetime | str | None:
    """A modification date as an aware instant where it has an offset; otherwise as text."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text.strip()
    return when if when.tzinfo is not None else text.strip()[:19]


def same_version(recorded: dict[str, Any] | None, release: Release) -> bool:
    """Whether what was fetched (its `_sync.json`) is the version CBS lists now. Without a
    modification date on either side, nobody can tell: the table counts as changed."""
    if not isinstance(recorded, dict):
        return False
    old, new = _instant(recorded.get("modified")), _instant(release.modified)
    if old is None or new is None or type(old) is not type(new) or old != new:
        return False
    old_obs, new_obs = _instant(recorded.get("observations_modified")), _instant(release.observations_modified)
    if old_obs is not None and new_obs is not None and type(old_obs) is type(new_obs) and old_obs != new_obs:
        return False
    return True


def date_text(text: str | None) -> str:
    """'2026-06-23T00:00:00+02:00' → '23 juni 2026' (the date as CBS meant it)."""
    if not text:
        return "onbekend"
    try:
        return day(datetime.fromisoformat(text.replace("Z", "+00:00")).date())
    except ValueError:
        return text


# -- discontinued tables and their successors -------------------------------------------------

_TABLE_ID = re.compile(r"(?<![0-9A-Za-z])(\d{4,5}[A-Za-z]{3})(?![0-9A-Za-z])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|[\r\n]+")
_TAGS = re.compile(r"<[^>]*>")
_LINK = re.compile(r"""<a\b[^>]*\bhref\s*=\s*["']([^"']*)["'][^>]*>""", re.I)


def successors(release: Release) -> list[str]:
    """The table ids the description names as what replaces this table, in order of mention."""
    words = [w.lower() for w in rules().successor_words]
    # a link's target keeps its id: 'https://…/dataset/85xxxNED/table' still names 85xxxNED
    text = re.sub(r"<br\s*/?>", "\n", release.description, flags=re.I)
    text = _TAGS.sub(" ", _LINK.sub(lambda m: f" {m.group(1)} ", text))
    found: list[str] = []
    for sentence in _SENTENCE.split(text):
        low = sentence.lower()
        if not any(w in low for w in words):
            continue
        for tid in _TABLE_ID.findall(sentence):
            if tid.lower() != release.table_id.lower() and tid not in found:
                found.append(tid)
    return found


@dataclass
class Discontinued:
    """A catalogue table CBS no longer updates, with what it names as its successor."""

    name: str
    table_id: str
    catalog: str
    title: str
    status: str
    modified: str | None
    successors: list[dict[str, Any]] = field(default_factory=list)  # {"id", "title", "status"}

    def sentence(self) -> str:
        head = (f"Tabel {self.table_id} ({self.title}) is door CBS {self.status.lower()} "
                f"(laatst gewijzigd {date_text(self.modified)}); hij wordt niet meer bijgewerkt.")
        if not self.successors:
            return head + (" CBS noemt in de tabeltoelichting geen opvolger; zoek een vervanger in de catalogus "
                           f"en neem die op in catalog.yaml (de cijfers van {self.table_id} blijven in gebruik).")
        names = " of ".join(f"{s['id']}" + (f" ({s['title']})" if s.get("title") else "") for s in self.successors)
        return head + (f" Opvolger: {names}. Neem de opvolger op in catalog.yaml (de cijfers van "
                       f"{self.table_id} blijven tot dan in gebruik).")


# -- announced herindelingen ------------------------------------------------------------------

_NAMED = re.compile(r"^-\s*(?P<name>.+?) \((?P<code>GM\d{4})\),?\s*$", re.M)


@dataclass(frozen=True)
class Announcement:
    """A change of the gemeentelijke indeling that CBS dates after today."""

    date: str  # ISO date on which it takes effect
    kind: str  # herindeling | grenswijziging | naamswijziging
    to_code: str
    to_name: str
    sources: tuple[tuple[str, str, int | None], ...]  # (code, name, inhabitants) that go (partly) to to_code
    new: bool  # to_code is a new code, created on `date`
    ended: tuple[str, ...]  # codes that cease to exist on `date`
    source: str  # the CBS table that announced it

    @property
    def key(self) -> tuple:
        return (self.date, self.kind, self.to_code, tuple(s[0] for s in self.sources))

    def sentence(self) -> str:
        when = day(date.fromisoformat(self.date))
        names = [f"{n} ({c})" for c, n, _ in self.sources]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]
        target = f"{self.to_name} ({self.to_code})"
        if self.kind == "naamswijziging":
            return f"Per {when} wordt {listed} {target} (naamswijziging; bron: CBS-tabel {self.source})."
        if self.kind == "herindeling":
            if self.new:
                text = f"Per {when} ontstaat {target} uit {listed}"
            elif all(c in self.ended for c, _, _ in self.sources):
                text = f"Per {when} {'gaat' if len(names) == 1 else 'gaan'} {listed} op in {target}"
            else:
                text = f"Per {when} herindeling: {listed} naar {target}"
        else:
            people = sum(i for _, _, i in self.sources if i is not None)
            count = f"{people:,}".replace(",", ".")
            text = f"Per {when} grenswijziging: van {listed} naar {target}" + (
                f", {count} inwoners" if any(i is not None for *_, i in self.sources) else "")
        return text + f" (bron: CBS-tabel {self.source})."

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = [list(s) for s in self.sources]
        data["ended"] = list(self.ended)
        data["zin"] = self.sentence()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Announcement":
        return cls(date=data["date"], kind=data["kind"], to_code=data["to_code"], to_name=data["to_name"],
                   sources=tuple((s[0], s[1], s[2]) for s in data["sources"]), new=bool(data["new"]),
                   ended=tuple(data.get("ended", ())), source=data["source"])


def announced_herindelingen(rows: list[dict[str, Any]], today: date, source: str) -> tuple[list[Announcement], list[str]]:
    """The changes to the gemeentelijke indeling dated after `today` in a `RegioSCodes` list,
    grouped per receiving gemeente and date; and warnings for descriptions that could not be read."""
    names: dict[str, str] = {}
    histories: list[History] = []
    warnings: list[str] = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            continue
        code = str(row.get("Identifier") or "").strip()
        if not code.startswith("GM"):
            continue
        text = str(row.get("Description") or "")
        for m in _NAMED.finditer(text.replace("\r\n", "\n")):
            names.setdefault(m.group("code"), m.group("name").strip())
        try:
            histories.append(parse_description(code, text))
        except InputError as exc:
            warnings.append(f"RegioSCodes van {source}, rij {i}: {exc}")
            continue
        names[code] = display_name(str(row.get("Title") or code))
    transfers, _ = merge_transfers(histories)
    created = {h.code for h in histories if h.valid_from is not None and h.valid_from > today}
    ended = {h.code for h in histories if h.valid_to is not None and h.valid_to > today}
    groups: dict[tuple[date, str, str], dict[str, int | None]] = {}
    for t in transfers:
        if t.date <= today:
            continue
        into = groups.setdefault((t.date, t.kind, t.to_code), {})
        before = into.get(t.from_code)
        into[t.from_code] = before if t.inhabitants is None else (before or 0) + t.inhabitants
    out = [
        Announcement(
            date=when.isoformat(), kind=kind, to_code=to, to_name=names.get(to, to),
            sources=tuple((c, names.get(c, c), n) for c, n in sorted(froms.items())),
            new=to in created, ended=tuple(sorted(c for c in froms if c in ended)), source=source)
        for (when, kind, to), froms in sorted(groups.items())
    ]
    return out, warnings


def classification_year(title: str) -> int | None:
    """2027 for 'Gebieden in Nederland 2027'; None for a title that is not a classification table."""
    for prefix in rules().classification_titles:
        if title.startswith(prefix):
            m = re.search(r"\b(\d{4})\b", title[len(prefix):])
            return int(m.group(1)) if m else None
    return None


def coming_classifications(releases: list[Release], today: date) -> list[Release]:
    """The classification tables of a year after this one (regular status), newest last."""
    coming = [r for r in releases if (y := classification_year(r.title)) is not None and y > today.year
              and not r.discontinued]
    return sorted(coming, key=lambda r: (classification_year(r.title), r.table_id))


# -- what was seen, kept between syncs --------------------------------------------------------


@dataclass
class ReleaseState:
    """`<cache>/_releases.json`: what the last sync saw in the catalogue."""

    checked_at: str | None = None
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # "CBS/03759ned" → modified, status, title
    discontinued: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → Discontinued as dict
    classifications: dict[str, dict[str, Any]] = field(default_factory=dict)  # table id → modified, title
    herindelingen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # source table id → announcements

    @classmethod
    def load(cls, cache_dir: Path) -> "ReleaseState":
        path = Path(cache_dir) / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):
            return cls()  # a damaged state only costs a full comparison, never wrong data
        if not isinstance(data, dict):
            return cls()
        known = {k: data[k] for k in ("checked_at", "tables", "discontinued", "classifications", "herindelingen")
                 if k in data}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def save(self, cache_dir: Path) -> None:
        data = asdict(self)
        data["aangekondigde_herindelingen"] = [a.to_json() for a in self.announcements()]
        write_json(Path(cache_dir) / STATE_FILE, data, indent=1)

    def announcements(self, today: date | None = None) -> list[Announcement]:
        """Every announced herindeling still to come, once (several tables may announce it)."""
        seen: dict[tuple, Announcement] = {}
        for items in self.herindelingen.values():
            for item in items:
                try:
                    a = Announcement.from_json(item)
                except (KeyError, TypeError, ValueError, IndexError):
                    continue
                if today is not None and date.fromisoformat(a.date) <= today:
                    continue
                seen.setdefault(a.key, a)
        return sorted(seen.values(), key=lambda a: (a.date, a.to_code))


def read_announcements(cache_dir: Path, today: date | None = None) -> list[Announcement]:
    """The herindelingen announced at the last sync that are still to come (for the build, the
    region registry or `regio`)."""
    return ReleaseState.load(cache_dir).announcements(today or date.today())

