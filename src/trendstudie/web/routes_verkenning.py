"""Web pages and API of the verkenning (foresight workbench).

Facilitator: /verkenning/nieuw, /verkenning/beheer/{token} (items, invitations, rounds, export,
delete) and …/resultaten. Participant: /deelname/{token}, a plain HTML form that works without
JavaScript; /static/verkenning.js only adds autosave. API: /api/v1/deelname/{token} (GET, PUT)
and /api/v1/verkenning/{token}/resultaten.

Every token that does not open this page — unknown, of another verkenning, or a participant's
token on a facilitator's page and the reverse — gets the same 404. Failed token lookups and
password attempts are rate-limited per client address.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Literal
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Body, FastAPI, Request
import anyio
import anyio.to_thread
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from .. import jsonout
from ..errors import TrendstudieError
from ..verkenning import security, service
from ..verkenning.aggregate import ItemInfo, aggregate
from ..verkenning.db import Database, open_database
from ..verkenning.service import HORIZONS, NotFound

from . import api_schema as S  # noqa: E402


def _json_response(obj, status_code: int = 200, headers: dict | None = None) -> Response:
    """JSON through trendstudie.jsonout: never NaN or Infinity."""
    return Response(jsonout.dumps(obj, compact=True), status_code=status_code, headers=headers,
                    media_type="application/json")


router = APIRouter()
HOT = {("/api/v1/deelname/{token}", frozenset({"PUT"})), ("/deelname/{token}", frozenset({"POST"}))}
TOKEN_FAILURES = 30  # failed token lookups per client address per window
PASSWORD_FAILURES = 5  # wrong passwords per verkenning and address per window
WINDOW = 15 * 60
GROUP_MIN = 3  # the group's median is shown from this many answers on
NOT_FOUND = "Deze link bestaat niet (meer). Controleer de link die u kreeg."


WORKERS_ENV = "TRENDSTUDIE_WEB_WORKERS"  # set by `serve` for its worker processes


def worker_share():
    """The rate limits are kept in each worker process's memory, and the kernel spreads one
    address's connections over the workers (web/workers.py): with N workers each allows 1/N of a
    limit (rounded up), so that together they allow the limit, not N times it."""
    import math
    import os

    try:
        n = max(1, int(os.environ.get(WORKERS_ENV, "1")))
    except ValueError:
        n = 1
    return lambda limit: max(1, math.ceil(limit / n))


class State:
    def __init__(self, app: FastAPI, db: Database):
        self.app = app
        self.db = db
        self.secret = service.secret(db)
        share = worker_share()
        self.tokens = security.RateLimiter(share(TOKEN_FAILURES), WINDOW)
        self.passwords = security.RateLimiter(share(PASSWORD_FAILURES), WINDOW)
        self._localiser = None
        self._lock = threading.Lock()
        self._writers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    def writers(self) -> anyio.CapacityLimiter:
        """How many threads of this process write answers at once (per event loop): SQLite takes one
        writer at a time, so more threads would only queue inside the database and fight for the
        interpreter; waiting requests wait in the event loop instead, at no cost."""
        import asyncio

        loop = asyncio.get_running_loop()
        limiter = self._writers.get(loop)
        if limiter is None:
            limiter = self._writers[loop] = anyio.CapacityLimiter(1 if self.db.sqlite else 8)
        return limiter

    def localiser(self):
        d = self.app.state.data
        with self._lock:
            if self._localiser is None:
                self._localiser = d.reader.localiser  # the Reader's, shared with the pages
            return self._localiser


def register(app: FastAPI, database: Path) -> None:
    """Open the verkenning database (TRENDSTUDIE_DATABASE_URL, else beside the store) and add the routes."""
    db = open_database(home=Path(database).parent)
    app.state.verkenning = State(app, db)
    # A router tries its routes in order (twice per request: the app's router and this one): the
    # participants' answers come first, as many arrive at once (see benchmarks/verkenning.py)
    router.routes.sort(key=lambda r: (getattr(r, "path", ""), frozenset(getattr(r, "methods", None) or ())) not in HOT)
    app.include_router(router)


def _st(request: Request) -> State:
    return request.app.state.verkenning


def _client(request: Request) -> str:
    return request.client.host if request.client else "onbekend"


class TooMany(Exception):
    pass


class NeedsLogin(Exception):
    """The verkenning has a password and this browser has not logged in."""

    def __init__(self, token: str, v, message: str | None = None):
        self.token, self.v, self.message = token, v, message


def _lookup(request: Request, find):
    """Run a token lookup under the rate limit; a miss counts as a failure for this address."""
    st = _st(request)
    key = _client(request)
    if st.tokens.blocked(key):
        raise TooMany()
    try:
        return find()
    except NotFound:
        st.tokens.fail(key)
        raise


def _error(request: Request, status: int, message: str, details: list[str] | None = None) -> Response:
    return request.app.state.error(request, status, message, details)


def _guarded(request: Request, exc: Exception) -> Response:
    """The answer to a verkenning's error (re-raises any other exception). On /api/ paths the app
    answers errors as JSON {"fout", "details"}."""
    if isinstance(exc, NotFound):
        return _error(request, 404, NOT_FOUND)  # always the same, whatever the token was
    if isinstance(exc, TooMany):
        r = _error(request, 429, "Te veel mislukte pogingen vanaf dit adres. Probeer het over een kwartier opnieuw.")
        r.headers["retry-after"] = str(WINDOW)
        return r
    if isinstance(exc, NeedsLogin):
        if request.url.path.startswith("/api/"):
            return _error(request, 401, "Deze verkenning heeft een wachtwoord: log in op de beheerpagina.")
        return _login_page(request, exc.token, exc.v, exc.message)
    if isinstance(exc, Forbidden):
        return _error(request, 403, str(exc))
    if isinstance(exc, TooLarge):
        return _error(request, 413, str(exc))
    if isinstance(exc, Unprocessable):
        return _error(request, 422, str(exc))
    if isinstance(exc, service.InvalidSubmission):
        return _error(request, 422, str(exc), exc.details)
    if isinstance(exc, service.RoundClosed):
        return _error(request, 409, str(exc))
    if isinstance(exc, TrendstudieError):
        return _error(request, 400, str(exc))
    raise exc


def _guard(fn):
    """A route whose verkenning errors become pages (or JSON on /api/): see _guarded."""
    import functools

    @functools.wraps(fn)
    def wrapper(request: Request, *args, **kwargs):
        try:
            return fn(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - _guarded re-raises what it does not answer
            return _guarded(request, exc)

    return wrapper


async def _posted(request: Request, work, *args, csrf: bool = True, limiter=None) -> Response:
    """A POST: read the form (and check its CSRF field) here, then do `work(request, form, *args)`
    in a worker thread, so that the database and argon2 never hold up the event loop; the
    verkenning's errors become pages."""
    try:
        form = await read_form(request)
        if csrf:
            _check_csrf(request, form)
    except (TooLarge, Forbidden) as exc:
        return _guarded(request, exc)
    return await anyio.to_thread.run_sync(_guard(work), request, form, *args, limiter=limiter)


