"""How honest a figure is, said the same way everywhere (CLI, JSON, API, report).

Two flags, both read from one place, the `harmonised` and `status` columns of `indicator_values`
(the report's data appendix reads the same columns):

- *herberekend*: the value is reconstructed for today's gemeente from the gemeenten it was formed
  from (a herindeling) or recalculated to today's boundaries (a grenswijziging);
- *voorlopig*: CBS publishes the figure as provisional ('Voorlopig' or 'NaderVoorlopig').

`FigureFlags` holds both per indicator, region and period, knows each gemeente's herindelingen,
and writes the Dutch label sentences. A label only names the years a text actually cites
(`cited_years`), so a verdict on 2019 and 2024 figures does not warn about 2012.
"""

from __future__ import annotations

import copy
import re
import sys
from datetime import date
from typing import Iterable

PROVISIONAL = frozenset({"Voorlopig", "NaderVoorlopig"})

_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d\d)(?!\d|[.,]\d)")


def is_provisional(status: str | None) -> bool:
    return status in PROVISIONAL


def status_word(status: str | None) -> str | None:
    """'definitief', 'voorlopig', 'nader voorlopig' as a reader sees it; None when unknown."""
    if not status:
        return None
    return "nader voorlopig" if status == "NaderVoorlopig" else status.lower()


def cited_years(texts: Iterable[str | None]) -> set[int]:
    """The years (1900-2099) a set of sentences names; numbers such as 2.019 or 20,19 are not years."""
    return {int(m) for t in texts if t for m in _YEAR.findall(t)}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def years_text(years: Iterable[int], span: bool = True) -> str:
    """'2019', '2019 en 2020', '2012 tot en met 2022' (a run of three or more), or '2015, 2019 en 2021'."""
    ys = sorted(set(years))
    if span and len(ys) >= 3 and ys[-1] - ys[0] == len(ys) - 1:
        return f"{ys[0]} tot en met {ys[-1]}"
    return _join([str(y) for y in ys])


