"""Ingest's tables as numbered migrations: events, dead letters, sequence state and gaps."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("ingest")


@migrations()
def m001_events(db: sqlite_utils.Database) -> None:
    """Events, dead letters, per-device sequence state and gaps."""
    db.table("events").create(
        {
            "id": str,
            "dev": str,
            "seq": int,
            "ts": int,
            "t": float,
            "recv": float,
            "kind": str,
            "phase": str,
            "label": str,
            "conf": float,
            "track": int,
            "box": str,
            "zone": str,
            "count": int,
            "direction": str,
            "dwell": float,
            "skewed": int,
            "incident_id": str,
            "merged_from": str,
        },
        pk="id",
    )
    db.table("events").create_index(["incident_id"])
    db.table("events").create_index(["recv"])
    db.table("events").create_index(["dev", "t"])
    db.table("dead_letters").create(
        {
            "id": int,
            "ts": float,
            "topic": str,
            "device": str,
            "reason": str,
            "size": int,
            "raw": bytes,
        },
        pk="id",
    )
    db.table("seq_state").create({"dev": str, "last_seq": int, "updated_at": float}, pk="dev")
    db.table("seq_gaps").create(
        {"id": int, "dev": str, "first_seq": int, "last_seq": int, "detected_at": float}, pk="id"
    )
    db.table("seq_gaps").create_index(["dev", "first_seq"])


@migrations()
def m002_sequence_floor(db: sqlite_utils.Database) -> None:
    """The lowest sequence a board still holds (from its health): numbers below it that
    never arrived were dropped at the board's spool bound, so the committed watermark the
    centre sends the board does not wait for them."""
    db.table("seq_state").add_column("floor", int, not_null_default=0)


@migrations()
def m003_event_sharing_level(db: sqlite_utils.Database) -> None:
    """What the camera's owner let the centre receive when the event was recorded
    (``events``, ``snapshots``, ``live``; null for events stored before agreements): a
    frame of the event may be asked for only if the terms allowed it then and allow it now."""
    db.table("events").add_column("share", str)
