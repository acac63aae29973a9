"""``coordinator geo-check`` / ``geo-load``: validate zone and road GeoJSON files, and load
them into the centre's database (the same checks as ``PUT /api/geo/*``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_command

from .road_graph import RoadNetworkError
from .roads import RoadNetwork
from .zones import ZoneError, ZoneMap


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None


def check(zones: str | None, roads: str | None) -> dict[str, Any]:
    """Validate the given files; returns {layer: {"ok": bool, ...summary or problems}}."""
    out: dict[str, Any] = {}
    for name, path in (("zones", zones), ("roads", roads)):
        if path is None:
            continue
        try:
            data = _read(path)
            if name == "zones":
                zm = ZoneMap.from_geojson(data)
                out[name] = {
                    "ok": True,
                    "file": path,
                    "patrol_zones": len(zm.patrol_zones()),
                    "centres": sum(z.kind == "centre" for z in zm.infos.values()),
                }
            else:
                net = RoadNetwork.from_geojson(data)
                out[name] = {
                    "ok": True,
                    "file": path,
                    **net.report.as_dict(),
                    "directed_edges": net.edge_count,
                }
        except (ZoneError, RoadNetworkError) as exc:
            out[name] = {"ok": False, "file": path, "problems": exc.problems}
        except ValueError as exc:
            out[name] = {"ok": False, "file": path, "problems": [str(exc)]}
    return out


def _print(result: dict[str, Any], as_json: bool) -> int:
    ok = all(r["ok"] for r in result.values())
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        for name, r in result.items():
            if r["ok"]:
                skipped = r.get("skipped_count", 0)
                extra = f", {skipped} features skipped" if skipped else ""
                print(f"{name}: OK ({r['file']}{extra})")
                for s in r.get("skipped", [])[:10]:
                    print(f"  skipped {s}")
            else:
                print(f"{name}: INVALID ({r['file']})", file=sys.stderr)
                for p in r["problems"]:
                    print(f"  - {p}", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FAILURE


def cmd_check(args: argparse.Namespace) -> int:
    """Validate files without touching any database."""
    if not (args.zones or args.roads):
        print("give --zones and/or --roads", file=sys.stderr)
        return EXIT_USAGE
    return _print(check(args.zones, args.roads), args.json)


def cmd_load(args: argparse.Namespace) -> int:
    """Validate, then load into the coordinator's database (nothing loaded if any fails)."""
    if not (args.zones or args.roads):
        print("give --zones and/or --roads", file=sys.stderr)
        return EXIT_USAGE
    result = check(args.zones, args.roads)
    if not all(r["ok"] for r in result.values()):
        return _print(result, args.json)
    from .service import GeoService

    db = args.open_db(args)
    try:
        geo = GeoService(db)
        if args.zones:
            geo.load_zones(_read(args.zones), "cli")
        if args.roads:
            geo.load_roads(_read(args.roads), "cli")
    finally:
        db.close()
    return _print(result, args.json)


def add_commands(
    sub: argparse._SubParsersAction, open_db: Callable[[argparse.Namespace], Any]
) -> None:
    """Register ``geo-check`` and ``geo-load`` on the coordinator CLI; ``open_db`` opens the
    centre's migrated database from the parsed arguments (``--settings``)."""
    for name, help_text, example, fn in (
        (
            "geo-check",
            "Validate patrol-zone and road-network GeoJSON files (no database).",
            "coordinator geo-check --zones zones.geojson --roads roads.geojson",
            cmd_check,
        ),
        (
            "geo-load",
            "Validate and load zones/roads into the coordinator database.",
            "coordinator geo-load --zones zones.geojson --settings coordinator.yaml",
            cmd_load,
        ),
    ):
        p = add_command(sub, name, help_text, example, fn)
        p.add_argument("--zones", help="GeoJSON FeatureCollection of zone polygons")
        p.add_argument("--roads", help="GeoJSON FeatureCollection of road LineStrings")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "geo-load":
            p.add_argument("--settings", help="YAML settings file")
            p.set_defaults(open_db=open_db)