class FigureFlags:
    """Which indicator values are reconstructed (harmonised) and which are provisional, per
    (indicator, region) the periods; with the herindelingen that explain a reconstruction."""

    def __init__(self, con, codes: Iterable[str] | None = None):
        where, params = "region_code LIKE 'GM%'", []
        if codes is not None:
            codes = sorted(set(codes))
            where = "region_code IN (SELECT unnest(?))"
            params = [codes]
        self._derived: set[str] = set()
        self.harmonised: dict[tuple[str, str], set[str]] = {}
        self.status: dict[tuple[str, str, str], str] = {}
        for ind, region, period, harmonised, status in con.execute(
                "SELECT indicator_id, region_code, period, harmonised, status FROM indicator_values "
                f"WHERE {where} AND (harmonised OR status IS NOT NULL)", params).fetchall():
            ind, region, period = sys.intern(ind), sys.intern(region), sys.intern(period)  # shared strings
            status = sys.intern(status) if status else status
            if harmonised:
                self.harmonised.setdefault((ind, region), set()).add(period)
            if status:
                self.status[(ind, region, period)] = status
        self.provisional: dict[tuple[str, str], set[str]] = {}
        for (ind, region, period), status in self.status.items():
            if status in PROVISIONAL:
                self.provisional.setdefault((ind, region), set()).add(period)
        # Per gemeente: the herindelingen it absorbed (date, former gemeente's name) and the dates
        # its boundaries changed otherwise.
        self.names: dict[str, str] = dict(con.execute("SELECT code, name FROM regions").fetchall())
        self.existed_from: dict[str, date | None] = dict(con.execute("SELECT code, valid_from FROM regions").fetchall())
        self.mergers: dict[str, list[tuple[date, str]]] = {}
        self.boundary: dict[str, list[date]] = {}
        for day, kind, from_code, to_code in con.execute(
                "SELECT date, kind, from_code, to_code FROM region_events WHERE from_code <> to_code "
                "AND kind IN ('herindeling', 'grenswijziging') ORDER BY date, from_code").fetchall():
            if kind == "herindeling":
                self.mergers.setdefault(to_code, []).append((day, self.names.get(from_code, from_code)))
            else:
                self.boundary.setdefault(to_code, []).append(day)
                self.boundary.setdefault(from_code, []).append(day)

    def add_derived(self, indicator: str, inputs: Iterable[str]) -> None:
        """An indicator computed from others (the rule file's derived indicators) is reconstructed
        or provisional in the periods where one of its inputs is."""
        if indicator in self._derived:
            return
        self._derived.add(indicator)
        inputs = list(inputs)
        for table in (self.harmonised, self.provisional):
            for region in {r for (i, r) in list(table) if i in inputs}:
                table[(indicator, region)] = set().union(*(table.get((i, region), set()) for i in inputs))

    def split_gemeenten(self) -> tuple["FigureFlags", dict[str, tuple[dict, dict, dict]]]:
        """A copy without the flags of the gemeenten's own figures, and those per gemeente
        (reconstructed, status, provisional): see IndicatorData.split_gemeenten."""
        rest = copy.copy(self)
        tables = (self.harmonised, self.status, self.provisional)
        rest.harmonised, rest.status, rest.provisional = kept = ({}, {}, {})
        per: dict[str, tuple[dict, dict, dict]] = {}
        for i, table in enumerate(tables):
            for k, v in table.items():
                (per.setdefault(k[1], ({}, {}, {}))[i] if k[1].startswith("GM") else kept[i])[k] = v
        return rest, per

    def add_flags(self, part: tuple[dict, dict, dict]) -> None:
        """A gemeente's flags that `split_gemeenten` took apart, put back."""
        for table, flags in zip((self.harmonised, self.status, self.provisional), part):
            table.update(flags)

    # --- one value --------------------------------------------------------------------------------
    def is_reconstructed(self, indicator: str, code: str, period: str) -> bool:
        return period in self.harmonised.get((indicator, code), ())

    def is_provisional(self, indicator: str, code: str, period: str) -> bool:
        return period in self.provisional.get((indicator, code), ())

    def status_of(self, indicator: str, code: str, period: str) -> str | None:
        return self.status.get((indicator, code, period))

    # --- labels -----------------------------------------------------------------------------------
    def _years(self, table: dict, indicators: Iterable[str], code: str, years: set[int] | None) -> list[int]:
        found = {int(p[:4]) for i in indicators for p in table.get((i, code), ())}
        return sorted(found if years is None else found & years)

    def reconstructed_labels(self, code: str, years: list[int], name: str | None = None) -> list[str]:
        """Why figures of these years are reconstructed, one sentence per reason:
        'Herberekend: de cijfers van 2012 tot en met 2022 zijn voor Voorne aan Zee van nu samengesteld uit
        die van Brielle, Hellevoetsluis en Westvoorne (herindeling van 2023).' A figure of a year before
        a herindeling is made from its predecessors'; one before a grenswijziging is recalculated to
        today's boundaries; a later one (a change over several years) rests partly on such figures."""
        name = name or self.names.get(code, code)
        groups: dict[tuple, list[int]] = {}
        for y in sorted(set(years)):
            start = date(y, 1, 1)
            merged = tuple((d, n) for d, n in self.mergers.get(code, []) if d > start)
            moved = tuple(d for d in self.boundary.get(code, []) if d > start)
            key = ("herindeling", merged) if merged else ("grens", moved[:1]) if moved else ("eerder",)
            groups.setdefault(key, []).append(y)
        out = []
        for key, ys in groups.items():
            when = years_text(ys)
            if key[0] == "herindeling":
                merged = key[1]
                parts = list(dict.fromkeys(n for _, n in merged))
                founded = self.existed_from.get(code)
                if founded is None or founded < merged[0][0]:  # the gemeente existed before and took the others in
                    parts = [name] + [p for p in parts if p != name]
                dates = sorted({d.year for d, _ in merged})
                event = (f"herindeling van {dates[0]}" if len(dates) == 1
                         else f"herindelingen van {years_text(dates, span=False)}")
                out.append(f"Herberekend: de cijfers van {when} zijn voor {name} van nu samengesteld uit die van "
                           f"{_join(parts)} ({event}).")
            elif key[0] == "grens":
                out.append(f"Herberekend: de cijfers van {when} zijn omgerekend naar de grenzen van {name} van nu "
                           f"(grenswijziging van {key[1][0].year}).")
            else:
                earlier = self.mergers.get(code) or [(d, None) for d in self.boundary.get(code, [])]
                what = (f"de herindeling van {earlier[-1][0].year}" if self.mergers.get(code)
                        else f"de grenswijziging van {earlier[-1][0].year}" if earlier else None)
                out.append(f"Herberekend: de cijfers van {when} rusten deels op cijfers van eerdere jaren"
                           + (f" van vóór {what}" if what else "")
                           + f", omgerekend naar {name} van nu.")
        return out

    @staticmethod
    def provisional_label(years: list[int]) -> str:
        """'Voorlopig: de cijfers van 2024 en 2025 zijn voorlopig en kunnen nog veranderen.'"""
        return f"Voorlopig: de cijfers van {years_text(years, span=False)} zijn voorlopig en kunnen nog veranderen."

    def labels(self, indicators: Iterable[str], code: str, name: str | None = None,
               years: set[int] | None = None, said_provisional: Iterable[int] = ()) -> list[str]:
        """The labels for figures of these indicators for one gemeente; with `years`, only for
        the figures of those years (the years a text cites). `said_provisional`: years whose
        provisional status the text already states ('(2025, voorlopig)')."""
        indicators = list(indicators)
        out = []
        rec = self._years(self.harmonised, indicators, code, years)
        if rec:
            out.extend(self.reconstructed_labels(code, rec, name))
        prov = [y for y in self._years(self.provisional, indicators, code, years) if y not in set(said_provisional)]
        if prov:
            out.append(self.provisional_label(prov))
        return out

    def labels_for_text(self, indicators: Iterable[str], code: str, texts: Iterable[str | None],
                        name: str | None = None, said_provisional: Iterable[int] = ()) -> list[str]:
        """The labels for the figures a set of sentences cites (evidence, counter-evidence, a note)."""
        return self.labels(indicators, code, name, cited_years(texts), said_provisional)


__all__ = ["FigureFlags", "PROVISIONAL", "cited_years", "is_provisional", "status_word", "years_text"]
