"""A fake CBS OData v4 service on loopback, serving real responses from the bundle's mirror.

`/<catalog>/<table id>/<endpoint>` maps to a table registered with `FakeCBS.add_table`
(or loaded with `add_mirror` from `odata-v4/<id>/`). Like the real service it serves
`Properties` as one object, list endpoints as `{"@odata.context", "value"}`, applies `$filter`
(eq ne gt ge lt le, and/or/not, parentheses, startswith/endswith/contains) and `$select` to
Observations, and pages Observations with `@odata.nextLink` (`$skip`). Table ids are case
sensitive: a wrong case gives 404, or with `wrong_case="empty"` an empty answer whose
Properties carry the real id (the real service has been seen to do the latter).

The catalogue `/<catalog>/Datasets` lists every registered table of that catalogue as the real
service does (Identifier, Title, Status, Modified, ObservationsModified, Description, … taken from
its Properties), plus rows added with `FakeCBS.list_dataset` (tables known only to the catalogue,
such as a successor or next year's "Gebieden in Nederland"), with `$filter`; `catalogue=False`
answers 404 there, like a service without a catalogue. `FakeCBS.publish` replaces endpoints of
a table (a new version) and forgets cached query results.

Faults are injected with `FakeCBS.inject(Fault(...))`: HTTP 429 with Retry-After, HTTP 500,
a response slower than the client's timeout, a body cut short (Content-Length honest, JSON
truncated) or a connection dropped mid-body. Faults that must not depend on timing are raised on
the client's side by `cbs.transport()` (give it to the ODataClient): 'timeout' (a read time-out
mid-transfer, as httpx raises it), 'refused' (a connection refused, as after a server restart) and
'nodns' (the name no longer resolves).
"""

from __future__ import annotations

import errno
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

# -- a small OData $filter evaluator ---------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),]))"
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {"startswith", "endswith", "contains", "substringof"}


class FilterError(ValueError):
    pass