# --- CSRF ---------------------------------------------------------------------------------------

def _csrf(request: Request) -> tuple[str, str | None]:
    """(hidden field value, new cookie value or None when the browser already has one)."""
    st = _st(request)
    cookie = request.cookies.get(security.CSRF_COOKIE)
    new = None
    if not cookie or len(cookie) > 100:
        cookie = new = security.new_csrf_cookie()
    return security.csrf_field(st.secret, cookie), new


def _set_csrf(response: Response, new: str | None, request: Request) -> Response:
    if new:
        response.set_cookie(security.CSRF_COOKIE, new, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
    return response


def _check_csrf(request: Request, form) -> None:
    st = _st(request)
    if not security.csrf_ok(st.secret, request.cookies.get(security.CSRF_COOKIE), form.get("csrf")):
        raise Forbidden()


class Forbidden(TrendstudieError):
    def __init__(self):
        super().__init__("Het formulier is verlopen of komt niet van deze site (beveiligingscode klopt niet). "
                         "Laad de pagina opnieuw en probeer het nog eens.")


def _page(request: Request, template: str, status: int = 200, **ctx) -> Response:
    field, new = _csrf(request)
    env = request.app.state.env
    html = env.get_template(template).render(request=request, csrf=field, nav="verkenning", horizons=HORIZONS, **ctx)
    return _set_csrf(HTMLResponse(html, status_code=status), new, request)


MAX_FORM = 2 * 1024 * 1024


class Form:
    """A URL-encoded form body (the only kind these pages send): get() and getlist()."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def get(self, key: str, default=None):
        for k, v in self.pairs:
            if k == key:
                return v
        return default

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]


class TooLarge(TrendstudieError):
    pass


async def read_form(request: Request) -> Form:
    from urllib.parse import parse_qsl

    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise TooLarge("Het formulier is te groot (hoogstens 2 MB).")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and ctype not in ("application/x-www-form-urlencoded", ""):
        raise TooLarge("Verwacht een formulier (application/x-www-form-urlencoded).")
    try:
        return Form(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20_000))
    except (UnicodeDecodeError, ValueError):
        raise TooLarge("Het formulier kon niet worden gelezen.") from None


def _download(body, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


def _log_in(response: Response, request: Request, facilitator_hash: str) -> Response:
    """The login cookie of a verkenning with a password (for this browser session)."""
    response.set_cookie(security.LOGIN_COOKIE, security.login_value(_st(request).secret, facilitator_hash),
                        httponly=True, samesite="strict", path="/verkenning/", secure=request.url.scheme == "https")
    return response


# --- facilitator ----------------------------------------------------------------------------------

@router.get("/verkenning/nieuw", response_class=HTMLResponse, include_in_schema=False)
def new_page(request: Request):
    return _page(request, "verkenning_nieuw.html", fout=None, waarden={})


@router.post("/verkenning/nieuw", include_in_schema=False)
async def new_create(request: Request):
    return await _posted(request, _create)


def _create(request: Request, form: Form) -> Response:
    st = _st(request)
    gemeente, titel, password = (form.get("gemeente") or "").strip(), (form.get("titel") or "").strip(), \
        form.get("wachtwoord") or ""
    try:
        if not gemeente:
            raise TrendstudieError("Geef een gemeente (naam of code) of een groep zoals G40.")
        from ..verkenning.setup import items_for, resolve

        d = request.app.state.data
        code, name = resolve(d.reader.con, gemeente)  # the Reader gives each thread its own cursor
        items = items_for(d.reader.con, code, name, st.localiser())
        made = service.create(st.db, code, name, titel, items, password or None)
    except TrendstudieError as exc:
        return _page(request, "verkenning_nieuw.html", status=400, fout=str(exc),
                     waarden={"gemeente": gemeente, "titel": titel})
    r = RedirectResponse(f"/verkenning/beheer/{made.facilitator_token}?nieuw=1", status_code=303)
    return _log_in(r, request, service.token_hash(made.facilitator_token)) if password else r


def _facilitator(request: Request, token: str, s, message: str | None = None):
    """The verkenning of this facilitator token; NotFound, or NeedsLogin when it has a password
    and this browser has not logged in."""
    v = _lookup(request, lambda: service.by_facilitator(s, token))
    if v.password_hash and not security.login_ok(_st(request).secret, v.facilitator_hash,
                                                 request.cookies.get(security.LOGIN_COOKIE)):
        raise NeedsLogin(token, v, message)
    return v


def _login_page(request: Request, token: str, v, fout: str | None = None, status: int = 401) -> Response:
    return _page(request, "verkenning_inloggen.html", status=status, token=token, v=v, fout=fout)


@router.get("/verkenning/beheer/{token}", response_class=HTMLResponse, include_in_schema=False)
@_guard
def manage(request: Request, token: str):
    st = _st(request)
    with st.db.read() as s:
        v = _facilitator(request, token, s)
        items, answers, invited = service.snapshot(s, v)
        infos = [ItemInfo(i.id, i.titel, i.domein, i.trend) for i in items if i.actief]
        res = aggregate(infos, answers, invited, v.ronde)
        return _page(request, "verkenning_beheer.html", v=v, token=token, items=items, rondes=res.rounds,
                     nieuw=request.query_params.get("nieuw") == "1",
                     melding=request.query_params.get("melding"), domeinen=_domains())


def _domains():
    from ..indicators.registry import DOMAINS

    return DOMAINS


def _facilitator_action(path: str):
    """Register `act(request, token, form, verkenning id)` as the facilitator's POST to
    /verkenning/beheer/{token}{path}: form and CSRF field read in the event loop, then token,
    login and `act` in a worker thread, with the verkenning's errors as pages."""
    def register(act):
        async def route(request: Request, token: str) -> Response:
            def work(request: Request, form: Form) -> Response:
                with _st(request).db.read() as s:
                    vid = _facilitator(request, token, s, "Log eerst in.").id
                return act(request, token, form, vid)

            return await _posted(request, work)

        route.__name__ = route.__qualname__ = act.__name__
        router.post("/verkenning/beheer/{token}" + path, include_in_schema=False)(route)
        return act

    return register


def _whole_number(form: Form, key: str, what: str) -> int:
    try:
        return int(form.get(key, "") or 0)
    except ValueError:
        raise Unprocessable(f"{what} moet een geheel getal zijn.") from None


class Unprocessable(TrendstudieError):
    """A form value that cannot be used (422)."""


def _back(token: str, melding: str, to: str = "") -> RedirectResponse:
    return RedirectResponse(f"/verkenning/beheer/{token}{to}?melding={quote(melding)}", status_code=303)


@_facilitator_action("/ronde")
def round_action(request: Request, token: str, form: Form, vid: int) -> Response:
    number, is_open = service.set_round(_st(request).db, vid, form.get("actie", ""))
    return _back(token, f"Ronde {number} is nu {'open' if is_open else 'gesloten'}.")


@_facilitator_action("/uitnodigen")
def invite(request: Request, token: str, form: Form, vid: int) -> Response:
    aantal = _whole_number(form, "aantal", "Het aantal uitnodigingen")
    try:
        tokens = service.invite(_st(request).db, vid, aantal)
    except TrendstudieError as exc:
        raise Unprocessable(str(exc)) from None
    base = str(request.base_url).rstrip("/")
    lines = ["nummer,link"] + [f"{i + 1},{base}/deelname/{t}" for i, t in enumerate(tokens)]
    return _download("\n".join(lines) + "\n", "text/csv; charset=utf-8", f"verkenning-{vid}-uitnodigingen.csv")


@_facilitator_action("/items")
def edit_items(request: Request, token: str, form: Form, vid: int) -> Response:
    edits = []
    try:
        ids = [int(x) for x in form.getlist("item")]
        for i in ids:
            edits.append(service.ItemEdit(id=i, titel=form.get(f"titel_{i}", ""), tekst=form.get(f"tekst_{i}", ""),
                                          domein=form.get(f"domein_{i}", ""), actief=form.get(f"actief_{i}") == "1"))
        if (form.get("nieuw_titel") or "").strip():
            edits.append(service.ItemEdit(titel=form.get("nieuw_titel", ""), tekst=form.get("nieuw_tekst", ""),
                                          domein=form.get("nieuw_domein", "")))
    except ValueError as exc:
        from pydantic import ValidationError

        details = service.describe_errors(exc) if isinstance(exc, ValidationError) else [str(exc)]
        return _error(request, 422, "De items zijn niet opgeslagen: " + "; ".join(details), details)
    try:
        service.edit_items(_st(request).db, vid, edits)
    except TrendstudieError as exc:
        raise Unprocessable(str(exc)) from None
    return _back(token, "De items zijn opgeslagen.")


@_facilitator_action("/uitdagingen")
def edit_challenges(request: Request, token: str, form: Form, vid: int) -> Response:
    out = []
    aantal = _whole_number(form, "aantal", "Het aantal uitdagingen")
    for k in range(min(aantal, service.MAX_ITEMS) + 1):  # bounded: the number comes from the form
        titel, tekst = (form.get(f"titel_{k}") or "").strip(), (form.get(f"tekst_{k}") or "").strip()
        if titel:
            if len(titel) > 300 or len(tekst) > service.MAX_TEXT:
                raise Unprocessable("Een uitdaging is te lang (titel hoogstens 300, tekst 2000 tekens).")
            out.append({"titel": titel, "tekst": tekst, "opgave": form.get(f"opgave_{k}") or None, "items": []})
    service.set_challenges(_st(request).db, vid, out)
    return _back(token, "De uitdagingen zijn opgeslagen.", "/resultaten")


@_facilitator_action("/verwijderen")
def delete(request: Request, token: str, form: Form, vid: int) -> Response:
    if (form.get("bevestig") or "").strip().upper() != "VERWIJDEREN":
        raise Unprocessable("Typ VERWIJDEREN om de verkenning met alle antwoorden te verwijderen.")
    service.remove(_st(request).db, vid)
    return _page(request, "verkenning_verwijderd.html")


def _outcome(request: Request, token: str):
    """The facilitator's verkenning (token, login) and its outcome."""
    from ..verkenning.results import outcome

    d = request.app.state.data
    fc = request.app.state.forecasts
    with _st(request).db.read() as s:
        v = _facilitator(request, token, s)
        rows = (lambda scenario: fc.rows(v.gemeente, scenario, 2040)) if v.gemeente in d.regions or \
            v.gemeente in d.group_titles else None
        return v, outcome(s, v, d.kb, d.graph, rows)


@router.get("/verkenning/beheer/{token}/resultaten", response_class=HTMLResponse, include_in_schema=False)
@_guard
def results_page(request: Request, token: str):
    v, o = _outcome(request, token)
    return _page(request, "verkenning_resultaten.html", v=v, o=o, token=token,
                 radar=Markup(o.radar_svg()), matrix=Markup(o.matrix_svg()),
                 kader=Markup(o.frame_svg()) if o.frame else None, melding=request.query_params.get("melding"))


@router.get("/verkenning/beheer/{token}/export.{fmt}", include_in_schema=False)
@_guard
def export(request: Request, token: str, fmt: str):
    from ..verkenning.results import answers_csv, answers_xlsx

    if fmt not in ("csv", "xlsx", "json"):
        return _error(request, 404, f"Onbekend exportformaat {fmt!r}: kies csv, xlsx of json.")
    v, o = _outcome(request, token)
    name = f"verkenning-{v.id}"
    if fmt == "csv":
        return _download(answers_csv(o), "text/csv; charset=utf-8", f"{name}-antwoorden.csv")
    if fmt == "xlsx":
        return _download(answers_xlsx(o), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         f"{name}-antwoorden.xlsx")
    return _json_response(o.as_json(), headers={"content-disposition": f'attachment; filename="{name}-resultaten.json"'})


# --- participant ------------------------------------------------------------------------------------

def _scores(a) -> dict:
    """A stored answer as the form and the API show it."""
    return {"impact": a.impact, "onzekerheid": a.onzekerheid, "horizon": HORIZONS.get(a.horizon) if a.horizon else None,
            "relevantie": a.relevantie, "toelichting": a.toelichting, "reden": a.reden}


def _participant_view(s, p) -> dict:
    v = s.get(service.Verkenning, p.verkenning_id)
    items = [i for i in v.items if i.actief]
    mine = service.own_answers(s, p)
    current = mine.get(v.ronde, {})
    previous = mine.get(v.ronde - 1, {}) if v.ronde > 1 else {}
    group = {}
    if v.ronde > 1:
        _, answers, invited = service.snapshot(s, v)
        res = aggregate([ItemInfo(i.id, i.titel, i.domein, i.trend) for i in items], answers, invited, v.ronde)
        for r in res.items:
            st = r.rounds.get(v.ronde - 1)
            if st and st.stats["impact"] and st.stats["impact"].n >= GROUP_MIN:
                group[r.item.id] = st.stats
    values = {}
    for i in items:
        a = current.get(i.id) or previous.get(i.id)
        shown = _scores(a) if a else dict.fromkeys(("impact", "onzekerheid", "horizon", "relevantie"))
        shown["toelichting"] = (a.toelichting or "") if a else ""
        shown["reden"] = (current[i.id].reden or "") if i.id in current else ""  # a reason belongs to its round
        values[i.id] = shown
    return {"v": v, "items": items, "values": values, "previous": previous, "group": group, "naam": p.naam or ""}


@router.get("/deelname/{token}", response_class=HTMLResponse, include_in_schema=False)
@_guard
def participate(request: Request, token: str):
    st = _st(request)
    with st.db.read() as s:
        p = _lookup(request, lambda: service.by_participant(s, token))
        view = _participant_view(s, p)
    return _page(request, "verkenning_deelname.html", token=token, fouten=[],
                 opgeslagen=request.query_params.get("opgeslagen") == "1", **view)


def submission_from_form(form, item_ids: list[int]) -> dict:
    """The form's fields as the API's JSON: items with at least one field filled in."""
    answers = []
    for i in item_ids:
        fields = {k: (form.get(f"i{i}_{k}") or "").strip() for k in
                  ("impact", "onzekerheid", "horizon", "relevantie", "toelichting", "reden")}
        if any(fields.values()):
            answers.append({"item": i, **{k: v or None for k, v in fields.items()}})
    return {"naam": form.get("naam"), "antwoorden": answers}


def _save_answers(request: Request, token: str, sub: service.Submission) -> int:
    """One participant's answers, in one short write transaction (a token miss counts against
    the address's limit)."""
    return _lookup(request, lambda: service.submit(_st(request).db, token, sub))


@router.post("/deelname/{token}", include_in_schema=False)
async def participate_save(request: Request, token: str):
    """The participant's form (autosave: the same form by script, answered with JSON)."""
    return await _posted(request, _participate_save, token, csrf=False, limiter=_st(request).writers())


def _participate_save(request: Request, form: Form, token: str) -> Response:
    autosave = request.headers.get("x-autosave") == "1"
    st = _st(request)
    with st.db.read() as s:  # the token first: a wrong link is a 404 whatever the form holds
        p = _lookup(request, lambda: service.by_participant(s, token))
        ids = [i.id for i in s.get(service.Verkenning, p.verkenning_id).items if i.actief]
    try:
        _check_csrf(request, form)
        raw = submission_from_form(form, ids)
        n = _save_answers(request, token, service.validate_submission(raw))
    except (Forbidden, service.InvalidSubmission, service.RoundClosed) as exc:
        if autosave:
            status = 403 if isinstance(exc, Forbidden) else 409 if isinstance(exc, service.RoundClosed) else 422
            return _json_response({"fout": str(exc), "details": getattr(exc, "details", [])}, status_code=status)
        if not isinstance(exc, service.InvalidSubmission):
            return _guarded(request, exc)
        with st.db.read() as s:
            view = _participant_view(s, service.by_participant(s, token))
        for a in raw["antwoorden"]:  # show what was typed, not what is stored
            view["values"][a["item"]].update({k: a[k] for k in ("impact", "onzekerheid", "horizon", "relevantie")})
            view["values"][a["item"]]["toelichting"] = a.get("toelichting") or ""
            view["values"][a["item"]]["reden"] = a.get("reden") or ""
        return _page(request, "verkenning_deelname.html", status=422, token=token, fouten=exc.details,
                     opgeslagen=False, **view)
    if autosave:
        return _json_response({"opgeslagen": n})
    return RedirectResponse(f"/deelname/{token}?opgeslagen=1#bewaard", status_code=303)


# --- login --------------------------------------------------------------------------------------------

@router.post("/verkenning/beheer/{token}/inloggen", include_in_schema=False)
async def login_post(request: Request, token: str):
    return await _posted(request, _login, token)


def _login(request: Request, form: Form, token: str) -> Response:
    st = _st(request)
    with st.db.read() as s:
        v = _lookup(request, lambda: service.by_facilitator(s, token))
    key = f"{v.id}|{_client(request)}"
    if st.passwords.blocked(key):
        r = _error(request, 429, "Te veel verkeerde wachtwoorden. Probeer het over een kwartier opnieuw.")
        r.headers["retry-after"] = str(WINDOW)
        return r
    if not service.check_password(v.password_hash, form.get("wachtwoord") or ""):  # argon2: in a worker thread
        st.passwords.fail(key)
        return _login_page(request, token, v, "Het wachtwoord klopt niet.", 401)
    return _log_in(RedirectResponse(f"/verkenning/beheer/{token}", status_code=303), request, v.facilitator_hash)


# --- API ------------------------------------------------------------------------------------------------

class ScoreIn(BaseModel):
    item: int = Field(ge=1, description="Id van het item, zie GET /api/v1/deelname/{token}")
    impact: int | None = Field(None, ge=1, le=5, description="1 (klein) tot en met 5 (groot)")
    onzekerheid: int | None = Field(None, ge=1, le=5, description="1 (zeker) tot en met 5 (zeer onzeker)")
    horizon: Literal["binnen 5 jaar", "5-10 jaar", "na 10 jaar"] | None = Field(None, description="'binnen 5 jaar', '5-10 jaar' of 'na 10 jaar'")
    relevantie: int | None = Field(None, ge=1, le=5, description="1 (niet) tot en met 5 (zeer relevant)")
    toelichting: str | None = Field(None, max_length=service.MAX_TEXT)
    reden: str | None = Field(None, max_length=service.MAX_TEXT, description="Waarom een score in ronde 2 veranderde")


class SubmissionIn(BaseModel):
    naam: str | None = Field(None, max_length=100, description="Optioneel")
    antwoorden: list[ScoreIn] = Field(max_length=service.MAX_ITEMS)


@router.get("/api/v1/deelname/{token}", tags=["verkenning"], responses=S.responses(dict[str, Any], errors=(404, 422, 429)), summary="De items van een deelnemer, met eigen antwoorden")
@_guard
def api_items(request: Request, token: str):
    """De verkenning, de open ronde en de items (id, titel, domein, onderbouwing) met de eigen
    antwoorden van deze deelnemer in de lopende ronde. Nooit antwoorden van anderen."""
    st = _st(request)
    with st.db.read() as s:
        p = _lookup(request, lambda: service.by_participant(s, token))
        v = s.get(service.Verkenning, p.verkenning_id)
        mine = service.own_answers(s, p).get(v.ronde, {})
        items = [{"id": i.id, "titel": i.titel, "tekst": i.tekst, "domein": i.domein, "onderbouwing": i.onderbouwing,
                  "antwoord": _scores(mine[i.id]) if i.id in mine else None} for i in v.items if i.actief]
        return {"verkenning": v.titel, "gemeente": v.gemeente_naam, "ronde": v.ronde, "ronde_open": v.ronde_open,
                "horizonnen": list(HORIZONS.values()), "items": items}


@router.put("/api/v1/deelname/{token}", tags=["verkenning"], responses=S.responses(dict[str, Any], errors=(400, 404, 409, 422, 429)), summary="Antwoorden van één deelnemer opslaan")
async def api_submit(request: Request, token: str, body: SubmissionIn = Body(...)):
    """Slaat de scores van één deelnemer op voor de open ronde, alles of niets: dezelfde controle
    als het formulier. Een item dat al een antwoord had, wordt overschreven."""
    try:
        sub = service.validate_submission(body.model_dump(exclude_unset=False))
    except service.InvalidSubmission as exc:
        return _guarded(request, exc)
    if _st(request).db.sqlite:
        # SQLite: one short local transaction (a few tenths of a millisecond; writers one at a time,
        # also across the workers), here in the event loop: handing it to a thread and back cost
        # more than the write (200 at once: median p95 175-220 ms inline against 200-300 ms in a
        # thread, in paired runs of benchmarks/verkenning.py)
        return _guard(_api_save)(request, token, sub)
    # PostgreSQL: a round trip over the network, in a worker thread (see State.writers)
    return await anyio.to_thread.run_sync(_guard(_api_save), request, token, sub, limiter=_st(request).writers())


def _api_save(request: Request, token: str, sub: service.Submission) -> Response:
    return _json_response({"opgeslagen": _save_answers(request, token, sub)})


@router.get("/api/v1/verkenning/{token}/resultaten", tags=["verkenning"],
            responses=S.responses(dict[str, Any], errors=(401, 404, 422, 429)), summary="De uitkomsten van een verkenning")
@_guard
def api_results(request: Request, token: str):
    """Respons per ronde; per item mediaan, kwartielen, IQR, consensus (IQR ≤ 1) en verschuiving;
    het scenariokader, het basisscenario en de uitdagingen. Met het token van de facilitator."""
    return _outcome(request, token)[1].as_json()
