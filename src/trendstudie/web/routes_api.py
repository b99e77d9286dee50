"""The API under /api/v1/: JSON by default, CSV with ?format=csv; every parameter validated
against a strict pattern, errors in Dutch as {"fout": ..., "details": [...]}."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints

from .. import jsonout, tables
from ..errors import TrendstudieError
from ..knowledge.chain import place
from ..knowledge.export import KennisbankExport
from ..knowledge.export import export as export_kb
from ..knowledge.model import DOMAINS, SEEDS
from . import api_schema as S
from . import prognose as _prognose


def known_parameters_only(request: Request) -> None:
    """A misspelt parameter (?regio= for ?region=) must not silently widen the answer."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in dependant.query_params}
    unknown = sorted({k for k in request.query_params.keys() if k not in known})
    if unknown:
        raise HTTPException(422, f"Onbekende queryparameter {unknown[0]!r}"
                                 + (f"; deze bewerking kent: {', '.join(sorted(known))}." if known
                                    else "; deze bewerking heeft geen parameters."))


router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(known_parameters_only)])

GM = r"^GM[0-9]{4}$"
REGION = r"^(GM[0-9]{4}|PV[0-9]{2}|CR[0-9]{2}|LD[0-9]{2}|NL01)$"
PERIOD = r"^[0-9]{4}(JJ00|KW0[1-4]|MM(0[1-9]|1[0-2]))$"
INDICATOR = r"^[a-z0-9_]{1,60}$"
GROUP = r"^[A-Za-z0-9_-]{1,40}$"
TABLE = r"^([0-9A-Za-z_]{1,40}|eigen:[a-z0-9][a-z0-9_-]{0,39})$"  # a CBS table, or an own import (eigen:NAAM)
MEASURE = r"^[0-9A-Za-z_]{1,80}$"
DIM = r"^[A-Za-z0-9_]{1,60}=[A-Za-z0-9_.\-]{1,40}$"
KB_ID = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"

Format = Annotated[Literal["json", "csv"], Query(description="json (standaard) of csv")]
Year = Annotated[int | None, Query(ge=1900, le=2100)]
Domain = Annotated[Literal[DOMAINS] | None, Query(description="Een domein als 'wonen en ruimte'")]
IndicatorId = Annotated[str, StringConstraints(pattern=INDICATOR, max_length=60)]
GroupCode = Annotated[str, StringConstraints(pattern=GROUP, max_length=40)]  # a region code or a group
RegionCode = Annotated[str, StringConstraints(pattern=REGION, max_length=6)]
DimFilter = Annotated[str, StringConstraints(pattern=DIM, max_length=101)]


def respond(request: Request, rows: list[dict], columns: list[str], fmt: str, name: str) -> Response:
    """The rows as JSON (a list of objects) or CSV with exactly `columns`."""
    table = tables.rows_of(rows, columns)
    if fmt == "csv":
        return Response(tables.to_csv(columns, table), media_type=tables.MEDIA_TYPES["csv"],
                        headers={"content-disposition": f'inline; filename="{name}.csv"'})
    return Response(tables.to_json(columns, table, compact=True), media_type="application/json")


def one(obj: dict) -> Response:
    return Response(jsonout.dumps(obj, compact=True), media_type="application/json")


def _data(request: Request):
    return request.app.state.data


def not_found(message: str) -> HTTPException:
    return HTTPException(404, message)


# --- regions and groups ---------------------------------------------------------------------

REGION_COLUMNS = ["code", "name", "kind", "province", "valid_from", "valid_to", "current"]


def _region_row(r) -> dict:
    code, name, title, kind, province, vfrom, vto, current = r
    return {"code": code, "name": name, "kind": kind, "province": province,
            "valid_from": vfrom.isoformat() if vfrom else None, "valid_to": vto.isoformat() if vto else None,
            "current": bool(current) if kind == "GM" else None}


@router.get("/regions", responses=S.responses(list[S.Region], ",".join(REGION_COLUMNS)), summary="Regio's (gemeenten, provincies, Nederland)")
def regions(request: Request, kind: Annotated[Literal["GM", "PV", "CR", "LD", "NL"] | None, Query()] = None,
            current: Annotated[bool | None, Query(description="Alleen huidige (true) of opgeheven (false) gemeenten")] = None,
            format: Format = "json"):
    d = _data(request)
    rows = [_region_row(r) for r in d.regions.values() if (kind is None or r[3] == kind) and r[3] != "OV"]
    if current is not None:
        rows = [r for r in rows if r["kind"] == "GM" and r["current"] == current]
    return respond(request, rows, REGION_COLUMNS, format, "regions")


