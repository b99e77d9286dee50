"""Herindelingen and grenswijzigingen: parsing CBS's descriptions and converting old codes to today's.

CBS describes the history of every gemeente code in the `Description` of `RegioSCodes`
(table 03759ned), in Dutch prose such as::

    Opgeheven per 01-01-2021, overgegaan naar:
    - Boxtel (GM0757),
    ... 535 hectare met 918 woningen en 2149 inwoners

`parse_description` turns one such text into `Transfer`s (territory moving from one code to
another on a date, with hectares, dwellings and inhabitants) and validity facts.
`Conversion` then re-expresses a code valid on some date in today's codes, as weights.
The method is written down in docs/harmonisatie.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Literal

from ..errors import InputError

Basis = Literal["inwoners", "woningen"]

_DATE = r"(\d{2})-(\d{2})-(\d{4})"
_HEADER = re.compile(
    r"^(?P<kind>Gemeentelijke herindeling|Grenswijziging|Wijziging|Ontstaan|Opgeheven) per "
    + _DATE
    + r",? (?P<dir>ontvangen van|overgegaan naar|uit):$"
)
_RENAME = re.compile(r"^Naamswijziging per " + _DATE + r",?$")
_RENAME_OTHER = re.compile(r"^(?P<which>oude|nieuwe) naam: (?P<name>.+?) \((?P<code>GM\d{4})\),?$")
_PROVINCE = re.compile(r"^Provinciale wijziging per " + _DATE + r":?$")
_PROVINCE_DETAIL = re.compile(r"^- overgegaan van provincie (?P<old>.+) naar provincie (?P<new>.+)$")
_START = re.compile(r"^Begindatum (voor (?P<before>\d{4})|" + _DATE + r")$")
_COUNTERPART = re.compile(r"^- (?P<name>.+?) \((?P<code>GM\d{4})\),?$")
_AMOUNTS = re.compile(r"^\.\.\. (?P<text>.*\b(hectare|woning|woningen|inwoner|inwoners)\b.*)$")
_HECTARE = re.compile(r"(\d+(?:[.,]\d+)?)\s*hectare")
_DWELLINGS = re.compile(r"(\d+)\s*woning(?:en)?\b")
_INHABITANTS = re.compile(r"(\d+)\s*inwoners?\b")
_UNDIRECTED = re.compile(r"^Grenswijziging per " + _DATE + r":$")
_ENDED = re.compile(r"^Opgeheven per " + _DATE + r"$")  # ended without successor (the CPR, GM0997)

KINDS = {
    "Gemeentelijke herindeling": "herindeling",
    "Ontstaan": "herindeling",
    "Opgeheven": "herindeling",
    "Grenswijziging": "grenswijziging",
    "Wijziging": "grenswijziging",
}


@dataclass(frozen=True)
class Transfer:
    """Territory that moved from one gemeente code to another on `date`."""

    date: date
    from_code: str
    to_code: str
    kind: str  # herindeling | grenswijziging | naamswijziging
    hectares: float | None = None
    dwellings: int | None = None
    inhabitants: int | None = None

    def amount(self, basis: Basis) -> int | None:
        return self.inhabitants if basis == "inwoners" else self.dwellings


@dataclass
class History:
    """What one code's description says about itself."""

    code: str
    valid_from: date | None = None  # None: before the oldest record (e.g. 'Begindatum voor 1830')
    valid_to: date | None = None  # first day on which the code no longer exists
    transfers: list[Transfer] = field(default_factory=list)
    renames: list[tuple[date, str, str]] = field(default_factory=list)  # (date, old/new, other code)
    province_changes: list[tuple[date, str, str]] = field(default_factory=list)


def _date(day: str, month: str, year: str, code: str, lineno: int) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise InputError(f"RegioSCodes {code}", f"ongeldige datum {day}-{month}-{year}", line=lineno) from None


def _amounts(text: str) -> tuple[float | None, int | None, int | None]:
    h = _HECTARE.search(text)
    d = _DWELLINGS.search(text)
    i = _INHABITANTS.search(text)
    hectares = float(h.group(1).replace(",", ".")) if h else None
    return hectares, int(d.group(1)) if d else None, int(i.group(1)) if i else None


