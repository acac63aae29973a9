"""Geo layers held by the centre: validated zones and the road network, persisted in
SQLite as the GeoJSON that was loaded (so a restart serves exactly the same layers)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from ..platform.db import Database
from .roads import RoadNetwork
from .zones import ZoneMap


class GeoService:
    """The current zones and road network; loads validate fully before replacing."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self.zones: ZoneMap | None = None
        self.roads: RoadNetwork | None = None
        for row in db.query("select name, geojson from geo_layers"):
            data = json.loads(row["geojson"])
            if row["name"] == "zones":
                self.zones = ZoneMap.from_geojson(data)
            elif row["name"] == "roads":
                self.roads = RoadNetwork.from_geojson(data)

    def _store(self, name: str, data: Any, summary: dict[str, Any], actor: str) -> None:
        text = json.dumps(data, separators=(",", ":"))
        self.db.write(
            lambda db: db.table("geo_layers").upsert(
                {
                    "name": name,
                    "geojson": text,
                    "summary": json.dumps(summary),
                    "loaded_at": time.time(),
                    "loaded_by": actor,
                },
                pk="name",
            )
        )

    def load_zones(self, data: Any, actor: str = "system") -> dict[str, Any]:
        """Validate and install zones (ZoneError on any problem; the old zones stay)."""
        zones = ZoneMap.from_geojson(data)
        summary = {
            "patrol_zones": len(zones.patrol_zones()),
            "centres": sum(1 for z in zones.infos.values() if z.kind == "centre"),
        }
        self._store("zones", data, summary, actor)
        with self._lock:
            self.zones = zones
        return summary

    def load_roads(self, data: Any, actor: str = "system") -> dict[str, Any]:
        """Validate and install a road network (RoadNetworkError; the old one stays)."""
        roads = RoadNetwork.from_geojson(data)
        summary = {**roads.report.as_dict(), "directed_edges": roads.edge_count}
        self._store("roads", data, summary, actor)
        with self._lock:
            self.roads = roads
        return summary

    def placement_problem(
        self, zone: str, lat: float, lon: float, tolerance_m: float = 100.0
    ) -> str | None:
        """Why a camera at (lat, lon) cannot belong to patrol zone ``zone`` (None when it can).

        A camera on a border street may be given to either side: ``tolerance_m`` beyond the
        zone's edge still counts. With no zones loaded there is nothing to check against.
        """
        zones = self.zones
        if zones is None:
            return None
        known = zones.patrol_zones()
        if zone not in known:
            some = ", ".join(sorted(known)[:8])
            return f"zone {zone!r} is not a patrol zone of this city (known: {some}, …)"
        d = zones.distance_m(zone, lat, lon)
        if d is not None and d > tolerance_m:
            inside = zones.zone_of(lat, lon)
            where = f"it lies in zone {inside}" if inside else "it lies outside every zone"
            return f"location {lat:.5f},{lon:.5f} is {d:,.0f} m outside zone {zone} ({where})"
        return None

    def summary(self) -> dict[str, Any]:
        """What is loaded, when and by whom."""
        rows = self.db.query("select name, summary, loaded_at, loaded_by from geo_layers")
        return {
            r["name"]: {
                **json.loads(r["summary"]),
                "loaded_at": r["loaded_at"],
                "loaded_by": r["loaded_by"],
            }
            for r in rows
        }

    def road_lines(self) -> dict[str, Any]:
        """The road network as drawn on a map: each line's name, class and coordinates.

        Read from the stored layer (the routing graph keeps no names); coordinates rounded
        to ~1 m so a city's streets stay a small answer.
        """
        rows = self.db.query("select geojson, loaded_at from geo_layers where name = 'roads'")
        if not rows:
            return {"loaded_at": None, "lines": []}
        lines = []
        for f in json.loads(rows[0]["geojson"]).get("features", []):
            geom, props = f.get("geometry") or {}, f.get("properties") or {}
            parts = (
                [geom.get("coordinates")]
                if geom.get("type") == "LineString"
                else geom.get("coordinates") or []
                if geom.get("type") == "MultiLineString"
                else []
            )
            for part in parts:
                pts = [[round(p[0], 5), round(p[1], 5)] for p in part or [] if len(p) >= 2]
                if len(pts) >= 2:
                    name = props.get("name")
                    lines.append(
                        {
                            "name": str(name) if name else None,
                            "road_class": str(props.get("highway") or "road"),
                            "coords": pts,
                        }
                    )
        return {"loaded_at": rows[0]["loaded_at"], "lines": lines}
