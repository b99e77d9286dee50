"""What the API answers, for its OpenAPI description: the body of every 200 (JSON, and CSV where
`?format=csv` is offered), and the error body `{"fout": ..., "details": [...]}` of 404 and 422.

The routes build their JSON themselves (fast, and in a fixed column order); these models only
describe it, and tests/web/test_schemathesis.py checks that every real response conforms."""

from __future__ import annotations

from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..reader import IndicatorRow as _Register

Strength = Literal["sterk", "enigszins", "niet", "onbekend"]
Basis = Literal["cijfers", "typering", "landelijk", "eigen weging"]
# The word readers see for the middle verdict, in pages and API alike ('matig' is only the name
# of the rule's condition list inside the knowledge base).
STRENGTH_WORDS = {"matig": "enigszins"}


def strength_word(strength: str) -> str:
    return STRENGTH_WORDS.get(strength, strength)

Number = float | None


class Fout(BaseModel):
    """Every error of the API: a Dutch message, and the details (one line per invalid parameter)."""

    fout: str = Field(description="Wat er mis is, in het Nederlands")
    details: list[str] = Field(description="Eén regel per ongeldige parameter (leeg als er één fout is)")


class Region(BaseModel):
    code: str
    name: str
    kind: str
    province: str | None
    valid_from: str | None = Field(description="Datum (JJJJ-MM-DD) of leeg")
    valid_to: str | None = Field(description="Datum (JJJJ-MM-DD) of leeg")
    current: bool | None = Field(description="Alleen voor gemeenten: bestaat zij nu nog")


class Event(BaseModel):
    date: str
    kind: str
    from_code: str
    to_code: str
    inhabitants: int | None
    dwellings: int | None


class RegionDetail(Region):
    groups: list[str]
    events: list[Event]


class GroupRow(BaseModel):
    group_id: str
    title: str
    kind: str
    members: int


class Group(BaseModel):
    group_id: str
    title: str
    kind: str
    members: list[str]


def _register(*names: str, **renamed: str) -> dict[str, Any]:
    """Fields of the register's own declaration (`reader.IndicatorRow`) for a pydantic model, with
    their types; `renamed` gives a field its API name (id → indicator_id)."""
    hints = get_type_hints(_Register)
    return {renamed.get(n, n): (hints[n], ...) for n in names}


# An indicator as the API lists it, and in full: the register's fields (declared once, in the
# reader), what the store knows of its values, and an empty note as null.
IndicatorRow = create_model(
    "IndicatorRow",
    **_register("id", "title", "description", "domain", "unit", "decimals", "direction", "citation", id="indicator_id"),
    first_period=(str | None, ...), last_period=(str | None, ...), available=(bool, ...))
Indicator = create_model(
    "Indicator", __base__=IndicatorRow, note=(str | None, ...), **_register("missing", "tables"),
    periods=(list[str], ...))


class IndicatorValue(BaseModel):
    indicator_id: str
    region_code: str
    period: str
    value: Number
    status: str | None
    harmonised: bool | None = Field(description="Herberekend naar de gemeente van nu (herindeling of grenswijziging)")


class Fact(BaseModel):
    table_id: str
    measure: str
    region_code: str
    period: str
    value: Number
    status: str | None
    harmonised: bool


class Peer(BaseModel):
    group_id: str
    label: str


