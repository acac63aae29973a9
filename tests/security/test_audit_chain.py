"""Attacks on the audit log: rewriting, deleting, inserting, replacing entries, recomputing
the chain without the key, dropping the guards and covering the tracks; two processes
writing at once. Each test states what was tried and what is expected; each fails on the
code before the hash chain (no chain, no checkpoints, no ``coordinator audit verify``)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.bootstrap import open_services
from coordinator.container import Services
from coordinator.settings import Settings
from tests.harness import tamper


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    """Open services with a dozen audit entries and a signed checkpoint of them."""
    s = open_services(Settings.for_dev(tmp_path / "coord", argon2_memory_kib=4096))
    for i in range(12):
        s.audit.record(f"officer-{i % 3}", "view", "person", 100 + i, purpose="case 7")
    s.audit.checkpoint()
    yield s
    s.close()


def _problems(s: Services) -> str:
    report = s.audit.verify()
    return " | ".join(report.problems)


def test_an_intact_log_verifies(svc: Services):
    """Tried: nothing. Expected: the chain and the checkpoint verify (guards the other tests
    against passing because verify always complains)."""
    report = svc.audit.verify()
    assert report.ok, report.problems
    assert report.entries >= 12 and report.checkpoints == 1


def test_insert_or_replace_over_an_entry_is_refused(svc: Services, attack):
    """Tried: ``INSERT OR REPLACE`` an existing entry with another actor (REPLACE deletes the
    old row without firing the DELETE trigger). Expected: refused by the chain guard; the
    entry unchanged."""
    victim = svc.audit.search(subject_id="105")[0]
    with pytest.raises(sqlite3.IntegrityError, match="hash chain"):
        tamper.raw(
            svc.settings.db_path,
            (
                "insert or replace into audit_log (id, ts, actor, action, subject_type, "
                "subject_id) values (?, ?, 'someone-else', 'view', 'person', '105')",
                [victim["id"], victim["ts"]],
            ),
        )
    assert svc.audit.search(subject_id="105")[0]["actor"] == victim["actor"]
    assert svc.audit.verify().ok
    attack("audit.insert-or-replace").observed(
        f"INSERT OR REPLACE over entry {victim['id']}: IntegrityError from the chain guard; "
        "the entry unchanged, the chain verifies"
    )


def test_a_rewritten_entry_is_detected(svc: Services):
    """Tried: drop the guards and change who read person 104. Expected: verify names the
    entry as altered."""
    tamper.drop_guards(svc.settings.db_path)
    tamper.raw(
        svc.settings.db_path, "update audit_log set actor = 'nobody' where subject_id = '104'"
    )
    assert "was altered" in _problems(svc)


def test_a_deleted_entry_is_detected(svc: Services):
    """Tried: drop the guards, delete the entry of person 106, re-create the guards.
    Expected: verify reports the gap and the broken link."""
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(svc.settings.db_path, "delete from audit_log where subject_id = '106'")
    tamper.recreate(svc.settings.db_path, sqls)
    problems = _problems(svc)
    assert "missing (deleted)" in problems and "does not link" in problems


def test_an_inserted_entry_is_detected(svc: Services):
    """Tried: drop the guards, shift the later entries up by one and insert a fabricated
    entry in the gap (with a made-up hash). Expected: verify reports the break."""
    sqls = tamper.drop_guards(svc.settings.db_path)
    mid = svc.audit.search(subject_id="106")[0]["id"]
    tamper.raw(
        svc.settings.db_path,
        ("update audit_log set id = -id where id > ?", [mid]),
        "update audit_log set id = 1 - id where id < 0",
        (
            "insert into audit_log (id, ts, actor, action, subject_type, subject_id, prev_hash, "
            "hash) values (?, 1.0, 'ghost', 'view', 'person', '999', ?, ?)",
            [mid + 1, "0" * 64, "f" * 64],
        ),
    )
    tamper.recreate(svc.settings.db_path, sqls)
    assert "does not link" in _problems(svc)


def test_a_chain_recomputed_without_the_key_is_detected(svc: Services):
    """Tried: rewrite an entry, then recompute every hash so the chain is consistent again
    (what someone without the signing key can do). Expected: the signed checkpoint no longer
    matches: verify reports a rewritten log with a recomputed chain."""
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(
        svc.settings.db_path, "update audit_log set actor = 'nobody' where subject_id = '103'"
    )
    tamper.recompute_chain(svc.settings.db_path)
    tamper.recreate(svc.settings.db_path, sqls)
    problems = _problems(svc)
    assert "chain recomputed" in problems and "was altered" not in problems


def test_truncating_the_log_and_recreating_the_guards_is_detected(svc: Services):
    """Tried: drop the triggers, delete the last entries (the chain stays consistent),
    re-create the triggers. Expected: the checkpoint covers entries that are gone."""
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(svc.settings.db_path, "delete from audit_log where id > 8")
    tamper.recreate(svc.settings.db_path, sqls)
    assert "entries were deleted" in _problems(svc)


def test_removing_the_checkpoints_too_is_detected_by_the_copy_outside(svc: Services):
    """Tried: truncate the log and delete the checkpoints from the database as well.
    Expected: the checkpoint file kept outside the database still names them."""
    svc.audit.record("officer-9", "view", "person", 500)
    svc.audit.checkpoint()
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(
        svc.settings.db_path,
        "drop trigger audit_checkpoints_no_delete",
        "delete from audit_checkpoints where id = 2",
        "delete from audit_log where subject_id = '500'",
    )
    tamper.recreate(svc.settings.db_path, sqls)
    assert "kept outside the database is missing" in _problems(svc)


def test_a_checkpoint_signed_with_another_key_is_detected(svc: Services):
    """Tried: rewrite and recompute the chain, then replace the checkpoint with one signed by
    a key of the attacker's. Expected: verify, with the auditor's copy of the public key,
    reports a forged checkpoint."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from coordinator.identity.audit_chain import checkpoint_message

    public = svc.audit.key.public()  # the auditor's copy, taken before the attack
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(
        svc.settings.db_path, "update audit_log set actor = 'nobody' where subject_id = '103'"
    )
    tamper.recompute_chain(svc.settings.db_path)
    tamper.recreate(svc.settings.db_path, sqls)
    head = svc.db.query("select id, hash from audit_log order by id desc limit 1")[0]
    sig = Ed25519PrivateKey.generate().sign(checkpoint_message(head["id"], head["hash"], 1.0, None))
    tamper.raw(
        svc.settings.db_path,
        "drop trigger audit_checkpoints_no_delete",
        "delete from audit_checkpoints",
        (
            "insert into audit_checkpoints (id, upto_id, head_hash, ts, prev_sig, signature, key_id) "
            "values (1, ?, ?, 1.0, null, ?, 'forged')",
            [head["id"], head["hash"], base64.b64encode(sig).decode()],
        ),
    )
    svc.audit.checkpoint_file.unlink()  # and the copy outside, too
    report = svc.audit.verify(public=public)
    assert any("not signed by the audit key" in p for p in report.problems), report.problems


