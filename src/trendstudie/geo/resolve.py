"""The one place where what a user typed for a gemeente becomes the gemeente to answer for.

Every command that takes a gemeente or region (regio, facts, profiel, export, trends, rapport,
prognose, the web pages) goes through `resolve_gemeente`, so a former code or name, a typo and a
gemeente that was split are handled the same way everywhere:

- a current code or name: answered for as it is;
- a former gemeente that went (wholly, or for at least 90% of its inhabitants) into one current
  gemeente, possibly through several herindelingen: answered for that gemeente, with a note
  ("GM0501 (Brielle) is op 1 januari 2023 opgegaan in GM1992 Voorne aan Zee; hieronder Voorne
  aan Zee.") that the CLI prints on stderr;
- a former gemeente split over several current gemeenten: no single answer; the resolution
  names them all and `Resolution.require()` refuses with that message;
- an unknown text: `UnknownRegionError` with "Bedoelde u: …?" suggestions (difflib).

The function is pure: it reads only the `RegionRegistry` it is given (build one from a store
with `RegionRegistry.from_store(con)`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

from ..errors import TrendstudieError
from ..formatting import day
from .herindeling import Transfer
from .regions import RegionRegistry, normalise_name

# A former gemeente whose inhabitants went for at least this share into one current gemeente is
# answered for as that gemeente; below it, it counts as split.
MAIN_SHARE = 0.9

ALL_KINDS = ("GM", "PV", "NL", "LD", "CR")
_CODE = re.compile(r"^[a-z]{2}\d+$")


class UnknownRegionError(TrendstudieError):
    """No region has this code or name; `suggestions` holds close names (may be empty)."""

    def __init__(self, text: str, suggestions: list[str]):
        self.text = text
        self.suggestions = suggestions
        hint = f" Bedoelde u: {_join(suggestions, 'of')}?" if suggestions else ""
        super().__init__(f"Onbekende regionaam of -code: {text!r}.{hint}")


@dataclass(frozen=True)
class Successor:
    code: str
    name: str
    share: float  # share of the former gemeente's inhabitants (estimated by area or equal parts where CBS gives none)


@dataclass(frozen=True)
class Resolution:
    """What a typed text resolved to.

    code       the region to answer for; None when a former gemeente was split (see message)
    name       its display name (None with code)
    written    the text as the user typed it
    former     the former gemeente code the text named, or None when it named a current region
    former_name its name
    ended      the first day on which the former gemeente no longer existed
    successors the current gemeenten that received its territory, largest share first
    message    for a former gemeente: the Dutch sentence to show (stderr) or to refuse with
    history    for a former gemeente: what became of it, without what is answered for (for
               pages that show the former gemeente itself, such as `trendstudie regio`)
    """

    code: str | None
    name: str | None
    written: str
    former: str | None = None
    former_name: str | None = None
    ended: date | None = None
    successors: tuple[Successor, ...] = field(default_factory=tuple)
    message: str | None = None
    history: str | None = None

    @property
    def split(self) -> bool:
        return self.code is None

    def require(self) -> str:
        """The code to answer for, or a TrendstudieError naming every successor of a split."""
        if self.code is None:
            raise TrendstudieError(self.message or f"{self.written!r} bestaat niet meer.")
        return self.code


def _join(items: list[str], word: str = "en") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def suggest(text: str, registry: RegionRegistry, kinds: tuple[str, ...] = ("GM",), n: int = 3) -> list[str]:
    """Names close to `text` (current regions first), for a 'Bedoelde u' hint."""
    key = normalise_name(text)
    names: dict[str, str] = {}  # normalised name -> display name of a region of the right kind
    for norm, codes in registry._index.items():
        if _CODE.match(norm):
            continue
        for c in sorted(codes, key=lambda c: registry.regions[c].valid_to is not None):
            if registry.regions[c].kind in kinds:
                names.setdefault(norm, registry.regions[c].name)
                break
    close = difflib.get_close_matches(key, list(names), n=n * 2, cutoff=0.75)
    out: list[str] = []
    for norm in close:
        if names[norm] not in out:
            out.append(names[norm])
    return out[:n]


def _moves(registry: RegionRegistry, code: str) -> list[tuple[Transfer, float]]:
    """Where a dissolved code's territory went on the day it ended, with the share of each move
    (by inhabitants; by area, then equal parts, where CBS gives no counts)."""
    region = registry.regions.get(code)
    if region is None or region.valid_to is None:
        return []
    moves = [t for t in registry.transfers if t.from_code == code and t.date == region.valid_to and t.to_code != code]
    amounts = [float(t.inhabitants or 0) for t in moves]
    if not sum(amounts):
        amounts = [float(t.hectares or 0) for t in moves]
    if not sum(amounts):
        amounts = [1.0] * len(moves)
    total = sum(amounts)
    return sorted(((t, a / total) for t, a in zip(moves, amounts) if a > 0), key=lambda m: (-m[1], m[0].to_code))


def _successors(registry: RegionRegistry, code: str) -> list[Successor]:
    """The current gemeenten that hold the dissolved code's territory now, largest share first."""
    shares: dict[str, float] = {}
    todo: list[tuple[str, float, frozenset[str]]] = [(code, 1.0, frozenset())]
    while todo:
        c, weight, seen = todo.pop()
        region = registry.regions.get(c)
        if c != code and (region is None or region.valid_to is None or c in seen):
            shares[c] = shares.get(c, 0.0) + weight
            continue
        for t, share in _moves(registry, c):
            todo.append((t.to_code, weight * share, seen | {c}))
    found = [Successor(c, registry.regions[c].name if c in registry.regions else c, w) for c, w in shares.items()]
    return sorted(found, key=lambda s: (-s.share, s.code))


