"""The database file's integrity: a lost or emptied database refuses to start, an unclean
shutdown triggers ``PRAGMA quick_check``, mid-file corruption is found and reported by
health, online backups restore. Real files, real corruption, the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.bootstrap import open_services, scheduled_integrity_check
from coordinator.platform import integrity
from coordinator.platform.integrity import DatabaseMissing
from coordinator.settings import Settings


def _dev(tmp: Path) -> Settings:
    return Settings.for_dev(tmp / "coord", argon2_memory_kib=4096, argon2_time_cost=1)


def _prod(tmp: Path) -> Settings:
    return Settings(data_dir=tmp / "coord", secret_key="s" * 40, data_key="d" * 40,
                    argon2_memory_kib=4096, argon2_time_cost=1)  # fmt: skip


def _fill(settings: Settings, n: int = 3000) -> None:
    """A database with some thousand audit entries (a file of many pages)."""
    s = open_services(settings)
    try:
        s.db.write(lambda db: [s.audit.append(db, s.audit.entry("x", "view", "person", i, detail={"pad": "p" * 200}))
                               for i in range(n)])  # fmt: skip
        s.auth.create_user("keeper", "correct horse battery", ["operator"])
    finally:
        s.close()


@pytest.mark.parametrize("damage", ["deleted", "zero-length"])
def test_a_lost_database_refuses_to_start_until_init(tmp_path, damage):
    """A database that was in use and is now gone or empty: no silent fresh start (users,
    devices and revocations would be gone); an explicit init creates a new one."""
    settings = _dev(tmp_path)
    _fill(settings, 10)
    if damage == "deleted":
        settings.db_path.unlink()
    else:
        settings.db_path.write_bytes(b"")
    with pytest.raises(DatabaseMissing, match="was in use"):
        open_services(settings)
    s = open_services(settings, init=True)
    try:
        assert not s.db.query("select * from users where username = 'keeper'")
    finally:
        s.close()


def test_outside_dev_mode_a_new_database_needs_init(tmp_path):
    """Production settings on an empty folder: refused with the way out named; ``coordinator
    init`` creates it (and the audit key), after which it starts."""
    settings = _prod(tmp_path)
    with pytest.raises(DatabaseMissing, match="--init"):
        open_services(settings)
    env = {**os.environ, "CITYWATCH_DATA_DIR": str(settings.data_dir), "CITYWATCH_SECRET_KEY": "s" * 40,
           "CITYWATCH_DATA_KEY": "d" * 40}  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "init"], env=env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert settings.audit_key_path.exists()
    open_services(settings).close()
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "init"], env=env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 1 and "already holds a database" in r.stderr


def test_quick_check_runs_after_an_unclean_shutdown_only(tmp_path):
    """A clean close leaves no check to do; a process that died with the database open (its
    run flag left behind) makes the next start run quick_check and record it."""
    settings = _dev(tmp_path)
    _fill(settings, 10)
    open_services(settings).close()
    assert integrity.last_check(settings.db_path) is None
    flags = settings.db_path.with_name(settings.db_path.name + ".running")
    (flags / "999999").write_text("crashed\n")  # a pid that does not exist
    open_services(settings).close()
    last = integrity.last_check(settings.db_path)
    assert last["status"] == "ok" and "unclean" in last["reason"]
    assert not (flags / "999999").exists()


def _corrupt_middle(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2 - (size // 2) % 4096)
        f.write(os.urandom(3 * 4096))


def test_mid_file_corruption_is_found_at_start_by_the_check_and_in_health(tmp_path):
    """Garbage written over pages in the middle of a real database file. After a clean
    shutdown it still starts, but the off-peak check finds it and health answers 503; after
    an unclean one the start itself refuses; ``coordinator check`` exits 1."""
    settings = _dev(tmp_path).model_copy(update={"integrity_check_hour": None})
    _fill(settings)
    _corrupt_middle(settings.db_path)
    s = open_services(settings)
    try:
        with TestClient(create_app(s)) as client:
            assert client.get("/api/health").json()["integrity"]["status"] == "unchecked"
            result = scheduled_integrity_check(settings, s.db)
            assert result is not None and result["status"] == "corrupt" and result["problems"]
            r = client.get("/api/health")
            assert r.status_code == 503 and r.json()["integrity"]["status"] == "corrupt"
            assert scheduled_integrity_check(settings, s.db) is None  # not due again yet
    finally:
        s.close()
    flags = settings.db_path.with_name(settings.db_path.name + ".running")
    (flags / "999999").write_text("crashed\n")
    with pytest.raises(DatabaseMissing, match="damaged"):
        open_services(settings)
    env = {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(settings.data_dir),
           "CITYWATCH_SECRET_KEY": "s" * 40, "CITYWATCH_DATA_KEY": "d" * 40}  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "check", "--json"], env=env,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "corrupt"


def test_online_backup_and_restore(tmp_path):
    """``coordinator backup`` while the centre writes, more writes, then ``coordinator
    restore`` (refused while a process has the database open): the database is as it was
    at the backup, marked in use, the audit chain verifies and records the restore; a
    document of the encrypted file store, its body lost from the data folder, comes back
    from the backup's mirror."""
    settings = _dev(tmp_path)
    _fill(settings, 100)
    env = {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(settings.data_dir),
           "CITYWATCH_SECRET_KEY": "s" * 40, "CITYWATCH_DATA_KEY": "d" * 40}  # fmt: skip
    cli = [sys.executable, "-m", "coordinator.cli"]
    s = open_services(settings)
    doc = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b"passport page " * 50
    try:
        stored = s.hall.files.put(doc, owner_kind="hall_case", owner_id=1, filename="p.pdf",
                                  actor="clerk1", retain_until=time.time() + 86400)  # fmt: skip
        s.audit.checkpoint()
        r = subprocess.run(
            [*cli, "backup", "--json"], env=env, capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 0, r.stderr
        backup = Path(json.loads(r.stdout)["backup"])
        assert backup.stat().st_mode & 0o777 == 0o600
        body = s.hall.files.body_path(stored.id)
        mirrored = backup.parent / "files" / body.parent.name / body.name
        assert mirrored.read_bytes() == body.read_bytes() != doc  # encrypted, copied
        assert mirrored.stat().st_mode & 0o777 == 0o600
        body.unlink()  # the data folder loses it
        s.auth.create_user("after-backup", "correct horse battery", ["operator"])
        s.audit.checkpoint()
        r = subprocess.run(
            [*cli, "restore", str(backup)], env=env, capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 3 and "still has the database open" in r.stderr
    finally:
        s.close()
    r = subprocess.run(
        [*cli, "restore", str(backup)], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    s = open_services(settings)
    try:
        assert s.db.query("select 1 from users where username = 'keeper'")
        assert not s.db.query("select 1 from users where username = 'after-backup'")
        assert s.audit.search(action="restore")
        _, plain = s.hall.files.read(stored.id, actor="clerk1", purpose="check after restore")
        assert plain == doc
        report = s.audit.verify()
        assert report.ok, report.problems
    finally:
        s.close()
