"""The knowledge base schema: trends, driving forces, opgaven, scenarios, challenges, agenda
points, strategic considerations and the causal edges between them, each with citations into
the five seed trend studies (`../shared/seeds/`).

Data lives in `knowledge/data/*.yaml`, one file per seed study (a file may also add citations
to entries defined in another file, under `citations:`). The vocabulary the studies share —
where a trend applies (scopes) and who acts on an opgave (actors) — is defined once, in
`knowledge/vocabulary.yaml`. `load()` reads and validates all of them, checks that every
reference points at an existing entry, and merges the accounts that several studies give of the
same cause → effect into one edge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import InputError
from ..indicators.domains import DOMAINS
from ..textfile import load_yaml

DATA = Path(__file__).parent / "data"
VOCABULARY = Path(__file__).parent / "vocabulary.yaml"

Domain = Literal[DOMAINS]  # type: ignore[valid-type]  # the eight domains of the trend studies

# The seed studies, by file name, with their year and a short name for display.
SEEDS: dict[str, tuple[int, str]] = {
    "000_5930c45da9f20d49.txt": (2016, "Trendnotitie VenJ en de steden (2016)"),
    "001_4db66dc70a33111a.txt": (2021, "Herstel en perspectief in tijden van transitie, G40/M50 (2021)"),
    "002_cbb4c82b8d216066.txt": (2013, "Steden in onzekere en turbulente tijden, Platform31 (2013)"),
    "003_41075779fd49addc.txt": (2024, "Veilige stad, HCSS voor de politie (2024)"),
    "004_9a5c835ef468cec0.txt": (2014, "Perspectief voor de steden, commissie-Derksen/VNG met PBL (2014)"),
}

# How a sentence names a study: "volgens {STUDY_SHORT[seed]}".
STUDY_SHORT: dict[str, str] = {
    "000_5930c45da9f20d49.txt": "de trendnotitie voor VenJ en de steden (2016)",
    "001_4db66dc70a33111a.txt": "de G40/M50-studie (2021)",
    "002_cbb4c82b8d216066.txt": "Platform31 (2013)",
    "003_41075779fd49addc.txt": "HCSS (2024)",
    "004_9a5c835ef468cec0.txt": "de commissie-Derksen en het PBL (2014)",
}



def line_span(lines: tuple[int, int] | list[int]) -> str:
    """The lines of a study's text a citation points at: '184–196', or '3985' for one line."""
    return str(lines[0]) if lines[0] == lines[1] else f"{lines[0]}–{lines[1]}"


def lines_text(lines: tuple[int, int] | list[int]) -> str:
    """'regels 184–196', 'regel 3985'."""
    return f"{'regel' if lines[0] == lines[1] else 'regels'} {line_span(lines)}"


_ID = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


class Strict(BaseModel):
    # defer_build: a model's validator is made when it first validates (loading the YAML), not when
    # the module is imported; a command served from the Localiser's cache never validates.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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


class ScopeClaim(Strict):
    """Where a study says a trend plays: a scope from vocabulary.yaml, with the passage."""

    scope: str = Field(pattern=_ID)
    citation: Citation
    note: str | None = None  # own words, when the study qualifies the scope ("vooral", "ook")


class TrendLink(Strict):
    """How a trend relates to an item of another study or period (not a causal edge)."""

    to: str = Field(pattern=_ID)
    relation: Literal[
        "vervangen door",  # a later study describes the successor state of this trend
        "tegengesproken door",  # a later study says the opposite is happening
        "komt overeen met",  # the same development in another study's words (e.g. PBL's trends)
    ]
    note: str = Field(min_length=10)  # own words: what changed or how they match
    citation: Citation | None = None  # the passage of the *other* study, when it says so


class Trend(Entry):
    kind: Literal["trend", "drijvende kracht"] = "trend"
    domain: Domain
    certainty: Literal["zeker", "onzeker"]
    horizon: str  # e.g. "2030", "2040", "lopend"
    direction: Literal["toenemend", "afnemend", "verschuivend", "onzeker"]
    indicators: list[str] = []  # indicator ids that can evidence this trend (issue 3 registry)
    localisation: dict | None = None  # rule over the indicator analysis, see knowledge/localise.py
    scopes: list[ScopeClaim] = []  # where the studies say it plays; 'alle-gemeenten' if national
    headline: bool = False  # a ➢ trend heading a G40/M50 chapter
    period: str | None = None  # the period it describes when it is history ("2008-2013")
    links: list[TrendLink] = []