_WRITER = """
import sys
from coordinator.identity.audit import AuditService
from coordinator.platform.db import Database
db = Database(sys.argv[1]).open()
svc = AuditService(db)
for i in range(int(sys.argv[3])):
    svc.record(sys.argv[2], "view", "person", i)
db.close()
"""


def test_two_processes_writing_at_once_form_one_chain(svc: Services):
    """Tried: two other processes and this one append entries at the same time (as
    ``coordinator run`` and ``coordinator jobs`` do). Expected: every entry is in one
    contiguous chain that verifies (the head is taken inside the write transaction)."""
    before = svc.db.query("select count(*) n from audit_log")[0]["n"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(svc.settings.db_path), f"proc-{k}", "150"]
        )
        for k in range(2)
    ]
    for i in range(150):
        svc.audit.record("proc-main", "view", "person", i)
    for p in procs:
        assert p.wait(timeout=120) == 0
    n = svc.db.query("select count(*) n, max(id) m from audit_log")[0]
    assert n["n"] == before + 450 and n["m"] == n["n"]
    report = svc.audit.verify()
    assert report.ok, report.problems


def test_the_signing_key_is_private_and_outside_the_database(svc: Services):
    """Tried: read the key's permissions. Expected: file 0600 in a 0700 folder, not in the
    database file."""
    key = svc.settings.audit_key_path
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o777 == 0o700
    assert b"PRIVATE KEY" in key.read_bytes()
    assert key.read_bytes() not in svc.settings.db_path.read_bytes()


def test_coordinator_audit_verify_exit_codes(svc: Services, tmp_path: Path):
    """Tried: ``coordinator audit verify`` on an intact log, then after a rewrite with a
    recomputed chain. Expected: exit 0 then 1 with the problem named; export writes the
    public key and the checkpoints for the auditor."""
    env = {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(svc.settings.data_dir),
           "CITYWATCH_SECRET_KEY": "s" * 40, "CITYWATCH_DATA_KEY": "k" * 40}  # fmt: skip
    cli = [sys.executable, "-m", "coordinator.cli", "audit"]
    r = subprocess.run([*cli, "export", "--out", str(tmp_path / "dpo")], env=env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*cli, "verify", "--json", "--public-key", str(tmp_path / "dpo" / "audit-signing.pub"),
                        "--checkpoints", str(tmp_path / "dpo" / "audit-checkpoints.jsonl")],
                       env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0 and json.loads(r.stdout)["ok"], r.stdout + r.stderr
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(
        svc.settings.db_path, "update audit_log set purpose = 'routine' where subject_id = '101'"
    )
    tamper.recompute_chain(svc.settings.db_path)
    tamper.recreate(svc.settings.db_path, sqls)
    r = subprocess.run([*cli, "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "TAMPERED" in r.stdout and "chain recomputed" in r.stdout


def test_a_checkpoint_is_never_signed_over_a_log_altered_since_the_last_one(svc: Services):
    """Tried: rewrite an entry written after the last checkpoint (guards dropped) and let
    the next periodic checkpoint run. Expected: it refuses to sign (the entries since the
    last checkpoint are verified first), so a broken chain never gets a signature. (A
    rewrite of those entries with the chain recomputed is the window docs/security.md
    states: the chain alone protects them until they are signed.)"""
    from coordinator.identity.audit import AuditTampered

    svc.audit.record("officer-1", "view", "person", 700)
    svc.audit.record("officer-1", "view", "person", 701)
    sqls = tamper.drop_guards(svc.settings.db_path)
    tamper.raw(
        svc.settings.db_path, "update audit_log set actor = 'nobody' where subject_id = '700'"
    )
    tamper.recreate(svc.settings.db_path, sqls)
    before = len(svc.audit.checkpoints())
    with pytest.raises(AuditTampered, match="changed since its last checkpoint"):
        svc.audit.checkpoint()
    assert len(svc.audit.checkpoints()) == before
