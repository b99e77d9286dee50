"""Scenarios: named parameter sets for the projections, as data (scenarios.yaml) validated by pydantic.

A scenario multiplies what the models estimated from the history: fertility, mortality,
immigration and emigration (the WLO-like national assumptions), domestic mobility, the
attraction of groups of gemeenten for migrants and movers and the departure rate out of them
(the HCSS-like "where does migration go"), the trend of household size and the pace of house
building. Users add scenarios in their own YAML file (same format; `basis: <id>` inherits from
another scenario) and override single parameters for a what-if.
"""

from __future__ import annotations

from functools import lru_cache

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InputError, TrendstudieError
from ..textfile import parse_yaml
from .components import Adjustments

BUILTIN = "scenarios.yaml"
Factor = float


class Scenario(BaseModel):
    """One named set of assumptions. Factors are relative to the estimated history (1.0 = unchanged)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    titel: str = Field(min_length=1)
    kort: str | None = Field(None, min_length=1, max_length=20)  # the name beside a line on a phone
    beschrijving: str = ""
    soort: Literal["wlo", "hcss", "eigen"] = "eigen"
    basis: str | None = None
    vruchtbaarheid: Factor = Field(1.0, gt=0, le=3)
    sterfte: Factor = Field(1.0, gt=0, le=3)
    immigratie: Factor = Field(1.0, ge=0, le=5)
    emigratie: Factor = Field(1.0, ge=0, le=5)
    verhuismobiliteit: Factor = Field(1.0, ge=0, le=3)
    aantrekking: dict[str, Factor] = Field(default_factory=dict)
    vertrek: dict[str, Factor] = Field(default_factory=dict)
    huishoudensverdunning: Factor = Field(1.0, ge=0, le=5)
    woningbouw: Factor = Field(1.0, ge=0, le=10)
    frictieleegstand: float = Field(0.02, ge=0, lt=0.2)

    @field_validator("aantrekking", "vertrek")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for group, factor in value.items():
            if not (0 < factor <= 5):
                raise ValueError(f"factor voor {group} moet groter dan 0 en hoogstens 5 zijn, niet {factor}")
        return value

    def with_overrides(self, overrides: dict[str, Any] | None) -> "Scenario":
        """A what-if: the same scenario with some parameters replaced (validated like the YAML)."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(type(self).model_fields) - {"id", "titel"})
        if unknown:
            raise TrendstudieError(
                f"Onbekende scenarioparameter(s): {', '.join(unknown)}. Kies uit: {', '.join(PARAMETERS)}.")
        data = self.model_dump()
        data.update(merge_overrides(self, overrides))
        if "id" not in overrides:
            data["id"] = f"{self.id}-variant"
            data["titel"] = f"{self.titel} (aangepast)"
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            raise TrendstudieError(f"Ongeldige aanpassing van scenario {self.id}: {_explain(exc)}") from None


PARAMETERS = [name for name in Scenario.model_fields if name not in ("id", "titel", "beschrijving", "soort", "basis")]


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Command-line what-ifs: ["immigratie=1,2", "aantrekking.G4=1.1"] → {"immigratie": 1.2, "aantrekking": {"G4": 1.1}}.

    A decimal comma is accepted. Group factors are merged with the scenario's own groups when the
    overrides are applied (`Scenario.with_overrides`).
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise TrendstudieError(f"Schrijf een aanpassing als parameter=waarde (bijvoorbeeld immigratie=1,2), niet {item!r}.")
        try:
            value = float(raw.strip().replace(",", "."))
        except ValueError:
            raise TrendstudieError(f"De waarde in {item!r} is geen getal.") from None
        name, dot, group = key.partition(".")
        if name not in PARAMETERS:
            raise TrendstudieError(f"Onbekende scenarioparameter {name!r}. Kies uit: {', '.join(PARAMETERS)}.")
        if name in ("aantrekking", "vertrek"):
            if not dot or not group:
                raise TrendstudieError(f"Geef bij {name} een groep op, bijvoorbeeld {name}.G4=1,1.")
            out.setdefault(name, {})[group] = value
        elif dot:
            raise TrendstudieError(f"{name} heeft geen groepen; schrijf {name}=waarde.")
        else:
            out[name] = value
    return out


def merge_overrides(scenario: Scenario, overrides: dict[str, Any] | None) -> dict[str, Any] | None:
    """Group factors in overrides add to (or replace single groups of) the scenario's own factors."""
    if not overrides:
        return overrides
    merged = dict(overrides)
    for name in ("aantrekking", "vertrek"):
        if isinstance(merged.get(name), dict):
            merged[name] = {**getattr(scenario, name), **merged[name]}
    return merged


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _entries_with_lines(text: str, path: str) -> list[tuple[dict, int]]:
    data = parse_yaml(text, path)
    node = yaml.compose(text, Loader=yaml.SafeLoader)  # parses, since safe_load did: only for the lines
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise InputError(path, "verwacht een lijst onder de sleutel 'scenarios'", line=1)
    seq = next(v for k, v in node.value if k.value == "scenarios")
    return [(entry, item.start_mark.line + 1) for entry, item in zip(data["scenarios"], seq.value)]


