"""A verdict for every trend and driving force in one gemeente: how strongly it plays here
(sterk / enigszins / niet / onbekend) and on what basis.

- `cijfers`: a rule of localisation.yaml judged the gemeente's figures (see localise.py);
- `typering`: the studies say the trend concerns a kind of gemeente or place (a scope of
  vocabulary.yaml) and the gemeente is, or is not, of that kind;
- `landelijk`: the studies describe a national trend that reaches every gemeente.

Figures beat the typology where both exist; where the two disagree the verdict says so. A
gemeente's own panel (`eigen weging`) is added by the foresight workbench.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

from ..analysis.labels import FigureFlags, cited_years, years_text
from .localise import Finding, IndicatorData, Rules, load_rules, localise
from .model import STUDY_SHORT, KnowledgeBase, Trend
from .scopes import ScopeMatch, match_scope, scope_rules

Strength = Literal["sterk", "enigszins", "niet", "onbekend"]
Basis = Literal["cijfers", "typering", "landelijk", "eigen weging"]
STRENGTHS: tuple[Strength, ...] = ("sterk", "enigszins", "niet", "onbekend")
ORDER = {s: i for i, s in enumerate(STRENGTHS)}
FROM_FINDING: dict[str, Strength] = {"sterk": "sterk", "enigszins": "enigszins", "niet van toepassing": "niet",
                                     "onbekend": "onbekend"}
NATIONAL = "alle-gemeenten"


@dataclass
class Verdict:
    trend: str
    strength: Strength
    basis: Basis | None  # None when nothing could be judged (strength 'onbekend')
    reason: str  # one or two Dutch sentences: why this verdict, on this basis
    finding: Finding | None = None  # the figures' evidence when a rule judged them
    typology: str | None = None  # what the studies' typology says for this gemeente, when it says anything
    disagreement: str | None = None  # figures and typology point different ways
    scopes: list[ScopeMatch] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # how honest the figures are: reconstructed, provisional
    old_note: str | None = None  # a verdict that the trend does not play, resting only on old figures

    @property
    def evidence(self) -> list[str]:
        return self.finding.evidence if self.finding and self.basis == "cijfers" else []

    @property
    def counter(self) -> list[str]:
        return self.finding.counter if self.finding and self.basis == "cijfers" else []

    @property
    def note(self) -> str | None:
        if not self.finding or self.basis != "cijfers":
            return None
        return self.finding.note or self.old_note


def _labels(kb: KnowledgeBase, ids: list[str]) -> str:
    labels = list(dict.fromkeys(kb.scopes[i].label for i in ids))
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " en " + labels[-1]


def _studies(t: Trend, scope_ids: set[str]) -> str:
    names = list(dict.fromkeys(STUDY_SHORT[c.citation.seed] for c in t.scopes if c.scope in scope_ids))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]


def typology(kb: KnowledgeBase, t: Trend, data: IndicatorData, code: str,
             cache: dict[tuple[str, str], ScopeMatch] | None = None,
             rules: dict[str, list] | None = None) -> tuple[Strength, Basis | None, str, list[ScopeMatch]]:
    """What the studies' scopes say for this gemeente: (strength, basis, sentence, matches);
    `rules`: the scopes' conditions validated before (scopes.scope_rules)."""
    name = data.names.get(code, code)
    cache = cache if cache is not None else {}

    def m(scope_id: str) -> ScopeMatch:
        key = (scope_id, code)
        if key not in cache:
            cache[key] = match_scope(kb.scopes[scope_id], data, code, (rules or {}).get(scope_id))
        return cache[key]

    specific = list(dict.fromkeys(c.scope for c in t.scopes if c.scope != NATIONAL))
    national = any(c.scope == NATIONAL for c in t.scopes)
    matches = [m(s) for s in specific]
    hits = [x for x in matches if x.applies]
    if hits:
        ids = [x.scope for x in hits]
        return ("enigszins", "typering",
                f"Volgens {_studies(t, set(ids))} speelt deze trend vooral in {_labels(kb, ids)}. {hits[0].reason}",
                matches)
    if national:
        text = f"Een landelijke trend die elke gemeente raakt, volgens {_studies(t, {NATIONAL})}."
        no = [x.scope for x in matches if x.applies is False]
        unknown = [x.scope for x in matches if x.applies is None]
        if no:
            text += f" De studies noemen hem vooral voor {_labels(kb, no)}; {name} hoort daar niet bij."
        if unknown:
            text += f" Of {name} {_labels(kb, unknown)} heeft waar hij vooral speelt, is uit de cijfers niet te bepalen." \
                if all(kb.scopes[u].level == "binnen gemeente" for u in unknown) else \
                f" Of {name} bij {_labels(kb, unknown)} hoort, is uit de cijfers niet te bepalen."
        return "enigszins", "landelijk", text, matches
    if matches and all(x.applies is False for x in matches):
        return ("niet", "typering",
                f"Volgens {_studies(t, set(specific))} speelt deze trend vooral in {_labels(kb, specific)}; "
                f"{name} hoort daar niet bij.", matches)
    if matches:
        unknown = [x for x in matches if x.applies is None]
        return ("onbekend", None,
                f"De studies noemen deze trend voor {_labels(kb, [x.scope for x in unknown])}; "
                f"of {name} daarbij hoort, is uit de cijfers niet te bepalen. {unknown[0].reason}", matches)
    return "onbekend", None, "De studies zeggen niet voor welke gemeenten deze trend speelt.", matches


