"""Client for the CBS OData v4 API (`https://datasets.cbs.nl/odata/v1/<catalog>/<table id>/<endpoint>`).

What it does, and why:

- Addresses a table as `<base>/<catalog>/<table id>/<endpoint>`. The catalogue is `CBS` for
  CBS's own tables; third-party tables (the police figures, such as 47018NED) live in another
  catalogue of the same service. The catalogue name is data (see `catalog.yaml`), not code.
- Endpoints: `Properties` (a single object), `Dimensions`, `MeasureCodes`, `<Dimension>Codes`
  and `Observations` (with `$filter` and `$select`); list endpoints are followed through every
  `@odata.nextLink`.
- Retries, with exponential backoff, on 429 (honouring `Retry-After`), 5xx, timeouts,
  connection errors and truncated or otherwise invalid JSON; after `max_retries` retries it raises
  a `TrendstudieError` that names the table, the page and the URL.
- Fails fast, without retries, when there is no way to reach the service at all: a host name that
  does not resolve (or whose DNS does not answer within `dns_timeout`), or a first connection
  that is refused, unreachable or times out (`Unreachable`). Waiting minutes for that helps
  nobody; once the service has answered, connection errors count as transient again.
- An optional response cache on disk (one file per full URL, keyed by its SHA-256): responses are
  written to it whenever a cache directory is given and read from it when `use_cache=True`.
- Table ids are case sensitive on this service, and the wrong case may give an empty answer
  rather than an error: `properties()` checks the `Identifier` the service returns.
"""

from __future__ import annotations

import email.utils
import errno
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import httpx

from ..atomic import write_json
from ..errors import TrendstudieError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = 60.0
CONNECT_TIMEOUT = 15.0  # for setting up a connection; reading an answer may take DEFAULT_TIMEOUT
DNS_TIMEOUT = 10.0
_NO_ROUTE = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


class ODataError(TrendstudieError):
    """A request to the CBS OData service failed for good (after retries where that made sense)."""

    def __init__(self, message: str, url: str, status: int | None = None):
        self.url = url
        self.status = status
        super().__init__(message)


