"""What every answer of a real HTTPS ``coordinator run`` says about itself: security
headers (on errors and refusals too), no caching of API answers, absolute links from the
configured public URL whatever Host a client forges, and /metrics closed by default."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.harness.api import bearer
from tests.harness.https_centre import PASSWORD, SCRAPE_TOKEN, Centre, https_centre

PUBLIC = "https://centre.yiwu.example"
USERS = {"op-hdr": "operator", "officer-hdr": "population_officer", "shop-hdr": "merchant"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    """An HTTPS coordinator with a public URL and a metrics scrape token."""
    work = tmp_path_factory.mktemp("headers")
    with https_centre(work, USERS, public_url=PUBLIC, metrics_token=SCRAPE_TOKEN) as (c, _env):
        yield c


@pytest.fixture(scope="module")
def tokens(centre: Centre) -> dict[str, str]:
    """A bearer token per user."""
    with centre.client() as http:
        return {
            u: http.post("/api/auth/login", json={"username": u, "password": PASSWORD}).json()[
                "access_token"
            ]
            for u in USERS
        }


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("GET", "/ui/", 200),
        ("GET", "/ui/js/app.js", 200),
        ("GET", "/api/health", 200),
        ("GET", "/api/no-such-route", 404),
        ("GET", "/api/auth/me", 401),
        ("POST", "/api/auth/login", 422),
    ],
)
def test_every_answer_carries_the_security_headers(centre, method, path, status):
    """Tried: a page, a script, an API answer, a 404, a 401 and a 422.
    Expected: each has the CSP (scripts and styles from this origin only, no framing),
    X-Frame-Options DENY, nosniff, no-referrer and HSTS (served over HTTPS)."""
    with centre.client() as http:
        r = http.request(method, path, json={} if method == "POST" else None)
    assert r.status_code == status
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["strict-transport-security"] == "max-age=31536000"


def test_answers_with_personal_data_are_never_cached(centre, tokens):
    """Tried: a population search (personal data) and a refusal of one.
    Expected: both say Cache-Control: no-store, so no browser or proxy keeps them."""
    h = {**bearer(tokens["officer-hdr"]), "X-Purpose": "header test"}
    with centre.client() as http:
        r = http.get("/api/population/persons/search", params={"name": "Wang"}, headers=h)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        denied = http.get("/api/population/persons/search", params={"name": "Wang"},
                          headers={**bearer(tokens["op-hdr"]), "X-Purpose": "x-test"})  # fmt: skip
        assert denied.status_code == 403 and denied.headers["cache-control"] == "no-store"


def test_a_forged_host_header_does_not_move_the_feeds_links(centre):
    """Tried: fetch the public Atom feed with Host: evil.example (and X-Forwarded-Host).
    Expected: the feed's own link and every entry's link start with the configured
    public URL; evil.example appears nowhere."""
    with centre.client() as http:
        r = http.get(
            "/api/fraud/public/warnings.atom",
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        )
    assert r.status_code == 200 and b"evil.example" not in r.content
    root = ET.fromstring(r.content)
    links = [e.get("href") for e in root.iter("{http://www.w3.org/2005/Atom}link")]
    ids = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}id")]
    assert links and all(h.startswith(PUBLIC + "/api/fraud/public/") for h in links)
    assert ids and all("evil" not in (i or "") for i in ids)


@pytest.mark.parametrize(
    "who,status",
    [
        (None, 401),
        ("forged", 401),
        ("scrape", 200),
        ("op-hdr", 200),
        ("shop-hdr", 403),
    ],
)
def test_metrics_need_a_user_who_reads_events_or_the_scrape_token(centre, tokens, who, status):
    """Tried: /metrics anonymously, with a forged token, with the scrape token, as an
    operator and as a merchant. Expected: only the scrape token and the operator read it."""
    headers = {}
    if who == "forged":
        headers = bearer("not-a-token")
    elif who == "scrape":
        headers = bearer(SCRAPE_TOKEN)
    elif who:
        headers = bearer(tokens[who])
    with centre.client() as http:
        r = http.get("/metrics", headers=headers)
    assert r.status_code == status
    if status == 200:
        assert "citywatch_events_stored_total" in r.text


def test_metrics_are_open_only_when_configured_open(tmp_path):
    """Tried: /metrics anonymously on a centre configured with metrics_open.
    Expected: 200 (the explicit choice of an operator whose scraper cannot send a token)."""
    from fastapi.testclient import TestClient

    from coordinator.app import create_app
    from coordinator.bootstrap import open_services
    from coordinator.settings import Settings

    services = open_services(Settings.for_dev(tmp_path / "c", metrics_open=True))
    try:
        with TestClient(create_app(services)) as api:
            assert api.get("/metrics").status_code == 200
    finally:
        services.close()