@router.get("/regions/{code}", responses=S.responses(S.RegionDetail), summary="Eén regio met groepen en herindelingen")
def region(request: Request, code: Annotated[str, Path(pattern=REGION, max_length=6, examples=["GM0193"])]):
    d = _data(request)
    if code not in d.regions:
        raise not_found(f"Onbekende regiocode {code}.")
    row = _region_row(d.regions[code])
    row["groups"] = sorted(d.ctx.member_of.get(code, set()))
    if row["kind"] == "GM" and not row["current"]:  # where a former gemeente went (geo/resolve.py decides)
        r = d.reader.resolution(code)
        row["successor"] = r.code
        row["successors"] = [{"code": s.code, "name": s.name, "share": round(s.share, 4)} for s in r.successors]
        row["note"] = r.history
    events = sorted(d.reader.events_of(code), key=lambda e: (e.date, e.from_code))
    row["events"] = [{"date": e.date.isoformat(), "kind": e.kind, "from_code": e.from_code, "to_code": e.to_code,
                      "inhabitants": e.inhabitants, "dwellings": e.dwellings} for e in events]
    return one(row)


@router.get("/groups", responses=S.responses(list[S.GroupRow], "group_id,title,kind,members", (422,)), summary="Vergelijkingsgroepen (G4, G40, M50, provincies, grootteklassen)")
def groups(request: Request, format: Format = "json"):
    d = _data(request)
    rows = [{"group_id": g, "title": d.group_titles[g], "kind": d.group_kinds[g], "members": len(d.group_members.get(g, []))}
            for g in d.group_titles]
    return respond(request, rows, ["group_id", "title", "kind", "members"], format, "groups")


@router.get("/groups/{group_id}", responses=S.responses(S.Group), summary="Eén groep met haar leden")
def group(request: Request, group_id: Annotated[str, Path(pattern=GROUP, max_length=40, examples=["G40"])]):
    d = _data(request)
    if group_id not in d.group_titles:
        raise not_found(f"Onbekende groep {group_id}; kies uit: {', '.join(sorted(d.group_titles))}.")
    return one({"group_id": group_id, "title": d.group_titles[group_id], "kind": d.group_kinds[group_id],
                "members": d.group_members.get(group_id, [])})


# --- indicators ----------------------------------------------------------------------------

INDICATOR_COLUMNS = list(S.IndicatorRow.model_fields)  # the register's fields, then what the store knows


def _indicator_row(d, m) -> dict:
    ps = d.periods.get(m.id, [])
    return {"indicator_id": m.id, "title": m.title, "description": m.description, "domain": m.domain, "unit": m.unit,
            "decimals": m.decimals, "direction": m.direction, "citation": m.citation, "note": m.note or None,
            "first_period": ps[0] if ps else None, "last_period": ps[-1] if ps else None,
            "available": not m.missing, "missing": m.missing or None, "tables": list(m.tables)}


@router.get("/indicators", responses=S.responses(list[S.IndicatorRow], ",".join(INDICATOR_COLUMNS), (422,)), summary="Het register van indicatoren")
def indicators(request: Request, domain: Domain = None, format: Format = "json"):
    d = _data(request)
    rows = [_indicator_row(d, m) for m in d.indicators.values() if domain is None or m.domain == domain]
    return respond(request, rows, INDICATOR_COLUMNS, format, "indicators")


@router.get("/indicators/{indicator_id}", responses=S.responses(S.Indicator), summary="Eén indicator met definitie en bron")
def indicator(request: Request, indicator_id: Annotated[str, Path(pattern=INDICATOR, max_length=60, examples=["bevolking"])]):
    d = _data(request)
    if indicator_id not in d.indicators:
        raise not_found(f"Onbekende indicator {indicator_id}; zie /api/v1/indicators.")
    row = _indicator_row(d, d.indicators[indicator_id])
    row["periods"] = d.periods.get(indicator_id, [])
    return one(row)


VALUE_COLUMNS = ["indicator_id", "region_code", "period", "value", "status", "harmonised"]


