"""Ingest's tables as numbered migrations: events, dead letters, sequence state and gaps,
and each incident's running mix of events."""

from __future__ import annotations

from typing import Any

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


#: An incident's events by kind and camera, kept as they are stored: the priority of an
#: incident is judged from this mix on every event it gains, and reading the few rows here
#: costs the same for an incident of ten events or of a hundred thousand (a busy plaza's
#: loitering incident open all afternoon). Inserts are counted by the code that stores
#: events (:func:`count_events`); moves between incidents (merge, split, undo) and
#: deletions by triggers.
@migrations()
def m004_incident_mix(db: sqlite_utils.Database) -> None:
    """Each incident's running count and confidence sum per (kind, camera)."""
    x = db.execute
    x("""create table incident_mix (
        incident_id text not null, kind text not null, dev text not null,
        n integer not null, conf real not null, primary key (incident_id, kind, dev)
    )""")
    x(
        "insert into incident_mix (incident_id, kind, dev, n, conf) "
        "select incident_id, kind, dev, count(*), coalesce(sum(conf), 0) from events "
        "where incident_id is not null and kind is not null and dev is not null "
        "group by incident_id, kind, dev"
    )
    take = (
        "update incident_mix set n = n - 1, conf = conf - coalesce(old.conf, 0) "
        "where incident_id = old.incident_id and kind = old.kind and dev = old.dev;"
    )
    give = (
        "insert into incident_mix (incident_id, kind, dev, n, conf) "
        "select new.incident_id, new.kind, new.dev, 1, coalesce(new.conf, 0) "
        "where new.incident_id is not null and new.kind is not null and new.dev is not null "
        "on conflict (incident_id, kind, dev) do update set n = incident_mix.n + 1, "
        "conf = incident_mix.conf + excluded.conf;"
    )
    x(
        "create trigger events_mix_move after update of incident_id on events "
        f"when old.incident_id is not new.incident_id begin {take} {give} end"
    )
    x(
        "create trigger events_mix_delete after delete on events "
        f"when old.incident_id is not null begin {take} end"
    )


def count_events(db: sqlite_utils.Database, events: list[dict[str, Any]]) -> None:
    """Add newly stored events to their incidents' mix (the caller's transaction)."""
    c: dict[tuple[str, str, str], list[float]] = {}
    for e in events:
        if e.get("incident_id") and e.get("kind") and e.get("dev"):
            acc = c.setdefault((e["incident_id"], e["kind"], e["dev"]), [0, 0.0])
            acc[0] += 1
            acc[1] += float(e.get("conf") or 0.0)
    if c:
        db.conn.executemany(
            "insert into incident_mix (incident_id, kind, dev, n, conf) values (?, ?, ?, ?, ?) "
            "on conflict (incident_id, kind, dev) do update set n = incident_mix.n + excluded.n, "
            "conf = incident_mix.conf + excluded.conf",
            [(i, k, d, int(n), conf) for (i, k, d), (n, conf) in c.items()],
        )
