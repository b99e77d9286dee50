"""Which of the knowledge base's scopes (vocabulary.yaml) a gemeente belongs to.

A scope is matched by its `match` rule: every gemeente, a group's published member list, a set of
provinces, conditions over indicator values (the conditions of localisation.yaml), a published
list, or 'onbepaald' when the data available offline cannot decide it. The answer for each scope
is a `ScopeMatch` with the sentence that says why, so a report can write "Zwolle is centrumstad
(lid van het G40-stedennetwerk)".
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from ..errors import InputError
from .localise import Condition, IndicatorData, evaluate
from .model import VOCABULARY, KnowledgeBase, Scope

MATCH_KINDS = ("alle", "groep", "groepen", "provincies", "regels", "lijst", "onbepaald")


@dataclass(frozen=True)
class ScopeMatch:
    scope: str
    applies: bool | None  # None: cannot be decided here (onbepaald, or no figures)
    reason: str  # one Dutch sentence


def check_vocabulary(kb: KnowledgeBase, group_ids: set[str], province_names: set[str], indicator_ids: set[str]) -> list[str]:
    """Problems with the scopes' match rules against what the store holds (unknown groups,
    provinces or indicators, malformed rules). Empty when every rule can be evaluated."""
    problems = []
    for s in kb.scopes.values():
        kinds = [k for k in s.match if k in MATCH_KINDS]
        extra = sorted(set(s.match) - set(MATCH_KINDS) - {"bron"})
        if len(kinds) != 1 or extra:
            problems.append(f"scope {s.id}: 'match' vraagt precies één van {', '.join(MATCH_KINDS)}")
            continue
        kind = kinds[0]
        if kind in ("groep", "groepen"):
            ids = [s.match[kind]] if kind == "groep" else list(s.match[kind])
            problems += [f"scope {s.id}: onbekende groep {g!r}" for g in ids if g not in group_ids]
        elif kind == "provincies":
            problems += [f"scope {s.id}: onbekende provincie {p!r}" for p in s.match[kind] if p not in province_names]
        elif kind == "regels":
            for raw in s.match[kind]:
                try:
                    c = Condition.model_validate(raw)
                except ValidationError as exc:
                    problems.append(f"scope {s.id}: regel {raw}: {exc.errors()[0]['msg']}")
                    continue
                if c.indicator not in indicator_ids:
                    problems.append(f"scope {s.id}: onbekende indicator {c.indicator!r}")
            if not s.reason:
                problems.append(f"scope {s.id}: een regel vraagt een 'reason' die de drempels verantwoordt")
        elif kind == "lijst" and not s.match.get("bron"):
            problems.append(f"scope {s.id}: een lijst vraagt een gepubliceerde 'bron'")
    return problems


def _group_title(data: IndicatorData, gid: str) -> str:
    """'de G4', 'het G40-stedennetwerk'."""
    title = data.group_titles.get(gid, gid)
    return f"{'het' if title.endswith('netwerk') else 'de'} {title}"


def scope_rules(kb: KnowledgeBase) -> dict[str, list[Condition]]:
    """The conditions of every scope matched by `regels`, validated once (the Localiser keeps
    them, also in its cache, so that judging a gemeente validates nothing). A scope whose rules
    do not validate is left out: `match_scope` then validates them and raises, as it always did."""
    out = {}
    for s in kb.scopes.values():
        if "regels" in s.match:
            try:
                out[s.id] = [Condition.model_validate(c) for c in s.match["regels"]]
            except (ValidationError, TypeError):
                continue
    return out


def match_scope(scope: Scope, data: IndicatorData, code: str, rules: list[Condition] | None = None) -> ScopeMatch:
    """Whether the gemeente is of this scope's kind; `rules`: the scope's conditions, validated
    before (scope_rules)."""
    name = data.names.get(code, code)
    m = scope.match
    groups = data.groups_of.get(code, set())
    if "alle" in m:
        return ScopeMatch(scope.id, True, f"{name} is een gemeente; de trend geldt voor alle gemeenten.")
    if "groep" in m or "groepen" in m:
        ids = [m["groep"]] if "groep" in m else list(m["groepen"])
        hit = [g for g in ids if g in groups]
        if hit:
            return ScopeMatch(scope.id, True, f"{name} hoort bij {_group_title(data, hit[0])}.")
        names = " of ".join(_group_title(data, g) for g in ids)
        return ScopeMatch(scope.id, False, f"{name} hoort niet bij {names}.")
    if "provincies" in m:
        province = data.memberships.get(code, {}).get("provincie")
        title = data.group_titles.get(province) if province else None
        wanted = {f"Provincie {p}" for p in m["provincies"]}
        if title is None:
            return ScopeMatch(scope.id, None, f"De provincie van {name} is niet bekend.")
        where = title.removeprefix("Provincie ")
        if title in wanted:
            return ScopeMatch(scope.id, True, f"{name} ligt in {where}.")
        return ScopeMatch(scope.id, False, f"{name} ligt in {where}, niet in {', '.join(m['provincies'])}.")
    if "lijst" in m:
        return ScopeMatch(scope.id, code in m["lijst"], f"{name} staat {'' if code in m['lijst'] else 'niet '}"
                                                        f"op de lijst ({m.get('bron')}).")
    if "onbepaald" in m:
        return ScopeMatch(scope.id, None, str(m["onbepaald"]).strip())
    conditions = rules if rules is not None else [Condition.model_validate(c) for c in m["regels"]]
    checks = [evaluate(c, data, code) for c in conditions]
    facts = [c.sentence for c in checks if c.sentence]
    if any(c.holds is None for c in checks):
        return ScopeMatch(scope.id, None, f"Voor {name} ontbreken cijfers om dit te bepalen.")
    holds = all(c.holds for c in checks)
    return ScopeMatch(scope.id, holds, " ".join(facts))


def match_all(kb: KnowledgeBase, data: IndicatorData, code: str) -> dict[str, ScopeMatch]:
    """Every scope of the vocabulary, matched for one gemeente."""
    return {s.id: match_scope(s, data, code) for s in kb.scopes.values()}


def validate_against_store(kb: KnowledgeBase, data: IndicatorData) -> None:
    provinces = {t.removeprefix("Provincie ") for g, t in data.group_titles.items() if t.startswith("Provincie ")}
    problems = check_vocabulary(kb, set(data.group_titles), provinces, set(data.meta))
    if problems:
        raise InputError(VOCABULARY, "typeringen kloppen niet:\n  " + "\n  ".join(problems))