@router.get("/indicator-values", responses=S.responses(list[S.IndicatorValue], ",".join(VALUE_COLUMNS)),
            summary="Indicatorwaarden (lange vorm: indicator_id, region_code, period, value, status, "
                    "harmonised) zoals `trendstudie export`",
            description="`status` is de status bij CBS (Definitief, Voorlopig, NaderVoorlopig); `harmonised` zegt dat "
                        "de waarde voor de gemeente van nu is herberekend uit de gemeenten waaruit zij bij een "
                        "herindeling ontstond, of omgerekend naar de grenzen van nu.")
def indicator_values(
    request: Request,
    indicator: Annotated[list[IndicatorId] | None, Query(max_length=60, description="Indicator-id; herhaalbaar")] = None,
    region: Annotated[list[GroupCode] | None, Query(max_length=400, description="Regio- of groepscode; herhaalbaar")] = None,
    group: Annotated[str | None, Query(pattern=GROUP, max_length=40, description="Alle leden van een groep")] = None,
    period: Annotated[str | None, Query(pattern=PERIOD, max_length=8)] = None,
    from_: Annotated[int | None, Query(alias="from", ge=1900, le=2100)] = None,
    to: Year = None,
    format: Format = "json",
):
    import re

    d = _data(request)
    for i in indicator or []:
        if not re.fullmatch(INDICATOR, i):
            raise HTTPException(422, f"Ongeldige indicator {i[:60]!r}: verwacht kleine letters, cijfers en _.")
        if i not in d.indicators:
            raise not_found(f"Onbekende indicator {i}; zie /api/v1/indicators.")
    codes = []
    for r in region or []:
        if not (re.fullmatch(REGION, r) or re.fullmatch(GROUP, r)):
            raise HTTPException(422, f"Ongeldige regio {r[:40]!r}: verwacht een code als GM0193, PV23, NL01 of een groep als G40.")
        if r not in d.regions and r not in d.group_titles:
            raise not_found(f"Onbekende regio of groep {r}.")
        codes.append(r)
    if group is not None:
        if group not in d.group_titles:
            raise not_found(f"Onbekende groep {group}; kies uit: {', '.join(sorted(d.group_titles))}.")
        codes += d.group_members.get(group, [])
    if from_ is not None and to is not None and from_ > to:
        raise not_found(f"Geen waarden: 'from' ({from_}) ligt na 'to' ({to}).")
    inds = indicator or list(d.indicators)
    regions_ = codes or list(d.gemeenten)
    rows = [dict(zip(VALUE_COLUMNS, r)) for r in d.reader.indicator_values(inds, regions_, period, from_, to)]
    return respond(request, rows, VALUE_COLUMNS, format, "indicator-values")


FACT_COLUMNS = ["table_id", "measure", "region_code", "period", "value", "status", "harmonised"]


@router.get("/facts", responses=S.responses(list[S.Fact], ",".join(FACT_COLUMNS)), summary="Een reeks uit een CBS-tabel, geharmoniseerd op de gemeenten van nu (zoals `trendstudie facts`)")
def facts(
    request: Request,
    table: Annotated[str, Query(pattern=TABLE, max_length=46, description="CBS-tabel, bijv. 03759ned, of eigen:NAAM",
                                examples=["03759ned"])],
    measure: Annotated[str, Query(pattern=MEASURE, max_length=80, description="Maatstaf, bijv. M000352",
                                  examples=["M000352"])],
    region: Annotated[list[RegionCode] | None, Query(max_length=400, description="Regiocode; herhaalbaar")] = None,
    from_: Annotated[int | None, Query(alias="from", ge=1900, le=2100)] = None,
    to: Year = None,
    dim: Annotated[list[DimFilter] | None, Query(max_length=10, description="Dimensiefilter Dimensie=code; herhaalbaar")] = None,
    as_published: Annotated[bool, Query(description="Zoals gepubliceerd, niet geharmoniseerd")] = False,
    format: Format = "json",
):
    import re

    d = _data(request)
    if (table, measure) not in d.measure_keys:
        tables = {t for t, _ in d.measure_keys}
        if table not in tables:
            raise not_found(f"Onbekende tabel {table}; beschikbaar: {', '.join(sorted(tables))}.")
        raise not_found(f"Tabel {table} heeft geen maatstaf {measure}.")
    codes = []
    for r in region or []:
        if not re.fullmatch(REGION, r):
            raise HTTPException(422, f"Ongeldige regio {r[:40]!r}: verwacht een code als GM0193, PV23 of NL01.")
        if r not in d.regions:
            raise not_found(f"Onbekende regiocode {r}.")
        if not as_published and r.startswith("GM") and not d.regions[r][7]:
            raise not_found(f"{r} bestaat niet meer; geharmoniseerde reeksen staan op de huidige gemeenten. "
                            "Gebruik as_published=true voor de cijfers zoals gepubliceerd.")
        codes.append(r)
    for item in dim or []:
        if not re.fullmatch(DIM, item):
            raise HTTPException(422, f"Ongeldig dimensiefilter {item[:60]!r}: verwacht Dimensie=code, bijv. SoortMisdrijf=1.1.1.")
    if from_ is not None and to is not None and from_ > to:
        raise not_found(f"Geen waarden: 'from' ({from_}) ligt na 'to' ({to}).")
    try:
        rows = d.reader.series(table, measure, codes, from_, to, dim or [], as_published)
    except TrendstudieError as exc:  # no series for this choice (or more than one: choose a dimension)
        raise not_found(str(exc).replace("--dim ", "dim=").replace("--from", "from").replace("--to", "to")) from None
    return respond(request, rows, FACT_COLUMNS, format, f"facts-{table}-{measure}")