class ProfileRow(BaseModel):
    """One indicator's latest value; one more field per peer group (its code, e.g. G40) with the
    group's value."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": {"type": ["number", "null"]}})
    indicator_id: str
    title: str
    domain: str
    unit: str
    period: str
    value: Number
    status: str | None = Field(description="Status bij CBS: Definitief, Voorlopig, NaderVoorlopig")
    harmonised: bool = Field(description="Herberekend naar de gemeente van nu (herindeling of grenswijziging)")
    labels: list[str] = Field(default=[], description="Alleen in JSON: herberekende en voorlopige cijfers in woorden")
    rank: int | None
    of: int | None


class Profile(BaseModel):
    code: str
    name: str
    province: str | None
    peers: list[Peer]
    indicators: list[ProfileRow]


class Finding(BaseModel):
    trend: str
    title: str
    domain: str
    strength: Strength
    basis: Basis | None = Field(description="Waarop het oordeel rust; leeg bij 'onbekend'")
    reason: str
    evidence: list[str]
    counter: list[str]
    labels: list[str] = Field(description="Herberekende en voorlopige cijfers waarop het oordeel rust")
    note: str | None
    disagreement: str | None = Field(description="Cijfers en typering wijzen verschillend")
    indicators: list[str]
    opgaven: list[str]


class TrendRow(BaseModel):
    id: str
    title: str
    kind: str
    domain: str
    certainty: str | None
    horizon: str | None
    direction: str | None
    sterk: int | None = Field(description="Aantal gemeenten waar de trend sterk speelt (leeg: geen cijfers per gemeente)")
    enigszins: int | None = Field(description="Aantal gemeenten waar de trend enigszins speelt")


class Trend(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    summary: str
    terms: list[str]
    citations: list[dict[str, Any]]
    causes: list[dict[str, Any]]
    effects: list[dict[str, Any]]
    opgaven: list[dict[str, Any]]
    chain: list[dict[str, Any]]


class TrendStrength(BaseModel):
    region_code: str
    name: str
    strength: Strength
    basis: Basis | None


class Projection(BaseModel):
    indicator_id: str
    region_code: str
    period: str
    value: Number
    lower: Number
    upper: Number
    scenario: str
    method: str | None = None
    origin: str | None = None


class Info(BaseModel):
    built_at: str
    gemeenten: int
    indicators: int
    trends: int
    opgaven: int
    edges: int


ERROR_TEXT = {
    400: "Het verzoek kan niet worden uitgevoerd",
    404: "Niet gevonden (onbekende code, of geen gegevens voor deze keuze)",
    422: "Ongeldige invoer (een parameter heeft de verkeerde vorm of is onbekend)",
    401: "Wachtwoord nodig: log in op de beheerpagina",
    409: "De ronde is gesloten",
    429: "Te veel pogingen; probeer het later opnieuw",
}


def responses(model: Any = None, csv: str | None = None, errors: tuple[int, ...] = (404, 422)) -> dict:
    """The `responses` of a route: its 200 (JSON by `model`, and CSV with these columns when given)
    and its errors with the real error body."""
    out: dict = {}
    if model is not None or csv:
        ok: dict = {"description": "Gelukt"}
        if model is not None:
            ok["model"] = model
        if csv:
            ok["content"] = {"text/csv": {"schema": {"type": "string"},
                                          "example": csv + "\n"}}
            ok["description"] = f"Gelukt; met ?format=csv een CSV-bestand met de kolommen {csv}"
        out[200] = ok
    for status in errors:
        out[status] = {"model": Fout, "description": ERROR_TEXT[status]}
    return out


API_DESCRIPTION = (
    "Open data van CBS per gemeente, geharmoniseerd op de 342 gemeenten van nu, met indicatoren en de trends uit "
    "vijf trendstudies die per gemeente spelen. Lijsten ook als CSV met `?format=csv`.\n\n"
    "Foutmeldingen zijn Nederlands en hebben altijd de vorm `{\"fout\": \"...\", \"details\": [\"...\"]}`: 404 voor "
    "een onbekende code of een keuze zonder gegevens, 422 voor een ongeldige of onbekende parameter. Elke "
    "bewerking kent alleen GET (en HEAD); een andere methode geeft 405 met een `Allow`-header die de toegestane "
    "methoden noemt."
)


def with_data_bounds(schema: dict, first_year: int) -> dict:
    """The bounds that come from the data, not the code: a projection's end year `tot` starts the
    year after the last observation (the route answers 422 below it, so the description says so)."""
    for item in schema.get("paths", {}).values():
        for op in item.values():
            for p in op.get("parameters", []):
                if p.get("name") == "tot" and p.get("in") == "query":
                    p["schema"]["minimum"] = first_year
    return schema


def install(app) -> None:
    """Let the app's OpenAPI description carry the data's bounds (computed once, on first request)."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = with_data_bounds(plain(), app.state.forecasts.origin() + 1)
        return app.openapi_schema

    app.openapi = openapi
