"""Loopback fakes of the two non-CBS services `sync` knows (see sources/external.py).

FakeKlimaatmonitor: the Swing/Jive Open Data Service: `Variables` (paged with `$skip` and
`@odata.nextLink`), `Variables('<code>')`, and per variable
`Variables('<code>')/GeoLevels('gemeente')/PeriodLevels('year')/Periods('all')/Values`, all behind
an `apikey` header (401 without the right one, 404 for an unknown code).
FakeFiles: serves fixed bytes per path (the Leefbaarometer zip), optionally cut short a number of
times first.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class _Server:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def handle(self, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, bytes, str]:
        raise NotImplementedError

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                fake.requests.append(unquote(parts.path))
                status, body, kind = fake.handle(unquote(parts.path), parse_qs(parts.query), self.headers)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def root(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"


def _json(status: int, doc: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(doc).encode("utf-8"), "application/json"


class FakeKlimaatmonitor(_Server):
    """variables: code → {"Name": …, "Unit": …?}; values: code → list of Values rows."""

    PAGE = 2

    def __init__(self, variables: dict[str, dict[str, Any]], values: dict[str, list[dict[str, Any]]],
                 key: str = "geheim") -> None:
        super().__init__()
        self.variables = variables
        self.values = values
        self.key = key

    @property
    def base_url(self) -> str:
        return f"{self.root}/jiveservices/odata"

    def _page(self, path: str, rows: list[dict[str, Any]], query: dict[str, list[str]]) -> tuple[int, bytes, str]:
        skip = int(query.get("$skip", ["0"])[0])
        doc: dict[str, Any] = {"@odata.context": f"{self.base_url}/$metadata", "value": rows[skip:skip + self.PAGE]}
        if skip + self.PAGE < len(rows):
            doc["@odata.nextLink"] = f"{self.root}{path}?$skip={skip + self.PAGE}"
        return _json(200, doc)

    def handle(self, path, query, headers):
        if headers.get("apikey") != self.key:
            return _json(401, {"error": {"message": "Invalid API key"}})
        prefix = "/jiveservices/odata/"
        if not path.startswith(prefix):
            return _json(404, {"error": {"message": "not found"}})
        rest = path[len(prefix):]
        if rest == "Variables":
            rows = [{"ExternalCode": c, **v} for c, v in self.variables.items()]
            return self._page(path, rows, query)
        m = re.fullmatch(r"Variables\('([^']+)'\)(/.*)?", rest)
        if not m or m.group(1) not in self.variables:
            return _json(404, {"error": {"message": f"unknown: {rest}"}})
        code, tail = m.group(1), m.group(2) or ""
        if not tail:
            return _json(200, {"ExternalCode": code, **self.variables[code]})
        if tail == "/GeoLevels('gemeente')/PeriodLevels('year')/Periods('all')/Values":
            return self._page(path, self.values.get(code, []), query)
        return _json(404, {"error": {"message": f"unknown: {rest}"}})


class FakeFiles(_Server):
    """files: path → bytes. `cut_short` answers that many requests with half the file first."""

    def __init__(self, files: dict[str, bytes], cut_short: int = 0) -> None:
        super().__init__()
        self.files = files
        self.cut_short = cut_short

    def handle(self, path, query, headers):
        if path not in self.files:
            return 404, b"not found", "text/plain"
        body = self.files[path]
        if self.cut_short > 0:
            self.cut_short -= 1
            body = body[: len(body) // 2]
        return 200, body, "application/zip"