# --- gemeenten: profile and findings ----------------------------------------------------------

def _gemeente(d, code: str):
    if code not in d.gemeenten:
        if code in d.regions:
            raise not_found(f"{code} ({d.regions[code][1]}) is geen huidige gemeente.")
        raise not_found(f"Onbekende gemeentecode {code}.")
    return d.gemeenten[code]


PROFILE_COLUMNS = ["indicator_id", "title", "domain", "unit", "period", "value", "status", "harmonised", "rank", "of"]


@router.get("/gemeenten/{code}/profile", responses=S.responses(S.Profile, ",".join(PROFILE_COLUMNS) + ",<een kolom per vergelijkingsgroep>"), summary="Profiel: laatste waarde per indicator met vergelijkingsgroepen")
def profile(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6, examples=["GM0193"])], format: Format = "json"):
    d = _data(request)
    g = _gemeente(d, code)
    rows = []
    peers = d.peers(code)
    for domain, items in d.profile(code).items():
        for r in items:
            row = {"indicator_id": r.indicator.id, "title": r.indicator.title, "domain": domain,
                   "unit": r.indicator.unit, "period": r.period, "value": r.value,
                   "status": d.flags.status_of(r.indicator.id, code, r.period),
                   "harmonised": d.flags.is_reconstructed(r.indicator.id, code, r.period), "rank": r.rank, "of": r.of}
            if format == "json":
                row["labels"] = d.flags.labels([r.indicator.id], code, g.name, {int(r.period[:4])})
            for gid, _, v in r.peers:
                row[gid] = v
            rows.append(row)
    columns = PROFILE_COLUMNS + [gid for gid, _ in peers]
    if format == "csv":
        return respond(request, rows, columns, format, f"profiel-{code}")
    return one({"code": code, "name": g.name, "province": g.province, "peers": [{"group_id": a, "label": b} for a, b in peers],
                "indicators": rows})


FINDING_COLUMNS = ["trend", "title", "domain", "strength", "basis", "reason", "evidence", "counter", "labels",
                   "note", "disagreement"]


@router.get("/gemeenten/{code}/findings", responses=S.responses(list[S.Finding], ",".join(FINDING_COLUMNS)),
            summary="Elke trend en drijvende kracht in deze gemeente: hoe sterk, op welke basis, met onderbouwing",
            description="Per trend en drijvende kracht: `strength` en `basis` (cijfers, typering, landelijk), "
                        "`reason`, `evidence` (wat ervoor spreekt), `counter` (wat ertegen spreekt), "
                        "`note` (een kanttekening, zoals een oordeel dat alleen op cijfers van meer dan vijf jaar "
                        "voor de nieuwste rust), `labels` (herberekende en voorlopige cijfers waarop het oordeel "
                        "rust) en `disagreement` (cijfers en typering wijzen verschillend). In CSV staan de zinnen "
                        "van een kolom achter elkaar.")