def tokenize(text: str) -> list[tuple[str, Any]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"cannot parse $filter at position {pos}: {text[pos:pos + 20]!r}")
        pos = m.end()
        if m.group("str") is not None:
            out.append(("str", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("num") is not None:
            num = m.group("num")
            out.append(("num", float(num) if "." in num else int(num)))
        elif m.group("name") is not None:
            out.append(("name", m.group("name")))
        else:
            out.append(("op", m.group("op")))
    return out


Predicate = Callable[[dict[str, Any]], bool]


class _Parser:
    """expr := and ('or' and)*; and := unary ('and' unary)*; unary := 'not' unary | atom;
    atom := '(' expr ')' | func '(' operand ',' operand ')' | operand cmp operand."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise FilterError(f"expected {value or kind}, got {tok}")
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "name" and tok[1] == word

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek()}")
        return pred

    def expr(self) -> Predicate:
        parts = [self.conj()]
        while self.is_word("or"):
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else (lambda row, ps=parts: any(p(row) for p in ps))

    def conj(self) -> Predicate:
        parts = [self.unary()]
        while self.is_word("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda row, ps=parts: all(p(row) for p in ps))

    def unary(self) -> Predicate:
        if self.is_word("not"):
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        return self.atom()

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        kind, value = self.take()
        if kind in ("str", "num"):
            return lambda row: value
        if kind == "name":
            return lambda row: row.get(value)
        raise FilterError(f"unexpected {value!r}")

    def atom(self) -> Predicate:
        tok = self.peek()
        if tok == ("op", "("):
            self.take()
            inner = self.expr()
            self.take("op", ")")
            return inner
        if tok and tok[0] == "name" and tok[1] in _FUNCS:
            func = self.take()[1]
            self.take("op", "(")
            a = self.operand()
            self.take("op", ",")
            b = self.operand()
            self.take("op", ")")
            if func == "substringof":
                a, b = b, a
            op = {"startswith": str.startswith, "endswith": str.endswith}.get(func, str.__contains__)
            if func == "endswith":
                return lambda row: isinstance(a(row), str) and a(row).rstrip().endswith(b(row))
            return lambda row: isinstance(a(row), str) and op(a(row), b(row))
        left = self.operand()
        kind, cmp = self.take("name")
        if cmp not in _COMPARE:
            raise FilterError(f"unknown operator {cmp!r}")
        right = self.operand()
        return lambda row: _compare(cmp, left(row), right(row))


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str):
        a = a.rstrip()
    if isinstance(b, str):
        b = b.rstrip()
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if a is None or b is None:
        return False
    try:
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
    except TypeError:
        return False


def compile_filter(text: str) -> Predicate:
    return _Parser(text).parse()


# -- the server ------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected misbehaviour. kind: '429', '500', 'slow', 'truncated', 'drop', 'html' (a 200
    maintenance page), 'novalue' (200 with JSON of the wrong shape); on the client's side (see
    FakeCBS.transport): 'timeout', 'refused', 'nodns'.

    endpoint/table limit it to matching requests; from_page (0-based Observations page) to
    later pages; times is how often it fires (-1: for ever)."""

    kind: str
    endpoint: str | None = None
    table: str | None = None
    from_page: int | None = None
    times: int = 1
    retry_after: str | None = "1"
    delay: float = 1.0

    def matches(self, table: str, endpoint: str, page: int | None) -> bool:
        if self.times == 0:
            return False
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.table is not None and self.table != table:
            return False
        if self.from_page is not None and (page is None or page < self.from_page):
            return False
        return True


CLIENT_KINDS = frozenset({"timeout", "refused", "nodns"})


@dataclass
class Request:
    catalog: str
    table: str
    endpoint: str
    query: dict[str, str]
    status: int


class FakeCBS:
    """Start with `with FakeCBS() as cbs:`; `cbs.base_url` is the service root."""

    def __init__(self, page_size: int | None = None, wrong_case: str = "404", catalogue: bool = True):
        self.tables: dict[tuple[str, str], dict[str, Any]] = {}
        self.catalogue = catalogue
        self.datasets: dict[tuple[str, str], dict[str, Any]] = {}  # catalogue rows without a served table
        self.page_size = page_size
        self.wrong_case = wrong_case
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._results: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- content -------------------------------------------------------------------------
    def add_table(self, catalog: str, table_id: str, endpoints: dict[str, Any]) -> None:
        """endpoints: name → JSON document (Properties an object, the others {'value': [...]})."""
        self.tables[(catalog, table_id)] = endpoints

    def list_dataset(self, catalog: str, row: dict[str, Any]) -> None:
        """A catalogue row for a table the catalogue lists (its endpoints may be added separately)."""
        self.datasets[(catalog, row["Identifier"])] = {"Catalog": catalog, **row}

    def publish(self, catalog: str, table_id: str, **endpoints: Any) -> None:
        """A new version of a table: the given endpoints replace the old ones."""
        with self._lock:
            self.tables[(catalog, table_id)] = {**self.tables[(catalog, table_id)], **endpoints}
            self._results = {k: v for k, v in self._results.items() if k[:2] != (catalog, table_id)}

    def catalogue_rows(self, catalog: str) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for (cat, tid), endpoints in self.tables.items():
            props = endpoints.get("Properties")
            if cat == catalog and isinstance(props, dict):
                rows[tid] = {k: props.get(k) for k in ("Identifier", "Title", "Description", "Language", "Catalog",
                                                        "Modified", "ObservationsModified", "Status", "Frequency",
                                                        "ObservationCount", "DatasetType")}
                rows[tid]["Identifier"] = props.get("Identifier", tid)
        for (cat, tid), row in self.datasets.items():
            if cat == catalog:
                rows[tid] = {**rows.get(tid, {}), **row}
        return [rows[k] for k in sorted(rows)]

    def add_mirror(self, table_dir: Path, catalog: str = "CBS") -> None:
        endpoints = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(table_dir.glob("*.json"))}
        self.add_table(catalog, table_dir.name, endpoints)

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def transport(self) -> httpx.HTTPTransport:
        """An httpx transport that raises the client-side faults deterministically (no clock involved)
        and otherwise talks to this server over loopback like any other."""
        return _FaultTransport(self)

    def _client_fault(self, request: httpx.Request) -> Exception | None:
        segments = [s for s in request.url.path.split("/") if s]
        if len(segments) == 2 and segments[1] == "Datasets":  # the catalogue: table "", endpoint "Datasets"
            segments = [segments[0], "", "Datasets"]
        if len(segments) != 3:
            return None
        _, table_id, endpoint = segments
        page = None
        if endpoint == "Observations":
            skip = int(dict(request.url.params).get("$skip", "0"))
            page = skip // self.page_size if self.page_size else 0
        with self._lock:
            for f in self.faults:
                if f.kind in CLIENT_KINDS and f.matches(table_id, endpoint, page):
                    if f.times > 0:
                        f.times -= 1
                    if f.kind == "timeout":
                        return httpx.ReadTimeout("timed out (injected)", request=request)
                    if f.kind == "nodns":
                        lost = httpx.ConnectError("[Errno -3] Temporary failure in name resolution (injected)",
                                                  request=request)
                        lost.__cause__ = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
                        return lost
                    refused = httpx.ConnectError("[Errno 111] Connection refused (injected)", request=request)
                    refused.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
                    return refused
        return None

    def observation_requests(self, table: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.endpoint == "Observations" and (table is None or r.table == table)]

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "FakeCBS":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                try:
                    fake._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeCBS":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- request handling ----------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        segments = [s for s in parts.path.split("/") if s]
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if len(segments) == 2 and segments[1] == "Datasets" and self.catalogue:
            rows = self.catalogue_rows(segments[0])
            try:
                if query.get("$filter"):
                    pred = compile_filter(query["$filter"])
                    rows = [r for r in rows if pred(r)]
            except FilterError as exc:
                return self._send(h, 400, {"error": {"code": "400", "message": f"Invalid $filter: {exc}"}}, segments, query)
            body = {"@odata.context": f"{self.base_url}/{segments[0]}/$metadata#Datasets", "value": rows}
            return self._send(h, 200, body, [segments[0], "", "Datasets"], query)
        if len(segments) != 3:
            return self._send(h, 404, {"error": {"code": "404", "message": "Resource not found"}}, segments, query)
        catalog, table_id, endpoint = segments
        table = self.tables.get((catalog, table_id))
        empty = False
        if table is None:
            alike = [k for k in self.tables if k[0] == catalog and k[1].lower() == table_id.lower()]
            if alike and self.wrong_case == "empty":
                table, empty = self.tables[alike[0]], True
            else:
                return self._send(h, 404, {"error": {"code": "404", "message": f"Dataset {table_id} not found"}}, segments, query)

        page = None
        if endpoint == "Observations":
            page = int(query.get("$skip", "0")) // self.page_size if self.page_size else 0
        fault = None
        with self._lock:
            for f in self.faults:
                if f.kind not in CLIENT_KINDS and f.matches(table_id, endpoint, page):
                    fault = f
                    if f.times > 0:
                        f.times -= 1
                    break
        if fault is not None:
            if fault.kind == "429":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return self._send(h, 429, {"error": {"message": "Too many requests"}}, segments, query, headers)
            if fault.kind == "500":
                return self._send(h, 500, {"error": {"message": "Internal server error"}}, segments, query)
            if fault.kind == "html":  # a maintenance page served with status 200
                self._record(segments, query, 200)
                raw = b"<html><body>Onderhoud</body></html>"
                h.send_response(200)
                h.send_header("Content-Type", "text/html")
                h.send_header("Content-Length", str(len(raw)))
                h.end_headers()
                h.wfile.write(raw)
                return
            if fault.kind == "novalue":  # valid JSON of the wrong shape
                return self._send(h, 200, {"odata.error": {"message": "busy"}}, segments, query)
            if fault.kind == "slow":
                time.sleep(fault.delay)  # then answer normally (the client has given up by then)

        if endpoint not in table:
            return self._send(h, 404, {"error": {"message": f"No endpoint {endpoint}"}}, segments, query)
        doc = table[endpoint]
        if endpoint == "Properties":
            body: Any = doc
        else:
            rows = [] if empty else list(doc.get("value", []))
            body = {"@odata.context": doc.get("@odata.context", f"{self.base_url}/{catalog}/{table_id}/$metadata#{endpoint}")}
            if endpoint == "Observations":
                key = (catalog, table_id, empty, query.get("$filter"), query.get("$select"))
                cached = self._results.get(key)
                if cached is None:
                    try:
                        if query.get("$filter"):
                            pred = compile_filter(query["$filter"])
                            rows = [r for r in rows if pred(r)]
                    except FilterError as exc:
                        return self._send(h, 400, {"error": {"code": "400", "message": f"Invalid $filter: {exc}"}}, segments, query)
                    if query.get("$select"):
                        keep = [c.strip() for c in query["$select"].split(",")]
                        rows = [{k: r[k] for k in keep if k in r} for r in rows]
                    self._results[key] = rows  # later pages of the same query are cheap
                else:
                    rows = cached
                if self.page_size:
                    skip = int(query.get("$skip", "0"))
                    chunk = rows[skip : skip + self.page_size]
                    if skip + self.page_size < len(rows):
                        nq = {k: v for k, v in query.items() if k != "$skip"}
                        nq["$skip"] = str(skip + self.page_size)
                        body["@odata.nextLink"] = (
                            f"{self.base_url}/{catalog}/{table_id}/Observations?"
                            + urlencode(nq, quote_via=quote, safe="$(),'")
                        )
                    rows = chunk
            body["value"] = rows
        if fault is not None and fault.kind in ("truncated", "drop"):
            raw = json.dumps(body).encode()
            cut = raw[: max(1, len(raw) // 2)]
            self._record(segments, query, 200)
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(cut) if fault.kind == "truncated" else len(raw)))
            if fault.kind == "drop":
                h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(cut)
            h.wfile.flush()
            if fault.kind == "drop":
                h.close_connection = True
            return
        return self._send(h, 200, body, segments, query)

    def _record(self, segments: list[str], query: dict[str, str], status: int) -> None:
        cat, tab, end = (segments + ["", "", ""])[:3]
        with self._lock:
            self.requests.append(Request(cat, tab, end, query, status))

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        segments: list[str],
        query: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> None:
        self._record(segments, query, status)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)


