"""The login backoff on literal inputs, and the counters through the real database."""

from __future__ import annotations

import pytest

from coordinator.identity.auth import LoginThrottled
from coordinator.identity.throttle import LoginThrottle, ThrottlePolicy, keys_for, wait_after
from coordinator.platform.db import Database


@pytest.mark.parametrize(
    "failures,want",
    [(1, 0.0), (4, 0.0), (5, 2.0), (6, 4.0), (9, 32.0), (14, 900.0), (10_000, 900.0)],
)
def test_wait_doubles_after_the_free_failures_up_to_the_cap(failures, want):
    assert wait_after(failures, free=5, max_wait_s=900) == want


def test_keys_fold_the_name_and_keep_the_address():
    assert keys_for("10.0.0.1", " Admin ") == ("a|10.0.0.1", "u|10.0.0.1|admin")


@pytest.fixture
def throttle(tmp_path):
    from coordinator.bootstrap import migration_sets

    db = Database(tmp_path / "t.db").open()
    db.migrate(*migration_sets())
    yield LoginThrottle(db, ThrottlePolicy(address_free=3, user_free=2, window_s=60))
    db.close()


def test_a_name_backs_off_from_one_address_only(throttle):
    for _ in range(2):
        throttle.reserve("10.0.0.1", "admin")  # two failures (never given back)
    with pytest.raises(LoginThrottled) as refused:
        throttle.reserve("10.0.0.1", "admin")
    assert refused.value.retry_after_s and refused.value.retry_after_s > 0
    throttle.succeeded(throttle.reserve("10.0.0.2", "admin"))  # elsewhere: admitted


def test_a_success_gives_its_reservation_back(throttle):
    for _ in range(5):
        throttle.succeeded(throttle.reserve("10.0.0.3", "op"))
    rows = throttle.db.query("select key, failures from login_throttle order by key")
    assert rows == [{"key": "a|10.0.0.3", "failures": 0}]


def test_purge_forgets_old_counters(throttle):
    throttle.reserve("10.0.0.4", "x")
    throttle.db.execute_write("update login_throttle set last_failure = 0, blocked_until = 0")
    assert throttle.purge() == 2
