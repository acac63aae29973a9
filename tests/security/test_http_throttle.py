"""Login throttling against a real HTTPS ``coordinator run``: a password spray from one
address is slowed to a bounded number of guesses, while the rightful users log in at the
first try from elsewhere; X-Forwarded-For counts only from the configured proxy; the
counters live in the database, so a second API process on it sees them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.https_centre import PASSWORD, Centre, https_centre, start_coordinator

PROXY = "127.0.0.9"
SPRAY_PASSWORD = "Spring2026!spray"


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Centre, dict]]:
    """An HTTPS coordinator with an administrator and 50 staff, behind a trusted proxy."""
    users = {"admin-zhao": "admin", **{f"staff-{i:02d}": "operator" for i in range(50)}}
    work = tmp_path_factory.mktemp("throttle")
    with https_centre(work, users, trusted_proxies=[PROXY]) as (c, env):
        yield c, {"env": env, "work": work}


def _login(http, user: str, password: str, **headers: str):  # noqa: ANN001, ANN202
    return http.post(
        "/api/auth/login", json={"username": user, "password": password}, headers=headers
    )


def test_a_spray_of_1000_guesses_across_50_names_from_one_address_is_throttled(centre, attack):
    """Tried: 1,000 login attempts from 127.0.0.2, cycling through 50 real staff names with
    one common password, as fast as the server answers. Expected: at most 30 attempts get a
    password check (401), every other one is 429 with a Retry-After, and no guess succeeds;
    meanwhile staff-07 logs in from 127.0.0.3 at the first try."""
    c, _ = centre
    statuses: dict[int, int] = {}
    retry_after: list[int] = []
    with c.client(source="127.0.0.2") as attacker:
        for i in range(1000):
            r = _login(attacker, f"staff-{i % 50:02d}", SPRAY_PASSWORD)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 429:
                retry_after.append(int(r.headers["retry-after"]))
    assert set(statuses) == {401, 429}, statuses
    assert statuses[401] <= 30, statuses
    assert statuses[429] >= 970 and min(retry_after) >= 1
    with c.client(source="127.0.0.3") as office:
        assert _login(office, "staff-07", PASSWORD).status_code == 200
    attack("http.spray").observed(
        f"1,000 guesses: {statuses[401]} got a password check (401), {statuses[429]} were 429 "
        f"(Retry-After {min(retry_after)}–{max(retry_after)} s), none succeeded; the real user "
        "logged in from another address at the first try"
    )


def test_locking_out_the_administrator_by_name_does_not_lock_the_administrator_out(centre, attack):
    """Tried: 60 wrong passwords for admin-zhao from 127.0.0.4 (the classic lockout attack).
    Expected: the attacker's address is throttled (429), and admin-zhao logs in from
    127.0.0.5 at the first try."""
    c, _ = centre
    with c.client(source="127.0.0.4") as attacker:
        codes = [_login(attacker, "admin-zhao", f"guess-{i}").status_code for i in range(60)]
    assert codes[0] == 401 and codes[-1] == 429
    with c.client(source="127.0.0.5") as admin:
        assert _login(admin, "admin-zhao", PASSWORD).status_code == 200
    attack("http.admin-lockout").observed(
        f"60 wrong passwords: {codes.count(401)} checked, {codes.count(429)} throttled (429); "
        "the administrator logged in from another address at the first try"
    )


def test_a_forged_x_forwarded_for_from_an_untrusted_address_changes_nothing(centre):
    """Tried: a spray from 127.0.0.6 (not a configured proxy) that sends a new
    X-Forwarded-For address with every attempt, hoping each counts as a new client.
    Expected: the header is ignored; the address is throttled like any other."""
    c, _ = centre
    with c.client(source="127.0.0.6") as attacker:
        codes = [
            _login(
                attacker,
                f"staff-{i % 50:02d}",
                SPRAY_PASSWORD,
                **{"X-Forwarded-For": f"203.0.113.{i % 250}"},
            ).status_code  # fmt: skip
            for i in range(120)
        ]
    assert codes.count(401) <= 30 and codes[-1] == 429


def test_behind_the_trusted_proxy_each_client_address_is_counted_apart(centre):
    """Tried: through the configured proxy (127.0.0.9), an attacker at 198.51.100.7 sprays
    until throttled; then a user at 198.51.100.8 logs in through the same proxy.
    Expected: the attacker gets 429; the user behind the same proxy logs in at once."""
    c, _ = centre
    with c.client(source=PROXY) as proxy:
        codes = [
            _login(
                proxy, f"staff-{i % 50:02d}", SPRAY_PASSWORD, **{"X-Forwarded-For": "198.51.100.7"}
            ).status_code  # fmt: skip
            for i in range(60)
        ]
        assert codes[-1] == 429
        ok = _login(proxy, "staff-11", PASSWORD, **{"X-Forwarded-For": "198.51.100.8"})
        assert ok.status_code == 200


def test_denied_attempts_are_logged_with_address_and_name_never_the_password(centre):
    """Tried: the attacks above. Expected: the server's log names the refused addresses
    and user names, and nowhere holds a password that was tried."""
    c, _ = centre
    log = c.log_text()
    assert "login refused: address=127.0.0.2 user='staff-" in log
    assert "address=198.51.100.7" in log
    assert SPRAY_PASSWORD not in log and "guess-1" not in log and PASSWORD not in log


def test_a_second_api_process_on_the_same_database_sees_the_throttle(centre):
    """Tried: a second `coordinator run --no-jobs` over the same database; 30 failed logins
    from 127.0.0.7 on the first process, then one more on the second. Expected: the second
    process answers 429 straight away (the counters are in the database, not in one
    process), and still lets a user in from another address."""
    c, extra = centre
    settings = {**c.extra["settings"], "mqtt_client_id": "coordinator-api-2"}
    second = start_coordinator(extra["work"], settings, extra["env"], "--no-jobs", name="api2")
    try:
        with c.client(source="127.0.0.7") as attacker:
            codes = [_login(attacker, f"staff-{i:02d}", SPRAY_PASSWORD).status_code
                     for i in range(30)]  # fmt: skip
        assert codes[-1] == 429
        with second.client(source="127.0.0.7") as attacker:
            r = _login(attacker, "staff-40", SPRAY_PASSWORD)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        with second.client(source="127.0.0.8") as office:
            assert _login(office, "staff-40", PASSWORD).status_code == 200
    finally:
        second.stop()