class _FaultTransport(httpx.HTTPTransport):
    def __init__(self, fake: FakeCBS):
        super().__init__()
        self.fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.fake._client_fault(request)
        if fault is not None:
            raise fault
        return super().handle_request(request)


def police_table(tidy_csv: Path, base_url: str = "https://datasets.cbs.nl/odata/v1") -> dict[str, Any]:
    """A small synthetic 47018NED in v4 shape, built from the bundle's tidy CSV (real values)."""
    import csv

    rows = []
    regions: set[str] = set()
    periods: dict[str, str] = {}
    kinds: set[str] = set()
    with tidy_csv.open(encoding="utf-8", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh)):
            value = int(rec["value"]) if rec["value"] else None
            rows.append(
                {
                    "Id": i,
                    "Measure": "M004201",
                    "ValueAttribute": "None" if value is not None else "Impossible",
                    "Value": value,
                    "StringValue": None,
                    "SoortMisdrijf": rec["SoortMisdrijf"],
                    "RegioS": rec["region_code"],
                    "Perioden": rec["period"],
                }
            )
            regions.add(rec["region_code"])
            periods[rec["period"]] = rec["status"] or None
            kinds.add(rec["SoortMisdrijf"])
    root = f"{base_url}/Politie/47018NED"

    def codes(name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"@odata.context": f"{root}/$metadata#{name}", "value": items}

    return {
        "Properties": {
            "@odata.context": f"{root}/$metadata#Properties",
            "Identifier": "47018NED",
            "Title": "Geregistreerde misdrijven; soort misdrijf, wijk, buurt, jaarcijfers",
            "Catalog": "Politie",
            "Modified": "2026-06-30T00:00:00+02:00",
            "ObservationsModified": "2026-06-30T00:00:00+02:00",
            "Status": "Regulier",
            "ObservationCount": len(rows),
        },
        "Dimensions": codes(
            "Dimensions",
            [
                {"Identifier": "SoortMisdrijf", "Kind": "Dimension", "ContainsCodes": True},
                {"Identifier": "RegioS", "Kind": "GeoDimension", "ContainsCodes": True},
                {"Identifier": "Perioden", "Kind": "TimeDimension", "ContainsCodes": True},
            ],
        ),
        "MeasureCodes": codes("MeasureCodes", [{"Identifier": "M004201", "Title": "Geregistreerde misdrijven", "Unit": "aantal"}]),
        "SoortMisdrijfCodes": codes("SoortMisdrijfCodes", [{"Identifier": k, "Title": k} for k in sorted(kinds)]),
        "RegioSCodes": codes("RegioSCodes", [{"Identifier": k, "Title": k} for k in sorted(regions)]),
        "PeriodenCodes": codes("PeriodenCodes", [{"Identifier": k, "Title": k[:4], "Status": s} for k, s in sorted(periods.items())]),
        "Observations": {"@odata.context": f"{root}/$metadata#Observations", "value": rows},
    }
