"""The HTTP guard: request-body limits before parsing, and security headers on every answer.

One pure ASGI middleware, outside FastAPI's routing, so it costs one header scan per
request and sees every answer (errors, static files, the live stream):

- **Body limits.** A request whose ``Content-Length`` is over its route's limit is answered
  413 before one byte of the body is read; a body without a length (chunked) is counted as
  it streams and refused the moment it passes the limit. The application then sees the
  client as gone, so nothing buffers the rest. Most routes take ``max_body_bytes`` (1 MiB);
  the upload routes (:data:`UPLOAD_ROUTES`) take ``max_upload_bytes`` and keep their own
  checks inside, but only for a caller with a valid session: FastAPI reads a body before
  it checks who sent it, so without this an anonymous client could make the server hold
  a whole upload in memory.
- **Tokens in URLs.** A request with ``?access_token=`` is refused (401) on every route:
  the live stream takes a single-use ticket instead (``identity/tickets.py``).
- **Headers.** A Content-Security-Policy that lets the dashboard load scripts, styles and
  connections from this origin only (no inline script or style, no framing),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, a Permissions-Policy
  (geolocation for this origin, no camera or microphone), HSTS when the API is reached over
  HTTPS, and ``Cache-Control: no-store`` on every API answer that does not set its own:
  answers carry personal data, and a shared computer's browser cache must not keep them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import anyio

from ..settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Routes that take whole files, with the larger ``max_upload_bytes`` limit.
UPLOAD_ROUTES = frozenset(
    {
        ("POST", "/api/population/import"),  # population CSV (the CLI takes larger files)
        ("PUT", "/api/geo/roads"),  # the city's road network (GeoJSON)
        ("PUT", "/api/geo/zones"),  # patrol zones and monitoring-centre areas (GeoJSON)
        ("POST", "/api/fraud/attachments"),  # a tip's file (its own 10 MB cap after parsing)
    }
)
#: Upload routes with path parameters (same larger limit; the route checks its own cap).
UPLOAD_PATTERNS = (
    ("PUT", re.compile(r"/api/hall/cases/\d+/documents/[a-z_]+")),  # a hall case's scans
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"


def security_headers(hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries (HSTS only when clients come over HTTPS)."""
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", b"geolocation=(self), camera=(), microphone=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


#: The answer to a bearer token in a URL (URLs end up in logs, history and Referer).
TOKEN_IN_URL = (
    "a token in the URL is refused: send it as 'Authorization: Bearer', or open the live "
    "stream with a ticket from POST /api/incidents-stream/tickets"
)


def token_in_query(query_string: bytes) -> bool:
    """True when the query string has an ``access_token`` parameter (any value)."""
    if b"access_token" not in query_string:
        return False
    return any(k == "access_token" for k, _ in parse_qsl(query_string.decode("latin-1"), True))


def _declared_length(scope: Scope) -> int | None | str:
    """The ``Content-Length`` of the request, None without one, 'bad' when malformed."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else "bad"
    return None


async def _answer(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not read: the connection cannot be reused.
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HttpGuard:
    """ASGI middleware: body limits before parsing and security headers (module doc)."""

    def __init__(
        self, app: ASGIApp, settings: Settings, signed_in: Callable[[str], bool] | None = None
    ) -> None:
        self.app = app
        self.signed_in = signed_in or (lambda token: False)
        self.default_limit = settings.max_body_bytes
        self.upload_limit = settings.max_upload_bytes
        hsts = settings.serves_tls or (settings.public_url or "").startswith("https://")
        self.headers = security_headers(hsts)
        self._names = {n for n, _ in self.headers}

    def is_upload(self, method: str, path: str) -> bool:
        """True for the routes that take whole files (the larger limit)."""
        path = path.rstrip("/")
        return (method, path) in UPLOAD_ROUTES or any(
            m == method and p.fullmatch(path) for m, p in UPLOAD_PATTERNS
        )

    async def limit_for(self, scope: Scope) -> int:
        """The largest body this request may send: the upload limit on an upload route for
        a caller with a valid session, the default limit otherwise."""
        if not self.is_upload(scope["method"], scope["path"]):
            return self.default_limit
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    # A session lookup is one indexed read; off the event loop all the same.
                    ok = await anyio.to_thread.run_sync(self.signed_in, token.strip())
                    return self.upload_limit if ok else self.default_limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if token_in_query(scope.get("query_string", b"")):
            # Refused on every route, public ones included: the token is already in a log.
            await _answer(
                send, 401, TOKEN_IN_URL, [*self.headers, (b"www-authenticate", b"Bearer")]
            )
            return
        limit = await self.limit_for(scope)
        declared = _declared_length(scope)
        if declared == "bad":
            await _answer(send, 400, "malformed Content-Length", self.headers)
            return
        if isinstance(declared, int) and declared > limit:
            await _answer(send, 413, f"request body over {limit} bytes", self.headers)
            return
        await self._guarded(scope, receive, send, limit)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app, counting the body as it streams and adding the headers."""
        state = {"received": 0, "refused": False, "started": False}
        api = scope["path"].startswith("/api/")

        async def counted() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        state["started"] = True
                        await _answer(send, 413, f"request body over {limit} bytes", self.headers)
                    # The app sees a client that left: it stops reading and buffers nothing.
                    return {"type": "http.disconnect"}
            return message

        async def headed(message: Message) -> None:
            if state["refused"]:
                return  # the app's own answer to a refused body is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
                message["headers"] = self._with_headers(message.get("headers", []), api)
            await send(message)

        try:
            await self.app(scope, counted, headed)
        except Exception:
            if not state["refused"]:
                raise  # a refused body's aftermath in the app is expected; anything else is not

    def _with_headers(self, headers: Any, api: bool) -> list[tuple[bytes, bytes]]:
        out = [(n, v) for n, v in headers if n.lower() not in self._names]
        out.extend(self.headers)
        if api and not any(n.lower() == b"cache-control" for n, _ in out):
            out.append((b"cache-control", b"no-store"))
        return out
