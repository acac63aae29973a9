"""Attacks on staff administration: one administrator alone, disabled and expired accounts,
sessions that outlive a password change, through the real API.

Before this, the administrator (denied personal data) created an all-zone officer that
exported everyone, minted a second investigator to defeat the fraud desk's two-person rule,
and no route disabled a user, changed a password or ended sessions.
"""

from __future__ import annotations

import time

import pytest

from tests.harness.access import access_city
from tests.harness.api import PASSWORD, login_answer

ALL_ZONES = [f"Z{n:02d}" for n in range(1, 21)]


@pytest.fixture
def city(tmp_path):
    with access_city(tmp_path / "coord") as c:
        yield c


def _create(city, who, **body):
    return city.client.post("/api/users", headers=city.login(who), json=body)


def test_admin_alone_cannot_create_an_all_zone_officer(city):
    """Admin-1 creates an all-zone population officer → 202 pending; the account cannot log
    in and exports nothing until a second administrator approves; then it can."""
    r = _create(city, "admin-1", username="officer-all", password=PASSWORD,
                roles=["population_officer"], zones=ALL_ZONES,
                reason="district-wide data quality review for the bureau")  # fmt: skip
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "pending_approval"
    assert login_answer(city.client, "officer-all").status_code == 401
    # Admin-1 cannot approve their own request.
    rid = r.json()["request"]
    own = city.client.post(f"/api/approvals/{rid}/approve", headers=city.login("admin-1"), json={})
    assert own.status_code == 403
    assert login_answer(city.client, "officer-all").status_code == 401
    ok = city.client.post(f"/api/approvals/{rid}/approve", headers=city.login("admin-2"), json={})
    assert ok.status_code == 200, ok.text
    # Now it exists; its first login must enrol a second factor (a challenge, no token yet).
    first = city.client.post(
        "/api/auth/login", json={"username": "officer-all", "password": PASSWORD}
    )
    assert first.status_code == 200 and first.json()["second_factor"] == "totp_enrol"
    assert first.json()["access_token"] is None


def test_admin_cannot_mint_a_second_investigator_alone(city):
    """Admin-1 creates a second fraud investigator to approve their own warning change →
    pending; the new account cannot log in, so the desk's two-person rule still needs two
    real investigators."""
    r = _create(city, "admin-1", username="inv-sock", password=PASSWORD,
                roles=["fraud_investigator"], reason="second investigator for the night desk")  # fmt: skip
    assert r.status_code == 202
    assert login_answer(city.client, "inv-sock").status_code == 401
    pending = city.client.get("/api/approvals", headers=city.login("admin-2"),
                              params={"state": "pending"}).json()  # fmt: skip
    assert [p["id"] for p in pending] == [r.json()["request"]]
    assert pending[0]["can_decide"] is True


def test_admin_cannot_mint_an_admin_alone(city):
    """Admin-1 creates a third administrator (who could then approve admin-1's requests) →
    pending until admin-2 approves."""
    r = _create(city, "admin-1", username="admin-sock", password=PASSWORD, roles=["admin"],
                reason="extra administrator for the weekend shift")  # fmt: skip
    assert r.status_code == 202
    assert login_answer(city.client, "admin-sock").status_code == 401