def _name(registry: RegionRegistry, code: str) -> str:
    return registry.regions[code].name if code in registry.regions else code


def resolve_gemeente(text: str, registry: RegionRegistry, kinds: tuple[str, ...] = ("GM",),
                     on: date | None = None) -> Resolution:
    """Resolve a typed code or name (current or former) to the region to answer for.

    `kinds` limits the region kinds accepted (("GM",) for gemeenten; ALL_KINDS for any region);
    `on` chooses between regions that shared a name at different times. Raises
    UnknownRegionError (with suggestions) when nothing matches and TrendstudieError when a name is
    ambiguous; never raises for a former gemeente: a split is returned with code None and a
    message naming all successors (call `.require()` to refuse with it).
    """
    text = (text or "").strip()
    if not text:
        raise TrendstudieError("Geef een gemeentecode of -naam.")
    try:
        code = registry.resolve(text, on=on, kinds=kinds)
    except TrendstudieError as exc:
        if "niet eenduidig" in str(exc):
            raise
        raise UnknownRegionError(text, suggest(text, registry, kinds)) from None
    region = registry.regions[code]
    if region.kind != "GM" or region.valid_to is None:
        return Resolution(code, region.name, text)
    successors = _successors(registry, code)
    ended = region.valid_to
    who = f"{code} ({region.name})"
    # Follow the herindelingen in which (nearly) all of it went to one gemeente.
    steps: list[str] = []
    current, seen = code, {code}
    while True:
        moves = _moves(registry, current)
        if not moves or moves[0][1] < MAIN_SHARE or moves[0][0].to_code in seen:
            break
        t = moves[0][0]
        verb = "hernoemd tot" if t.kind == "naamswijziging" else "opgegaan in"
        steps.append(f"{'is' if not steps else 'en die'} op {day(t.date)} {verb} {t.to_code} {_name(registry, t.to_code)}")
        current = t.to_code
        seen.add(current)
    done = registry.regions.get(current)
    if current != code and done is not None and done.valid_to is None:
        rest = [f"{s.code} {s.name}" for s in successors if s.code != current]
        minor = f" (een klein deel ging naar {_join(rest)})" if rest else ""
        history = f"{who} " + ", ".join(steps) + minor
        return Resolution(current, done.name, text, code, region.name, ended, tuple(successors),
                          f"{history}; hieronder {done.name}.", f"{history}.")
    if not successors:
        message = f"{who} bestaat sinds {day(ended)} niet meer en is in geen andere gemeente opgegaan."
        return Resolution(None, None, text, code, region.name, ended, (), message, message)
    listed = _join([f"{s.code} {s.name}" for s in successors])
    when = registry.regions[current].valid_to if current in registry.regions else ended
    split = f"{'is' if not steps else 'en die is'} op {day(when)} opgedeeld over {listed}"
    history = f"{who} " + ", ".join(steps + [split])
    message = f"{history}; geen van die gemeenten is de hele opvolger. Kies een van die gemeenten."
    return Resolution(None, None, text, code, region.name, ended, tuple(successors), message, f"{history}.")


__all__ = ["ALL_KINDS", "MAIN_SHARE", "Resolution", "Successor", "UnknownRegionError", "resolve_gemeente", "suggest"]
