"""The knowledge base schema: trends, driving forces, opgaven, scenarios, challenges, agenda
points, strategic considerations and the causal edges between them, each with citations into
the five seed trend studies (`../shared/seeds/`).

Data lives in `knowledge/data/*.yaml`, one file per seed study (a file may also add citations
to entries defined in another file, under `citations:`). `load()` reads and validates all of
them and checks that every reference points at an existing entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import InputError
from ..indicators.registry import DOMAINS
from ..textfile import load_yaml

DATA = Path(__file__).parent / "data"

Domain = Literal[DOMAINS]  # type: ignore[valid-type]  # the eight domains of the trend studies

# The seed studies, by file name, with their year and a short name for display.
SEEDS: dict[str, tuple[int, str]] = {
    "000_5930c45da9f20d49.txt": (2016, "Trendnotitie VenJ en de steden (2016)"),
    "001_4db66dc70a33111a.txt": (2021, "Herstel en perspectief in tijden van transitie, G40/M50 (2021)"),
    "002_cbb4c82b8d216066.txt": (2013, "Steden in onzekere en turbulente tijden, Platform31 (2013)"),
    "003_41075779fd49addc.txt": (2024, "Veilige stad, HCSS voor de politie (2024)"),
    "004_9a5c835ef468cec0.txt": (2014, "Perspectief voor de steden, commissie-Derksen/VNG met PBL (2014)"),
}

_ID = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(Strict):
    seed: str  # file name in ../shared/seeds
    lines: tuple[int, int]  # first and last line, 1-based, inclusive
    section: str  # chapter/section as the study numbers or names it
    year: int | None = None  # filled from SEEDS when left out

    @field_validator("seed")
    @classmethod
    def _known_seed(cls, v: str) -> str:
        if v not in SEEDS:
            raise ValueError(f"onbekende bronstudie {v!r}; kies uit {', '.join(SEEDS)}")
        return v

    @model_validator(mode="after")
    def _check(self) -> "Citation":
        a, b = self.lines
        if a < 1 or b < a or b - a > 80:
            raise ValueError(f"regelbereik {a}-{b} ongeldig (1 ≤ begin ≤ eind, hoogstens 80 regels)")
        expected = SEEDS[self.seed][0]
        if self.year is not None and self.year != expected:
            raise ValueError(f"jaar {self.year} past niet bij {self.seed} ({expected})")
        if self.year is None:
            object.__setattr__(self, "year", expected)
        return self


class Entry(Strict):
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=3)
    summary: str = Field(min_length=20)  # in our own words, Dutch
    terms: list[str] = Field(min_length=1)  # key terms; each citation's lines contain at least one
    citations: list[Citation] = Field(min_length=1)


class Trend(Entry):
    kind: Literal["trend", "drijvende kracht"] = "trend"
    domain: Domain
    certainty: Literal["zeker", "onzeker"]
    horizon: str  # e.g. "2030", "2040", "lopend"
    direction: Literal["toenemend", "afnemend", "verschuivend", "onzeker"]
    indicators: list[str] = []  # indicator ids that can evidence this trend (issue 3 registry)
    localisation: dict | None = None  # rule over the indicator analysis, see knowledge/localise.py


class Opgave(Entry):
    domain: Domain
    answers: list[str] = Field(min_length=1)  # ids of trends/challenges/forces it responds to


class Scenario(Entry):
    family: Literal["HCSS", "WLO"]
    assumptions: list[str] = []  # short statements of what differs in this scenario


class Challenge(Entry):  # HCSS's ten safety challenges
    domain: Domain = "veiligheid"
    related: list[str] = []


class AgendaPoint(Entry):  # the Derksen commission's agenda points
    theme: Literal["ruimte en economie", "migratie en integratie", "duurzaamheid", "cultuur"]
    related: list[str] = []


class Consideration(Entry):  # HCSS's strategic considerations, chapter 9 handelingsperspectieven
    related: list[str] = []


class Edge(Strict):
    source: str = Field(pattern=_ID)
    target: str = Field(pattern=_ID)
    polarity: Literal["+", "-"]
    mechanism: str = Field(min_length=10)  # how the one drives the other, our own words
    citations: list[Citation] = Field(min_length=1)


class ExtraCitations(Strict):
    ref: str = Field(pattern=_ID)  # an entry defined in any file
    citations: list[Citation] = Field(min_length=1)


class KnowledgeFile(Strict):
    trends: list[Trend] = []
    opgaven: list[Opgave] = []
    scenarios: list[Scenario] = []
    challenges: list[Challenge] = []
    agenda_points: list[AgendaPoint] = []
    considerations: list[Consideration] = []
    edges: list[Edge] = []
    citations: list[ExtraCitations] = []


class KnowledgeBase(BaseModel):
    trends: dict[str, Trend]
    opgaven: dict[str, Opgave]
    scenarios: dict[str, Scenario]
    challenges: dict[str, Challenge]
    agenda_points: dict[str, AgendaPoint]
    considerations: dict[str, Consideration]
    edges: list[Edge]
    extra_citations: dict[str, list[Citation]]

    def entry(self, id: str) -> Entry:
        for table in (self.trends, self.opgaven, self.scenarios, self.challenges, self.agenda_points, self.considerations):
            if id in table:
                return table[id]
        raise KeyError(id)

    def all_entries(self) -> list[Entry]:
        out: list[Entry] = []
        for table in (self.trends, self.opgaven, self.scenarios, self.challenges, self.agenda_points, self.considerations):
            out.extend(table.values())
        return out

    def citations_of(self, id: str) -> list[Citation]:
        return list(self.entry(id).citations) + self.extra_citations.get(id, [])


def load(directory: Path = DATA) -> KnowledgeBase:
    """Read every YAML file in `directory`, validate, and check all references."""
    tables: dict[str, dict] = {k: {} for k in ("trends", "opgaven", "scenarios", "challenges", "agenda_points", "considerations")}
    edges: list[Edge] = []
    extra: list[tuple[Path, ExtraCitations]] = []
    seen: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        raw = load_yaml(path) or {}
        try:
            kf = KnowledgeFile.model_validate(raw)
        except ValueError as exc:
            raise InputError(path, str(exc)) from None
        for name in tables:
            for item in getattr(kf, name):
                if item.id in seen:
                    raise InputError(path, f"id {item.id!r} bestaat al in {seen[item.id].name}")
                seen[item.id] = path
                tables[name][item.id] = item
        edges.extend(kf.edges)
        extra.extend((path, e) for e in kf.citations)
    problems = []
    for e in edges:
        for end in (e.source, e.target):
            if end not in seen:
                problems.append(f"verband {e.source} → {e.target}: onbekend id {end!r}")
    for o in tables["opgaven"].values():
        problems += [f"opgave {o.id}: antwoordt op onbekend id {a!r}" for a in o.answers if a not in seen]
    for name in ("challenges", "agenda_points", "considerations"):
        for item in tables[name].values():
            problems += [f"{item.id}: verwijst naar onbekend id {r!r}" for r in item.related if r not in seen]
    extra_citations: dict[str, list[Citation]] = {}
    for path, e in extra:
        if e.ref not in seen:
            problems.append(f"{path.name}: bronvermelding bij onbekend id {e.ref!r}")
        extra_citations.setdefault(e.ref, []).extend(e.citations)
    if problems:
        raise InputError(directory, "kennisbank klopt niet:\n  " + "\n  ".join(problems))
    return KnowledgeBase(edges=edges, extra_citations=extra_citations, **tables)