def parse_description(code: str, text: str) -> History:
    """Parse one gemeente's `Description`. Raises InputError naming the code and line on
    anything it does not understand, so that a changed CBS text never passes silently."""
    hist = History(code=code)
    state: tuple[str, date, str] | None = None  # (kind, date, direction)
    counterpart: str | None = None
    pending_rename: date | None = None
    pending_province: date | None = None
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line == ".":
            continue
        if m := _HEADER.match(line):
            kind = KINDS[m.group("kind")]
            when = _date(m.group(2), m.group(3), m.group(4), code, lineno)
            direction = "in" if m.group("dir") in ("ontvangen van", "uit") else "out"
            if m.group("kind") == "Ontstaan":
                hist.valid_from = when
            if m.group("kind") == "Opgeheven":
                hist.valid_to = when
            state, counterpart = (kind, when, direction), None
            continue
        if m := _RENAME.match(line):
            pending_rename = _date(m.group(1), m.group(2), m.group(3), code, lineno)
            state = None
            continue
        if m := _RENAME_OTHER.match(line):
            if pending_rename is None:
                raise InputError(f"RegioSCodes {code}", f"naam zonder naamswijziging: {line!r}", line=lineno)
            other = m.group("code")
            if other != code:
                which = m.group("which")
                hist.renames.append((pending_rename, which, other))
                if which == "nieuwe":
                    hist.valid_to = pending_rename
                    hist.transfers.append(Transfer(pending_rename, code, other, "naamswijziging"))
                else:
                    hist.valid_from = hist.valid_from or pending_rename
                    hist.transfers.append(Transfer(pending_rename, other, code, "naamswijziging"))
            pending_rename = None
            continue
        if m := _PROVINCE.match(line):
            pending_province = _date(m.group(1), m.group(2), m.group(3), code, lineno)
            continue
        if m := _PROVINCE_DETAIL.match(line):
            if pending_province is None:
                raise InputError(f"RegioSCodes {code}", f"provinciewijziging zonder datum: {line!r}", line=lineno)
            hist.province_changes.append((pending_province, m.group("old"), m.group("new")))
            pending_province = None
            continue
        if m := _START.match(line):
            if m.group("before") is None:
                hist.valid_from = hist.valid_from or _date(m.group(3), m.group(4), m.group(5), code, lineno)
            continue
        if m := _ENDED.match(line):
            hist.valid_to = _date(m.group(1), m.group(2), m.group(3), code, lineno)
            state = None
            continue
        if _UNDIRECTED.match(line):
            # The NL/PV/CR form ('- Ontvangen van …, … hectare'); its detail lines follow.
            state, counterpart = None, None
            continue
        if m := _COUNTERPART.match(line):
            if state is None:
                raise InputError(f"RegioSCodes {code}", f"gemeente zonder kop (herindeling of grenswijziging): {line!r}", line=lineno)
            counterpart = m.group("code")
            continue
        if m := _AMOUNTS.match(line):
            if state is None:
                # Detail lines under an undirected header name both sides themselves; gemeente
                # descriptions repeat them in directed form, so they carry nothing new here.
                continue
            if counterpart is None:
                raise InputError(f"RegioSCodes {code}", f"aantallen zonder gemeente: {line!r}", line=lineno)
            kind, when, direction = state
            hectares, dwellings, inhabitants = _amounts(m.group("text"))
            if counterpart != code:  # a merger lists the surviving gemeente among its own sources
                src, dst = (counterpart, code) if direction == "in" else (code, counterpart)
                hist.transfers.append(Transfer(when, src, dst, kind, hectares, dwellings, inhabitants))
            counterpart = None
            continue
        if line.startswith("- ") and state is None:
            continue  # '- Ontvangen van Buitenland (NL98), …' under an undirected header
        raise InputError(f"RegioSCodes {code}", f"onbekende regel in de herindelingsgeschiedenis: {line!r}", line=lineno)
    return hist


def merge_transfers(histories: list[History]) -> tuple[list[Transfer], list[str]]:
    """Each transfer is told twice (by giver and receiver): keep one, complete its numbers from
    both, and report where the two tellings disagree."""
    merged: dict[tuple[date, str, str], Transfer] = {}
    warnings: list[str] = []
    for hist in histories:
        for t in hist.transfers:
            key = (t.date, t.from_code, t.to_code)
            old = merged.get(key)
            if old is None:
                merged[key] = t
                continue
            fields = {}
            for name in ("hectares", "dwellings", "inhabitants"):
                a, b = getattr(old, name), getattr(t, name)
                if a is not None and b is not None and a != b:
                    warnings.append(
                        f"{t.from_code}→{t.to_code} per {t.date:%d-%m-%Y}: {name} {a} en {b} in de twee beschrijvingen; {a} aangehouden"
                    )
                fields[name] = a if a is not None else b
            kind = old.kind if old.kind == "herindeling" else t.kind
            merged[key] = Transfer(t.date, t.from_code, t.to_code, kind, **fields)
    return sorted(merged.values(), key=lambda t: (t.date, t.from_code, t.to_code)), warnings


