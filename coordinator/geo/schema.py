"""Geo's schema: the loaded layers (numbered migrations)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlite_utils.migrations import Migrations

migrations = Migrations("geo")


@migrations()
def m001_layers(db: Any) -> None:
    """One row per layer (zones, roads): the source GeoJSON and its load summary."""
    db.table("geo_layers").create(
        {"name": str, "geojson": str, "summary": str, "loaded_at": float, "loaded_by": str},
        pk="name",
    )


@migrations()
def m002_areas(db: Any) -> None:
    """The area hierarchy of the loaded zones (city → centre → station → patrol zone),
    rewritten on every zones load so that SQL can group by centre or station."""
    db.table("geo_areas").create(
        {"id": str, "kind": str, "name": str, "parent": str, "centre": str, "area_km2": float},
        pk="id",
    )
    db.table("geo_areas").create_index(["parent"])
    db.table("geo_areas").create_index(["centre"])


@migrations()
def m003_centre_staff(db: Any) -> None:
    """Who works for which monitoring centre, the city-wide flag, and each centre's shift
    log (sign on, sign off, notes)."""
    db.table("centre_members").create(
        {"username": str, "centre_id": str, "added_at": float, "added_by": str},
        pk=("username", "centre_id"),
    )
    db.table("centre_members").create_index(["centre_id"])
    db.table("centre_city_wide").create(
        {"username": str, "added_at": float, "added_by": str}, pk="username"
    )
    db.table("centre_shift_log").create(
        {"id": int, "centre_id": str, "ts": float, "username": str, "kind": str, "text": str},
        pk="id",
    )
    db.table("centre_shift_log").create_index(["centre_id", "ts"])
    db.table("centre_shift_log").create_index(["username", "ts"])


@migrations()
def m004_existing_staff_city_wide(db: Any) -> None:
    """Staff who existed before centres did saw every incident and camera: they keep that
    view (city-wide) after the upgrade; accounts created afterwards start with no centre."""
    if not db.table("users").exists():
        return
    staff = {"operator", "dispatcher", "supervisor"}
    now = time.time()
    for row in db.query("select username, roles from users"):
        if staff & set(json.loads(row["roles"] or "[]")):
            db.table("centre_city_wide").insert(
                {"username": row["username"], "added_at": now, "added_by": "upgrade"}
            )
