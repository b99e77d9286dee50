"""The catalogue of tables the product fetches (`catalog.yaml`), validated with pydantic: CBS's
OData v4 tables, and two sources that are not CBS (the Regionale Klimaatmonitor and the
Leefbaarometer), which `sync` turns into the same folder layout.

The format is documented at the top of `catalog.yaml`. `load_catalog()` reads the packaged file;
`load_catalog(path)` reads another one (tests, or a user's own extension).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError, TrendstudieError
from ..textfile import load_yaml
from .odata import squash_filter

CATALOG_FILE = Path(__file__).with_name("catalog.yaml")

_TABLE_ID = re.compile(r"^[0-9A-Za-z_]+$")
_NAME = re.compile(r"^[0-9A-Za-z_.-]+$")


class Variable(BaseModel):
    """One Klimaatmonitor variable: by its code, or by its name as the service lists it."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, description="The variable's ExternalCode, e.g. 'hern_tot'.")
    title: str | None = Field(default=None, description="The variable's Name, when the code is not known.")
    unit: str = Field(description="Its unit as the product records it ('TJ', 'ton'); checked against the service.")

    @model_validator(mode="after")
    def _one_of(self) -> "Variable":
        if (self.code is None) == (self.title is None):
            raise ValueError("geef per variabele precies één van 'code' en 'title'")
        return self


KINDS = ("cbs", "klimaatmonitor", "leefbaarometer")


class CatalogTable(BaseModel):
    """One table (or one slice of a table) to fetch: from the CBS OData v4 service (kind 'cbs'),
    the Klimaatmonitor's Open Data Service or the Leefbaarometer's open-data download."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal[KINDS] = Field(default="cbs", description="Which service: 'cbs', 'klimaatmonitor', 'leefbaarometer'.")  # type: ignore[valid-type]
    url: str | None = Field(default=None, description="For the non-CBS kinds: the service root or the file to download.")
    variables: list[Variable] = Field(default_factory=list, description="Klimaatmonitor: the variables to fetch.")
    member: str | None = Field(default=None, description="Leefbaarometer: the file in the zip (a pattern, * allowed).")
    id: str = Field(description="Table id exactly as CBS spells it: '03759ned', '83625NED'.")
    catalog: str = Field(default="CBS", description="OData v4 catalogue: 'CBS', or e.g. 'Politie'.")
    title: str
    name: str = Field(default="", description="Folder name under the catalogue; defaults to id.")
    filter: str | None = Field(default=None, description="OData $filter on Observations.")
    select: list[str] | None = Field(default=None, description="OData $select on Observations.")
    offline: list[str] = Field(
        default_factory=list, description="Bundle paths (relative to the bundle) that already hold this data."
    )
    checked: bool = Field(
        default=False,
        description="True when id case, dimension names and codes were checked against real responses.",
    )
    note: str = ""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _TABLE_ID.match(v):
            raise ValueError(f"ongeldig tabel-id {v!r}: alleen letters, cijfers en _")
        return v

    @field_validator("catalog")
    @classmethod
    def _catalog_shape(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"ongeldige catalogusnaam {v!r}")
        return v

    @field_validator("filter")
    @classmethod
    def _filter_shape(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = squash_filter(v)
        if v.count("(") != v.count(")"):
            raise ValueError(f"haakjes in $filter sluiten niet: {v}")
        if v.count("'") % 2:
            raise ValueError(f"aanhalingstekens in $filter sluiten niet: {v}")
        return v or None

    @model_validator(mode="after")
    def _kind_fields(self) -> "CatalogTable":
        if self.kind == "cbs":
            if self.url or self.variables or self.member:
                raise ValueError(f"{self.id}: 'url', 'variables' en 'member' horen niet bij een CBS-tabel")
        else:
            if not self.url:
                raise ValueError(f"{self.id}: soort {self.kind!r} vraagt een 'url'")
            if self.filter or self.select:
                raise ValueError(f"{self.id}: 'filter' en 'select' gelden alleen voor CBS-tabellen")
        if self.kind == "klimaatmonitor" and not self.variables:
            raise ValueError(f"{self.id}: geef de Klimaatmonitor-variabelen onder 'variables'")
        if self.kind != "klimaatmonitor" and self.variables:
            raise ValueError(f"{self.id}: 'variables' hoort alleen bij soort 'klimaatmonitor'")
        if self.kind == "leefbaarometer" and not self.member:
            raise ValueError(f"{self.id}: geef onder 'member' welk bestand uit de zip gelezen wordt")
        return self

    @model_validator(mode="after")
    def _default_name(self) -> "CatalogTable":
        if not self.name:
            self.name = self.id
        if not _NAME.match(self.name):
            raise ValueError(f"ongeldige naam {self.name!r}")
        return self

    @property
    def covered_offline(self) -> bool:
        return bool(self.offline)


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[CatalogTable]

    @model_validator(mode="after")
    def _unique(self) -> "Catalog":
        seen: dict[tuple[str, str], str] = {}
        for t in self.tables:
            key = (t.catalog, t.name)
            if key in seen:
                raise ValueError(
                    f"naam {t.name!r} komt twee keer voor in catalogus {t.catalog}; "
                    "geef een tweede selectie van dezelfde tabel een eigen 'name'"
                )
            seen[key] = t.id
        return self

    def get(self, name_or_id: str) -> CatalogTable:
        """The entry with this name; else the single entry with this table id."""
        for t in self.tables:
            if t.name == name_or_id:
                return t
        by_id = [t for t in self.tables if t.id == name_or_id]
        if len(by_id) == 1:
            return by_id[0]
        known = ", ".join(t.name for t in self.tables)
        near = [t.name for t in self.tables if t.name.lower() == name_or_id.lower() or t.id.lower() == name_or_id.lower()]
        hint = f" Bedoelt u {near[0]!r}? Tabel-id's zijn hoofdlettergevoelig." if near else ""
        if len(by_id) > 1:
            hint = f" Tabel {name_or_id} heeft meerdere selecties: {', '.join(t.name for t in by_id)}."
        raise TrendstudieError(f"Onbekende tabel {name_or_id!r} in de catalogus.{hint} Bekend: {known}")

    def select(self, names: list[str] | None) -> list[CatalogTable]:
        if not names:
            return list(self.tables)
        return [self.get(n) for n in names]


def parse_catalog(data: Any, source: str | Path = "catalog.yaml") -> Catalog:
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(source, f"{first.get('msg')} (bij {where})") from None


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalogue file (default: the packaged `catalog.yaml`)."""
    path = Path(path) if path is not None else CATALOG_FILE
    return parse_catalog(load_yaml(path), path)