def findings(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6, examples=["GM0193"])],
             strength: Annotated[Literal["sterk", "enigszins", "niet", "onbekend"] | None, Query()] = None,
             basis: Annotated[Literal["cijfers", "typering", "landelijk"] | None, Query()] = None,
             format: Format = "json"):
    """The same verdicts as `trendstudie trends` and the report: strength (sterk, enigszins, niet,
    onbekend) and basis (cijfers, typering, landelijk), with the evidence for and against, the
    labels of reconstructed or provisional figures and a note on old figures."""
    d = _data(request)
    _gemeente(d, code)  # a code that is no current gemeente: 404
    rows = []
    for v in d.verdicts[code]:
        if (strength and v.strength != strength) or (basis and v.basis != basis):
            continue
        t = d.kb.trends[v.trend]
        many = (lambda xs: xs) if format == "json" else (lambda xs: " ".join(xs))
        rows.append({"trend": v.trend, "title": t.title, "domain": t.domain, "strength": v.strength,
                     "basis": v.basis, "reason": v.reason, "evidence": many(v.evidence), "counter": many(v.counter),
                     "labels": many(v.labels), "note": v.note, "disagreement": v.disagreement,
                     "indicators": v.finding.indicators if v.finding and v.basis == "cijfers" else [],
                     "opgaven": [o.id for o in d.opgaven_for(v.trend)]})
    cols = FINDING_COLUMNS + (["indicators", "opgaven"] if format == "json" else [])
    return respond(request, rows, cols, format, f"trends-{code}")


# --- knowledge base ---------------------------------------------------------------------------

TREND_COLUMNS = ["id", "title", "kind", "domain", "certainty", "horizon", "direction", "sterk", "enigszins"]


@router.get("/trends", responses=S.responses(list[S.TrendRow], ",".join(TREND_COLUMNS), (422,)), summary="Trends uit de kennisbank, met het aantal gemeenten waar ze sterk of enigszins spelen")
def trends(request: Request, domain: Domain = None, format: Format = "json"):
    d = _data(request)
    rows = []
    for t in d.kb.trends.values():
        if domain and t.domain != domain:
            continue
        c = d.trend_counts(t.id)
        rows.append({"id": t.id, "title": t.title, "kind": t.kind, "domain": t.domain, "certainty": t.certainty,
                     "horizon": t.horizon, "direction": t.direction,
                     "sterk": c["sterk"] if t.id in d.strength else None,
                     "enigszins": c["enigszins"] if t.id in d.strength else None})
    return respond(request, rows, TREND_COLUMNS, format, "trends")


@router.get("/trends/{trend_id}", responses=S.responses(S.Trend), summary="Eén item uit de kennisbank met bronnen, oorzaken, gevolgen en opgaven")
def trend(request: Request, trend_id: Annotated[str, Path(pattern=KB_ID, max_length=80, examples=["vergrijzing"])]):
    d = _data(request)
    try:
        e = d.kb.entry(trend_id)
    except KeyError:
        raise not_found(f"Onbekend id {trend_id} in de kennisbank.") from None
    out = {"id": trend_id, "title": e.title, "summary": e.summary, "terms": list(e.terms)}
    for attr in ("kind", "domain", "certainty", "horizon", "direction"):
        if hasattr(e, attr):
            out[attr] = getattr(e, attr)
    out["citations"] = [{"study": SEEDS[c.seed][1], "year": c.year, "section": c.section, "lines": list(c.lines),
                         "seed": c.seed} for c in d.kb.citations_of(trend_id)]
    out["causes"] = [{"id": s.edge.source, "title": d.kb.entry(s.edge.source).title, "polarity": s.edge.polarity,
                      "mechanism": s.edge.mechanism} for s in d.graph.causes(trend_id)]
    out["effects"] = [{"id": s.edge.target, "title": d.kb.entry(s.edge.target).title, "polarity": s.edge.polarity,
                       "mechanism": s.edge.mechanism} for s in d.graph.effects(trend_id)]
    out["opgaven"] = [{"id": o.id, "title": o.title} for o in d.kb.opgaven.values() if trend_id in o.answers]
    out["chain"] = [{"label": st.label, "items": [{"id": i.id, "title": i.title, "note": i.note} for i in st.items]}
                    for st in place(d.kb, trend_id)]
    if trend_id in d.strength:
        out["gemeenten"] = dict(d.trend_counts(trend_id))
    return one(out)


STRENGTH_COLUMNS = ["region_code", "name", "strength", "basis"]


