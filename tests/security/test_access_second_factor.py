"""Attacks on the second factor of the accounts that read personal data (TOTP, RFC 6238).

Before, a password alone opened a population officer's session.
"""

from __future__ import annotations

import time

import pytest

from coordinator.errors import Unauthenticated
from coordinator.identity import totp
from tests.harness.access import access_city
from tests.harness.api import PASSWORD, login_answer, seeded_secret


@pytest.fixture
def city(tmp_path):
    with access_city(tmp_path / "coord") as c:
        yield c


def _password_step(city, name):
    r = city.client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def test_password_alone_gives_no_session(city):
    """An officer's password without a code → a challenge and no token; an operator (no
    personal data) still logs in with the password alone."""
    out = _password_step(city, "officer-a")
    assert out["access_token"] is None and out["second_factor"] == "totp"
    assert out["permissions"] == []
    assert _password_step(city, "operator")["access_token"]


def test_wrong_codes_burn_the_challenge(city):
    """Five wrong codes on one challenge → the sixth try, even with the right code, is
    refused (the address is slowed down, 429, and the challenge itself is burnt: the code
    opens nothing even where the address is not throttled): sign in again."""
    ch = _password_step(city, "officer-a")["challenge"]
    for _ in range(5):
        r = city.client.post("/api/auth/login/totp", json={"challenge": ch, "code": "000000"})
        assert r.status_code == 401
    good = totp.code_at(seeded_secret("officer-a"), time.time())
    r = city.client.post("/api/auth/login/totp", json={"challenge": ch, "code": good})
    assert r.status_code in (401, 429)
    with pytest.raises(Unauthenticated):
        city.services.auth.complete_login(ch, good)


def test_a_code_is_accepted_once(city):
    """The same valid code used for two logins → the second is refused (401)."""
    code = totp.code_at(seeded_secret("officer-a"), time.time())
    first = _password_step(city, "officer-a")["challenge"]
    r = city.client.post("/api/auth/login/totp", json={"challenge": first, "code": code})
    assert r.status_code == 200 and r.json()["access_token"]
    again = _password_step(city, "officer-a")["challenge"]
    r = city.client.post("/api/auth/login/totp", json={"challenge": again, "code": code})
    assert r.status_code == 401


def test_first_login_enrols_and_the_secret_is_shown_once(city):
    """A new officer's first login → enrolment: a secret and an otpauth URI; a code from it
    completes the login; a later login cannot ask for the secret again (401)."""
    city.services.auth.create_user("officer-new", PASSWORD, ["population_officer"], zones=["Z01"])
    out = _password_step(city, "officer-new")
    assert out["second_factor"] == "totp_enrol"
    e = city.client.post("/api/auth/totp/enrol", json={"challenge": out["challenge"]}).json()
    assert e["otpauth_uri"].startswith("otpauth://totp/CityWatch%3Aofficer-new?secret=")
    code = totp.code_at(e["secret"], time.time())
    r = city.client.post("/api/auth/login/totp", json={"challenge": out["challenge"], "code": code})
    assert r.status_code == 200 and r.json()["access_token"]
    later = _password_step(city, "officer-new")
    assert later["second_factor"] == "totp"
    r = city.client.post("/api/auth/totp/enrol", json={"challenge": later["challenge"]})
    assert r.status_code == 401
    row = city.services.db.query("select totp_secret from users where username = 'officer-new'")
    assert e["secret"] not in row[0]["totp_secret"]  # encrypted at rest


def test_admin_resets_a_lost_authenticator(city):
    """Admin-1 resets officer-a's second factor → audited, officer-a's session ends, the
    next login enrols a new authenticator."""
    h = {"Authorization": f"Bearer {login_answer(city.client, 'officer-a').json()['access_token']}"}
    r = city.client.post(
        f"/api/users/{city.ids['officer-a']}/second-factor/reset",
        headers=city.login("admin-1"), json={"reason": "phone lost on patrol"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["second_factor"] == "not_enrolled"
    assert city.client.get("/api/auth/me", headers=h).status_code == 401
    assert _password_step(city, "officer-a")["second_factor"] == "totp_enrol"
    assert city.audit("reset_second_factor", "admin-1")
