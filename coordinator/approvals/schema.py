"""The approvals schema: one table of requests that need a second person (numbered
migrations of the ``approvals`` set)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("approvals")


@migrations()
def m001_requests(db: sqlite_utils.Database) -> None:
    """Requests, their decision, the effect applied and the after-the-fact review."""
    db.execute(
        """create table approval_requests (
        id integer primary key,
        kind text not null,
        subject_type text not null,
        subject_id text,
        scope text not null default '{}',
        reason text not null,
        requested_by text not null,
        beneficiary text,
        requested_at real not null,
        duration_s real,
        state text not null,
        pending_until real not null,
        decided_by text,
        decided_at real,
        decision_note text,
        result text,
        emergency integer not null default 0,
        review_state text,
        reviewed_by text,
        reviewed_at real,
        review_note text
    )"""
    )
    db.execute("create index approval_state on approval_requests(state, kind)")
    db.execute("create index approval_requester on approval_requests(requested_by, state)")
    db.execute("create index approval_review on approval_requests(review_state)")
