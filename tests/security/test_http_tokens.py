"""Tokens never travel in URLs: a real HTTPS ``coordinator run`` refuses ``?access_token=``
on every route, and the live stream opens only with a single-use, short-lived ticket bound
to the session that minted it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.harness.api import bearer
from tests.harness.https_centre import PASSWORD, Centre, https_centre

USERS = {"op-tok": "operator", "officer-tok": "population_officer", "shop-tok": "merchant"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    """An HTTPS coordinator."""
    with https_centre(tmp_path_factory.mktemp("tokens"), USERS) as (c, _env):
        yield c


def _token(c: Centre, user: str) -> str:
    with c.client() as http:
        r = http.post("/api/auth/login", json={"username": user, "password": PASSWORD})
        return r.json()["access_token"]


def _get_paths(c: Centre) -> list[str]:
    with c.client() as http:
        doc = http.get("/openapi.json").json()
    return sorted(
        re.sub(r"\{[^}]+\}", "1", path) for path, ops in doc["paths"].items() if "get" in ops
    )


def test_a_token_in_the_query_is_refused_on_every_route(centre):
    """Tried: every GET route of the OpenAPI document that needs a login, called with a
    valid officer's token as ?access_token= (the full-ID export URL among them), and once
    with the header as well. Expected: 401 saying a token in the URL is refused, every time;
    never the data."""
    tok = _token(centre, "officer-tok")
    checked = 0
    with centre.client() as http:
        for path in _get_paths(centre):
            if http.get(path, headers={"X-Purpose": "query token test"}).status_code != 401:
                continue  # public (health, published warnings): no login to carry
            for headers in ({}, bearer(tok)):
                r = http.get(path, params={"access_token": tok},
                             headers={**headers, "X-Purpose": "query token test"})  # fmt: skip
                assert r.status_code == 401, (path, r.status_code, r.text[:200])
                assert "token in the URL is refused" in r.json()["detail"], path
            checked += 1
    assert checked >= 50


def _stream(http, ticket: str):  # noqa: ANN001, ANN202
    return http.stream("GET", "/api/incidents-stream", params={"ticket": ticket, "max_s": 1})


def test_a_stream_ticket_opens_the_stream_once(centre):
    """Tried: mint a ticket, open the stream with it, then open it again with the same one.
    Expected: the first opens (200, the stream's first line), the second is 401."""
    tok = _token(centre, "op-tok")
    with centre.client() as http:
        t = http.post("/api/incidents-stream/tickets", headers=bearer(tok)).json()
        assert t["ticket"].startswith("cwt_") and t["expires_at"] - time.time() <= 61
        with _stream(http, t["ticket"]) as r:
            assert r.status_code == 200
            assert next(r.iter_lines()) == ": connected"
        with _stream(http, t["ticket"]) as again:
            assert again.status_code == 401


def test_a_ticket_dies_with_its_session_and_opens_nothing_else(centre):
    """Tried: mint a ticket, log out, then use it; use a fresh ticket on another route; a
    forged ticket. Expected: 401 each time (the ticket is bound to the session and only
    opens the stream)."""
    tok = _token(centre, "op-tok")
    with centre.client() as http:
        t = http.post("/api/incidents-stream/tickets", headers=bearer(tok)).json()["ticket"]
        assert http.post("/api/auth/logout", headers=bearer(tok)).status_code == 204
        with _stream(http, t) as r:
            assert r.status_code == 401
        tok = _token(centre, "op-tok")
        t = http.post("/api/incidents-stream/tickets", headers=bearer(tok)).json()["ticket"]
        assert http.get("/api/auth/me", params={"ticket": t}).status_code == 401
        assert http.get("/api/incidents", params={"ticket": t}).status_code == 401
        with _stream(http, "cwt_" + "A" * 32) as r:
            assert r.status_code == 401


def test_only_a_user_who_may_read_incidents_gets_a_ticket(centre):
    """Tried: a merchant asks for a stream ticket. Expected: 403, no ticket."""
    with centre.client() as http:
        r = http.post("/api/incidents-stream/tickets", headers=bearer(_token(centre, "shop-tok")))
    assert r.status_code == 403 and "ticket" not in r.json()


def test_an_expired_ticket_is_refused(tmp_path):
    """Tried: redeem a ticket after its lifetime (the clock moved past expires_at).
    Expected: refused, with a message asking for a new one."""
    from coordinator.bootstrap import open_services
    from coordinator.identity.auth import AuthError
    from coordinator.settings import Settings

    services = open_services(
        Settings.for_dev(tmp_path / "c", argon2_memory_kib=4096, argon2_time_cost=1)
    )
    try:
        services.auth.create_user("op-exp", PASSWORD, ["operator"])
        tok, _exp, who = services.auth.login("op-exp", PASSWORD)
        t = services.tickets.mint(tok, who)
        services.db.execute_write("update stream_tickets set expires_at = ?", [time.time() - 1])
        with pytest.raises(AuthError, match="ask for a new one"):
            services.tickets.redeem(t.ticket)
    finally:
        services.close()
