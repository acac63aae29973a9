"""The hotline's tables (numbered migrations of their own)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("hotline")


@migrations()
def m001_hotline_calls(db: sqlite_utils.Database) -> None:
    """Calls (the caller's number encrypted, looked up by keyed hash) and callbacks."""
    db.execute(
        """create table hotline_calls (
            id integer primary key,
            received_at real not null,
            caller_enc blob,
            caller_hash blob,
            caller_masked text,
            caller_name text,
            category text not null,
            summary text not null,
            person_id integer,
            request_id integer,
            agent text not null,
            status text not null,
            due_at real not null,
            resolved_at real,
            resolution text,
            satisfaction integer,
            satisfaction_at real,
            followup_due_at real,
            updated_at real not null
        )"""
    )
    db.execute("create index hotline_calls_received on hotline_calls(received_at)")
    db.execute("create index hotline_calls_caller on hotline_calls(caller_hash)")
    db.execute("create index hotline_calls_open on hotline_calls(status, due_at)")
    db.execute(
        """create table hotline_callbacks (
            id integer primary key,
            call_id integer not null references hotline_calls(id),
            due_at real not null,
            created_at real not null,
            created_by text not null,
            done_at real,
            done_by text,
            outcome text
        )"""
    )
    db.execute("create index hotline_callbacks_due on hotline_callbacks(done_at, due_at)")
    db.execute("create index hotline_callbacks_call on hotline_callbacks(call_id)")
