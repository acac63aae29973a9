"""Users, passwords, tokens and the role matrix, through the real API."""

from __future__ import annotations

import time

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from coordinator.bootstrap import role_matrix
from coordinator.container import Services
from coordinator.fraud.permissions import Perm as FraudPerm
from coordinator.identity.auth import Role
from coordinator.population.permissions import Perm as PopulationPerm
from coordinator.settings import Settings, SettingsError, load_settings
from tests.harness.api import PASSWORD, bearer
from tests.harness.routes import iter_api_routes


def test_login_me_logout(api: TestClient, users):
    r = api.post("/api/auth/login", json={"username": users[Role.OPERATOR], "password": PASSWORD})
    assert r.status_code == 200
    tok = r.json()["access_token"]
    me = api.get("/api/auth/me", headers=bearer(tok)).json()
    assert me["roles"] == ["operator"] and "incidents:act" in me["permissions"]
    assert api.post("/api/auth/logout", headers=bearer(tok)).status_code == 204
    r = api.get("/api/auth/me", headers=bearer(tok))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


@pytest.mark.parametrize(
    "header,detail",
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer forged-token-abc"}, "invalid token"),
        ({"Authorization": "Bearer " + "x" * 500}, "invalid token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing bearer token"),
    ],
)
def test_missing_and_forged_tokens_get_401(api: TestClient, header, detail):
    r = api.get("/api/auth/me", headers=header)
    assert r.status_code == 401 and detail in r.json()["detail"]


def test_expired_token_gets_401(api: TestClient, services: Services, users):
    tok = services.auth.login(users[Role.OPERATOR], PASSWORD).token
    assert tok
    services.db.execute_write("update sessions set expires_at = ?", [time.time() - 1])
    r = api.get("/api/auth/me", headers=bearer(tok))
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_wrong_password_then_lockout(api: TestClient, users):
    name = users[Role.DISPATCHER]
    for _ in range(5):
        assert (
            api.post("/api/auth/login", json={"username": name, "password": "nope"}).status_code
            == 401
        )
    r = api.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 429


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "a"},
        {"username": "a", "password": "b", "extra": 1},
        {"username": 5, "password": []},
    ],
)
def test_bad_login_bodies_get_422_not_500(api: TestClient, body):
    r = api.post("/api/auth/login", json=body)
    assert r.status_code == 422 and r.json()["detail"]


def test_create_user_validation(api: TestClient, tokens):
    h = bearer(tokens[Role.ADMIN])
    ok = api.post(
        "/api/users",
        headers=h,
        json={"username": "op-2", "password": "long-enough-pw", "roles": ["operator"]},
    )
    assert ok.status_code == 201
    dup = api.post(
        "/api/users",
        headers=h,
        json={"username": "op-2", "password": "long-enough-pw", "roles": ["operator"]},
    )
    assert dup.status_code == 409
    bad = api.post(
        "/api/users", headers=h, json={"username": "op/3", "password": "short", "roles": ["god"]}
    )
    assert bad.status_code == 422
    assert (
        api.post(
            "/api/users",
            headers=bearer(tokens[Role.OPERATOR]),
            json={"username": "x1", "password": "long-enough-pw", "roles": ["admin"]},
        ).status_code
        == 403
    )


def test_role_matrix_is_enforced_on_every_route(api: TestClient, tokens):
    """Walk every route guarded by require(): each role gets 403 exactly when it lacks a permission."""
    checked = 0
    matrix = role_matrix()
    for route in iter_api_routes(api.app.routes):
        needed = _required_perms(route)
        if not needed:
            continue
        path = route.path
        for param in route.param_convertors:
            path = path.replace("{" + param + "}", "1")
        method = sorted(route.methods - {"HEAD", "OPTIONS"})[0]
        for role, tok in tokens.items():
            r = api.request(
                method, path, headers={**bearer(tok), "X-Purpose": "role matrix test"}, json={}
            )
            allowed = all(p in matrix[role] for p in needed)
            if allowed:
                assert r.status_code != 403, f"{role} refused on {method} {path}: {r.text}"
            else:
                assert r.status_code == 403, f"{role} allowed on {method} {path}: {r.status_code}"
            checked += 1
    assert checked >= 3 * len(Role)


def _required_perms(route: APIRoute) -> tuple[str, ...]:
    perms: list[str] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        perms.extend(getattr(dep.call, "required_perms", ()))
        stack.extend(dep.dependencies)
    return tuple(perms)


def test_admin_cannot_read_personal_records_by_default():
    assert PopulationPerm.POPULATION_READ not in role_matrix()[Role.ADMIN]
    assert FraudPerm.FRAUD_READ not in role_matrix()[Role.ADMIN]


@pytest.mark.parametrize("secret", ["", "change-me", "short", "secret"])
def test_placeholder_secret_refuses_to_start_outside_dev(tmp_path, secret):
    with pytest.raises(SettingsError, match="secret_key"):
        load_settings(
            None,
            {
                "CITYWATCH_SECRET_KEY": secret,
                "CITYWATCH_DATA_KEY": "k" * 40,
                "CITYWATCH_DATA_DIR": str(tmp_path),
            },
        )


def test_settings_from_file_and_env(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("api_port: 9000\ndev_mode: false\n")
    s = load_settings(
        f,
        {
            "CITYWATCH_SECRET_KEY": "s" * 40,
            "CITYWATCH_DATA_KEY": "d" * 40,
            "CITYWATCH_API_PORT": "9100",
        },
    )
    assert s.api_port == 9100 and not s.dev_mode
    f.write_text("api_port: [1\n")
    with pytest.raises(SettingsError, match=r"c.yaml:\d+: malformed YAML"):
        load_settings(f, {})
    f.write_text("api_prot: 1\n")
    with pytest.raises(SettingsError, match="api_prot"):
        load_settings(f, {"CITYWATCH_DEV_MODE": "true"})
    assert Settings.for_dev(tmp_path).dev_mode
