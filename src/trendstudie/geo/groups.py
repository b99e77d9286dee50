"""Peer groups: the sets of gemeenten a gemeente is compared with.

Groups are data. The city networks (G4, G40, M50) are published member lists, kept by name and
with their peildatum in `groups.yaml`; the CBS size classes (gemeentegrootteklassen) are class
bounds in the same file. This module turns them into `Group`s on today's classification:

- `network_groups`: published names → codes valid on the list's peildatum → carried through the
  herindelingen to today's codes, every change written down in Dutch in `Group.changes`;
- `province_groups`, `nederland_group`: from the region registry;
- `size_class_groups`: from populations the caller passes in (the store), not from a file;
- `load_user_groups`: a YAML or CSV file a user writes, members by code or by name;
- `all_groups`: all of the above, with unique ids.

Everything is a pure function of its arguments; the only I/O is reading `groups.yaml` and the
user's file.
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError, TrendstudieError
from ..textfile import csv_rows, read_text
from .regions import RegionRegistry

GROUPS_FILE = Path(__file__).with_name("groups.yaml")

GroupKind = Literal["netwerk", "provincie", "grootteklasse", "eigen", "nederland"]

_GM = re.compile(r"^GM\d{4}$")
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def dutch_date(day: date) -> str:
    """1 januari 2022."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def dutch_int(value: float) -> str:
    """12345 → '12.345'."""
    return f"{round(value):,}".replace(",", ".")


# --- the result -------------------------------------------------------------------------------


