"""The fleet's tables as numbered migrations: devices and their alerts, on-demand snapshots."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

fleet = Migrations("fleet")


@fleet()
def m001_devices(db: sqlite_utils.Database) -> None:
    """Devices and camera-down alerts."""
    db.table("devices").create(
        {
            "id": str,
            "owner_org": str,
            "owner_type": str,
            "lat": float,
            "lon": float,
            "heading": float,
            "zone": str,
            "profile": str,
            "cert_fingerprint": str,
            "cert_not_after": str,
            "cert_not_after_ts": float,
            "firmware": str,
            "model": str,
            "config_rev": int,
            "config_error": str,
            "status": str,
            "status_at": float,
            "last_health_at": float,
            "health": str,
            "registered_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"owner_type", "lat", "lon"},
        defaults={"status": "unknown"},
    )
    for cols in (["zone"], ["owner_type"], ["owner_org"], ["status"], ["cert_not_after_ts"]):
        db.table("devices").create_index(cols)
    db.table("device_alerts").create(
        {
            "id": int,
            "device_id": str,
            "kind": str,
            "opened_at": float,
            "closed_at": float,
            "detail": str,
        },
        pk="id",
    )
    db.table("device_alerts").create_index(["device_id", "closed_at"])


@fleet()
def m002_evidence_sharing(db: sqlite_utils.Database) -> None:
    """A device's evidence-sharing terms (null: its owner type's default)."""
    db.table("devices").add_column("evidence_sharing", str)


@fleet()
def m003_centre(db: sqlite_utils.Database) -> None:
    """The monitoring centre responsible for a device, derived from its location (filled
    when zones are loaded; see ``FleetService.assign_centres``)."""
    db.table("devices").add_column("centre_id", str)
    db.table("devices").create_index(["centre_id"])


@fleet()
def m004_alert_groups(db: sqlite_utils.Database) -> None:
    """Camera-down alerts grouped by what the cameras share (street, zone, owner)."""
    db.table("device_alert_groups").create(
        {
            "id": int,
            "dim": str,
            "value": str,
            "opened_at": float,
            "last_at": float,
            "closed_at": float,
            "count": int,
            "open_count": int,
        },
        pk="id",
    )
    db.table("device_alert_groups").create_index(["closed_at", "last_at"])
    db.table("device_alerts").add_column("group_id", int)
    db.table("device_alerts").create_index(["group_id"])
    db.table("device_alerts").create_index(["closed_at", "opened_at"])


@fleet()
def m005_owner_orgs(db: sqlite_utils.Database) -> None:
    """Owner organisations as records, their sharing agreements (an organisation's, or one
    camera's own), and the owners' accounts; every device references its organisation
    (made from the devices' ``owner_org``/``owner_type`` labels, which stay readable)."""
    db.table("owner_orgs").create(
        {
            "id": int,
            "name": str,
            "kind": str,
            "contact": str,
            "area": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"name", "kind"},
    )
    db.table("owner_orgs").create_index(["name"], unique=True)
    db.table("sharing_agreements").create(
        {
            "key": str,  # "org:<id>" or "dev:<device id>"
            "org_id": int,
            "device_id": str,
            "level": str,
            "hours_from": int,
            "hours_to": int,
            "retention_days": float,
            "valid_from": float,
            "valid_to": float,
            "agreed_by": str,
            "note": str,
            "updated_at": float,
            "updated_by": str,
        },
        pk="key",
        not_null={"level"},
    )
    db.table("sharing_agreements").create_index(["org_id"])
    db.table("owner_accounts").create({"username": str, "org_id": int}, pk="username")
    db.table("owner_accounts").create_index(["org_id"])
    db.table("devices").add_column("org_id", int)
    db.table("devices").create_index(["org_id"])
    now = db.execute("select strftime('%s', 'now')").fetchone()[0]
    db.execute(
        "insert into owner_orgs (name, kind, created_at, updated_at) "
        "select coalesce(owner_org, '-'), min(owner_type), ?, ? from devices "
        "group by coalesce(owner_org, '-')",
        [float(now), float(now)],
    )
    db.execute(
        "update devices set org_id = (select o.id from owner_orgs o "
        "where o.name = coalesce(devices.owner_org, '-'))"
    )


snapshots = Migrations("snapshots")


@snapshots()
def m001_snapshots(db: sqlite_utils.Database) -> None:
    """Requested snapshots and their images."""
    db.table("snapshots").create(
        {
            "req": str,
            "incident_id": str,
            "device_id": str,
            "event_id": str,
            "requested_by": str,
            "created_at": float,
            "answered_at": float,
            "status": str,
            "mime": str,
            "width": int,
            "height": int,
            "data": bytes,
            "error": str,
        },
        pk="req",
    )
    db.table("snapshots").create_index(["incident_id"])
    db.table("snapshots").create_index(["created_at"])


@snapshots()
def m002_evidence(db: sqlite_utils.Database) -> None:
    """Snapshots as evidence: stated purpose, retries, the answer's hash and size."""
    for col, typ in (
        ("purpose", str),
        ("attempts", int),
        ("sent_at", float),
        ("sha256", str),
        ("bytes", int),
    ):
        db.table("snapshots").add_column(col, typ)
    db.table("snapshots").create_index(["status", "sent_at"])
    db.table("snapshots").create_index(["event_id"])