class Unreachable(ODataError):
    """The service cannot be reached at all (no DNS, no network, nobody listening): not retried."""

    def __init__(self, message: str, url: str, host: str):
        self.host = host
        super().__init__(message, url)


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` in `exc`'s chain of causes (httpx wraps httpcore wraps OSError)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def resolve(host: str, port: int, timeout: float = DNS_TIMEOUT) -> str | None:
    """None when `host` resolves within `timeout` seconds, else why not (in Dutch). The lookup runs
    in a daemon thread, since getaddrinfo itself has no time limit."""
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=lookup, daemon=True, name=f"dns {host}")
    worker.start()
    worker.join(timeout)
    if not outcome:
        return f"de DNS geeft binnen {timeout:g} seconden geen antwoord voor {host}"
    if outcome[0] is not None:
        return f"de naam {host} is niet te vinden (DNS: {getattr(outcome[0], 'strerror', None) or outcome[0]})"
    return None


def _proxied(url: str) -> bool:
    """Whether a proxy from the environment carries this request (then the proxy resolves the name)."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    return bool(proxies.get(parts.scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(parts.hostname or "")


@dataclass
class Page:
    """One page of a list endpoint: its rows and where the next page is (None on the last)."""

    url: str
    rows: list[dict[str, Any]]
    next_url: str | None
    number: int  # 1-based
    context: str | None = None
    count: int | None = None  # `@odata.count` when the service sent it


@dataclass
class ClientStats:
    """What happened on the wire; handy in tests and for a summary line."""

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    waits: list[float] = field(default_factory=list)


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse a `Retry-After` header: delay in seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class ODataClient:
    """A small, patient client for the CBS OData v4 service.

    base_url: the service root, e.g. `https://datasets.cbs.nl/odata/v1` (default from settings).
    cache_dir: where responses are cached (None: no cache). use_cache: read from that cache.
    timeout: seconds for connect/read/write/pool. max_retries: retries per request after the
    first attempt. backoff: first wait in seconds, doubled per retry, capped at max_backoff;
    a `Retry-After` header overrides it, capped at max_retry_after.
    transport: an httpx transport (tests may pass one); sleep: replaces time.sleep (tests).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        cache_dir: str | Path | None = None,
        use_cache: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_retry_after: float = 300.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = CONNECT_TIMEOUT,
        dns_timeout: float = DNS_TIMEOUT,
        user_agent: str = "trendstudie (+https://github.com/; CBS open data client)",
        headers: dict[str, str] | None = None,
        service: str = "CBS",
    ):
        if base_url is None:
            from ..config import settings

            base_url = settings().cbs_url
        self.base_url = base_url.rstrip("/")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.use_cache = use_cache
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.service = service  # who answers, for error messages: "CBS", "Klimaatmonitor", …
        self.stats = ClientStats()
        self.dns_timeout = dns_timeout
        self._answered: set[str] = set()  # hosts that gave any HTTP answer: from then on errors are transient
        self._resolved: set[str] = set()
        self._settings = dict(timeout=timeout, max_retries=max_retries, backoff=backoff, max_backoff=max_backoff,
                              max_retry_after=max_retry_after, transport=transport, sleep=sleep,
                              user_agent=user_agent, connect_timeout=connect_timeout, dns_timeout=dns_timeout)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": user_agent, **(headers or {})},
            follow_redirects=True,
        )

    def sibling(self, base_url: str, *, service: str, headers: dict[str, str] | None = None) -> "ODataClient":
        """A client for another service with this one's patience (retries, time-outs, cache)."""
        return ODataClient(base_url, cache_dir=self.cache_dir, use_cache=self.use_cache, headers=headers,
                           service=service, **self._settings)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ODataClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addressing --------------------------------------------------------------------------
    def url(self, catalog: str, table_id: str, endpoint: str, params: dict[str, str] | None = None) -> str:
        """The full URL of an endpoint, with query parameters encoded as OData expects."""
        path = "/".join(quote(part, safe="") for part in (catalog, table_id, endpoint))
        url = f"{self.base_url}/{path}"
        if params:
            clean = {k: v for k, v in params.items() if v not in (None, "")}
            if clean:
                url += "?" + urlencode(clean, quote_via=quote, safe="$(),'")
        return url

    # -- the one place that talks to the network ---------------------------------------------
    def get_json(self, url: str, *, what: str = "", expect: str = "any") -> Any:
        """GET `url` and return its decoded JSON, retrying transient failures.

        what: a Dutch description of the request for error messages, e.g.
        "tabel 03759ned, Observations pagina 3". expect: "object" (a JSON object), "list" (an
        object with a `value` list) or "any"; an answer of another shape counts as a damaged
        response and is retried like truncated JSON.
        """
        cached = self._cache_read(url)
        if cached is not None and _shape_problem(cached, expect) is None:
            return cached

        def accept(content: bytes) -> tuple[Any, str | None]:
            try:
                data = json.loads(content)
            except (ValueError, UnicodeDecodeError) as exc:
                return None, f"onvolledige of ongeldige JSON ({exc})"
            return data, _shape_problem(data, expect)

        data, content = self._get(url, what, accept)
        self._cache_write(url, content)
        return data

    def get_bytes(self, url: str, *, what: str = "", check: Callable[[bytes], str | None] | None = None) -> bytes:
        """GET a file (a zip, a CSV) with the same retries; `check` returns a problem with the
        content (e.g. a zip cut short) that makes the download count as failed and be retried."""
        content, _ = self._get(url, what, lambda c: (c, check(c) if check else None))
        return content

    def _get(self, url: str, what: str, accept: Callable[[bytes], tuple[Any, str | None]]) -> tuple[Any, bytes]:
        """The one place that talks to the network: GET with retries on 429, 5xx, time-outs,
        connection errors and content that `accept` rejects; refusals (4xx) raise at once."""
        label = f"{what} ({url})" if what else url
        last_problem = ""
        attempts = self.max_retries + 1
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host and host not in self._resolved and self._uses_network() and not _proxied(url):
            problem = resolve(host, parts.port or (443 if parts.scheme == "https" else 80), self.dns_timeout)
            if problem:
                raise self._unreachable(problem, url, host)
            self._resolved.add(host)
        for attempt in range(attempts):
            wait: float | None = None
            try:
                self.stats.requests += 1
                response = self._http.get(url)
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and host not in self._answered:
                    raise self._unreachable(f"{host} neemt geen verbinding aan (time-out)", url, host) from None
                last_problem = f"time-out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                dns = _cause(exc, socket.gaierror)
                if dns is not None:  # never retried: a name that does not resolve will not start to
                    raise self._unreachable(f"de naam {host} is niet te vinden (DNS: {dns.strerror or dns})",
                                            url, host) from None
                refused = _cause(exc, OSError)
                if isinstance(exc, httpx.ConnectError) and host not in self._answered and (
                        refused is not None and refused.errno in _NO_ROUTE):
                    raise self._unreachable(f"{host} is niet bereikbaar ({refused.strerror or refused})",
                                            url, host) from None
                last_problem = f"verbindingsfout ({type(exc).__name__}: {exc})"
            else:
                self._answered.add(host)
                status = response.status_code
                if status in RETRY_STATUSES or 500 <= status < 600:
                    last_problem = f"HTTP {status}"
                    wait = _retry_after_seconds(response.headers.get("Retry-After"))
                    if wait is not None:
                        wait = min(wait, self.max_retry_after)
                elif status == 404:
                    hint = (" Controleer catalogus en tabel-id; tabel-id's zijn hoofdlettergevoelig "
                            "(bijv. '03759ned' naast '83625NED')." if self.service == "CBS" else "")
                    raise ODataError(f"Niet gevonden bij {self.service}: {label}.{hint}", url, status)
                elif status in (401, 403):
                    raise ODataError(
                        f"{self.service} weigert de toegang tot {label}: HTTP {status} "
                        f"(ontbrekende of ongeldige API-sleutel?): {_server_message(response)}", url, status)
                elif status >= 400:
                    raise ODataError(
                        f"{self.service} weigerde het verzoek {label}: HTTP {status}: {_server_message(response)}",
                        url,
                        status,
                    )
                else:
                    data, problem = accept(response.content)
                    if problem is None:
                        return data, response.content
                    last_problem = problem
            if attempt == attempts - 1:
                break
            self.stats.retries += 1
            if wait is None:
                wait = min(self.max_backoff, self.backoff * (2**attempt))
            self.stats.waits.append(wait)
            if wait > 0:
                self.sleep(wait)
        raise ODataError(
            f"{self.service} gaf geen geldig antwoord op {label} na {attempts} pogingen; laatste fout: {last_problem}.",
            url,
        )

    def _uses_network(self) -> bool:
        """False when a test hands in its own transport that answers without the network (a mock);
        an httpx.HTTPTransport (or a subclass) does use it."""
        transport = self._settings["transport"]
        return transport is None or isinstance(transport, httpx.HTTPTransport)

    def _unreachable(self, problem: str, url: str, host: str) -> Unreachable:
        return Unreachable(
            f"Geen verbinding met {self.service}: {problem}. Is er internet, en klopt het adres "
            f"{self.base_url} (--url of TRENDSTUDIE_CBS_URL)? Er is niets opnieuw geprobeerd; wat al "
            "binnen was blijft bewaard en een volgende `trendstudie sync` gaat daar verder.", url, host)

    # -- cache ------------------------------------------------------------------------------
    def _cache_path(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cache_read(self, url: str) -> Any:
        path = self._cache_path(url)
        if not self.use_cache or path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged cache entry is refetched, never trusted
        if not isinstance(entry, dict) or entry.get("url") != url or "body" not in entry:
            return None
        self.stats.cache_hits += 1
        return entry["body"]

    def _cache_write(self, url: str, content: bytes) -> None:
        path = self._cache_path(url)
        if path is None:
            return
        body = json.loads(content)
        entry = {"url": url, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "body": body}
        write_json(path, entry)

    # -- endpoints --------------------------------------------------------------------------
    def properties(self, catalog: str, table_id: str) -> dict[str, Any]:
        """`Properties`: one object. Checks that the service knows the table by exactly this id."""
        url = self.url(catalog, table_id, "Properties")
        data = self.get_json(url, what=f"tabel {table_id} (catalogus {catalog}), Properties", expect="object")
        if not isinstance(data, dict) or "value" in data and "Identifier" not in data:
            raise ODataError(f"Onverwacht antwoord op {url}: Properties is geen enkel object.", url)
        ident = data.get("Identifier")
        if ident is not None and ident != table_id:
            hint = " (alleen de hoofdletters verschillen)" if str(ident).lower() == table_id.lower() else ""
            raise ODataError(
                f"Tabel-id '{table_id}' in catalogus {catalog} komt niet overeen met wat CBS "
                f"teruggeeft: '{ident}'{hint}. Tabel-id's zijn hoofdlettergevoelig; gebruik '{ident}'. "
                f"URL: {url}",
                url,
            )
        return data

    def pages(self, url: str, *, what: str = "", first_number: int = 1) -> Iterator[Page]:
        """Every page of a list endpoint, starting at `url`, following `@odata.nextLink`."""
        number = first_number
        seen: set[str] = set()
        while url:
            if url in seen:
                raise ODataError(f"CBS stuurt een kringverwijzing in @odata.nextLink: {url}", url)
            seen.add(url)
            data = self.get_json(url, what=f"{what} pagina {number}".strip(), expect="list")
            rows = data.get("value") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise ODataError(f"Onverwacht antwoord op {what} pagina {number} ({url}): geen 'value'-lijst.", url)
            nxt = data.get("@odata.nextLink")
            next_url = urljoin(url, nxt) if nxt else None
            yield Page(url, rows, next_url, number, data.get("@odata.context"), data.get("@odata.count"))
            url = next_url or ""
            number += 1

    def list_endpoint(self, catalog: str, table_id: str, endpoint: str) -> dict[str, Any]:
        """A whole list endpoint as `{"@odata.context": …, "value": [all rows]}`."""
        rows: list[dict[str, Any]] = []
        context = None
        for page in self.pages(self.url(catalog, table_id, endpoint), what=f"tabel {table_id}, {endpoint}"):
            context = context or page.context
            rows.extend(page.rows)
        out: dict[str, Any] = {}
        if context:
            out["@odata.context"] = context
        out["value"] = rows
        return out

    def dimensions(self, catalog: str, table_id: str) -> list[dict[str, Any]]:
        return self.list_endpoint(catalog, table_id, "Dimensions")["value"]

    def measure_codes(self, catalog: str, table_id: str) -> list[dict[str, Any]]:
        return self.list_endpoint(catalog, table_id, "MeasureCodes")["value"]

    def dimension_codes(self, catalog: str, table_id: str, dimension: str) -> list[dict[str, Any]]:
        return self.list_endpoint(catalog, table_id, f"{dimension}Codes")["value"]

    def observations_url(
        self, catalog: str, table_id: str, filter: str | None = None, select: list[str] | None = None
    ) -> str:
        params: dict[str, str] = {}
        if filter:
            params["$filter"] = squash_filter(filter)
        if select:
            params["$select"] = ",".join(select)
        return self.url(catalog, table_id, "Observations", params)

    def observation_pages(
        self,
        catalog: str,
        table_id: str,
        filter: str | None = None,
        select: list[str] | None = None,
        *,
        start_url: str | None = None,
        first_number: int = 1,
    ) -> Iterator[Page]:
        """Observations page by page; `start_url` resumes at a saved `@odata.nextLink`."""
        url = start_url or self.observations_url(catalog, table_id, filter, select)
        return self.pages(url, what=f"tabel {table_id} (catalogus {catalog}), Observations", first_number=first_number)

    def observations(
        self, catalog: str, table_id: str, filter: str | None = None, select: list[str] | None = None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in self.observation_pages(catalog, table_id, filter, select):
            rows.extend(page.rows)
        return rows


def squash_filter(text: str) -> str:
    """Collapse runs of whitespace (YAML folding, indentation) outside string literals only:
    a literal such as 'GM0363    ' keeps its spaces. `''` (an escaped quote) toggles twice."""
    out: list[str] = []
    in_quote = False
    pending_space = False
    for ch in text:
        if ch == "'":
            in_quote = not in_quote
        elif not in_quote and ch.isspace():
            pending_space = True
            continue
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(ch)
    return "".join(out)


def _shape_problem(data: Any, expect: str) -> str | None:
    """Why a decoded answer is not what the endpoint returns, or None when it is."""
    if expect == "object" and not isinstance(data, dict):
        return "onverwacht antwoord (geen JSON-object)"
    if expect == "list" and not (isinstance(data, dict) and isinstance(data.get("value"), list)):
        return "onverwacht antwoord (geen 'value'-lijst)"
    if not isinstance(data, (dict, list)):
        return "ongeldige JSON (geen object)"
    return None


def _server_message(response: httpx.Response) -> str:
    """The error text an OData service puts in its body, shortened."""
    try:
        data = response.json()
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message", err) if isinstance(err, dict) else err
        text = msg if isinstance(msg, str) else json.dumps(msg, ensure_ascii=False)
    except ValueError:
        text = response.text
    text = " ".join(text.split())
    return text[:300] or "(geen toelichting)"
