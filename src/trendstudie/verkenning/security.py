"""CSRF tokens, login cookies and rate limiting for the verkenning's web pages.

CSRF: double submit. A random cookie (HttpOnly, SameSite=Strict) and a hidden form field that
must equal HMAC(secret, cookie); a page of another site can neither read the cookie nor forge the
field. Logins (a facilitator's optional password) are a cookie HMAC(secret, verkenning) that
lives as long as the browser session. Rate limits are per process, in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

CSRF_COOKIE = "vk_csrf"
LOGIN_COOKIE = "vk_beheer"


def sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def csrf_field(secret: bytes, cookie: str) -> str:
    return sign(secret, "csrf:" + cookie)


def csrf_ok(secret: bytes, cookie: str | None, field: str | None) -> bool:
    if not cookie or not field:
        return False
    return hmac.compare_digest(csrf_field(secret, cookie), field)


def login_value(secret: bytes, facilitator_hash: str) -> str:
    return sign(secret, "login:" + facilitator_hash)


def login_ok(secret: bytes, facilitator_hash: str, cookie: str | None) -> bool:
    return bool(cookie) and hmac.compare_digest(login_value(secret, facilitator_hash), cookie)


class RateLimiter:
    """At most `limit` failures per key within `window` seconds; after that the key is refused
    until its oldest failure leaves the window."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque:
        q = self._hits.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._trim(key, self.clock())) >= self.limit

    def fail(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._trim(key, now).append(now)
            if len(self._hits) > 100_000:  # keep memory bounded under a flood of keys
                for k in [k for k, q in self._hits.items() if not q][:50_000]:
                    del self._hits[k]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
