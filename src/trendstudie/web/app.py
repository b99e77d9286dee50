"""The web dashboard and API: one FastAPI app over the read-only store.

`create_app(database)` loads everything once (see data.py) and serves server-rendered Dutch
pages (Jinja2, inline SVG, no JavaScript needed) and a JSON/CSV API under /api/v1/.
`serve(host, port, database, workers)` runs it with uvicorn.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__, formatting
from ..errors import TrendstudieError
from ..forecast import MAX_UNTIL
from .api_schema import API_DESCRIPTION

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# The downloadable report is one self-contained HTML file with its CSS inline.
REPORT_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), microphone=(), camera=()"),
]
CACHE_CONTROL = b"public, max-age=300"
# Pages and API answers that change while the app runs (the verkenning): never cached, no ETag.
DYNAMIC = ("/verkenning/", "/deelname/", "/api/v1/deelname/", "/api/v1/verkenning/")
# A gemeente's report changes with its verkenning's answers: its route sets the ETag (the report's
# fingerprint) and answers If-None-Match itself; not kept in the page cache.
REPORT = re.compile(r"/gemeente/[^/]+/rapport\.(html|pdf)")
# An ASGI scope key (no client can set it) for the app's own requests that pass the page cache by
# (warm_routes: a worker preparing its routes must not answer from the cache nor fill it).
PAST_CACHE = "trendstudie.langs_cache"
COMPRESSIBLE = {b"text/html", b"application/json", b"text/csv", b"image/svg+xml", b"text/css", b"text/plain"}

PARAM_HELP = {
    "code": "een gemeentecode als GM0193",
    "gemeente": "een gemeentecode als GM0193",
    "gebied": "een gemeente- of groepscode als GM0193, PV23, G40 of NL01",
    "region": "een regiocode als GM0193, PV23 of NL01",
    "regio": "een regiocode als GM0193, PV23 of NL01",
    "period": "een CBS-periode als 2024JJ00, 2024KW01 of 2024MM03",
    "periode": "een CBS-periode als 2024JJ00, 2024KW01 of 2024MM03",
    "from": "een jaar tussen 1900 en 2100",
    "to": "een jaar tussen 1900 en 2100",
    "van": "een jaar tussen 1900 en 2100",
    "tot": f"een eindjaar na het laatste waargenomen jaar en uiterlijk {MAX_UNTIL}, zoals 2040",
    "indicator": "een indicator-id als bevolking (kleine letters, cijfers en _)",
    "indicator_id": "een indicator-id als bevolking (kleine letters, cijfers en _)",
    "group": "een groep als G40, M50, PV23 of GK5",
    "groep": "een groep als G40, M50, PV23 of GK5",
    "group_id": "een groep als G40, M50, PV23 of GK5",
    "table": "een CBS-tabelnaam als 03759ned",
    "measure": "een maatstaf als M000352",
    "dim": "een dimensiefilter als SoortMisdrijf=1.1.1",
    "format": "json of csv",
    "ext": "svg of png",
    "scenario": "een scenario: basis, hoog, laag, metropolisering, spreiding of de-urbanisatie",
    "formaat": "csv, json of xlsx",
    "kind": "GM, PV, CR, LD of NL",
    "current": "true of false",
    "as_published": "true of false",
    "trend_id": "een id uit de kennisbank als vergrijzing (kleine letters, cijfers en -)",
    "id": "een id uit de kennisbank als vergrijzing (kleine letters, cijfers en -)",
    "domain": "een domein als 'wonen en ruimte'",
    "domein": "een domein als 'wonen en ruimte'",
    "diepte": "een getal van 1 tot en met 4",
    "depth": "een getal van 1 tot en met 4",
    "q": "een naam of code van hoogstens 100 tekens",
    "sorteer": "waarde of naam", "richting": "op (oplopend) of af (aflopend)",
    "limit": "een getal van 1 tot en met 100000",
    "offset": "een getal van 0 of meer",
    "impact": "een geheel getal van 1 tot en met 5", "onzekerheid": "een geheel getal van 1 tot en met 5",
    "relevantie": "een geheel getal van 1 tot en met 5", "item": "een item-id uit GET /api/v1/deelname/{token}",
}
LOC = {"query": "queryparameter", "path": "padparameter", "header": "header", "cookie": "cookie", "body": "inhoud"}


DEFAULT_DISK_CACHE_MB = 200


def disk_cache_bytes(value: int | None = None) -> int:
    """The disk cache's cap in bytes: the argument (in MB), else TRENDSTUDIE_WEB_CACHE_MB, else 200 MB."""
    if value is None:
        raw = os.environ.get("TRENDSTUDIE_WEB_CACHE_MB", "").strip()
        try:
            value = float(raw) if raw else DEFAULT_DISK_CACHE_MB
        except ValueError:
            raise TrendstudieError(f"TRENDSTUDIE_WEB_CACHE_MB={raw!r} is geen getal; geef de grootte van de "
                                   "paginacache op schijf in MB, bijvoorbeeld 200.") from None
    if value < 0:
        raise TrendstudieError(f"De paginacache op schijf kan niet {value} MB groot zijn; geef 0 of meer MB.")
    return int(value * 1024 * 1024)


