"""Request bodies are bounded before they are parsed: a real HTTPS ``coordinator run``
given 100 MB bodies (declared and chunked, without logging in) answers 413 while its
resident memory stays flat, and the upload routes keep their larger limit."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from tests.harness.api import bearer, login
from tests.harness.https_centre import PASSWORD, Centre, https_centre

MB = 1 << 20
#: Memory the server may gain while refusing 100 MB (the old code grew by ~270 MB).
RSS_SLACK_KIB = 24 * 1024


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    """An HTTPS coordinator with a population officer and a dispatcher."""
    users = {"officer-lim": "population_officer", "geo-lim": "dispatcher"}
    with https_centre(tmp_path_factory.mktemp("limits"), users) as (c, _env):
        yield c


def _tls(c: Centre) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", c.port), timeout=30)
    return c.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")


def _answer(s: ssl.SSLSocket) -> bytes:
    """What the server said before it closed (or 8 KiB of it)."""
    got = b""
    try:
        while len(got) < 8192 and b"\r\n\r\n" not in got:
            chunk = s.recv(8192)
            if not chunk:
                break
            got += chunk
    except (ConnectionError, ssl.SSLError, TimeoutError):
        pass
    return got


def _push(s: ssl.SSLSocket, total: int, chunked: bool) -> int:
    """Send up to ``total`` body bytes until the server stops reading; returns bytes sent."""
    block = b"x" * (256 * 1024)
    sent = 0
    s.settimeout(5)
    try:
        while sent < total:
            if chunked:
                s.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
            else:
                s.sendall(block)
            sent += len(block)
    except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
        pass
    return sent


def test_a_declared_100mb_body_is_refused_before_a_byte_is_read(centre, attack):
    """Tried: an unauthenticated POST /api/auth/login declaring Content-Length 100 MB, then
    pushing the 100 MB. Expected: 413 at once (after the headers alone), the connection
    closed, and the server's RSS grows by less than 24 MiB."""
    before = centre.rss_kib()
    with _tls(centre) as s:
        s.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (100 * MB)
        )
        head = _answer(s)
        assert head.startswith(b"HTTP/1.1 413"), head[:200]
        assert b"connection: close" in head.lower()
        sent = _push(s, 100 * MB, chunked=False)
    assert sent < 100 * MB  # the server stopped taking it
    grew = centre.rss_kib() - before
    assert grew < RSS_SLACK_KIB
    attack("http.body-limit").observed(
        f"declared 100 MB: 413 after the headers, connection closed after {sent / MB:.1f} MB "
        f"pushed, RSS +{grew / 1024:.1f} MiB"
    )


def test_a_chunked_100mb_body_is_cut_off_at_the_limit(centre, attack):
    """Tried: the same 100 MB sent chunked (no length to check up front) to the population
    import route, whose larger upload limit is only for a signed-in caller, without a
    token. Expected: the body is counted as it streams and refused with 413 once past the
    default limit; RSS stays flat."""
    before = centre.rss_kib()
    with _tls(centre) as s:
        s.sendall(
            b"POST /api/population/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = _push(s, 100 * MB, chunked=True)
        head = _answer(s)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert sent < 100 * MB
    grew = centre.rss_kib() - before
    assert grew < RSS_SLACK_KIB
    attack("http.body-limit").observed(
        f"chunked 100 MB: 413 after {sent / MB:.1f} MB streamed, RSS +{grew / 1024:.1f} MiB"
    )


def test_most_routes_take_one_mebibyte_the_upload_routes_more(centre):
    """Tried: a 2 MiB JSON body on the login route; a 2 MiB CSV on the population import
    without a token, with a forged one, and signed in. Expected: 413 for the login and for
    the import without a valid session; signed in, the import accepts the size and answers
    with its own verdict (not 413)."""
    with centre.client() as http:
        r = http.post("/api/auth/login", content=b"{" + b" " * (2 * MB) + b"}",
                      headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 413 and "over 1048576 bytes" in r.json()["detail"]
        tok = login(http, "officer-lim", PASSWORD)  # with the officer's second factor
        csv = b"name,id_number\n" + b"x" * (2 * MB)
        for headers in ({}, bearer("forged-token")):
            r = http.post("/api/population/import", content=csv, headers=headers)
            assert r.status_code == 413, r.text
        r = http.post(
            "/api/population/import",
            content=csv,
            headers={**bearer(tok), "Content-Type": "text/csv", "X-Purpose": "limit test"},
        )
        assert r.status_code != 413, r.text


def test_a_malformed_content_length_is_refused(centre):
    """Tried: Content-Length: 12abc. Expected: 400 from the guard (not a parse of garbage)."""
    with _tls(centre) as s:
        s.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12abc\r\n\r\n"
        )
        head = _answer(s)
    assert head.startswith(b"HTTP/1.1 400"), head[:200]


def test_many_refused_bodies_do_not_accumulate(centre):
    """Tried: twenty 8 MiB chunked bodies in a row. Expected: each refused, RSS flat."""
    before = centre.rss_kib()
    t0 = time.monotonic()
    for _ in range(20):
        with _tls(centre) as s:
            s.sendall(
                b"POST /api/incidents/x/annotate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            _push(s, 8 * MB, chunked=True)
            assert _answer(s).startswith(b"HTTP/1.1 413")
    assert time.monotonic() - t0 < 120
    assert centre.rss_kib() - before < RSS_SLACK_KIB