class Opgave(Entry):
    domain: Domain
    answers: list[str] = Field(min_length=1)  # ids of trends/challenges/forces it responds to
    actors: list[str] = []  # who acts, as the study puts it; the first leads (vocabulary.yaml)
    timeframe: str | None = None  # when the study gives one ("voor 2030", "komende raadsperiode")
    headline: bool = False  # a • opgave heading a G40/M50 chapter
    period: str | None = None  # the period it belongs to when it is history


class ScenarioForce(Strict):
    force: str = Field(pattern=_ID)  # a driving force or trend
    assumption: str = Field(min_length=5)  # how this scenario assumes it develops, own words


class Scenario(Entry):
    family: Literal["HCSS", "WLO"]
    assumptions: list[str] = []  # short statements of what differs in this scenario
    base: bool = False  # HCSS's uitgangsscenario, the base all challenges start from
    forces: list[ScenarioForce] = []  # the driving forces this scenario sets, and how


class Challenge(Entry):  # HCSS's ten safety challenges
    domain: Domain = "veiligheid"
    drivers: list[str] = []  # the forces and trends it comes from
    scenarios: list[str] = []  # the scenarios in which it arises or sharpens
    related: list[str] = []


class AgendaPoint(Entry):  # the Derksen commission's agenda points
    theme: Literal["ruimte en economie", "migratie en integratie", "duurzaamheid", "cultuur"]
    answers: list[str] = []  # the trends and opgaven it answers
    related: list[str] = []


class Consideration(Entry):  # HCSS's strategic considerations, chapter 9 handelingsperspectieven
    answers: list[str] = []  # the challenges it answers
    related: list[str] = []


class Edge(Strict):
    """One study's account of a causal link, as written in a data file."""

    source: str = Field(pattern=_ID)
    target: str = Field(pattern=_ID)
    polarity: Literal["+", "-"]
    mechanism: str = Field(min_length=10)  # how the one drives the other, our own words
    citations: list[Citation] = Field(min_length=1)


class Account(Strict):
    """What one study says about a link: the mechanism in our words and where it says so."""

    mechanism: str
    citations: list[Citation]


class Link(Strict):
    """One cause → effect, with the account of every study that describes it."""

    source: str
    target: str
    polarity: Literal["+", "-"]
    accounts: list[Account]

    @property
    def mechanism(self) -> str:
        return self.accounts[0].mechanism

    @property
    def citations(self) -> list[Citation]:
        return [c for a in self.accounts for c in a.citations]

    @property
    def studies(self) -> list[str]:
        """The seed files that describe this link, oldest study first."""
        return sorted({c.seed for c in self.citations}, key=lambda s: SEEDS[s][0])


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


class Scope(Strict):
    """A kind of gemeente or place a trend can apply to, and how a gemeente is matched to it.

    `match` is one of: `{alle: true}`; `{groep: ID}` (a group of geo/groups.yaml); `{groepen:
    [ID, ...]}`; `{provincies: [naam, ...]}`; `{regels: [condition, ...]}` (every condition holds,
    in the vocabulary of localisation.yaml); `{lijst: [GMxxxx, ...], bron: "..."}` (a published
    list, its source named); `{onbepaald: "why this cannot be decided from offline data"}`.
    """

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=3)  # Dutch, as a report names it ("centrumsteden (G40)")
    level: Literal["gemeente", "binnen gemeente"] = "gemeente"
    description: str = Field(min_length=10)
    match: dict
    reason: str | None = None  # why this rule or threshold stands for the scope


class Actor(Strict):
    id: str = Field(pattern=_ID)
    label: str = Field(min_length=3)
    level: Literal["lokaal", "regionaal", "landelijk", "partner"]


class Vocabulary(Strict):
    scopes: list[Scope]
    actors: list[Actor]


