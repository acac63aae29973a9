"""Geo's schema: the loaded layers (numbered migrations)."""

from __future__ import annotations

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
