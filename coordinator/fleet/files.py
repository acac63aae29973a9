"""Read a camera fleet from CSV or GeoJSON (``coordinator load-fleet FILE``).

CSV columns are DeviceIn's field names (``id, owner_org, owner_type, lat, lon, heading,
zone, profile, cert_fingerprint, cert_not_after``); GeoJSON is a FeatureCollection of
Points whose ``properties`` carry the same fields (coordinates give lon, lat). Every bad
row is reported with its line or feature number; nothing is loaded if any row is bad.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .service import DeviceIn


class FleetFileError(ValueError):
    """The fleet file is unreadable or has bad rows; the message lists them."""


def _validate(rows: list[tuple[str, dict[str, Any]]]) -> list[DeviceIn]:
    out, problems, seen = [], [], set()
    for where, raw in rows:
        clean = {k: (None if v == "" else v) for k, v in raw.items() if k is not None}
        try:
            d = DeviceIn.model_validate(clean)
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(x) for x in e["loc"]) or "row"
                problems.append(f"{where}: {field}: {e['msg']}")
            continue
        if d.id in seen:
            problems.append(f"{where}: id: duplicate device id {d.id!r}")
        seen.add(d.id)
        out.append(d)
    if problems:
        shown = problems[:50]
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise FleetFileError("\n".join(shown) + more)
    return out


def parse_csv(text: str, name: str = "fleet.csv") -> list[DeviceIn]:
    """Devices from CSV text (header row = field names)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise FleetFileError(f"{name}: the header row must name the columns, including 'id'")
    return _validate([(f"{name}:{reader.line_num}", row) for row in reader])


def parse_geojson(text: str, name: str = "fleet.geojson") -> list[DeviceIn]:
    """Devices from a GeoJSON FeatureCollection of Points."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FleetFileError(f"{name}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise FleetFileError(f"{name}: expected a GeoJSON FeatureCollection")
    rows = []
    for i, f in enumerate(doc.get("features") or []):
        where = f"{name}: feature {i}"
        geom = (f or {}).get("geometry") or {}
        coords = geom.get("coordinates")
        if geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            rows.append((where, {"__bad__": "geometry must be a Point [lon, lat]"}))
            continue
        props = dict((f or {}).get("properties") or {})
        props.setdefault("lon", coords[0])
        props.setdefault("lat", coords[1])
        rows.append((where, props))
    return _validate(rows)


def load_file(path: Path) -> list[DeviceIn]:
    """Parse a .csv or .geojson/.json fleet file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FleetFileError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, str(path))
    if path.suffix.lower() in (".geojson", ".json"):
        return parse_geojson(text, str(path))
    raise FleetFileError(f"{path}: use a .csv or .geojson file")
