"""Other prognoses beside ours: an imported population or household prognosis (`trendstudie
importeer --prognose bevolking|huishoudens`, e.g. the provincial or Primos prognosis) next to
trendstudie's own projection (scenario basis), and — where the imported file reaches back into
years that have since been observed — its error for this gemeente against what happened.

Used by the prognose page (web) and the Toekomst chapter of the report; pure over the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from .. import formatting
from ..eigen import imports_in_store

INDICATOR = {"bevolking": "bevolking", "huishoudens": "huishoudens"}  # what each kind is compared with
WORDS = {"bevolking": "inwoners", "huishoudens": "huishoudens"}


@dataclass
class YearRow:
    year: int  # on 1 January
    theirs: float
    ours: float | None = None  # trendstudie's projection (basis)
    observed: float | None = None  # what CBS counted
    harmonised: bool = False  # the imported value was re-expressed on today's gemeente

    @property
    def error(self) -> float | None:
        """The imported prognosis's error against the observed value, in % (positive: too high)."""
        if self.observed is None or not self.observed:
            return None
        return (self.theirs - self.observed) / self.observed * 100

    @property
    def difference(self) -> float | None:
        """The imported prognosis against ours, in % of ours."""
        if self.ours is None or not self.ours:
            return None
        return (self.theirs - self.ours) / self.ours * 100


@dataclass
class OtherPrognosis:
    naam: str
    titel: str
    bestand: str
    kind: str  # bevolking | huishoudens
    rows: list[YearRow] = field(default_factory=list)

    @property
    def observed_rows(self) -> list[YearRow]:
        return [r for r in self.rows if r.error is not None]

    @property
    def mean_abs_error(self) -> float | None:
        """Mean absolute percentage error over the observed years (its track record here)."""
        rows = self.observed_rows
        return sum(abs(r.error) for r in rows) / len(rows) if rows else None

    def sentences(self, name: str) -> list[str]:
        """The comparison in Dutch, each sentence present only when it has data."""
        out = []
        unit = WORDS[self.kind]
        future = [r for r in self.rows if r.ours is not None]
        if future:
            last = future[-1]
            word = "hoger" if last.theirs > last.ours else "lager"
            out.append(f"De prognose {self.titel} ({self.bestand}, eigen bron) komt voor {name} op 1 januari {last.year} "
                       f"uit op {formatting.number(last.theirs, 0)} {unit}, tegen {formatting.number(last.ours, 0)} in de "
                       f"basisprognose van trendstudie: {formatting.number(abs(last.difference), 1)}% {word}.")
        observed = self.observed_rows
        if observed:
            years = f"{observed[0].year}" if len(observed) == 1 else f"{observed[0].year}–{observed[-1].year}"
            worst = max(observed, key=lambda r: abs(r.error))
            out.append(f"Voor {years} is inmiddels bekend hoeveel {unit} er waren: daar zat die prognose gemiddeld "
                       f"{formatting.number(self.mean_abs_error, 1)}% naast, het meest in {worst.year} "
                       f"({'+' if worst.error >= 0 else '−'}{formatting.number(abs(worst.error), 1)}%).")
        elif self.rows:
            out.append("Het bestand reikt niet terug tot jaren die al waargenomen zijn, dus er is nog geen "
                       "trackrecord voor deze gemeente.")
        return out


def other_prognoses(con: duckdb.DuckDBPyConnection, code: str, until: int | None = None,
                    ours: list | None = None) -> list[OtherPrognosis]:
    """Every imported prognosis with values for this gemeente, year by year beside our projection
    (`ours`: rows of `forecast.project(con, code, 'basis', …)`; computed when not given) and the
    observed values."""
    metas = [m for m in imports_in_store(con) if m.prognose in INDICATOR]
    if not metas:
        return []
    if ours is None:
        from . import project

        ours = project(con, code, "basis", until or 2040)
    out = []
    for meta in metas:
        measure = next(iter(meta.maatstaven), None)
        if measure is None:
            continue
        rows = con.execute(
            "SELECT period, value, harmonised FROM facts WHERE table_id = ? AND measure = ? AND region_code = ? "
            "AND value IS NOT NULL AND period LIKE '%JJ00' ORDER BY period", [meta.table_id, measure, code]).fetchall()
        if until is not None:
            rows = [r for r in rows if int(r[0][:4]) <= until]
        if not rows:
            continue
        indicator = INDICATOR[meta.prognose]
        observed = dict(con.execute(
            "SELECT CAST(substr(period, 1, 4) AS INTEGER), value FROM indicator_values WHERE indicator_id = ? "
            "AND region_code = ? AND period LIKE '%JJ00'", [indicator, code]).fetchall())
        projected = {int(r.period[:4]): r.value for r in ours if r.indicator_id == indicator}
        out.append(OtherPrognosis(meta.naam, meta.titel, meta.bestand, meta.prognose, [
            YearRow(int(p[:4]), v, projected.get(int(p[:4])), observed.get(int(p[:4])), bool(h)) for p, v, h in rows]))
    return out


def toekomst_part(con: duckdb.DuckDBPyConnection, code: str, name: str, ours: list,
                  until: int | None = None) -> tuple[list[str], dict | None]:
    """For the report's Toekomst chapter: paragraphs, and a table as a dict of `caption`, `header`,
    `rows`, `notes` (report/content.py's Table), or None without imported prognoses."""
    others = other_prognoses(con, code, until, ours)
    if not others:
        return [], None
    paras = [s for o in others for s in o.sentences(name)]
    years = sorted({r.year for o in others for r in o.rows})
    shown = [y for y in years if y % 5 == 0 or y == years[0] or y == years[-1]]
    header = ["Prognose"] + [str(y) for y in shown]
    rows = []
    kinds = sorted({o.kind for o in others})
    for kind in kinds:
        ours_by = {r.year: r.ours for o in others if o.kind == kind for r in o.rows}
        observed = {r.year: r.observed for o in others if o.kind == kind for r in o.rows}
        if any(observed.get(y) is not None for y in shown):
            rows.append([f"Waargenomen ({WORDS[kind]}, CBS)"] + [_n(observed.get(y)) for y in shown])
        rows.append([f"trendstudie, basis ({WORDS[kind]})"] + [_n(ours_by.get(y)) for y in shown])
        for o in (o for o in others if o.kind == kind):
            by = {r.year: r for r in o.rows}
            rows.append([f"{o.titel} (eigen bron)"] + [_n(by[y].theirs) if y in by else "–" for y in shown])
    notes = ["Waarden op 1 januari. Een eigen prognose is geïmporteerd met trendstudie importeer --prognose; "
             "waar zij terugreikt tot waargenomen jaren, staat haar fout voor deze gemeente in de tekst."]
    return paras, {"caption": f"{name}: prognoses naast elkaar", "header": header, "rows": rows, "notes": notes}


def _n(value: float | None) -> str:
    return formatting.number(value, 0) if value is not None else "–"