def test_admin_cannot_add_personal_data_access_alone(city):
    """Admin-1 gives an operator the population-officer role, or gives officer-a more zones
    → 202 pending; the operator still gets 403 on population routes until admin-2 approves;
    the beneficiary can never approve their own grant."""
    op = city.ids["operator"]
    r = city.client.post(
        f"/api/users/{op}/access", headers=city.login("admin-1"),
        json={"add_roles": ["population_officer"], "add_zones": ["Z01"],
              "reason": "moves to the counter team at Beiyuan"},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    h = city.login("operator")
    assert city.client.get("/api/population/persons/search", headers=h).status_code == 403
    z = city.client.post(
        f"/api/users/{city.ids['officer-a']}/access", headers=city.login("admin-1"),
        json={"add_zones": ALL_ZONES, "reason": "covering every station this week"},
    )  # fmt: skip
    assert z.status_code == 202
    approve = city.client.post(
        f"/api/approvals/{r.json()['request']}/approve", headers=city.login("admin-2"), json={}
    )
    assert approve.status_code == 200
    # The grant ended the operator's sessions: the next login needs a second factor.
    assert city.client.get("/api/auth/me", headers=h).status_code == 401
    again = city.client.post("/api/auth/login", json={"username": "operator", "password": PASSWORD})
    assert again.json()["second_factor"] == "totp" and again.json()["access_token"] is None


def test_taking_access_away_never_waits(city):
    """Admin-1 removes officer-a's population role and zone → applied at once (200)."""
    oid = city.ids["officer-a"]
    r = city.client.post(
        f"/api/users/{oid}/access", headers=city.login("admin-1"),
        json={"add_roles": ["operator"], "remove_roles": ["population_officer"],
              "remove_zones": ["Z01"]},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "applied"
    assert city.services.staff.user(oid)["role_list"] == ["operator"]


def test_disabled_users_token_is_refused(city):
    """Admin-1 disables officer-a while officer-a holds a token → the token gets 401 at
    once, and a new login fails."""
    h = city.login("officer-a")
    assert city.client.get("/api/auth/me", headers=h).status_code == 200
    r = city.client.post(
        f"/api/users/{city.ids['officer-a']}/disable", headers=city.login("admin-1"),
        json={"reason": "left the bureau"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "disabled"
    assert city.client.get("/api/auth/me", headers=h).status_code == 401
    assert login_answer(city.client, "officer-a").status_code == 401
    assert city.audit("disable_user", "admin-1")


def test_new_password_ends_every_session(city):
    """Admin-1 sets a new password for the operator, who has two sessions → both get 401;
    the old password fails, the new one works."""
    s1, s2 = city.login("operator"), city.login("operator")
    r = city.client.post(
        f"/api/users/{city.ids['operator']}/password", headers=city.login("admin-1"),
        json={"password": "a-new-password-2026"},
    )  # fmt: skip
    assert r.status_code == 200
    for h in (s1, s2):
        assert city.client.get("/api/auth/me", headers=h).status_code == 401
    assert login_answer(city.client, "operator").status_code == 401
    assert login_answer(city.client, "operator", "a-new-password-2026").status_code == 200


def test_expired_account_stops_working(city):
    """Admin-1 sets the operator's account to expire a second ago → the live token gets 401
    and a login is refused."""
    h = city.login("operator")
    r = city.client.post(
        f"/api/users/{city.ids['operator']}/expiry", headers=city.login("admin-1"),
        json={"expires_at": time.time() - 1},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "expired"
    assert city.client.get("/api/auth/me", headers=h).status_code == 401
    assert login_answer(city.client, "operator").status_code == 401


def test_end_sessions(city):
    """Admin-1 ends the operator's sessions → the token gets 401; a new login works."""
    h = city.login("operator")
    r = city.client.post(
        f"/api/users/{city.ids['operator']}/end-sessions", headers=city.login("admin-1"),
        json={"reason": "laptop left in a taxi"},
    )  # fmt: skip
    assert r.status_code == 200
    assert city.client.get("/api/auth/me", headers=h).status_code == 401
    assert login_answer(city.client, "operator").status_code == 200


def test_the_last_administrator_cannot_be_disabled(city):
    """Admin-1 disables admin-2, then tries to disable themselves → 403 (own account); the
    host cannot disable the last active administrator either (409)."""
    a1 = city.login("admin-1")
    r = city.client.post(f"/api/users/{city.ids['admin-2']}/disable", headers=a1,
                         json={"reason": "on leave"})  # fmt: skip
    assert r.status_code == 200
    me = city.client.post(f"/api/users/{city.ids['admin-1']}/disable", headers=a1,
                          json={"reason": "testing"})  # fmt: skip
    assert me.status_code == 403
    from coordinator.errors import Conflict

    with pytest.raises(Conflict):
        city.services.staff.disable("host:root", city.ids["admin-1"], "testing")


def test_admin_does_not_read_the_audit_log(city):
    """The administrator reads the audit log → 403; the auditor reads it and finds the
    administrator's own user changes."""
    _create(city, "admin-1", username="op-new", password=PASSWORD, roles=["operator"])
    assert city.client.get("/api/audit", headers=city.login("admin-1")).status_code == 403
    rows = city.client.get("/api/audit", headers=city.login("auditor"),
                           params={"actor": "admin-1", "action": "create_user"}).json()  # fmt: skip
    assert rows and rows[0]["subject_type"] == "user"


def test_bootstrap_admin_only_once(city):
    """The host bootstraps an administrator while active ones exist → refused (409)."""
    from coordinator.errors import Conflict

    with pytest.raises(Conflict):
        city.services.staff.bootstrap_admin("host:root", "admin-3", PASSWORD)