@router.get("/trends/{trend_id}/gemeenten", responses=S.responses(list[S.TrendStrength], ",".join(STRENGTH_COLUMNS)), summary="Hoe sterk een trend in elke gemeente speelt")
def trend_gemeenten(request: Request, trend_id: Annotated[str, Path(pattern=KB_ID, max_length=80, examples=["vergrijzing"])],
                    format: Format = "json"):
    d = _data(request)
    if trend_id not in d.kb.trends:
        raise not_found(f"Onbekende trend {trend_id}.")
    if trend_id not in d.strength:
        raise not_found(f"Voor de trend {trend_id} bestaan geen cijfers per gemeente; hij geldt in algemene zin.")
    rows = [{"region_code": c, "name": d.gemeenten[c].name, "strength": s, "basis": d.basis[trend_id][c]}
            for c, s in sorted(d.strength[trend_id].items())]
    return respond(request, rows, STRENGTH_COLUMNS, format, f"trend-{trend_id}")


@router.get("/kennisbank", response_model=KennisbankExport, responses=S.responses(errors=(422,)),
            summary="De hele kennisbank met een vast schema (zoals `trendstudie kennisbank`)",
            description="Trends, drijvende krachten, opgaven met actoren, HCSS-scenario's, -uitdagingen en "
                        "-afwegingen, agendapunten, verbanden met de uitleg van elke studie, typeringen en "
                        "bronnen. Het schema staat in docs/kennisbank.md; ids blijven stabiel.")
def kennisbank(request: Request):
    return one(_kb_export(request.app))


def _kb_export(app) -> dict:
    cached = getattr(app.state, "kennisbank_export", None)
    if cached is None:
        cached = app.state.kennisbank_export = export_kb(app.state.data.kb).model_dump(mode="json")
    return cached


# --- projections ------------------------------------------------------------------------------

PROGNOSE_CODE = r"^(GM[0-9]{4}|PV[0-9]{2}|NL01|[A-Z][A-Z0-9]{0,9})$"


@router.get("/prognose/{gebied}", responses=S.responses(list[S.Projection], ",".join(_prognose.COLUMNS)),
            summary="Prognose per scenario: bevolking, leeftijd, huishoudens, woningbehoefte (zoals `trendstudie prognose`)",
            description="Voor een gemeente (GM0193) of een groep (NL01, PV23, G4, G40, M50, GK5): elke geprognosticeerde "
                        "indicator per jaar tot en met `tot` (1 januari; geboorte, sterfte en migratie per kalenderjaar) "
                        "met de grenzen van een 90%-interval (`lower`, `upper`; leeg waar geen eerlijke marge bestaat). "
                        "CSV heeft de kolommen `indicator_id,region_code,period,value,lower,upper,scenario`; JSON ook "
                        "`method` en `origin`.")
def prognose(request: Request, gebied: Annotated[str, Path(pattern=PROGNOSE_CODE, max_length=10, examples=["GM0193"])],
             scenario: Annotated[Literal[_prognose.SCENARIO_IDS], Query(
                 description="basis, hoog, laag, metropolisering, spreiding of de-urbanisatie")] = "basis",
             tot: Annotated[int, Query(ge=1900, le=_prognose.MAX_UNTIL, description=(
                 f"Eindjaar (1 januari), na het laatste waargenomen jaar en uiterlijk {_prognose.MAX_UNTIL}"))]
             = _prognose.DEFAULT_UNTIL,
             format: Format = "json"):
    d = _data(request)
    code = gebied
    if code not in d.gemeenten and code not in d.group_titles:
        if code.startswith("GM") and code in d.regions:
            raise not_found(f"{code} ({d.regions[code][1]}) is geen huidige gemeente; prognoses zijn er voor de "
                            "gemeenten van nu.")
        raise not_found(f"Onbekende gemeente of groep {code}; kies een code als GM0193, PV23, G40 of NL01.")
    f = request.app.state.forecasts
    _prognose.check_until(f, tot)
    try:
        rows = f.rows(code, scenario, tot)
    except TrendstudieError as exc:
        raise not_found(str(exc)) from None
    columns = _prognose.COLUMNS if format == "csv" else _prognose.JSON_COLUMNS
    return respond(request, [{c: getattr(r, c) for c in columns} for r in rows], columns, format,
                   f"prognose-{code}-{scenario}-{tot}")


@router.get("/info", responses=S.responses(S.Info, errors=(422,)), summary="Over de database: bouwdatum en aantallen")
def info(request: Request):
    d = _data(request)
    return one({"built_at": d.built_at, "gemeenten": len(d.gemeenten), "indicators": len(d.indicators),
                "trends": len(d.kb.trends), "opgaven": len(d.kb.opgaven), "edges": len(d.kb.edges)})
