"""Everything the facilitator, the API, the CLI and the report show of a verkenning's results,
assembled from one snapshot of the database (aggregates, frame, SVGs, exports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import tables
from .aggregate import ItemInfo, Results, aggregate, as_json as aggregates_json
from .frame import Challenge, Frame, base_items, draft_challenges, frame
from .service import HORIZONS, AnswerRow, snapshot
from .svg import frame_svg, matrix, numbered, radar

PROJECTION_INDICATORS = ("bevolking", "huishoudens", "woningbehoefte")
PROJECTION_YEAR = 2040


def projection_figures(rows) -> dict[str, float | None]:
    """Population, households and woningbehoefte on 1 January 2040 from projection rows."""
    period = f"{PROJECTION_YEAR}JJ00"
    out: dict[str, float | None] = {k: None for k in PROJECTION_INDICATORS}
    for r in rows:
        if r.period == period and r.indicator_id in out:
            out[r.indicator_id] = r.value
    return out


def projector(project_rows: Callable[[str, str], list]) -> Callable[[str], dict]:
    """projections(scenario) for frame(): wraps a function (code-less) returning projection rows;
    a scenario that cannot be projected gives no figures rather than an error."""
    from ..errors import TrendstudieError

    cache: dict[str, dict] = {}

    def get(scenario: str) -> dict:
        if scenario not in cache:
            try:
                cache[scenario] = projection_figures(project_rows(scenario))
            except TrendstudieError:
                cache[scenario] = {}
        return cache[scenario]

    return get


@dataclass
class Outcome:
    id: int
    titel: str
    gemeente: str
    gemeente_naam: str
    ronde: int
    ronde_open: bool
    items: list  # Item rows (active and dropped)
    answers: list[AnswerRow]
    invited: int
    results: Results
    frame: Frame | None
    base: list
    challenges: list[Challenge]
    edited_challenges: list[dict] | None

    @property
    def has_results(self) -> bool:
        return self.results.latest_round is not None

    def challenge_list(self) -> list[dict]:
        if self.edited_challenges is not None:
            return self.edited_challenges
        return [{"titel": c.titel, "tekst": c.tekst, "opgave": c.opgave, "items": c.items} for c in self.challenges]

    def radar_svg(self) -> str:
        return radar([r for r in self.results.items], f"Trendradar {self.gemeente_naam}: {self.titel}")

    def matrix_svg(self) -> str:
        return matrix(self.results.items, f"Impact en onzekerheid, {self.gemeente_naam}")

    def numbered(self):
        return numbered(self.results.items)

    def frame_svg(self) -> str | None:
        if not self.frame:
            return None
        from ..formatting import number

        qs = []
        for q in self.frame.quadrants:
            f = q.figures
            figs = "; ".join(f"{label} {number(f[k], 0)}" for k, label in
                             (("bevolking", "inwoners"), ("huishoudens", "huishoudens"),
                              ("woningbehoefte", "woningbehoefte")) if f.get(k) is not None)
            qs.append((q.title, q.projection, f"In {PROJECTION_YEAR}: {figs}" if figs else ""))
        a, b = self.frame.axes
        return frame_svg(a.item.titel, b.item.titel, qs, f"Scenariokader {self.gemeente_naam}")

    def as_json(self) -> dict:
        doc = {"verkenning": self.id, "titel": self.titel, "gemeente": self.gemeente,
               "gemeente_naam": self.gemeente_naam, "ronde": self.ronde, "ronde_open": self.ronde_open,
               **aggregates_json(self.results, HORIZONS)}
        doc["scenariokader"] = None if not self.frame else {
            "assen": [{"item": a.item.id, "titel": a.item.titel, "impact": a.median("impact"),
                       "onzekerheid": a.median("onzekerheid")} for a in self.frame.axes],
            "kwadranten": [{"assen": list(q.states), "titel": q.title, "verhaal": q.storyline,
                            "prognose": q.projection, "waarom": q.projection_reason,
                            f"cijfers_{PROJECTION_YEAR}": q.figures} for q in self.frame.quadrants]}
        doc["basisscenario"] = [{"item": r.item.id, "titel": r.item.titel, "impact": r.median("impact"),
                                 "onzekerheid": r.median("onzekerheid")} for r in self.base]
        doc["uitdagingen"] = self.challenge_list()
        return doc


def outcome(s, v, kb, graph, project_rows: Callable[[str], list] | None = None) -> Outcome:
    """The results of verkenning `v` (read in session `s`). `project_rows(scenario)` gives the
    projection rows of the gemeente, or None to leave the projection figures out."""
    items, answers, invited = snapshot(s, v)
    active = [i for i in items if i.actief]
    infos = [ItemInfo(i.id, i.titel, i.domein, i.trend) for i in active]
    res = aggregate(infos, answers, invited, v.ronde)
    fr = frame(kb, graph, res, projector(project_rows) if project_rows else None)
    return Outcome(v.id, v.titel, v.gemeente, v.gemeente_naam, v.ronde, v.ronde_open, items, answers, invited, res,
                   fr, base_items(res), draft_challenges(kb, res), v.uitdagingen)


ANSWER_COLUMNS = ["ronde", "deelnemer", "item", "titel", "domein", "impact", "onzekerheid", "horizon", "relevantie",
                  "toelichting", "reden"]


def answer_rows(o: Outcome) -> list[list]:
    titles = {i.id: (i.titel, i.domein) for i in o.items}
    return [[a.ronde, a.participant, a.item, titles[a.item][0], titles[a.item][1], a.impact, a.onzekerheid,
             HORIZONS.get(a.horizon) if a.horizon else None, a.relevantie, a.toelichting, a.reden]
            for a in o.answers]


def answers_csv(o: Outcome) -> str:
    return tables.to_csv(ANSWER_COLUMNS, answer_rows(o))


def answers_xlsx(o: Outcome) -> bytes:
    per_item = []
    for r in o.results.items:
        for rnd, ir in r.rounds.items():
            i, u = ir.stats["impact"], ir.stats["onzekerheid"]
            per_item.append([rnd, r.item.id, r.item.titel, r.item.domein, i.n if i else 0,
                             i.median if i else None, i.iqr if i else None, u.median if u else None,
                             u.iqr if u else None, {True: "ja", False: "nee", None: None}[ir.consensus],
                             r.shift(rnd, "impact")])
    return tables.to_xlsx_sheets([
        tables.Sheet("Antwoorden", ANSWER_COLUMNS, answer_rows(o)),
        tables.Sheet("Per item", ["ronde", "item", "titel", "domein", "n", "impact mediaan", "impact IQR",
                                  "onzekerheid mediaan", "onzekerheid IQR", "consensus", "verschuiving impact"],
                     per_item)])