def load_vocabulary(path: Path = VOCABULARY) -> Vocabulary:
    raw = load_yaml(path) or {}
    try:
        voc = Vocabulary.model_validate(raw)
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
    for name in ("scopes", "actors"):
        ids = [x.id for x in getattr(voc, name)]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise InputError(path, f"{name}: dubbele id {', '.join(dup)}")
    return voc


class KnowledgeBase(BaseModel):
    model_config = ConfigDict(defer_build=True)

    trends: dict[str, Trend]
    opgaven: dict[str, Opgave]
    scenarios: dict[str, Scenario]
    challenges: dict[str, Challenge]
    agenda_points: dict[str, AgendaPoint]
    considerations: dict[str, Consideration]
    edges: list[Link]
    extra_citations: dict[str, list[Citation]]
    scopes: dict[str, Scope]
    actors: dict[str, Actor]

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


def merge_edges(edges: list[Edge]) -> tuple[list[Link], list[str]]:
    """One link per (cause, effect), in the order first met, holding each study's account.
    Returns the links and the problems found (two accounts that disagree on the polarity)."""
    links: dict[tuple[str, str], Link] = {}
    problems = []
    for e in edges:
        key = (e.source, e.target)
        account = Account(mechanism=e.mechanism, citations=e.citations)
        if key not in links:
            links[key] = Link(source=e.source, target=e.target, polarity=e.polarity, accounts=[account])
            continue
        have = links[key]
        if have.polarity != e.polarity:
            problems.append(f"verband {e.source} → {e.target}: de ene studie zegt '{have.polarity}', "
                            f"de andere '{e.polarity}'")
            continue
        links[key] = have.model_copy(update={"accounts": have.accounts + [account]})
    return list(links.values()), problems


def load(directory: Path = DATA, vocabulary: Path = VOCABULARY) -> KnowledgeBase:
    """Read every YAML file in `directory`, validate, and check all references."""
    voc = load_vocabulary(vocabulary)
    scopes = {s.id: s for s in voc.scopes}
    actors = {a.id: a for a in voc.actors}
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
        seen_pairs: set[tuple[str, str]] = set()
        for e in kf.edges:
            if (e.source, e.target) in seen_pairs:
                raise InputError(path, f"verband {e.source} → {e.target} staat twee keer in dit bestand")
            seen_pairs.add((e.source, e.target))
        edges.extend(kf.edges)
        extra.extend((path, e) for e in kf.citations)
    problems = []
    for e in edges:
        for end in (e.source, e.target):
            if end not in seen:
                problems.append(f"verband {e.source} → {e.target}: onbekend id {end!r}")
    for o in tables["opgaven"].values():
        problems += [f"opgave {o.id}: antwoordt op onbekend id {a!r}" for a in o.answers if a not in seen]
    for o in tables["opgaven"].values():
        problems += [f"opgave {o.id}: onbekende actor {a!r}" for a in o.actors if a not in actors]
    for t in tables["trends"].values():
        problems += [f"trend {t.id}: onbekende scope {c.scope!r}" for c in t.scopes if c.scope not in scopes]
        problems += [f"trend {t.id}: koppeling naar onbekend id {k.to!r}" for k in t.links if k.to not in seen]
    for sc in tables["scenarios"].values():
        problems += [f"scenario {sc.id}: onbekende kracht {f.force!r}" for f in sc.forces
                     if f.force not in tables["trends"]]
    refs = {"challenges": ("related", "drivers", "scenarios"), "agenda_points": ("related", "answers"),
            "considerations": ("related", "answers")}
    for name, fields in refs.items():
        for item in tables[name].values():
            for field in fields:
                problems += [f"{item.id}: {field} verwijst naar onbekend id {r!r}"
                             for r in getattr(item, field) if r not in seen]
    extra_citations: dict[str, list[Citation]] = {}
    for path, e in extra:
        if e.ref not in seen:
            problems.append(f"{path.name}: bronvermelding bij onbekend id {e.ref!r}")
        extra_citations.setdefault(e.ref, []).extend(e.citations)
    links, conflicts = merge_edges(edges)
    problems += conflicts
    if problems:
        raise InputError(directory, "kennisbank klopt niet:\n  " + "\n  ".join(problems))
    return KnowledgeBase(edges=links, extra_citations=extra_citations, scopes=scopes, actors=actors, **tables)
