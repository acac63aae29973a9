"""Helpers for calling the coordinator's HTTP API in tests."""

from __future__ import annotations

from typing import Any

from devtools.totp_codes import next_code, seeded_secret

#: The password of every user the coordinator fixtures create.
PASSWORD = "password-for-tests"

__all__ = ["PASSWORD", "bearer", "login", "login_answer", "seeded_secret"]


def bearer(token: str) -> dict[str, str]:
    """Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def login_answer(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Log in through the API as the dashboard does: the password, then, when the account
    asks for its second factor, a code from its seeded secret — or, on an account that has
    none yet (an upgraded installation), the enrolment and a code from the new secret. The
    last HTTP response."""
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    step = r.json().get("second_factor") if r.status_code == 200 else None
    if step is None:
        return r
    challenge = r.json()["challenge"]
    secret = None
    if step == "totp_enrol":
        e = client.post("/api/auth/totp/enrol", json={"challenge": challenge})
        assert e.status_code == 200, e.text
        secret = e.json()["secret"]
    code = next_code(username, where(client), secret)
    return client.post("/api/auth/login/totp", json={"challenge": challenge, "code": code})


def where(client: Any) -> str:
    """Which coordinator a client talks to (codes are used once per account and database)."""
    app = getattr(client, "app", None)
    services = getattr(getattr(app, "state", None), "services", None)
    if services is not None:
        return str(services.settings.db_path)
    return str(getattr(client, "base_url", "")).rstrip("/")


def login(client: Any, username: str, password: str = PASSWORD) -> str:
    """Log in (second factor from the seeded secret) and return the bearer token."""
    r = login_answer(client, username, password)
    assert r.status_code == 200 and r.json().get("access_token"), r.text
    return r.json()["access_token"]