class Group(BaseModel):
    """A peer group on today's classification."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    kind: GroupKind
    members: list[str]  # current GM codes, sorted, unique
    peildatum: date | None  # date of the published list or of the figures; None: follows today's classification
    source: str  # where the group comes from, in Dutch, for display
    description: str = ""
    changes: list[str] = Field(default_factory=list)  # Dutch: what happened to the list since its peildatum

    @field_validator("members")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not _GM.match(c)]
        if bad:
            raise ValueError(f"geen gemeentecodes: {', '.join(bad)}")
        if len(set(v)) != len(v):
            raise ValueError("een gemeente staat meer dan eens in de groep")
        if not v:
            raise ValueError("een groep heeft minstens één gemeente")
        return sorted(v)


# --- the schema of groups.yaml ----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    title: str
    url: str | None = None
    seed: str | None = None  # file name in ../shared/seeds
    lines: tuple[int, int] | None = None  # first and last line, 1-based, inclusive
    section: str | None = None

    @model_validator(mode="after")
    def _lines_with_seed(self) -> "SourceSpec":
        if (self.seed is None) != (self.lines is None):
            raise ValueError("'seed' en 'lines' horen samen")
        if self.lines is not None and not 1 <= self.lines[0] <= self.lines[1]:
            raise ValueError(f"ongeldig regelbereik {self.lines}")
        return self

    def describe(self) -> str:
        from ..knowledge.model import lines_text

        parts = [self.title]
        if self.seed and self.lines:
            parts.append(f"bronstudie {self.seed}, {lines_text(self.lines)}")
        if self.url:
            parts.append(self.url)
        return "; ".join(parts)


class NetworkSpec(_Strict):
    id: str
    title: str
    description: str
    peildatum: date
    source: SourceSpec
    members: list[str]  # names as published
    corrections: dict[str, str] = Field(default_factory=dict)  # published name → reading used

    @model_validator(mode="after")
    def _consistent(self) -> "NetworkSpec":
        if not self.members:
            raise ValueError("een netwerk heeft leden nodig")
        seen: set[str] = set()
        for name in self.members:
            if name in seen:
                raise ValueError(f"{name!r} staat twee keer in de ledenlijst")
            seen.add(name)
        unknown = set(self.corrections) - seen
        if unknown:
            raise ValueError(f"correctie voor namen die niet in de lijst staan: {', '.join(sorted(unknown))}")
        return self


class SizeClassSpec(_Strict):
    code: int
    title: str
    lower: int
    upper: int | None = None


class SizeClassesSpec(_Strict):
    source: SourceSpec
    basis: str
    classes: list[SizeClassSpec]

    @model_validator(mode="after")
    def _contiguous(self) -> "SizeClassesSpec":
        classes = self.classes
        if not classes or classes[0].lower != 0:
            raise ValueError("de eerste grootteklasse begint bij 0 inwoners")
        for a, b in zip(classes, classes[1:]):
            if a.upper is None or a.upper != b.lower:
                raise ValueError(f"grootteklassen {a.code} en {b.code} sluiten niet op elkaar aan")
        if classes[-1].upper is not None:
            raise ValueError("de laatste grootteklasse heeft geen bovengrens")
        if len({c.code for c in classes}) != len(classes):
            raise ValueError("dubbele code bij de grootteklassen")
        return self


class GroupsFile(_Strict):
    version: int
    networks: list[NetworkSpec]
    size_classes: SizeClassesSpec

    @model_validator(mode="after")
    def _unique_ids(self) -> "GroupsFile":
        ids = [n.id for n in self.networks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"dubbele groep-id: {', '.join(dupes)}")
        return self


# --- YAML with line numbers -------------------------------------------------------------------


def _compose(path: Path, text: str) -> yaml.Node | None:
    """Parse YAML into nodes (no object construction, so no tags are executed and every scalar
    stays a string, with its line)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "onleesbare YAML"
        raise InputError(
            path,
            f"geen geldige YAML ({problem})",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(path, f"geen geldige YAML ({exc})") from None
    except RecursionError:
        raise InputError(path, "geen geldige YAML (te diep genest)") from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _plain(node: yaml.Node, path: Path, depth: int = 0) -> Any:
    """Nodes → plain lists, dicts and strings (an empty plain scalar or '~'/'null' is None)."""
    if depth > 50:
        raise InputError(path, "te diep genest", line=_line(node))
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value in ("", "~", "null", "Null", "NULL"):
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise InputError(path, "een sleutel moet een eenvoudige tekst zijn", line=_line(key))
            if key.value in out:
                raise InputError(path, f"sleutel {key.value!r} staat twee keer", line=_line(key))
            out[key.value] = _plain(value, path, depth + 1)
        return out
    raise InputError(path, "onbekend YAML-element", line=_line(node))  # pragma: no cover


def _node_at(node: yaml.Node, loc: Iterable[Any]) -> yaml.Node:
    """The deepest node along a pydantic error location."""
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def _validation_error(path: Path, root: yaml.Node, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    loc = [p for p in err["loc"]]
    where = ".".join(str(p) for p in loc)
    message = err["msg"].removeprefix("Value error, ")
    return InputError(path, f"{where + ': ' if where else ''}{message}", line=_line(_node_at(root, loc)))


# --- groups.yaml ------------------------------------------------------------------------------


def load_spec(path: Path = GROUPS_FILE) -> tuple[GroupsFile, yaml.Node]:
    """Read and validate groups.yaml; returns the model and its YAML nodes (for line numbers)."""
    return _load_spec_cached(Path(path))


@lru_cache(maxsize=8)
def _load_spec_cached(path: Path) -> tuple[GroupsFile, yaml.Node]:
    text = read_text(path)
    root = _compose(path, text)
    if root is None:
        raise InputError(path, "het bestand is leeg")
    try:
        spec = GroupsFile.model_validate(_plain(root, path))
    except ValidationError as exc:
        raise _validation_error(path, root, exc) from None
    return spec, root


# --- carrying codes through herindelingen -----------------------------------------------------


def _label(registry: RegionRegistry, code: str) -> str:
    return f"{registry.get(code).name} ({code})"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def carry_forward(registry: RegionRegistry, code: str) -> tuple[str, list[tuple[str, date | None, date | None]], list[str]]:
    """Follow a gemeente code through herindelingen and code-changing renames to the code that
    holds (most of) its territory today.

    Returns the current code, the chain of (code, start, end) it passed through, and the changes
    in Dutch. A dissolved gemeente that was split goes to the receiver of most inhabitants
    (dwellings, then hectares, where CBS gives no inhabitants); the note says so.
    """
    changes: list[str] = []
    chain: list[tuple[str, date | None, date | None]] = []
    start: date | None = None
    current = code
    seen: set[str] = set()
    while True:
        if current in seen:  # pragma: no cover - would need a cycle in CBS's data
            raise TrendstudieError(f"Kringverwijzing in de herindelingen bij {current}")
        seen.add(current)
        region = registry.get(current)
        end = region.valid_to
        chain.append((current, start, end))
        if end is None:
            return current, chain, changes
        outs = [t for t in registry.transfers if t.from_code == current and t.date == end]
        if not outs:
            raise TrendstudieError(
                f"{_label(registry, current)} bestaat sinds {dutch_date(end)} niet meer en CBS noemt geen opvolger"
            )
        main = max(outs, key=lambda t: (t.inhabitants or 0, t.dwellings or 0, t.hectares or 0, t.to_code))
        target = main.to_code
        when = dutch_date(end)
        if main.kind == "naamswijziging":
            changes.append(f"{_label(registry, current)} heet per {when} {_label(registry, target)}")
        elif len({t.to_code for t in outs}) == 1:
            text = f"{_label(registry, current)} is per {when} opgegaan in {_label(registry, target)}"
            partners = sorted(
                t.from_code
                for t in registry.transfers
                if t.to_code == target
                and t.date == end
                and t.from_code != current
                and t.kind == "herindeling"
                and registry.get(t.from_code).valid_to == end
            )
            if partners:
                text += ", samen met " + _join([_label(registry, p) for p in partners])
            changes.append(text)
        else:
            receivers = sorted({t.to_code for t in outs})
            changes.append(
                f"{_label(registry, current)} is per {when} verdeeld over "
                + _join([_label(registry, r) for r in receivers])
                + f"; {_label(registry, target)} kreeg het grootste deel"
                + (f" ({dutch_int(main.inhabitants)} inwoners)" if main.inhabitants else "")
                + " en telt voortaan als lid"
            )
        current, start = target, end


def _carry_members(
    registry: RegionRegistry, codes: list[str], since: date | None
) -> tuple[list[str], list[str]]:
    """Carry the codes of a list to today's codes; returns the members and the changes, including
    whole gemeenten that were dissolved into a member after `since` (the group's area grew)."""
    changes: list[str] = []
    finals: dict[str, list[str]] = {}
    chains: list[tuple[str, date | None, date | None]] = []
    for code in codes:
        final, chain, notes = carry_forward(registry, code)
        for note in notes:
            if note not in changes:  # two members merging into one tell the same story
                changes.append(note)
        finals.setdefault(final, []).append(code)
        chains.extend((c, s if s is not None else since, e) for c, s, e in chain)
    chain_codes = {c for c, _, _ in chains}
    for final, origins in finals.items():
        if len(origins) > 1:
            changes.append(
                "De leden "
                + _join([_label(registry, o) for o in origins])
                + f" vallen nu samen in {_label(registry, final)}; de groep telt daardoor "
                + ("één lid" if len(origins) == 2 else f"{len(origins) - 1} leden")
                + " minder"
            )
    absorbed: list[tuple[date, str]] = []
    for code, start, end in chains:
        if start is None:
            continue  # no date to count from: what happened before the list is not a change to it
        for t in registry.transfers:
            if t.to_code != code or t.kind != "herindeling" or t.from_code in chain_codes:
                continue
            if (start is not None and t.date <= start) or (end is not None and t.date >= end):
                continue
            giver = registry.get(t.from_code)
            if giver.valid_to != t.date:
                continue  # a boundary correction, not a dissolution
            others = [u for u in registry.transfers if u.from_code == t.from_code and u.date == t.date and u.to_code != code]
            if others:
                text = (
                    f"{_label(registry, t.from_code)} is per {dutch_date(t.date)} opgeheven; een deel"
                    + (f" ({dutch_int(t.inhabitants)} inwoners)" if t.inhabitants else "")
                    + f" ging naar groepslid {_label(registry, code)}"
                )
            else:
                text = (
                    f"{_label(registry, t.from_code)} is per {dutch_date(t.date)} opgegaan in groepslid "
                    f"{_label(registry, code)}; het gebied van de groep is daarmee groter geworden"
                )
            absorbed.append((t.date, text))
    changes.extend(text for _, text in sorted(absorbed))
    return sorted(finals), changes


# --- the groups -------------------------------------------------------------------------------


def network_groups(registry: RegionRegistry, path: Path = GROUPS_FILE) -> list[Group]:
    """G4, G40, M50 (and any other network in groups.yaml) on today's codes."""
    spec, root = load_spec(path)
    networks_node = _node_at(root, ["networks"])
    groups = []
    for i, net in enumerate(spec.networks):
        members_node = _node_at(networks_node, [i, "members"])
        codes: list[str] = []
        changes: list[str] = []
        for j, published in enumerate(net.members):
            line = _line(_node_at(members_node, [j]))
            reading = net.corrections.get(published, published)
            try:
                code = registry.resolve(reading, on=net.peildatum)
            except TrendstudieError as exc:
                raise InputError(path, f"{net.id}: {exc}", line=line) from None
            if not registry.get(code).valid_on(net.peildatum):
                raise InputError(
                    path,
                    f"{net.id}: {published!r} ({code}) was op {dutch_date(net.peildatum)} geen gemeente",
                    line=line,
                )
            if code in codes:
                raise InputError(path, f"{net.id}: {published!r} is dezelfde gemeente als een eerder lid ({code})", line=line)
            if reading != published:
                changes.append(f"'{published}' staat zo in de bron; gelezen als {_label(registry, code)}")
            codes.append(code)
        members, carried = _carry_members(registry, codes, net.peildatum)
        groups.append(
            Group(
                id=net.id,
                title=net.title,
                kind="netwerk",
                members=members,
                peildatum=net.peildatum,
                source=net.source.describe(),
                description=net.description,
                changes=changes + carried,
            )
        )
    return groups


def province_groups(registry: RegionRegistry) -> list[Group]:
    """One group per province (id: the PV code) with the current gemeenten in it."""
    by_province: dict[str, list[str]] = {}
    for code in registry.current_gemeenten():
        province = registry.get(code).province
        if province is None:
            raise TrendstudieError(f"Gemeente {_label(registry, code)} heeft geen provincie in RegioSCodes")
        by_province.setdefault(province, []).append(code)
    groups = []
    for pv in registry.provinces():
        if pv not in by_province:
            continue
        name = registry.get(pv).name
        groups.append(
            Group(
                id=pv,
                title=f"Provincie {name}",
                kind="provincie",
                members=by_province[pv],
                peildatum=None,
                source="CBS, RegioSCodes van tabel 03759ned (gemeentelijke indeling met provincie)",
                description=f"Alle gemeenten in de provincie {name} volgens de huidige gemeentelijke indeling.",
            )
        )
    unknown = sorted(set(by_province) - set(registry.provinces()))
    if unknown:
        raise TrendstudieError(f"Gemeenten in onbekende provincies: {', '.join(unknown)}")
    return groups


def nederland_group(registry: RegionRegistry) -> Group:
    """All current gemeenten."""
    return Group(
        id="NL01",
        title="Nederland",
        kind="nederland",
        members=registry.current_gemeenten(),
        peildatum=None,
        source="CBS, RegioSCodes van tabel 03759ned (huidige gemeentelijke indeling)",
        description="Alle gemeenten van Nederland volgens de huidige gemeentelijke indeling.",
    )


def size_class_groups(populations: dict[str, float], peildatum: date, path: Path = GROUPS_FILE) -> list[Group]:
    """CBS gemeentegrootteklassen from populations (GM code → inhabitants on `peildatum`).

    A gemeente without a figure (None or NaN) is in no class; classes without gemeenten are left
    out. Bounds: lower inclusive, upper exclusive, as CBS's '5 000 tot 10 000'.
    """
    spec, _ = load_spec(path)
    classes = spec.size_classes
    members: dict[int, list[str]] = {c.code: [] for c in classes.classes}
    for code, value in populations.items():
        if not isinstance(code, str) or not _GM.match(code):
            raise TrendstudieError(f"Bevolkingscijfer voor {code!r}: grootteklassen gelden alleen voor gemeenten (GMxxxx)")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isinf(value) or value < 0:
            raise TrendstudieError(f"Ongeldig inwonertal voor {code}: {value!r}")
        for c in classes.classes:
            if c.lower <= value and (c.upper is None or value < c.upper):
                members[c.code].append(code)
                break
    groups = []
    for c in classes.classes:
        if not members[c.code]:
            continue
        groups.append(
            Group(
                id=f"GK{c.code}",
                title=f"Gemeenten met {c.title}",
                kind="grootteklasse",
                members=members[c.code],
                peildatum=peildatum,
                source=classes.source.describe(),
                description=(
                    f"CBS-gemeentegrootteklasse {c.code}: gemeenten met {c.title}, "
                    f"naar {classes.basis} ({dutch_date(peildatum)})."
                ),
            )
        )
    return groups


# --- user groups ------------------------------------------------------------------------------

_USER_KEYS = {
    "id": "id",
    "groep": "id",
    "titel": "title",
    "title": "title",
    "beschrijving": "description",
    "description": "description",
    "peildatum": "peildatum",
    "leden": "members",
    "members": "members",
}
_CSV_COLUMNS = {
    "groep": "id",
    "id": "id",
    "group": "id",
    "titel": "title",
    "title": "title",
    "lid": "member",
    "leden": "member",
    "member": "member",
    "gemeente": "member",
}


def _reserved_ids(registry: RegionRegistry, path: Path) -> set[str]:
    spec, _ = load_spec(path)
    ids = {n.id.lower() for n in spec.networks}
    ids |= {f"gk{c.code}" for c in spec.size_classes.classes}
    ids |= {p.lower() for p in registry.provinces()}
    ids.add("nl01")
    return ids


class _Draft:
    """A user group while it is being read: members as written, with their lines."""

    def __init__(self, gid: str, line: int):
        self.id = gid
        self.line = line
        self.title: str | None = None
        self.description = ""
        self.peildatum: date | None = None
        self.members: list[tuple[str, int]] = []


def _user_member(registry: RegionRegistry, text: str, on: date | None, path: Path, line: int, gid: str) -> str:
    written = text.strip()
    if not written:
        raise InputError(path, f"groep {gid!r}: leeg lid", line=line)
    code = written.upper()
    if _GM.match(code):
        if code not in registry.regions or registry.regions[code].kind != "GM":
            raise InputError(path, f"groep {gid!r}: onbekende gemeentecode {code}", line=line)
        return code
    try:
        code = registry.resolve(written, on=on)
    except TrendstudieError as exc:
        raise InputError(path, f"groep {gid!r}: {exc}", line=line) from None
    if on is not None and not registry.get(code).valid_on(on):
        raise InputError(path, f"groep {gid!r}: {written!r} ({code}) was op {dutch_date(on)} geen gemeente", line=line)
    return code


def _finish(drafts: list[_Draft], registry: RegionRegistry, path: Path, reserved: set[str]) -> list[Group]:
    groups = []
    for d in drafts:
        if d.id.lower() in reserved:
            raise InputError(path, f"groep-id {d.id!r} is al in gebruik voor een ingebouwde groep; kies een andere", line=d.line)
        if not d.members:
            raise InputError(path, f"groep {d.id!r} heeft geen leden", line=d.line)
        codes: list[str] = []
        for text, line in d.members:
            code = _user_member(registry, text, d.peildatum, path, line, d.id)
            if code in codes:
                raise InputError(path, f"groep {d.id!r}: {text.strip()!r} ({code}) staat al eerder in de groep", line=line)
            codes.append(code)
        members, changes = _carry_members(registry, codes, d.peildatum)
        groups.append(
            Group(
                id=d.id,
                title=d.title or d.id,
                kind="eigen",
                members=members,
                peildatum=d.peildatum,
                source=f"eigen groep uit {path.name}",
                description=d.description,
                changes=changes,
            )
        )
    return groups


def _check_id(value: Any, path: Path, line: int, seen: dict[str, int]) -> str:
    if not isinstance(value, str) or not _USER_ID.match(value.strip()):
        raise InputError(
            path,
            f"ongeldige groep-id {value!r}: gebruik 1 tot 40 letters, cijfers, '-' of '_', beginnend met een letter of cijfer",
            line=line,
        )
    gid = value.strip()
    if gid.lower() in seen:
        raise InputError(path, f"groep-id {gid!r} komt twee keer voor (eerder op regel {seen[gid.lower()]})", line=line)
    seen[gid.lower()] = line
    return gid


def _yaml_drafts(path: Path, text: str) -> list[_Draft]:
    root = _compose(path, text)
    if root is None:
        raise InputError(path, "het bestand is leeg")
    items_node = root
    if isinstance(root, yaml.MappingNode):
        keys = [k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)]
        if keys != ["groepen"] and keys != ["groups"]:
            raise InputError(path, "verwacht één sleutel 'groepen' met daaronder een lijst van groepen", line=_line(root))
        items_node = root.value[0][1]
    if not isinstance(items_node, yaml.SequenceNode):
        raise InputError(path, "verwacht een lijst van groepen (elk met id, titel en leden)", line=_line(items_node))
    drafts: list[_Draft] = []
    seen: dict[str, int] = {}
    for item in items_node.value:
        if not isinstance(item, yaml.MappingNode):
            raise InputError(path, "elke groep is een blok met id, titel en leden", line=_line(item))
        fields: dict[str, yaml.Node] = {}
        for key, value in item.value:
            name = _USER_KEYS.get(key.value.strip().lower()) if isinstance(key, yaml.ScalarNode) else None
            if name is None:
                raise InputError(
                    path,
                    f"onbekende sleutel {getattr(key, 'value', '?')!r}; gebruik id, titel, beschrijving, peildatum en leden",
                    line=_line(key),
                )
            if name in fields:
                raise InputError(path, f"sleutel {key.value!r} staat twee keer in deze groep", line=_line(key))
            fields[name] = value
        if "id" not in fields:
            raise InputError(path, "groep zonder id", line=_line(item))
        id_node = fields["id"]
        gid = _check_id(id_node.value if isinstance(id_node, yaml.ScalarNode) else None, path, _line(id_node), seen)
        draft = _Draft(gid, _line(id_node))
        for name in ("title", "description"):
            node = fields.get(name)
            if node is None:
                continue
            if not isinstance(node, yaml.ScalarNode):
                raise InputError(path, f"groep {gid!r}: {name} moet tekst zijn", line=_line(node))
            setattr(draft, name, node.value.strip())
        if "peildatum" in fields:
            node = fields["peildatum"]
            try:
                if not isinstance(node, yaml.ScalarNode):
                    raise ValueError
                draft.peildatum = date.fromisoformat(node.value.strip())
            except ValueError:
                raise InputError(path, f"groep {gid!r}: peildatum moet een datum zijn als 2024-01-01", line=_line(node)) from None
        members = fields.get("members")
        if members is None:
            raise InputError(path, f"groep {gid!r} heeft geen 'leden'", line=_line(item))
        if not isinstance(members, yaml.SequenceNode):
            raise InputError(path, f"groep {gid!r}: 'leden' moet een lijst zijn (elk lid op een regel met '- ')", line=_line(members))
        for m in members.value:
            if not isinstance(m, yaml.ScalarNode):
                raise InputError(path, f"groep {gid!r}: een lid is een gemeentenaam of -code", line=_line(m))
            draft.members.append((m.value, _line(m)))
        drafts.append(draft)
    if not drafts:
        raise InputError(path, "het bestand bevat geen groepen", line=_line(items_node))
    return drafts


def _csv_drafts(path: Path, text: str) -> list[_Draft]:
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise InputError(path, "het bestand is leeg")
    delimiter = max((";", ",", "\t"), key=first.count)
    drafts: dict[str, _Draft] = {}
    seen: dict[str, int] = {}
    columns: dict[str, int] | None = None
    width = 0
    for _, line, row in csv_rows(text, path, delimiter):
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = {}
            width = len(row)
            for i, cell in enumerate(row):
                if not cell.strip():
                    continue  # an empty header cell (a trailing separator from a spreadsheet)
                name = _CSV_COLUMNS.get(cell.strip().lower())
                if name is None:
                    raise InputError(
                        path, f"onbekende kolom {cell.strip()!r}; gebruik groep, titel en lid", line=line, column=i + 1
                    )
                if name in columns:
                    raise InputError(path, f"kolom {cell.strip()!r} staat twee keer in de kop", line=line, column=i + 1)
                columns[name] = i
            missing = [label for key, label in (("id", "'groep'"), ("member", "'lid'")) if key not in columns]
            if missing:
                raise InputError(path, "de kop mist de kolom " + " en ".join(missing), line=line)
            continue
        if len(row) != width:
            raise InputError(path, f"verwacht {width} kolommen (zoals in de kop), vond er {len(row)}", line=line)
        extra = [i for i, cell in enumerate(row) if cell.strip() and i not in columns.values()]
        if extra:
            raise InputError(path, "waarde in een kolom zonder kopnaam", line=line, column=extra[0] + 1)
        gid_text = row[columns["id"]].strip()
        key = gid_text.lower()
        if key not in drafts:
            gid = _check_id(gid_text, path, line, seen)
            drafts[key] = _Draft(gid, line)
        draft = drafts[key]
        if "title" in columns:
            title = row[columns["title"]].strip()
            if title:
                if draft.title is not None and draft.title != title:
                    raise InputError(
                        path, f"groep {draft.id!r} heeft twee titels: {draft.title!r} en {title!r}",
                        line=line, column=columns["title"] + 1,
                    )
                draft.title = title
        draft.members.append((row[columns["member"]], line))
    if columns is None:  # pragma: no cover - guarded by `first` above
        raise InputError(path, "het bestand is leeg")
    if not drafts:
        raise InputError(path, "het bestand bevat alleen een kop en geen groepen", line=1)
    return list(drafts.values())


def load_user_groups(path: Path, registry: RegionRegistry, groups_file: Path = GROUPS_FILE) -> list[Group]:
    """Groups a user defines in a YAML (.yaml/.yml) or CSV (.csv/.txt) file.

    YAML::

        groepen:
          - id: buren
            titel: Buurgemeenten van Leiden
            peildatum: 2024-01-01      # optional: names are read as of this date
            leden: [Leiden, Oegstgeest, GM0575]

    CSV (`;`, `,` or tab), one row per member; the title may be on the first row only::

        groep;titel;lid
        buren;Buurgemeenten van Leiden;Leiden
        buren;;Oegstgeest

    Members are CBS codes or names (resolved by the region registry); an old gemeente is carried
    to today's gemeente, with the change written down. Any problem is an InputError naming the
    file and line.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv", ".txt"):
        raise InputError(path, "onbekend bestandstype; gebruik .yaml, .yml of .csv")
    text = read_text(path)
    if "\x00" in text:
        raise InputError(path, "het bestand bevat binaire tekens (NUL); is het wel een tekstbestand?", line=text[: text.index("\x00")].count("\n") + 1)
    drafts = _yaml_drafts(path, text) if suffix in (".yaml", ".yml") else _csv_drafts(path, text)
    return _finish(drafts, registry, path, _reserved_ids(registry, groups_file))


def all_groups(
    registry: RegionRegistry,
    populations: dict[str, float],
    peildatum: date,
    user_file: Path | None = None,
    groups_file: Path = GROUPS_FILE,
) -> list[Group]:
    """Every group: networks, provinces, size classes (from `populations` on `peildatum`),
    Nederland and, if given, the user's own groups."""
    current = set(registry.current_gemeenten())
    stray = sorted(c for c in populations if c not in current)
    if stray:
        shown = ", ".join(stray[:10]) + (" …" if len(stray) > 10 else "")
        raise TrendstudieError(
            f"Bevolkingscijfers voor codes die niet tot de huidige gemeentelijke indeling behoren: {shown}"
        )
    groups = network_groups(registry, groups_file)
    groups += province_groups(registry)
    groups += size_class_groups(populations, peildatum, groups_file)
    groups.append(nederland_group(registry))
    if user_file is not None:
        groups += load_user_groups(user_file, registry, groups_file)
    ids = [g.id.lower() for g in groups]
    dupes = sorted({g.id for g in groups if ids.count(g.id.lower()) > 1})
    if dupes:
        raise TrendstudieError(f"Dubbele groep-id: {', '.join(dupes)}")
    return groups


def groups_for(code: str, groups: Iterable[Group]) -> list[Group]:
    """The groups a gemeente (current GM code) belongs to, in the order given."""
    return [g for g in groups if code in g.members]


__all__ = [
    "GROUPS_FILE",
    "Group",
    "GroupKind",
    "all_groups",
    "carry_forward",
    "dutch_date",
    "groups_for",
    "load_spec",
    "load_user_groups",
    "nederland_group",
    "network_groups",
    "province_groups",
    "size_class_groups",
]