# A callable giving the size (inhabitants or dwellings) of a code on the classification that was
# in force just before a date; None where no data tell.
SizeLookup = Callable[[str, date, Basis], float | None]


@dataclass
class Weights:
    """Today's codes with the share of the old code's inhabitants (or dwellings) each received."""

    shares: dict[str, float]
    approximate: bool = False  # a share had to be estimated without the data it needs
    steps: tuple[str, ...] = ()  # human-readable trail of the events applied


class Conversion:
    """Re-express a gemeente code valid on a date in the codes valid today.

    A code that was dissolved hands its whole content to its receivers, split by the
    inhabitants (or dwellings) CBS says each received. A code that lost part of its territory
    keeps the rest; the part that left is `moved / size before the change`, with the size taken
    from the data through `size`.
    """

    def __init__(self, transfers: list[Transfer], valid_to: dict[str, date | None], size: SizeLookup):
        self._out: dict[str, list[Transfer]] = {}
        for t in transfers:
            self._out.setdefault(t.from_code, []).append(t)
        for ts in self._out.values():
            ts.sort(key=lambda t: t.date)
        self._valid_to = valid_to
        self._size = size
        self._memo: dict[tuple[str, date, Basis], Weights] = {}

    def weights(self, code: str, after: date, basis: Basis = "inwoners") -> Weights:
        """Weights of `code` as it was on `after` (events on or before `after` already applied)."""
        key = (code, after, basis)
        if key not in self._memo:
            self._memo[key] = self._compute(code, after, basis)
        return self._memo[key]

    def _compute(self, code: str, after: date, basis: Basis) -> Weights:
        pending = [t for t in self._out.get(code, []) if t.date > after]
        if not pending:
            return Weights({code: 1.0})
        when = pending[0].date
        now = [t for t in pending if t.date == when]
        shares: dict[str, float] = {}
        approximate = False
        steps: list[str] = []

        def add(target: str, weight: float) -> None:
            nonlocal approximate
            if weight <= 0:
                return
            sub = self.weights(target, when, basis)
            approximate = approximate or sub.approximate
            steps.extend(sub.steps)
            for c, w in sub.shares.items():
                shares[c] = shares.get(c, 0.0) + weight * w

        dissolved = self._valid_to.get(code) == when
        if dissolved:
            amounts = [t.amount(basis) or 0 for t in now]
            total = sum(amounts)
            if total == 0:  # nothing counted moved: fall back to area, then equal parts
                amounts = [t.hectares or 0 for t in now]
                total = sum(amounts)
                approximate = approximate or len(now) > 1
            if total == 0:
                amounts, total = [1] * len(now), len(now)
            for t, a in zip(now, amounts):
                add(t.to_code, a / total)
            steps.append(f"{code} opgeheven per {when:%d-%m-%Y} → " + ", ".join(t.to_code for t in now))
            return Weights(shares, approximate, tuple(steps))
        moved = 0.0
        size = None
        for t in now:
            amount = t.amount(basis)
            if amount is None:  # CBS gave no count for this basis
                amount = t.inhabitants if basis == "woningen" else t.dwellings
                approximate = approximate or bool(amount)
            if not amount:
                continue
            if size is None:
                size = self._size(code, when, basis)
                if not size:
                    approximate = True
                    size = None
                    break
            w = min(amount / size, 1.0)
            moved += w
            add(t.to_code, w)
            steps.append(f"{code} → {t.to_code} per {when:%d-%m-%Y}: {amount} {basis} ({w:.4%})")
        rest = self.weights(code, when, basis)
        approximate = approximate or rest.approximate
        steps.extend(rest.steps)
        for c, w in rest.shares.items():
            shares[c] = shares.get(c, 0.0) + (1.0 - moved) * w
        return Weights(shares, approximate, tuple(steps))
