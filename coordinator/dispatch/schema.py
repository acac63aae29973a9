"""Dispatch tables (numbered migrations) and row helpers; writes go through Database.write."""

from __future__ import annotations

from typing import Any

from sqlite_utils.migrations import Migrations

migrations = Migrations("dispatch")


@migrations()
def m001_units_orders(db: Any) -> None:
    """Units, their status log, dispatch orders and every order event (acks included)."""
    db.table("units").create(
        {
            "id": str,
            "call_sign": str,
            "mode": str,
            "home_zone": str,
            "shift": str,
            "status": str,
            "lat": float,
            "lon": float,
            "pos_ms": int,
            "status_ms": int,
            "created_ms": int,
        },
        pk="id",
        not_null={"call_sign", "mode", "status"},
    )
    db.table("unit_log").create(
        {"id": int, "unit_id": str, "ts_ms": int, "status": str, "source": str}, pk="id"
    )
    db.table("unit_log").create_index(["unit_id", "ts_ms"])
    db.table("dispatch_orders").create(
        {
            "id": str,
            "incident_id": str,
            "unit_id": str,
            "status": str,
            "attempt": int,
            "decided_by": str,
            "rank": int,
            "eta_s": float,
            "distance_m": float,
            "zone": str,
            "shift": str,
            "kind": str,
            "priority": int,
            "detected_ms": int,
            "sent_ms": int,
            "ack_ms": int,
            "en_route_ms": int,
            "on_scene_ms": int,
            "cleared_ms": int,
            "ended_reason": str,
        },
        pk="id",
        not_null={"incident_id", "unit_id", "status", "sent_ms"},
    )
    db.table("dispatch_orders").create_index(["incident_id"])
    db.table("dispatch_orders").create_index(["unit_id", "status"])
    db.table("dispatch_events").create(
        {
            "id": int,
            "order_id": str,
            "incident_id": str,
            "unit_id": str,
            "ts_ms": int,
            "kind": str,
            "status": str,
            "outcome": str,
            "detail": str,
        },
        pk="id",
    )
    db.table("dispatch_events").create_index(["order_id"])
    db.table("dispatch_events").create_index(["incident_id"])
    db.table("dispatch_policy").create(
        {"id": int, "json": str, "updated_ms": int, "updated_by": str}, pk="id"
    )


@migrations()
def m002_orders_status_index(db: Any) -> None:
    """Active orders by status (the pending-dispatch queue reads them on every refresh)."""
    db.table("dispatch_orders").create_index(["status"], if_not_exists=True)


@migrations()
def m002_unit_centre(db: Any) -> None:
    """A unit's monitoring centre (its home zone's), for mutual aid and the centres' views."""
    db.table("units").add_column("centre_id", str)