def judge(kb: KnowledgeBase, t: Trend, rule, data: IndicatorData, code: str, rules: Rules,
          cache: dict | None = None, flags: FigureFlags | None = None, scope_rules: dict | None = None) -> Verdict:
    typ_strength, typ_basis, typ_text, matches = typology(kb, t, data, code, cache, scope_rules)
    finding = localise(rule, data, code, rules.settings) if rule is not None else None
    fig = FROM_FINDING[finding.strength] if finding else "onbekend"
    if fig == "onbekend":
        return Verdict(t.id, typ_strength, typ_basis, typ_text, finding, typ_text if typ_basis else None,
                       None, matches)
    name = data.names.get(code, code)
    disagreement = None
    if typ_basis == "typering" and typ_strength == "niet" and fig in ("sterk", "enigszins"):
        disagreement = (f"De cijfers laten deze trend in {name} zien, al beschrijven de studies hem vooral "
                        f"voor andere gemeenten. {typ_text}")
    elif typ_basis == "typering" and typ_strength == "enigszins" and fig == "niet":
        disagreement = (f"{typ_text} Toch laten de cijfers de trend in {name} (nog) niet zien.")
    reason = {"sterk": f"De cijfers laten zien dat deze trend in {name} sterk speelt.",
              "enigszins": f"De cijfers laten zien dat deze trend in {name} enigszins speelt.",
              "niet": f"De cijfers laten deze trend in {name} niet zien."}[fig]
    labels = []
    if flags is not None:  # label the figures the verdict cites: reconstructed over a herindeling, provisional
        for d in rules.derived:
            flags.add_derived(d.id, [d.aantal, *d.aandelen])
        labels = flags.labels_for_text(finding.indicators, code, finding.evidence + finding.counter + [finding.note],
                                       name)
    return Verdict(t.id, fig, "cijfers", reason, finding, typ_text if typ_basis else None, disagreement, matches,
                   labels, old_figures(finding, data.newest_year, rules))


def old_figures(finding: Finding, newest_year: int, rules: Rules) -> str | None:
    """What localise notes for a verdict that a trend plays, said as well for one that it does not:
    when every figure the evidence cites is from before the newest year minus `oude_cijfers_jaren`.
    None when the finding has its own note (the CLI, JSON and API show `finding.note or this`)."""
    if finding.note:
        return None
    years = cited_years(finding.evidence)
    if not years or max(years) >= newest_year - rules.settings.oude_cijfers_jaren:
        return None
    return (f"Dit oordeel rust alleen op cijfers uit {years_text(years, span=False)}; nieuwere zijn er voor deze "
            "indicatoren niet.")


def judge_all(kb: KnowledgeBase, data: IndicatorData, code: str, rules: Rules | None = None,
              cache: dict | None = None, flags: FigureFlags | None = None,
              trends: set[str] | None = None, scope_rules: dict | None = None) -> list[Verdict]:
    """A verdict for every trend and driving force (or only those in `trends`), strongest first;
    `scope_rules`: the scopes' conditions validated before (scopes.scope_rules)."""
    rules = rules if rules is not None else load_rules()
    data.use_rules(rules)
    by_trend = {r.trend: r for r in [*rules, *getattr(data, "own_rules", [])]}  # the user's own rules win
    verdicts = [judge(kb, t, by_trend.get(t.id), data, code, rules, cache, flags, scope_rules)
                for t in kb.trends.values() if trends is None or t.id in trends]
    basis_order = {"cijfers": 0, "typering": 1, "landelijk": 2, "eigen weging": 3, None: 4}
    return sorted(verdicts, key=lambda v: (ORDER[v.strength], basis_order[v.basis], v.trend))


