"""The population fan of a gemeente: observed, one scenario with its band, every other scenario
as a line. One function for the report's Toekomst chapter, the gemeente page and the prognose
page, over one list of scenarios: the scenarios the forecast package loads (forecast/scenarios.yaml),
never a list of its own."""

from __future__ import annotations

from typing import Callable, Sequence

from ..forecast import ProjectionRow, load_scenarios


NARROW = 480  # below this width scenarios are named by their short name ('kort' in scenarios.yaml)


def scenario_ids() -> tuple[str, ...]:
    """Every projection scenario, in the order of the scenario file."""
    return tuple(load_scenarios())


# What each kind of scenario varies (the `soort` of a scenario in forecast/scenarios.yaml).
KIND_SENTENCE = {
    "wlo": "zijn opgezet zoals de WLO-scenario's (andere geboorte, sterfte en migratie)",
    "hcss": "volgen de stedelijke scenario's van HCSS (waar migranten en verhuizers heen gaan)",
    "eigen": "zijn eigen scenario's",
}


def _names(titles: list[str]) -> str:
    quoted = [f"'{t.lower()}'" for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " en " + quoted[-1]


def scenario_sentence(chosen: str = "basis") -> str:
    """One sentence naming every scenario beside `chosen` by kind, from the scenario file."""
    by_kind: dict[str, list[str]] = {}
    for sid, s in load_scenarios().items():
        if sid != chosen:
            by_kind.setdefault(s.soort, []).append(s.titel)
    parts = []
    for kind, titles in by_kind.items():
        verb = KIND_SENTENCE[kind]
        subject = "de scenario's"
        if len(titles) == 1:  # singular: 'volgt', 'is een eigen scenario'
            verb = verb.replace("volgen", "volgt").replace("zijn eigen scenario's", "is een eigen scenario")
            subject = "het scenario"
        parts.append(f"{subject} {_names(titles)} {verb}")
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def population_lines(rows_of: Callable[[str], Sequence[ProjectionRow]], chosen: str = "basis", short: bool = False
                     ) -> tuple[list[tuple[int, float, float, float]], dict[str, list[tuple[int, float]]]]:
    """The chosen scenario's population with its band, and every other scenario's population by
    its title (`short`: by its short name where it has one, for a phone). `rows_of(scenario_id)`
    gives the projection rows of one scenario."""
    scenarios = load_scenarios()
    own = sorted((r for r in rows_of(chosen) if r.indicator_id == "bevolking"), key=lambda r: r.period)
    projection = [(int(r.period[:4]), r.value, r.lower, r.upper) for r in own
                  if r.lower is not None and r.upper is not None]
    others: dict[str, list[tuple[int, float]]] = {}
    for sid, s in scenarios.items():
        if sid == chosen:
            continue
        pts = [(int(r.period[:4]), r.value) for r in rows_of(sid) if r.indicator_id == "bevolking"]
        if pts:
            others[(s.kort or s.titel) if short else s.titel] = sorted(pts)
    return projection, others


def population_fan(title: str, history: Sequence[tuple[int, float]],
                   rows_of: Callable[[str], Sequence[ProjectionRow]], chosen: str = "basis", *,
                   width: float = 640, height: float = 340):
    """The fan chart (charts.fan) of the population under every scenario; None without data."""
    from ..charts import fan

    projection, others = population_lines(rows_of, chosen, short=width < NARROW)
    label = load_scenarios()[chosen].titel if chosen in load_scenarios() else chosen
    return fan(title, "inwoners", history, projection, others, decimals=0, width=width, height=height, label=label)


__all__ = ["scenario_ids", "scenario_sentence", "population_lines", "population_fan"]
