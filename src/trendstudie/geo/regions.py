"""The region registry: every gemeente code since 1988 with its names, province, validity and
history, built from `RegioSCodes` of CBS table 03759ned. Also the one place where a region
name becomes a code (`RegionRegistry.resolve`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import InputError, TrendstudieError
from ..textfile import load_json
from .herindeling import Basis, Conversion, SizeLookup, Transfer, Weights, merge_transfers, parse_description

# Names people write that are not CBS's; keys are normalised (see `normalise_name`).
ALIASES = {
    "den haag": "GM0518",
    "nuenen": "GM0820",
    "haarlemmerliede": "GM0393",
    "the hague": "GM0518",
    "den bosch": "GM0796",
    "friesland": "PV21",
    "nederland": "NL01",
    "the netherlands": "NL01",
}

_SUFFIX = re.compile(r"\s*\(([^)]*)\)\s*$")
# Province suffixes CBS uses to tell gemeenten apart, and the spelled-out forms people write.
_PROVINCE_SUFFIXES = {
    "nh": "nh", "noord holland": "nh", "noord-holland": "nh",
    "zh": "zh", "zuid holland": "zh", "zuid-holland": "zh",
    "l": "l", "limburg": "l", "o": "o", "overijssel": "o", "gld": "gld", "gelderland": "gld",
    "z": "z", "zeeland": "z", "u": "u", "utrecht": "u", "nb": "nb", "noord brabant": "nb", "noord-brabant": "nb",
    "fr": "fr", "friesland": "fr", "fryslan": "fr", "dr": "dr", "drenthe": "dr", "gr": "gr",
}


def normalise_name(name: str) -> str:
    """Fold case, accents, apostrophes and spacing so that 's-Gravenhage, s-Gravenhage and
    ’s-Gravenhage meet. Parenthetical disambiguations are kept."""
    text = unicodedata.normalize("NFKD", name.strip().strip('"'))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("`", "'").replace("‘", "'").lower()
    if text.startswith("'"):
        text = text[1:]
    # 'Bergen (NH.)', 'Bergen (NH)' and 'Bergen (Noord-Holland)' meet; so do 's-Hertogenbosch
    # and 's Hertogenbosch.
    m = _SUFFIX.search(text)
    if m and m.group(1).replace(".", "").strip() in _PROVINCE_SUFFIXES:
        text = f"{text[: m.start()]} ({_PROVINCE_SUFFIXES[m.group(1).replace('.', '').strip()]})"
    text = text.replace("-", " ").replace(".", "")
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Region:
    code: str
    name: str  # latest CBS title, display form (e.g. 'Groningen' for 'Groningen (gemeente)')
    title: str  # CBS title as published
    kind: str  # NL, LD, PV, CR, GM
    province: str | None = None  # PV code (the last province of a gemeente)
    valid_from: date | None = None
    valid_to: date | None = None  # first day it no longer exists
    renames: list[tuple[date, str, str]] = field(default_factory=list)

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


def display_name(title: str) -> str:
    """'Groningen (gemeente)' → 'Groningen'; 'Groningen (PV)' → 'Groningen'; 'Bergen (NH.)' stays."""
    m = _SUFFIX.search(title)
    if m and m.group(1) in ("gemeente", "PV", "LD", "CR"):
        return title[: m.start()].strip()
    return title.strip()


class RegionRegistry:
    def __init__(self, regions: dict[str, Region], transfers: list[Transfer], warnings: list[str] | None = None):
        self.regions = regions
        self.transfers = transfers
        self.warnings = warnings or []
        self._index = self._build_index()

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_regioscodes(cls, path: Path) -> "RegionRegistry":
        payload = load_json(path)
        rows = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise InputError(path, "verwacht een object met een lijst 'value' (OData v4 RegioSCodes)")
        return cls.from_rows(rows, source=str(path))

    @classmethod
    def from_rows(cls, rows: list[dict], source: str = "RegioSCodes") -> "RegionRegistry":
        regions: dict[str, Region] = {}
        histories = []
        for i, row in enumerate(rows, start=1):
            if not isinstance(row, dict) or not isinstance(row.get("Identifier"), str):
                raise InputError(source, f"rij {i} heeft geen 'Identifier'")
            code = row["Identifier"].strip()
            title = str(row.get("Title") or "").strip()
            kind = code[:2]
            if kind not in ("NL", "LD", "PV", "CR", "GM"):
                continue
            group = str(row.get("DimensionGroupId") or "")
            province = group[2:] if group.startswith("GMPV") or group.startswith("CRPV") else None
            if group == "OVERIG":  # GM0997, the former central population register: not a place
                kind = "OV"
            region = Region(code, display_name(title), title, kind, province)
            if kind == "GM":
                hist = parse_description(code, str(row.get("Description") or ""))
                histories.append(hist)
                region.valid_from, region.valid_to, region.renames = hist.valid_from, hist.valid_to, hist.renames
            regions[code] = region
        transfers, warnings = merge_transfers(histories)
        # A code that handed everything over without an 'Opgeheven' line (a rename to a new code)
        # ends on that date; receivers of a creation start on it.
        for t in transfers:
            if t.kind == "naamswijziging" and t.from_code in regions and regions[t.from_code].valid_to is None:
                regions[t.from_code].valid_to = t.date
        return cls(regions, transfers, warnings)

    @classmethod
    def from_store(cls, con) -> "RegionRegistry":
        """The registry as a built store holds it (tables regions and region_events)."""
        rows = con.execute("SELECT code, name, title, kind, province, valid_from, valid_to FROM regions").fetchall()
        events = con.execute("SELECT date, from_code, to_code, kind, hectares, dwellings, inhabitants "
                             "FROM region_events ORDER BY date, from_code, to_code").fetchall()
        return cls({r[0]: Region(*r) for r in rows}, [Transfer(*e) for e in events])

    # --- queries ---------------------------------------------------------------------------
    def get(self, code: str) -> Region:
        try:
            return self.regions[code]
        except KeyError:
            raise TrendstudieError(f"Onbekende regiocode: {code}") from None

    def gemeenten_on(self, day: date) -> list[str]:
        return sorted(c for c, r in self.regions.items() if r.kind == "GM" and r.valid_on(day))

    def current_gemeenten(self) -> list[str]:
        return sorted(c for c, r in self.regions.items() if r.kind == "GM" and r.valid_to is None)

    def provinces(self) -> list[str]:
        return sorted(c for c, r in self.regions.items() if r.kind == "PV")

    def events_of(self, code: str) -> list[Transfer]:
        return [t for t in self.transfers if code in (t.from_code, t.to_code)]

    def conversion(self, size: SizeLookup) -> Conversion:
        valid_to = {c: r.valid_to for c, r in self.regions.items() if r.kind == "GM"}
        return Conversion(self.transfers, valid_to, size)

    # --- names -------------------------------------------------------------------------------
    def _build_index(self) -> dict[str, set[str]]:
        index: dict[str, set[str]] = {}

        def put(name: str, code: str) -> None:
            index.setdefault(normalise_name(name), set()).add(code)

        for code, r in self.regions.items():
            put(r.title, code)
            put(r.name, code)
            bare = _SUFFIX.sub("", r.title)
            if r.kind == "GM":
                put(bare, code)
                put(f"{bare} (gemeente)", code)
            elif r.kind == "PV":
                put(f"{bare} (provincie)", code)
            put(code, code)
        for alias, code in ALIASES.items():
            if code in self.regions:
                index.setdefault(alias, set()).add(code)
        return index

    def resolve(self, name: str, on: date | None = None, kinds: tuple[str, ...] = ("GM",)) -> str:
        """The one function that turns a region name (or code) into a CBS code.

        Knows CBS's disambiguations ('Bergen (NH.)', 'Groningen (gemeente)', "'s-Gravenhage"),
        folds case, accents and apostrophes, and uses `on` to choose between codes that shared
        a name at different times. Raises a clear error when a name is unknown or ambiguous.
        """
        text = name.strip()
        code = text.upper()
        if code in self.regions and self.regions[code].kind in kinds:
            return code
        candidates = {c for c in self._index.get(normalise_name(text), set()) if self.regions[c].kind in kinds}
        if not candidates:
            raise TrendstudieError(f"Onbekende regionaam: {name!r}")
        if len(candidates) > 1 and on is not None:
            valid = {c for c in candidates if self.regions[c].valid_on(on)}
            candidates = valid or candidates
        if len(candidates) > 1:
            current = {c for c in candidates if self.regions[c].valid_to is None}
            if len(current) == 1 and on is None:
                candidates = current
        if len(candidates) > 1:
            listed = ", ".join(f"{c} {self.regions[c].title}" for c in sorted(candidates))
            raise TrendstudieError(f"Regionaam {name!r} is niet eenduidig: {listed}")
        return next(iter(candidates))


__all__ = ["Basis", "Region", "RegionRegistry", "Weights", "normalise_name", "display_name"]
