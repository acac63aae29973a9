"""Identity's schema: users and sessions, and the append-only audit log (numbered
migrations; the sets keep their names, ``auth`` and ``audit``, as recorded in every database)."""

from __future__ import annotations

import json

import sqlite_utils
from sqlite_utils.migrations import Migrations

auth = Migrations("auth")


@auth()
def m001_users_and_sessions(db: sqlite_utils.Database) -> None:
    """Users and their session tokens."""
    db.table("users").create(
        {
            "id": int,
            "username": str,
            "password_hash": str,
            "roles": str,
            "zones": str,
            "merchant_id": str,
            "unit_id": str,
            "display_name": str,
            "active": int,
            "created_at": float,
        },
        pk="id",
        not_null={"username", "password_hash", "roles", "active"},
        defaults={"active": 1, "zones": "[]"},
    )
    db.table("users").create_index(["username"], unique=True)
    db.table("sessions").create(
        {
            "token_hash": str,
            "user_id": int,
            "issued_at": float,
            "expires_at": float,
            "revoked": int,
        },
        pk="token_hash",
        foreign_keys=[("user_id", "users", "id")],
        defaults={"revoked": 0},
    )
    db.table("sessions").create_index(["expires_at"])


@auth()
def m002_lifecycle_and_second_factor(db: sqlite_utils.Database) -> None:
    """Account expiry and approval, who disabled an account and why, password age, the
    TOTP second factor (secret encrypted, last step used) and pending second-factor logins."""
    for column, kind in (
        ("expires_at", "real"),
        ("pending_approval", "integer"),
        ("disabled_at", "real"),
        ("disabled_by", "text"),
        ("disabled_reason", "text"),
        ("password_changed_at", "real"),
        ("totp_secret", "text"),
        ("totp_enrolled_at", "real"),
        ("totp_last_step", "integer"),
    ):
        db.execute(f"alter table users add column {column} {kind}")
    db.execute(
        """create table login_challenges (
        token_hash text primary key,
        user_id integer not null references users(id),
        created_at real not null,
        expires_at real not null,
        attempts integer not null default 0,
        enrol_secret text
    )"""
    )
    db.execute("create index login_challenges_expiry on login_challenges(expires_at)")


audit = Migrations("audit")


@audit()
def m001_audit_log(db: sqlite_utils.Database) -> None:
    """The audit table and its append-only guards."""
    db.table("audit_log").create(
        {
            "id": int,
            "ts": float,
            "actor": str,
            "actor_roles": str,
            "action": str,
            "subject_type": str,
            "subject_id": str,
            "purpose": str,
            "detail": str,
        },
        pk="id",
        not_null={"ts", "actor", "action", "subject_type"},
    )
    db.table("audit_log").create_index(["subject_type", "subject_id"])
    db.table("audit_log").create_index(["actor", "ts"])
    db.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )


access = Migrations("access")


@access()
def m001_login_throttle(db: sqlite_utils.Database) -> None:
    """Failed-login counters by client address (and address + name), shared by every
    API process (``identity/throttle.py``)."""
    db.table("login_throttle").create(
        {"key": str, "failures": int, "last_failure": float, "blocked_until": float},
        pk="key",
        not_null={"failures", "last_failure", "blocked_until"},
    )
    db.table("login_throttle").create_index(["last_failure"])


@access()
def m002_stream_tickets(db: sqlite_utils.Database) -> None:
    """Single-use live-stream tickets, bound to the session they were minted from."""
    db.table("stream_tickets").create(
        {
            "ticket_hash": str,
            "session_hash": str,
            "user_id": int,
            "issued_at": float,
            "expires_at": float,
            "used": int,
        },
        pk="ticket_hash",
        not_null={"session_hash", "user_id", "issued_at", "expires_at", "used"},
        defaults={"used": 0},
    )
    db.table("stream_tickets").create_index(["expires_at"])


@audit()
def m002_hash_chain(db: sqlite_utils.Database) -> None:
    """Chain every entry by hash to the one before it, sign checkpoints of the head, index
    list reads by subject ("who accessed this person"), and guard inserts as well.

    Entries written before this migration are chained here, in id order (renumbered
    contiguously from 1 when ids had gaps: the gap would read as a deletion).
    """
    from .audit_chain import GENESIS, HASHED, entry_hash

    x = db.execute
    x("DROP TRIGGER IF EXISTS audit_log_no_update")
    x("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT")
    x("ALTER TABLE audit_log ADD COLUMN hash TEXT")
    rows = [dict(zip(("old_id", *HASHED[1:-1]), r, strict=True)) for r in x(
        f"SELECT id, {', '.join(HASHED[1:-1])} FROM audit_log ORDER BY id").fetchall()]  # fmt: skip
    if any(r["old_id"] != i for i, r in enumerate(rows, 1)):
        x("DROP TRIGGER IF EXISTS audit_log_no_delete")
        x("DELETE FROM audit_log")
        db.conn.executemany(
            "INSERT INTO audit_log (id, "
            + ", ".join(HASHED[1:-1])
            + ") VALUES ("
            + ", ".join("?" * (len(HASHED) - 1))
            + ")",
            [(i, *(r[c] for c in HASHED[1:-1])) for i, r in enumerate(rows, 1)],
        )
    prev = GENESIS
    for i, r in enumerate(rows, 1):
        r.update(id=i, prev_hash=prev)
        prev = entry_hash(r)
        x("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", [r["prev_hash"], prev, i])
    _guards(db)
    x("CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log(ts)")
    x("""CREATE TABLE audit_subjects (
        subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, entry_id INTEGER NOT NULL
    )""")
    x("CREATE INDEX audit_subjects_subject ON audit_subjects(subject_type, subject_id, entry_id)")
    # list reads written before this migration are indexed too
    for eid, stype, detail in x(
        "SELECT id, subject_type, detail FROM audit_log WHERE detail LIKE '%\"ids\"%'"
    ).fetchall():
        ids = json.loads(detail).get("ids")
        if isinstance(ids, list):
            db.conn.executemany(
                "INSERT INTO audit_subjects (subject_type, subject_id, entry_id) VALUES (?, ?, ?)",
                [(stype, str(i), eid) for i in ids[:100_000]],
            )
    x("""CREATE TABLE audit_checkpoints (
        id INTEGER PRIMARY KEY,
        upto_id INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        ts REAL NOT NULL,
        prev_sig TEXT,
        signature TEXT NOT NULL,
        key_id TEXT NOT NULL
    )""")
    for op in ("UPDATE", "DELETE"):
        x(
            f"CREATE TRIGGER audit_checkpoints_no_{op.lower()} BEFORE {op} ON audit_checkpoints "
            "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END"
        )


def _guards(db: sqlite_utils.Database) -> None:
    """Refuse UPDATE and DELETE, and an INSERT that does not extend the chain: its id must
    follow the head's and its prev_hash be the head's hash (this also refuses
    an insert that *replaces* an entry, whose implicit delete would not fire the DELETE guard)."""
    x = db.execute
    x("DROP TRIGGER IF EXISTS audit_log_no_update")
    x("DROP TRIGGER IF EXISTS audit_log_no_delete")
    x(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    x(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    x(
        "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log WHEN NEW.hash IS NULL "
        "OR NEW.id IS NOT coalesce((SELECT max(id) FROM audit_log), 0) + 1 "
        "OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
        f"'{'0' * 64}') "
        "BEGIN SELECT RAISE(ABORT, 'audit_log entries are appended to the hash chain only'); END"
    )
