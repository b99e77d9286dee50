"""What changed since the previous edition, on the site: the section "Nieuw sinds de vorige
editie" of the gemeente page (template `_nieuw.html`), the page with all changes of a gemeente,
Atom feeds per gemeente and for all (`/gemeente/GM0193/wijzigingen.atom`, `/wijzigingen.atom`)
and the API `/api/v1/gemeenten/{code}/wijzigingen`. The history is editions.py's; the site shows
the editions up to the store it serves (a build after the server started is shown after a restart,
like the store itself)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Literal
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import editions, formatting
from ..errors import TrendstudieError
from . import api_schema as S
from .routes_api import GM, known_parameters_only, one, respond

SECTION_LIMIT = 8  # changes shown on the gemeente page; the rest behind the link
FEED_EDITIONS = 20  # editions in a feed
ENTRY_LIMIT = 100  # changes listed in one feed entry
TAG = "tag:trendstudie,{day}:{what}"  # RFC 4151: stable ids, whatever host serves the feed


class WebEditions:
    """The editions up to the served store, loaded once; changes read when asked."""

    def __init__(self, home: FsPath, built_at: str):
        self.home = FsPath(home)
        try:
            self.editions = editions.served(self.home, built_at)
        except TrendstudieError as exc:  # a damaged history must not take the site down
            print(f"Waarschuwing: {exc}", file=sys.stderr)
            self.editions = []
        self.current = self.editions[-1] if self.editions else None
        self._latest: dict[str, list[editions.Change]] | None = None

    def latest(self, code: str) -> list[editions.Change]:
        """The changes the served edition made in this gemeente."""
        if self._latest is None:
            by_code: dict[str, list[editions.Change]] = {}
            if self.current is not None:
                for c in editions._read_changes(self.home, self.current, None):
                    by_code.setdefault(c.region_code, []).append(c)
            self._latest = {code: editions.by_importance(cs) for code, cs in by_code.items()}
        return self._latest.get(code, [])

    def since(self, code: str | None, since: int | None, limit: int | None = None) -> list[tuple[editions.Edition, list[editions.Change]]]:
        """(edition, its changes) of the editions after `since` (all when None), newest first."""
        chosen = [e for e in self.editions if since is None or e.nummer > since][::-1]
        if limit:
            chosen = chosen[:limit]
        return [(e, editions._read_changes(self.home, e, code)) for e in chosen]

    def require(self, number: int) -> editions.Edition:
        for e in self.editions:
            if e.nummer == number:
                return e
        if not self.editions:
            raise HTTPException(404, "Er zijn nog geen edities: elke build legt er een vast.")
        raise HTTPException(404, f"Editie {number} bestaat niet; er zijn edities {self.editions[0].nummer} tot en met "
                                 f"{self.editions[-1].nummer}.")


def when(iso: str) -> str:
    try:
        return formatting.day(datetime.fromisoformat(iso).date())
    except ValueError:
        return iso


def register(app) -> None:
    data = app.state.data
    app.state.editions = WebEditions(data.database.parent, data.built_at)
    app.state.env.globals["edities"] = app.state.editions
    app.state.env.globals["nieuw_limiet"] = SECTION_LIMIT
    app.state.env.globals["editie_datum"] = when
    app.include_router(api)
    app.include_router(pages)


def _web(request: Request) -> WebEditions:
    return request.app.state.editions


def _gemeente(request: Request, code: str):
    from .routes_pages import _gemeente_or_404

    return _gemeente_or_404(request.app.state.data, code)


# --- pages and feeds -----------------------------------------------------------------------------

pages = APIRouter(include_in_schema=False)  # pages and feeds: not part of the API
Code = Annotated[str, Path(pattern=GM, max_length=6)]


@pages.get("/gemeente/{code}/wijzigingen")
def gemeente_wijzigingen(request: Request, code: Code):
    g = _gemeente(request, code)
    web = _web(request)
    html = request.app.state.env.get_template("wijzigingen.html").render(
        request=request, nav="gemeente", g=g, per_editie=web.since(code, None), when=when)
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8")


@pages.get("/gemeente/{code}/wijzigingen.atom")
def gemeente_feed(request: Request, code: Code):
    g = _gemeente(request, code)
    web = _web(request)
    entries = []
    for e, changes in web.since(code, None, FEED_EDITIONS):
        if not changes:
            continue
        entries.append(_entry(
            TAG.format(day=e.gebouwd[:10], what=f"editie-{e.nummer}/{code}"),
            f"{g.name}: {_count(len(changes))} in editie {e.nummer}", e,
            f"/gemeente/{code}/wijzigingen#editie-{e.nummer}", [c.label for c in changes]))
    return _feed(request, TAG.format(day="2026-01-01", what=f"wijzigingen/{code}"),
                 f"Trendstudie {g.name}: nieuw sinds de vorige editie", f"/gemeente/{code}/wijzigingen",
                 web, entries)


@pages.get("/wijzigingen.atom")
def all_feed(request: Request):
    web = _web(request)
    names = {c: g.name for c, g in request.app.state.data.gemeenten.items()}
    entries = []
    for e, changes in web.since(None, None, FEED_EDITIONS):
        if not changes:
            continue
        per: dict[str, int] = {}
        for c in changes:
            per[c.region_code] = per.get(c.region_code, 0) + 1
        lines = [f"{names.get(code, code)} ({code}): {_count(n)}" for code, n in sorted(
            per.items(), key=lambda kv: (-kv[1], names.get(kv[0], kv[0])))]
        entries.append(_entry(TAG.format(day=e.gebouwd[:10], what=f"editie-{e.nummer}"),
                              f"Editie {e.nummer}: {_count(len(changes))} in {len(per)} gebieden", e,
                              "/", lines))
    return _feed(request, TAG.format(day="2026-01-01", what="wijzigingen"),
                 "Trendstudie: nieuw sinds de vorige editie", "/", web, entries)


def _count(n: int) -> str:
    return "één wijziging" if n == 1 else f"{n} wijzigingen"


def _entry(id_: str, title: str, e: editions.Edition, link: str, lines: list[str]) -> dict:
    shown = lines[:ENTRY_LIMIT]
    more = len(lines) - len(shown)
    html = "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in shown) + "</ul>" + (
        f"<p>En nog {more}.</p>" if more else "")
    return {"id": id_, "title": title, "updated": e.vastgelegd, "published": e.gebouwd, "link": link,
            "summary": f"{title} (gebouwd {when(e.gebouwd)}).", "html": html}


def _feed(request: Request, id_: str, title: str, alternate: str, web: WebEditions, entries: list[dict]) -> Response:
    base = str(request.base_url).rstrip("/")
    updated = web.current.vastgelegd if web.current else "2026-01-01T00:00:00+00:00"
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl">',
             f"<id>{escape(id_)}</id>", f"<title>{escape(title)}</title>", f"<updated>{escape(updated)}</updated>",
             "<author><name>trendstudie</name></author>",
             f'<link rel="self" type="application/atom+xml" href="{escape(base + request.url.path, {chr(34): "&quot;"})}"/>',
             f'<link rel="alternate" type="text/html" href="{escape(base + alternate, {chr(34): "&quot;"})}"/>',
             "<generator>trendstudie</generator>",
             "<rights>Cijfers: CBS (CC BY 4.0)</rights>"]
    for en in entries:
        parts += ["<entry>", f"<id>{escape(en['id'])}</id>", f"<title>{escape(en['title'])}</title>",
                  f"<updated>{escape(en['updated'])}</updated>", f"<published>{escape(en['published'])}</published>",
                  f'<link rel="alternate" type="text/html" href="{escape(base + en["link"], {chr(34): "&quot;"})}"/>',
                  f"<summary>{escape(en['summary'])}</summary>",
                  f'<content type="html">{escape(en["html"])}</content>', "</entry>"]
    parts.append("</feed>")
    return Response("\n".join(parts).encode("utf-8"), media_type="application/atom+xml; charset=utf-8")


# --- API -------------------------------------------------------------------------------------------

api = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(known_parameters_only)])


class Wijziging(BaseModel):
    editie: int
    region_code: str
    soort: Literal["waarde", "periode", "oordeel", "prognose"]
    onderwerp: str = Field(description="Tabel/maatstaf (waarde, periode), trend-id (oordeel) of indicator-id (prognose)")
    dims: str | None = Field(description="De uitsplitsing van de cel (dimensie=code;…), bij waarde en periode")
    period: str | None
    oud: float | str | None = Field(description="Het oude getal, of de oude sterkte bij een oordeel; leeg als nieuw")
    nieuw: float | str | None = Field(description="Het nieuwe getal, of de nieuwe sterkte; leeg als vervallen")
    oud_status: str | None
    nieuw_status: str | None
    afgeleid: bool | None = Field(description="Een cel die trendstudie berekent (som of weging van gemeenten), "
                                              "geen cel uit een bron; leeg bij oordeel en prognose")
    label: str = Field(description="De wijziging in woorden")


class Wijzigingen(BaseModel):
    gemeente: str
    naam: str
    sinds: int | None = Field(description="De wijzigingen van de edities na deze editie")
    edities: list[int]
    wijzigingen: list[Wijziging]


@api.get("/gemeenten/{code}/wijzigingen", responses=S.responses(Wijzigingen, ",".join(editions.COLUMNS)),
         summary="Wat er in deze gemeente veranderde sinds de vorige editie (of sinds een editie)",
         description="Per wijziging: `soort` (waarde, periode, oordeel, prognose), `onderwerp`, `period`, `oud` en "
                     "`nieuw` (getallen, of de sterkte van een oordeel), de status (voorlopig, definitief) en een "
                     "`label` in woorden. Zonder `sinds` de wijzigingen van de nieuwste editie.")
def api_wijzigingen(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6, examples=["GM0193"])],
                    sinds: Annotated[int | None, Query(ge=0, le=100000, description="Een editienummer")] = None,
                    format: Annotated[Literal["json", "csv"], Query(description="json (standaard) of csv")] = "json"):
    g = _gemeente(request, code)
    web = _web(request)
    if sinds:
        web.require(sinds)
    if sinds is None:
        chosen = [(web.current, web.latest(code))] if web.current else []
    else:
        chosen = web.since(code, sinds)[::-1]
    rows = [c.as_json() for _, changes in chosen for c in changes]
    if format == "csv":
        return respond(request, rows, editions.COLUMNS, format, f"wijzigingen-{code}")
    return one({"gemeente": code, "naam": g.name,
                "sinds": sinds if sinds is not None else (web.current.vorige if web.current else None),
                "edities": [e.nummer for e, _ in chosen], "wijzigingen": rows})