def parse_scenarios(text: str, path: str = "<scenario's>", known: dict[str, Scenario] | None = None) -> dict[str, Scenario]:
    """Parse and validate a scenario file; errors name the file and line of the faulty scenario.
    `basis:` refers to a scenario of the same file (in any order) or else to a known one; a loop
    (a scenario building on itself, directly or through others) is reported with its chain."""
    out: dict[str, Scenario] = dict(known or {})
    entries: dict[str, tuple[dict, int]] = {}
    for entry, line in _entries_with_lines(text, path):
        if not isinstance(entry, dict):
            raise InputError(path, "een scenario moet een mapping zijn (id, titel, …)", line=line)
        sid = entry.get("id")
        if not isinstance(sid, str) or not sid.strip():
            raise InputError(path, "elk scenario heeft een id (tekst)", line=line)
        if sid in entries:
            raise InputError(path, f"scenario {sid!r} staat er twee keer in", line=line)
        parent = entry.get("basis")
        if parent is not None and not isinstance(parent, str):
            raise InputError(path, f"scenario {sid!r}: basis moet de id van een scenario zijn, niet {parent!r}", line=line)
        entries[sid] = (entry, line)
    done: dict[str, Scenario] = {}

    def make(sid: str, chain: list[str]) -> Scenario:
        if sid in done:
            return done[sid]
        entry, line = entries[sid]
        if sid in chain:
            loop = " → ".join(chain[chain.index(sid):] + [sid])
            raise InputError(path, f"scenario's bouwen in een kring op elkaar voort: {loop}", line=line)
        parent = entry.get("basis")
        data = dict(entry)
        if parent is not None:
            if parent in entries:
                base = make(parent, chain + [sid]).model_dump()
            elif parent in out:
                base = out[parent].model_dump()
            else:
                raise InputError(path, f"scenario {sid!r} bouwt voort op onbekend scenario {parent!r}", line=line)
            if "titel" in data and "kort" not in data:  # a new title: not the parent's short name
                base.pop("kort", None)
            base.update(data)
            data = base
        try:
            done[sid] = Scenario.model_validate(data)
        except ValidationError as exc:
            raise InputError(path, f"scenario {sid!r}: {_explain(exc)}", line=line) from None
        return done[sid]

    for sid in entries:
        make(sid, [])
    out.update(done)
    return out


def builtin_scenarios() -> dict[str, Scenario]:
    return dict(_builtin())


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Scenario]:
    text = resources.files(__package__).joinpath(BUILTIN).read_text(encoding="utf-8")
    return parse_scenarios(text, BUILTIN)


def load_scenarios(path: str | Path | None = None) -> dict[str, Scenario]:
    """The built-in scenarios plus (optionally) a user's file; a user scenario may replace a built-in one."""
    scenarios = builtin_scenarios()
    if path is None:
        return scenarios
    p = Path(path)
    if not p.exists():
        raise TrendstudieError(f"Het scenariobestand {p} bestaat niet.")
    from ..textfile import read_text

    return parse_scenarios(read_text(p), str(p), scenarios)


def get_scenario(scenario: str | Scenario, path: str | Path | None = None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    scenarios = load_scenarios(path)
    if scenario not in scenarios:
        raise TrendstudieError(f"Onbekend scenario {scenario!r}. Kies uit: {', '.join(scenarios)}.")
    return scenarios[scenario]


def group_membership(con, codes: list[str]) -> dict[str, set[str]]:
    """group_id -> set of member gemeenten (only current gemeenten in `codes`)."""
    wanted = set(codes)
    members: dict[str, set[str]] = {}
    for group, code in con.execute("SELECT group_id, region_code FROM group_members").fetchall():
        if code in wanted:
            members.setdefault(group, set()).add(code)
    return members


def _weights(factors: dict[str, float], codes: list[str], members: dict[str, set[str]], what: str) -> np.ndarray | None:
    if not factors:
        return None
    unknown = sorted(g for g in factors if g not in members)
    if unknown:
        raise TrendstudieError(f"Onbekende groep(en) in {what}: {', '.join(unknown)}. Kies uit: {', '.join(sorted(members))}.")
    w = np.ones(len(codes))
    for group, factor in factors.items():
        inside = np.array([c in members[group] for c in codes])
        w[inside] *= factor
    return w


def adjustments(scenario: Scenario, codes: list[str], members: dict[str, set[str]]) -> Adjustments:
    """Translate a scenario into the knobs of the component model."""
    return Adjustments(
        fertility=scenario.vruchtbaarheid, mortality=scenario.sterfte, immigration=scenario.immigratie,
        emigration=scenario.emigratie, mobility=scenario.verhuismobiliteit,
        attraction=_weights(scenario.aantrekking, codes, members, "aantrekking"),
        departure=_weights(scenario.vertrek, codes, members, "vertrek"),
    )
