"""Geo layers held by the centre: validated zones and the road network, persisted in
SQLite as the GeoJSON that was loaded (so a restart serves exactly the same layers)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..platform.bus import Unsubscribe, remover
from ..platform.db import Database
from .address import Streets, address
from .centres import CentreService
from .roads import RoadNetwork
from .zones import ZoneMap

log = logging.getLogger(__name__)
ZonesListener = Callable[[ZoneMap], object]


class GeoService:
    """The current zones and road network; loads validate fully before replacing."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self.zones: ZoneMap | None = None
        self.roads: RoadNetwork | None = None
        self.streets: Streets | None = None
        self._zone_listeners: list[ZonesListener] = []
        self.centres = CentreService(db, self.centre_ids)
        for row in db.query("select name, geojson from geo_layers"):
            data = json.loads(row["geojson"])
            if row["name"] == "zones":
                self.zones = ZoneMap.from_geojson(data)
            elif row["name"] == "roads":
                self.roads = RoadNetwork.from_geojson(data)
                self.streets = Streets.from_geojson(data)

    def _store(
        self,
        name: str,
        data: Any,
        summary: dict[str, Any],
        actor: str,
        area_rows: list[dict[str, Any]] | None = None,
    ) -> None:
        text = json.dumps(data, separators=(",", ":"))

        def write(db: Any) -> None:
            db.table("geo_layers").upsert(
                {
                    "name": name,
                    "geojson": text,
                    "summary": json.dumps(summary),
                    "loaded_at": time.time(),
                    "loaded_by": actor,
                },
                pk="name",
            )
            if area_rows is not None:
                db.execute("delete from geo_areas")
                if area_rows:
                    db.table("geo_areas").insert_all(area_rows, pk="id")

        self.db.write(write)

    def load_zones(self, data: Any, actor: str = "system") -> dict[str, Any]:
        """Validate and install zones (ZoneError on any problem; the old zones stay)."""
        zones = ZoneMap.from_geojson(data)
        summary = {
            "patrol_zones": len(zones.patrol_zones()),
            "centres": sum(1 for z in zones.infos.values() if z.kind == "centre"),
        }
        summary["stations"] = sum(1 for z in zones.infos.values() if z.kind == "station")
        self._store("zones", data, summary, actor, zones.hierarchy.rows())
        with self._lock:
            self.zones = zones
        for listener in list(self._zone_listeners):
            try:
                listener(zones)
            except Exception:  # one domain's backfill failing must not undo the load
                log.exception("a zones listener failed")
        return summary

    def on_zones(self, listener: ZonesListener) -> Unsubscribe:
        """Call ``listener(zones)`` after each zones load (cameras, units and incidents
        re-derive their centres); returns a callable that removes it."""
        self._zone_listeners.append(listener)
        return remover(self._zone_listeners, listener)

    def centre_for(self, lat: float, lon: float, zone: str | None = None) -> str | None:
        """The monitoring centre responsible for a point (None with no zones loaded)."""
        zones = self.zones
        return zones.centre_for(lat, lon, zone) if zones is not None else None

    def address_of(self, lat: float, lon: float, zone: str | None = None) -> str | None:
        """The nearest named street and the patrol zone's name ("宾王北路, 龙庄派出所第1巡区"),
        None with neither loaded."""
        streets, zones = self.streets, self.zones
        near = streets.nearest(lat, lon) if streets is not None else None
        zone_name = None
        if zones is not None:
            zid = zone if zone in zones.infos else zones.zone_of(lat, lon)
            zone_name = zones.infos[zid].name if zid else None
        return address(near[0] if near else None, zone_name)

    def centre_ids(self) -> list[str]:
        """Every monitoring centre of the loaded hierarchy."""
        zones = self.zones
        return zones.hierarchy.centres() if zones is not None else []

    def load_roads(self, data: Any, actor: str = "system") -> dict[str, Any]:
        """Validate and install a road network (RoadNetworkError; the old one stays)."""
        roads = RoadNetwork.from_geojson(data)
        streets = Streets.from_geojson(data)
        summary = {**roads.report.as_dict(), "directed_edges": roads.edge_count}
        summary["named_streets"] = len(set(streets.names))
        self._store("roads", data, summary, actor)
        with self._lock:
            self.roads, self.streets = roads, streets
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
