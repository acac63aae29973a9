"""The incidents' tables as numbered migrations: incidents and their log, threshold proposals."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

incidents = Migrations("incidents")


@incidents()
def m001_incidents(db: sqlite_utils.Database) -> None:
    """Incidents and their action log."""
    cols: dict[str, Any] = {
        "id": str,
        "kind": str,
        "status": str,
        "priority": int,
        "lat": float,
        "lon": float,
        "zone": str,
        "confidence": float,
        "event_count": int,
        "devices": str,
        "first_ts": float,
        "last_ts": float,
        "created_at": float,
        "updated_at": float,
        "dismiss_reason": str,
        "merged_into": str,
        "notes": int,
    }
    for st in ("confirmed", "dismissed", "dispatched", "en_route", "on_scene", "resolved"):
        cols[f"{st}_at"] = float
    db.table("incidents").create(cols, pk="id", defaults={"notes": 0})
    db.table("incidents").create_index(["status", "priority"])
    db.table("incidents").create_index(["updated_at"])
    db.table("incident_log").create(
        {"id": int, "incident_id": str, "ts": float, "actor": str, "action": str, "detail": str},
        pk="id",
    )
    db.table("incident_log").create_index(["incident_id"])


@incidents()
def m002_centre(db: sqlite_utils.Database) -> None:
    """The monitoring centre that owns the incident: its first event's camera's centre,
    changed only by a logged handover."""
    db.table("incidents").add_column("centre_id", str)
    db.table("incidents").create_index(["centre_id", "status"])


@incidents()
def m003_address(db: sqlite_utils.Database) -> None:
    """Where the incident is, as an operator says it: nearest street and patrol zone."""
    db.table("incidents").add_column("address", str)


@incidents()
def m004_handling_and_groups(db: sqlite_utils.Database) -> None:
    """Alarm handling beside the lifecycle, priority reasons, and groups of related alarms.

    Existing rows get the handling state their lifecycle implies: closed for resolved,
    dismissed or merged incidents, in progress once a unit was sent, acknowledged once an
    operator confirmed, new otherwise.
    """
    t = db.table("incidents")
    t.add_column("handling", str, not_null_default="new")
    for col, typ in (
        ("assignee", str),
        ("handling_at", float),
        ("priority_reasons", str),
        ("group_id", str),
    ):
        t.add_column(col, typ)
    db.execute(
        "update incidents set handling = case "
        "when status in ('resolved', 'dismissed', 'merged') then 'closed' "
        "when status in ('dispatched', 'en_route', 'on_scene') then 'in_progress' "
        "when status = 'confirmed' then 'acknowledged' else 'new' end, "
        "handling_at = coalesce(resolved_at, dismissed_at, dispatched_at, confirmed_at)"
    )
    t.create_index(["handling", "priority"])
    t.create_index(["group_id"])
    t.create_index(["kind", "created_at"])
    db.table("incident_groups").create(
        {
            "id": str,
            "kind": str,
            "kinds": str,
            "zone": str,
            "lat": float,
            "lon": float,
            "first_ts": float,
            "last_ts": float,
            "count": int,
            "newest_id": str,
            "priority": int,
            "created_at": float,
            "updated_at": float,
            "closed_at": float,
            "closed_by": str,
        },
        pk="id",
    )
    db.table("incident_groups").create_index(["kind", "closed_at", "last_ts"])


@incidents()
def m005_incident_disposition(db: sqlite_utils.Database) -> None:
    """How a resolved incident ended: a disposition code of the catalogue and a narrative.
    Incidents resolved before dispositions were recorded get ``unspecified``."""
    t = db.table("incidents")
    t.add_column("disposition", str)
    t.add_column("narrative", str)
    db.execute("update incidents set disposition = 'unspecified' where status = 'resolved'")
    t.create_index(["disposition", "resolved_at"])


@incidents()
def m006_incident_calls(db: sqlite_utils.Database) -> None:
    """Incidents taken from a phone call: where an incident came from (``camera`` or
    ``call``) and the call-taker's request key, unique, so a repeated submission of the same
    call finds the incident it made instead of making a second one."""
    t = db.table("incidents")
    t.add_column("source", str, not_null_default="camera")
    t.add_column("call_key", str)
    db.execute(
        "create unique index if not exists idx_incidents_call_key on incidents (call_key) "
        "where call_key is not null"
    )


tuning = Migrations("tuning")


@tuning()
def m001_proposals(db: sqlite_utils.Database) -> None:
    """Threshold proposals and the last config pushed to each device."""
    db.table("config_proposals").create(
        {
            "id": int,
            "device_id": str,
            "rule": str,
            "label": str,
            "current": float,
            "proposed": float,
            "dismissed": int,
            "total": int,
            "rate": float,
            "status": str,
            "created_at": float,
            "decided_at": float,
            "decided_by": str,
        },
        pk="id",
    )
    db.table("config_proposals").create_index(["device_id", "rule", "status"])
    db.table("device_configs").create(
        {"device_id": str, "rev": int, "config": str, "pushed_at": float, "pushed_by": str},
        pk="device_id",
    )
