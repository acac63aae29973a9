"""Identity's schema: users and sessions, and the append-only audit log (numbered
migrations; the sets keep their names, ``auth`` and ``audit``, as recorded in every database)."""

from __future__ import annotations

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