def indicators_used(kb: KnowledgeBase, rules: Rules, own_rules: list = ()) -> dict[str, frozenset[str]]:
    """Per trend, every indicator whose values its verdict can read: those of its rule (the user's
    own rule in place of the product's) and of the typology rules of its scopes, with the counts
    that guard their small numbers and the indicators a derived one is made of. A verdict depends
    on the store only through these values and what every verdict shares (the register, groups,
    names, the newest year of any figure): when none of them changed, neither did the verdict."""
    from .localise import Condition

    by_trend = {r.trend: r for r in [*rules, *own_rules]}
    derived = {d.id: d for d in rules.derived}
    out = {}
    for t in kb.trends.values():
        wanted: set[str] = set()
        rule = by_trend.get(t.id)
        if rule is not None:
            wanted |= {*rule.indicators, *(c.indicator for c in rule.conditions())}
        for link in t.scopes:
            scope = kb.scopes.get(link.scope)
            if scope is not None and "regels" in scope.match:
                wanted |= {Condition.model_validate(c).indicator for c in scope.match["regels"]}
        todo = list(wanted)
        while todo:
            ind = todo.pop()
            more = []
            if ind in rules.small_counts:
                more.append(rules.small_counts[ind].aantal)
            if ind in derived:
                more += [derived[ind].aantal, *derived[ind].aandelen]
            for m in more:
                if m not in wanted:
                    wanted.add(m)
                    todo.append(m)
        out[t.id] = frozenset(wanted)
    return out


class Localiser:
    """Everything needed to judge trends in any gemeente, loaded once: the knowledge base, the
    rules, the indicator values, the labels of reconstructed and provisional figures. One
    `verdicts(code)` call then costs a few milliseconds."""

    def __init__(self, con, kb: KnowledgeBase | None = None, rules: Rules | None = None,
                 data: IndicatorData | None = None):
        from .model import load

        self.kb = kb or load()
        self.rules = rules if rules is not None else load_rules()
        self.data = data or IndicatorData(con, self.rules.derived)
        self.data.use_rules(self.rules)
        self.flags = FigureFlags(con)
        self._cache: dict = {}
        self._verdicts: dict[str, list[Verdict]] = {}
        self.gemeenten = sorted(c for c in self.data.groups_of if c.startswith("GM"))
        self.only: str | None = None  # set: holds the own figures of this gemeente only (see split_gemeenten)
        self.scope_rules = scope_rules(self.kb)

    def verdicts(self, code: str) -> list[Verdict]:
        """The verdicts in one gemeente, judged once (the store does not change while this runs;
        the web app asks for them at start-up and again for every page and API answer)."""
        if self.only is not None and code != self.only:
            raise ValueError(f"this Localiser holds the figures of {self.only} only, not of {code}")
        found = self._verdicts.get(code)
        if found is None:
            found = self._verdicts[code] = judge_all(self.kb, self.data, code, self.rules, self._cache, self.flags,
                                                     scope_rules=self.scope_rules)
        return list(found)

    def everywhere(self) -> dict[str, list[Verdict]]:
        return {code: self.verdicts(code) for code in self.gemeenten}

    def split_gemeenten(self) -> tuple["Localiser", dict[str, tuple]]:
        """This Localiser without the gemeenten's own figures (series and their flags), and
        those figures per gemeente: the cache keeps them apart (knowledge/cache.py), so that the
        verdicts of one gemeente need only the rest and its own part (`add_gemeente`)."""
        rest = copy.copy(self)
        rest.data, series = self.data.split_gemeenten()
        rest.flags, flags = self.flags.split_gemeenten()
        rest._cache, rest._verdicts = {}, {}
        return rest, {c: (series.get(c, {}), flags.get(c, ({}, {}, {}))) for c in sorted(set(series) | set(flags))}

    def add_gemeente(self, part: tuple) -> None:
        """A gemeente's own figures that `split_gemeenten` took apart, put back."""
        series, flags = part
        self.data.add_series(series)
        self.flags.add_flags(flags)


def as_json(kb: KnowledgeBase, v: Verdict) -> dict:
    """A verdict as the CLI and the API give it (Dutch keys, documented in docs/lokalisatie.md)."""
    t = kb.trends[v.trend]
    return {"trend": v.trend, "titel": t.title, "soort": t.kind, "domein": t.domain, "sterkte": v.strength,
            "basis": v.basis, "reden": v.reason, "onderbouwing": v.evidence, "tegenbewijs": v.counter,
            "kanttekening": v.note, "typering": v.typology, "tegenstrijdig": v.disagreement, "labels": v.labels,
            "indicatoren": v.finding.indicators if v.finding else [],
            "typeringen": [{"typering": m.scope, "geldt": m.applies, "reden": m.reason} for m in v.scopes]}
