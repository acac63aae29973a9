"""``coordinator users …`` on the host, as real subprocesses over one data folder: the first
administrator, an account that waits for approval, the host as the second person, the life
cycle — each audited as the host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coordinator.bootstrap import migration_sets
from coordinator.platform.db import Database


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(tmp_path / "d"),
            "CITYWATCH_SECRET_KEY": "s" * 40, "CITYWATCH_DATA_KEY": "k" * 40,
            "CITYWATCH_ARGON2_MEMORY_KIB": "4096", "CITYWATCH_ARGON2_TIME_COST": "1",
            "CITYWATCH_NEW_USER_PASSWORD": "a-long-password-1"}  # fmt: skip


def _users(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coordinator.cli", "users", *args, "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def env(tmp_path):
    return _env(tmp_path)


def test_bootstrap_create_approve_and_life_cycle(env, tmp_path):
    r = _users(env, "bootstrap-admin", "admin-zhao")
    assert r.returncode == 0, r.stderr
    again = _users(env, "bootstrap-admin", "admin-qian")
    assert again.returncode == 1 and "an administrator exists" in again.stderr
    # A population officer made on the host waits, like one made by an administrator.
    r = _users(env, "create", "officer-wu", "--role", "population_officer", "--zone", "Z01",
               "--reason", "new counter officer at Beiyuan station")  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["state"] == "pending_approval"
    pending = json.loads(_users(env, "pending").stdout)
    assert [p["id"] for p in pending] == [out["request"]]
    # The host filed it, so the host cannot approve it: an administrator must.
    r = _users(env, "approve", str(out["request"]))
    assert r.returncode == 1 and "second person" in r.stderr
    r = _users(env, "disable", "officer-wu", "--reason", "left")
    assert r.returncode == 1 and "awaits" in r.stderr
    r = _users(env, "expire", "admin-zhao", "2099-12-31")
    assert r.returncode == 0 and json.loads(r.stdout)["expires_at"] > 4e9
    listed = {u["username"]: u["state"] for u in json.loads(_users(env, "list").stdout)}
    assert listed == {"admin-zhao": "active", "officer-wu": "pending_approval"}
    db = Database(Path(env["CITYWATCH_DATA_DIR"]) / "citywatch.db").open()
    try:
        db.migrate(*migration_sets())
        actions = {e["action"]: e["actor"] for e in db.query("select * from audit_log")}
    finally:
        db.close()
    assert actions["bootstrap_admin"].startswith("host:")
    assert actions["approval_requested"].startswith("host:")
    assert actions["set_expiry"].startswith("host:")


def test_create_user_without_a_reason_for_personal_data_is_refused(env):
    r = subprocess.run(
        [sys.executable, "-m", "coordinator.cli", "create-user", "inv-9", "--role",
         "fraud_investigator"], env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1 and "second administrator" in r.stderr