class ResponseCache:
    """Whole GET responses (status 200) per URL, in memory bounded by total size, and on disk
    (shared by the worker processes and the edition helper) bounded by `disk_bytes`: before a
    file is written that would take the files past the cap, the least recently used are deleted
    until three quarters of it are left. The processes keep the bytes in use in one counter file
    (`USAGE`), read and written under an exclusive lock (`LOCK`) together with each write, so the
    cap holds for all of them together, at every moment. The store does not change while the app
    runs, so an entry never goes stale; a new build means a new directory."""

    LOCK = ".plafond.lock"
    USAGE = ".plafond"

    def __init__(self, max_bytes: int = 256 * 1024 * 1024, max_entry: int = 64 * 1024 * 1024,
                 directory: Path | None = None, disk_bytes: int | None = None):
        self.max_bytes = max_bytes
        self.directory = directory  # shared by the worker processes: one render per build and URL
        self.max_entry = max_entry
        self.disk_bytes = disk_cache_bytes() if disk_bytes is None else disk_bytes
        self.bytes = 0
        self._d: OrderedDict[str, tuple[list, bytes, list | None, bytes | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._disk_lock = threading.Lock()  # the threads of this process; the file lock for the others

    def get(self, key: str) -> tuple[list, bytes, list | None, bytes | None] | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
                return v
        if self.directory is not None:
            path = self._file(key)
            try:
                raw = path.read_bytes()
                os.utime(path)  # recently used: evicted last
            except OSError:
                return None
            head, _, stored = raw.partition(b"\n")
            try:
                meta = json.loads(head)
                headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in meta["headers"]]
                gz = stored if meta["gzip"] else None
                body = gzip.decompress(stored) if gz is not None else stored
            except (ValueError, KeyError, TypeError, EOFError, OSError):  # cut short (full disk), older format
                return None
            self.put(key, headers, body, write=False, gz=gz)
            return self._d.get(key)
        return None

    def _file(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".resp")

    def _scan(self) -> list[tuple[float, int, Path]]:
        out = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return out
        for e in entries:
            if e.name.endswith(".resp"):
                try:
                    st = e.stat()
                except OSError:
                    continue
                out.append((st.st_mtime, st.st_size, Path(e.path)))
        return out

    def _scan_size(self) -> int:
        return sum(size for _, size, _ in self._scan())

    def disk_size(self) -> int:
        """Bytes of the cached responses on disk now (all worker processes together)."""
        return self._scan_size() if self.directory is not None else 0

    def _evict(self, target: int) -> int:
        """Delete the least recently used files until at most `target` bytes are left (every
        process's files are counted); return the bytes left. Called under the file lock."""
        files = sorted(self._scan())
        used = sum(size for _, size, _ in files)
        for _, size, path in files:
            if used <= target:
                break
            try:
                path.unlink()
                used -= size
            except FileNotFoundError:
                used -= size
            except OSError:
                pass
        return used

    def _usage(self) -> int:
        """The bytes in use according to the counter file (a scan when there is none yet)."""
        try:
            return int((self.directory / self.USAGE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            return self._scan_size()

    def _write(self, key: str, headers: list, body: bytes, gzipped: bool) -> None:
        import fcntl

        head = json.dumps({"headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                           "gzip": gzipped}).encode()
        size = len(head) + 1 + len(body)
        if size > self.disk_bytes // 4:  # one response may not push out most of the others
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self._file(key)
            with self._disk_lock, open(self.directory / self.LOCK, "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                used = self._usage()
                if used + size > self.disk_bytes:  # (the old file of the same URL, if any, counted until replaced)
                    used = self._evict(self.disk_bytes * 3 // 4 - size)
                try:
                    old = path.stat().st_size  # the same URL written by another worker: replaced
                except FileNotFoundError:
                    old = 0
                tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_bytes(head + b"\n" + body)
                os.replace(tmp, path)
                (self.directory / self.USAGE).write_text(str(used - old + size), encoding="ascii")
        except OSError:  # a read-only or full disk only costs the other workers a render
            return

    def forget(self, key: str) -> None:
        """Drop one URL's response from memory and disk (a benchmark that must ask for it the first time)."""
        import fcntl

        with self._lock:
            old = self._d.pop(key, None)
            if old:
                self.bytes -= len(old[1]) + (len(old[3]) if old[3] else 0)
        if self.directory is None or not self.directory.is_dir():
            return
        path = self._file(key)
        with self._disk_lock, open(self.directory / self.LOCK, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                size = path.stat().st_size
                used = self._usage()
                path.unlink()
            except FileNotFoundError:
                return
            (self.directory / self.USAGE).write_text(str(max(used - size, 0)), encoding="ascii")

    def put(self, key: str, headers: list, body: bytes, write: bool = True, gz: bytes | None = None) -> None:
        """Keep the response, and a gzip-compressed copy of text bodies (compressed once here;
        on disk only the compressed copy is kept, a sixth of the size for a page)."""
        if len(body) > self.max_entry:
            return
        gz_headers = None
        ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        encoded = any(k.lower() == b"content-encoding" for k, _ in headers)
        if len(body) > 1024 and not encoded and ctype.split(b";")[0] in COMPRESSIBLE:
            if gz is None:
                gz = gzip.compress(body, compresslevel=6, mtime=0)
            gz_headers = [(k, v) for k, v in headers if k.lower() != b"content-length"] + [
                (b"content-length", str(len(gz)).encode()), (b"content-encoding", b"gzip")]
            vary = (b"vary", b"accept-encoding")
            gz_headers.append(vary)
        else:
            gz = None
        if write and self.directory is not None:
            self._write(key, headers, gz if gz is not None else body, gz is not None)
        if gz_headers is not None:
            headers = headers + [(b"vary", b"accept-encoding")]
        size = len(body) + (len(gz) if gz else 0)
        with self._lock:
            old = self._d.pop(key, None)
            if old:
                self.bytes -= len(old[1]) + (len(old[3]) if old[3] else 0)
            self._d[key] = (headers, body, gz_headers, gz)
            self.bytes += size
            while self.bytes > self.max_bytes and self._d:
                _, old = self._d.popitem(last=False)
                self.bytes -= len(old[1]) + (len(old[3]) if old[3] else 0)


class QueryParameters:
    """Which query parameters each page knows, read from the app's routes (FastAPI's own
    declarations, so there is no second list to keep up to date)."""

    def __init__(self, app: FastAPI):
        self.app = app
        self._routes: list | None = None

    def known(self, path: str) -> set[str] | None:
        """The parameter names of the route that serves `path`, or None when no route does."""
        if self._routes is None:
            routes = []

            def walk(items) -> None:
                for route in items:
                    inner = getattr(route, "original_router", None)  # an included router (FastAPI >= 0.16x)
                    if inner is not None:
                        walk(inner.routes)
                        continue
                    regex = getattr(route, "path_regex", None)
                    dependant = getattr(route, "dependant", None)
                    if regex is None:
                        continue
                    names = {p.alias for p in dependant.query_params} if dependant is not None else set()
                    routes.append((regex, names))

            walk(self.app.routes)
            self._routes = routes
        for regex, names in self._routes:
            if regex.match(path):
                return names
        if path.startswith("/static/"):
            return set()
        return None


def canonical_query(query: str, known: set[str]) -> str:
    """The query string without the parameters a page does not know (utm_source, fbclid, …), in
    the order given (the order of repeated parameters such as ?gemeente= matters)."""
    from urllib.parse import parse_qsl, urlencode

    # latin-1 both ways keeps every byte of the original (percent-escapes included) as it was
    pairs = parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    return urlencode([(k, v) for k, v in pairs if k in known], encoding="latin-1")


class Headers:
    """ASGI middleware: security headers, caching headers, conditional GET (ETag per build), a
    redirect of pages with unknown query parameters to their canonical URL (so that junk
    parameters cannot fill the cache), and a response cache so a repeated GET is answered
    without routing or rendering."""

    def __init__(self, app, etag: Callable[[], str | None], cache: ResponseCache | None = None,
                 parameters: QueryParameters | None = None):
        self.app = app
        self.etag = etag
        self.cache = cache
        self.parameters = parameters

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope.get("path", "")
        if path.startswith(DYNAMIC):
            return await self.app(scope, receive, _no_store(send))
        etag = self.etag()
        method = scope.get("method", "GET")
        if method == "HEAD":  # answered as GET without the body (monitors and link checkers use HEAD)
            scope = dict(scope, method="GET")
            inner_send = send

            async def send(message):
                if message["type"] == "http.response.body":
                    if message.get("more_body", False):
                        return
                    message = {"type": "http.response.body", "body": b"", "more_body": False}
                await inner_send(message)
        fresh = REPORT.fullmatch(path) is not None  # the route answers If-None-Match itself
        if etag and method in ("GET", "HEAD") and not fresh:
            for k, v in scope.get("headers", []):
                if k == b"if-none-match" and etag.encode() in [x.strip() for x in v.split(b",")]:
                    headers = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL)] + SECURITY_HEADERS
                    await send({"type": "http.response.start", "status": 304, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
        query = scope.get("query_string", b"").decode("latin-1")
        if query and method in ("GET", "HEAD") and self.parameters is not None and not path.startswith("/api/"):
            # (the API answers an unknown parameter with 422 instead: a misspelt ?regio= must not widen the answer)
            known = self.parameters.known(path)
            if known is not None and _all_keys(query) - known:
                canonical = canonical_query(query, known)
                location = path + ("?" + canonical if canonical else "")
                headers = [(b"location", location.encode("latin-1")), (b"cache-control", CACHE_CONTROL),
                           (b"content-length", b"0")] + SECURITY_HEADERS
                await send({"type": "http.response.start", "status": 301, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        key = None
        if method in ("GET", "HEAD") and self.cache is not None and not fresh and PAST_CACHE not in scope:
            key = path + "?" + query
            hit = self.cache.get(key)
            if hit is not None:
                headers, body, gz_headers, gz = hit
                if gz is not None and any(k == b"accept-encoding" and b"gzip" in v for k, v in scope.get("headers", [])):
                    headers, body = gz_headers, gz
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        report = path.startswith("/gemeente/") and path.endswith("/rapport.html")
        captured: dict = {"headers": None, "chunks": [], "size": 0}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", (REPORT_CSP if report else CSP).encode()))
                status = message["status"]
                if status == 200 and method in ("GET", "HEAD") and etag:
                    if b"etag" not in names:
                        headers.append((b"etag", etag.encode()))
                    if b"cache-control" not in names:
                        headers.append((b"cache-control", CACHE_CONTROL))
                elif b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = dict(message, headers=headers)
                no_store = any(k.lower() == b"cache-control" and b"no-store" in v for k, v in headers)
                if key is not None and status == 200 and not no_store:
                    captured["headers"] = headers
            elif message["type"] == "http.response.body" and captured["headers"] is not None:
                body = message.get("body", b"")
                captured["size"] += len(body)
                if captured["size"] > self.cache.max_entry:
                    captured["headers"] = None
                    captured["chunks"] = []
                else:
                    captured["chunks"].append(body)
                    if not message.get("more_body", False):
                        self.cache.put(key, captured["headers"], b"".join(captured["chunks"]))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _all_keys(query: str) -> set[str]:
    from urllib.parse import parse_qsl

    return {k for k, _ in parse_qsl(query, keep_blank_values=True, encoding="latin-1")}


def _no_store(send):
    """Security headers and no-store for a page that must never be cached (answers, tokens)."""
    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
            names = {k.lower() for k, _ in headers}
            headers += [h for h in SECURITY_HEADERS if h[0] not in names]
            if b"content-security-policy" not in names:
                headers.append((b"content-security-policy", CSP.encode()))
            headers += [(b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]
            headers = [(k, v) for k, v in headers if not (k == b"referrer-policy" and v != b"no-referrer")]
            message = dict(message, headers=headers)
        await send(message)

    return wrapped


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2", "svg"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["getal"] = lambda v, d=0: formatting.number(v, d) if v is not None else "–"
    env.filters["periode"] = lambda p: formatting.period(p) if p else ""
    env.filters["eenheid"] = lambda v, d, u: formatting.with_unit(v, d, u) if v is not None else "–"
    env.filters["hoofdletter"] = lambda s: s[:1].upper() + s[1:] if s else s
    env.globals["version"] = __version__
    env.filters["links"] = _linkify
    from .charts import chart_html

    env.filters["grafiek"] = chart_html
    return env


def _linkify(text: str) -> Markup:
    """Escape a message and turn the site paths in it (/gemeente/GM0193) into links."""
    safe = str(escape(text))
    return Markup(re.sub(r"(/(?:gemeente|indicator|trend|samenhang)/[A-Za-z0-9_-]+)", r'<a href="\1">\1</a>', safe))


def _describe(err: dict) -> str:
    loc = [str(x) for x in err.get("loc", ())]
    where = LOC.get(loc[0], loc[0]) if loc else "parameter"
    names = [x for x in loc[1:] if not x.isdigit()]  # ('query', 'region', 0): the 1st item of a list
    name = names[-1] if names else "?"
    given = err.get("input")
    kind = err.get("type", "")
    help_ = PARAM_HELP.get(name, "een geldige waarde")
    if kind == "missing":
        return f"De {where} '{name}' ontbreekt: geef {help_}."
    if kind in ("too_long",):
        return f"De {where} '{name}' komt te vaak voor; verwacht {help_}."
    shown = repr(given)[:80] if given is not None and not isinstance(given, (dict, list)) else ""
    expected = (err.get("ctx") or {}).get("expected")
    if kind == "literal_error" and expected:  # a fixed choice: name the choices ('html' of 'pdf')
        help_ = "een van " + str(expected).replace(" or ", " of ")
    return f"Ongeldige {where} '{name}'{(' ' + shown) if shown else ''}: verwacht {help_}."


def _allowed(exc: StarletteHTTPException, request: Request | None = None) -> list[str]:
    """The methods a path takes: every route on it (the router's own Allow header names only the
    first route that matched the path); HEAD wherever GET is (the Headers middleware answers HEAD
    as GET without the body)."""
    given = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or "GET"
    methods = [m.strip().upper() for m in given.split(",") if m.strip()]
    if request is not None and request.url.path.startswith("/api/"):
        import re

        # every documented operation on this path (two routes may share a path: GET and PUT)
        for template, ops in request.app.openapi().get("paths", {}).items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, request.url.path):
                methods.extend(m.upper() for m in ops if m.upper() not in methods and m.upper() != "HEAD")
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return methods


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(database: Path, cache_mb: float | None = None) -> FastAPI:
    """The app over the store at `database` (opened read-only, loaded once). `cache_mb` caps the
    page cache on disk (default: TRENDSTUDIE_WEB_CACHE_MB, else 200 MB)."""
    from .data import WebData
    from .prognose import Forecasts

    data = WebData(Path(database))
    env = _env()
    env.globals["built"] = formatting.day(datetime.fromisoformat(data.built_at).date())
    app = FastAPI(
        title="trendstudie API",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json",
    )
    app.state.data = data
    app.state.forecasts = Forecasts(data)
    app.state.env = env
    env.globals["d"] = data
    tag = data.etag.strip('"')
    app.state.cache = ResponseCache(directory=data.database.parent / "cache" / "web-pages" / tag,
                                    disk_bytes=disk_cache_bytes(cache_mb))
    _remove_stale_caches(data.database.parent / "cache", tag)

    def error_response(request: Request, status: int, message: str, details: list[str] | None = None,
                       headers: dict[str, str] | None = None) -> Response:
        headers = {"cache-control": "no-store", **(headers or {})}
        if _wants_json(request):
            return JSONResponse({"fout": message, "details": details or []}, status_code=status, headers=headers)
        titles = {404: "Niet gevonden", 422: "Ongeldige invoer", 400: "Ongeldige invoer", 405: "Methode niet toegestaan",
                  401: "Inloggen nodig", 403: "Niet toegestaan", 409: "Ronde gesloten", 429: "Te veel pogingen",
                  500: "Er ging iets mis"}
        try:
            html = env.get_template("fout.html").render(status=status, titel=titles.get(status, "Fout"), bericht=message,
                                                        details=details or [], request=request, nav="fout")
        except Exception:  # never let the error page itself fail
            from html import escape

            html = f"<!DOCTYPE html><html lang='nl'><title>Fout</title><h1>Fout {status}</h1><p>{escape(message)}</p></html>"
        return HTMLResponse(html, status_code=status, headers=headers)

    app.state.error = error_response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        details = [_describe(e) for e in exc.errors()]
        return error_response(request, 422, details[0] if details else "Ongeldige invoer.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            msg = exc.detail if isinstance(exc.detail, str) and exc.detail != "Not Found" else \
                f"De pagina {request.url.path} bestaat niet."
            return error_response(request, 404, msg)
        if exc.status_code == 405:  # the Allow header names what the route does take (RFC 9110)
            allowed = _allowed(exc, request)
            return error_response(request, 405, f"De methode {request.method} wordt hier niet ondersteund; gebruik "
                                                f"{' of '.join(allowed)}.", headers={"allow": ", ".join(allowed)})
        detail = exc.detail if isinstance(exc.detail, str) else "Fout in het verzoek."
        return error_response(request, exc.status_code, detail)

    @app.exception_handler(TrendstudieError)
    async def _domain(request: Request, exc: TrendstudieError):
        return error_response(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def _any(request: Request, exc: Exception):  # pragma: no cover - last resort, logged by uvicorn
        return error_response(request, 500, "Er ging iets mis op de server. Probeer het later opnieuw.")

    from . import routes_api, routes_pages, routes_verkenning

    # The verkenning first: its paths (/verkenning/, /deelname/, /api/v1/deelname/, /api/v1/verkenning/)
    # are its own, and a router is matched route by route (200 participants answering at once
    # should not each be tried against the 60 routes of the read-only pages first).
    routes_verkenning.register(app, data.database)
    app.include_router(routes_api.router)
    from . import routes_wijzigingen  # editions: "nieuw sinds de vorige editie", Atom feeds, API (before the

    routes_wijzigingen.register(app)  # pages: their /gemeente/{code}/{filename} would take the feeds)
    app.include_router(routes_pages.router)
    from . import api_schema

    api_schema.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Headers, etag=lambda: data.etag, cache=app.state.cache, parameters=QueryParameters(app))
    return app


def _remove_stale_caches(root: Path, keep: str, age: float = 3600.0) -> None:
    """Delete cached pages and reports of earlier builds or program versions (left alone for an
    hour, in case a worker of the previous version is still serving)."""
    import shutil
    import time

    for kind in ("web-pages", "web-rapporten"):
        base = root / kind
        if not base.is_dir():
            continue
        for sub in base.iterdir():
            try:
                if sub.is_dir() and sub.name != keep and time.time() - sub.stat().st_mtime > age:
                    shutil.rmtree(sub, ignore_errors=True)
            except OSError:
                pass


def serving_app(database: Path, warmed: bool) -> FastAPI:
    """The app as a server process runs it: loaded, warmed up first when `warmed`, then settled."""
    app = create_app(database)
    return settle(warm(app) if warmed else app)


def _app_from_env() -> FastAPI:
    """Factory for uvicorn workers (`--factory`): the database path comes from the environment."""
    return serving_app(Path(os.environ["TRENDSTUDIE_WEB_DATABASE"]), os.environ.get("TRENDSTUDIE_WEB_WARM") == "1")


def settle(app: FastAPI) -> FastAPI:
    """Move everything the worker loaded (the store's read model: some 700 000 Python objects)
    out of the garbage collector's sight before it takes requests. Those objects live as long as
    the worker; without this every full collection walks them all (about a second of processor
    time, stalling every request in flight) and a young-generation collection takes milliseconds.
    Objects made while serving are collected as usual."""
    import gc

    gc.collect()
    gc.freeze()
    return app


def warm(app: FastAPI) -> FastAPI:
    """Load what the first prognose or report of a worker would otherwise load on request (the
    population history, the backtest's error bands, the age model, the backtest of the prognose page: ±10 s of CPU), before the worker
    takes requests: a first prognose download then takes tenths of a second, not seconds.
    Only for the server (`serve` with `prepare`, as `trendstudie serve` runs it); an app in a test,
    or a server started with `prepare=False`, loads it when asked."""
    from ..forecast import DEFAULT_UNTIL, project
    from ..report.scenario_fan import scenario_ids
    from .prognose import SCENARIO_IDS

    d = app.state.data
    code = next(iter(d.gemeenten), None)
    if code is None:
        return app
    try:
        for scenario in SCENARIO_IDS:  # the site's runs (to MAX_UNTIL) ...
            app.state.forecasts.rows(code, scenario)
        for scenario in scenario_ids():  # ... and the report's (every scenario, basis among them)
            project(d.con, code, scenario, DEFAULT_UNTIL)
        app.state.forecasts.backtest()  # the prognose page's method section
    except TrendstudieError:  # a store without population figures: the pages say so on request
        pass
    warm_routes(app, code)
    return app


MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """`trendstudie serve`'s number of processes: one per core (requests such as 200 participants
    answering at once are processor work), at most MAX_DEFAULT_WORKERS, since every worker holds
    the loaded store in its own memory."""
    from ..config import processes

    return processes(MAX_DEFAULT_WORKERS)


def warm_routes(app: FastAPI, code: str) -> list[int]:
    """One request of each kind through the app's routes, past the page cache (nothing is stored):
    FastAPI prepares the routes of a router on the first request into it (their parameters and
    response models: a tenth of a second, in the event loop, that every request arriving meanwhile
    waits for), the first request starts the thread pool, and the first page loads its templates.
    A worker that has not done this answers its first requests late, also when they are cheap (an
    API profile: 5 ms). Returns the statuses (a failure here is left to the request that meets it)."""
    import asyncio

    from .edition import _get

    urls = ["/api/v1/info", f"/api/v1/gemeenten/{code}/profile", f"/api/v1/gemeenten/{code}/findings",
            f"/gemeente/{code}", "/over"]
    statuses: list[int] = []

    async def run():
        for url in urls:
            try:
                statuses.append(await _get(app, url, past_cache=True))
            except Exception:  # noqa: BLE001 - the request that meets it gets the error page
                statuses.append(500)

    # uvicorn calls the app factory inside its running event loop: these requests get their own
    worker = threading.Thread(target=asyncio.run, args=(run(),), name="opwarmen")
    worker.start()
    worker.join()
    return statuses


def serve(host: str = "127.0.0.1", port: int = 8000, database: Path | None = None, workers: int = 1,
          prepare: bool = True) -> None:
    """Run the site with uvicorn; each worker process loads the store once. More than one worker:
    our own supervisor with one listening socket per worker (workers.py), or uvicorn's own mode
    where that does not spread the connections (not Linux). With `prepare` (the
    default) a background process renders the edition into the shared page cache first (see
    edition.py; once per build: nothing to do when it is already there), and each worker warms
    up (`warm`) before it takes requests."""
    import subprocess
    import sys

    import uvicorn

    from ..config import settings
    from .workers import balanced, load_app, supervise

    database = Path(database) if database else settings().database
    if not database.exists():
        raise TrendstudieError(f"Er is nog geen database in {database.parent}. Bouw die eerst: trendstudie build --bundle <map>")
    disk_cache_bytes()  # a wrong TRENDSTUDIE_WEB_CACHE_MB is reported before the server starts
    helper = None
    if prepare:
        helper = subprocess.Popen([sys.executable, "-m", "trendstudie.web.edition", str(database), "--met-server"],
                                  stdout=subprocess.DEVNULL)
    from .routes_verkenning import WORKERS_ENV

    os.environ[WORKERS_ENV] = str(workers)  # the workers share the rate limits (routes_verkenning.worker_share)
    try:
        if workers > 1 and balanced():  # one socket per worker (Linux): the connections spread evenly
            supervise(host, port, database, workers, warm=prepare)
        elif workers > 1:
            os.environ["TRENDSTUDIE_WEB_DATABASE"] = str(database)
            os.environ["TRENDSTUDIE_WEB_WARM"] = "1" if prepare else "0"
            uvicorn.run("trendstudie.web.app:_app_from_env", factory=True, host=host, port=port, workers=workers,
                        log_level="warning", proxy_headers=False, server_header=False)
        else:
            app = load_app(lambda: serving_app(database, prepare))
            if app is not None:  # None: Ctrl+C while it loaded
                uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    finally:
        if helper is not None and helper.poll() is None:
            helper.terminate()
            helper.wait(timeout=10)
