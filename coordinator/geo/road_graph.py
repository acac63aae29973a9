"""The road network's data model: travel modes, speeds by road class, the per-mode graph,
snapping results and the loader's report. Shared by the query side (``roads.py``) and the
builder (``roads_build.py``), so neither imports the other's internals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from ..errors import Invalid

MODES = ("foot", "ebike", "car")
#: Default speed by OSM road class (km/h) when a way has no ``maxspeed``.
CLASS_KMH: dict[str, float] = {
    "motorway": 80,
    "trunk": 60,
    "primary": 50,
    "secondary": 40,
    "tertiary": 35,
    "unclassified": 30,
    "residential": 25,
    "living_street": 10,
    "service": 15,
    "pedestrian": 5,
    "footway": 5,
    "path": 5,
    "steps": 3,
    "cycleway": 18,
    "bridge": 40,
}
#: Classes each mode may not use.
FORBIDDEN: dict[str, frozenset[str]] = {
    "foot": frozenset({"motorway", "trunk"}),
    "ebike": frozenset({"motorway", "trunk", "footway", "pedestrian", "steps", "path"}),
    "car": frozenset({"footway", "pedestrian", "steps", "path", "cycleway"}),
}
#: A mode's own top speed (km/h); a car is bounded by the road only.
MODE_MAX_KMH: dict[str, float] = {"foot": 5.0, "ebike": 20.0, "car": 200.0}
#: Speed off the network (from a position to the nearest node, or the fallback estimate).
ACCESS_KMH: dict[str, float] = {"foot": 5.0, "ebike": 15.0, "car": 15.0}
#: Typical door-to-door speed for the straight-line fallback estimate (km/h).
FALLBACK_KMH: dict[str, float] = {"foot": 5.0, "ebike": 16.0, "car": 28.0}
DETOUR_FACTOR = 1.4  # road distance / straight line in a typical street grid
AT_NODE = 1e-4  # fraction of a segment under which a point counts as at its end node
MAX_SNAP_M = 400.0  # farther than this from every node: the point is "off the network"


class RoadNetworkError(Invalid, ValueError):
    """The road GeoJSON cannot be used; ``problems`` lists each reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:10]) + (" …" if len(problems) > 10 else ""))
        self.problems = problems

    @property
    def detail(self) -> dict[str, Any]:
        """The sentence and every problem, for the client to show."""
        return {"message": str(self), "problems": self.problems}


def fallback_estimate_s(distance_m: float, mode: str) -> float:
    """Straight-line distance x detour factor / typical speed: the no-network estimate."""
    return distance_m * DETOUR_FACTOR / (FALLBACK_KMH[mode] / 3.6)


@dataclass
class ModeGraph:
    """The directed graph of one travel mode, restricted for snapping to its main component."""

    mode: str
    # Transposed travel-time graph with one spare node (index n) for the target's exact
    # mid-block position: Dijkstra from a target answers every origin at once.
    reverse: csr_matrix
    keys: np.ndarray  # sorted u*n+v of kept edges, for time/length lookup
    secs: np.ndarray
    lengths: np.ndarray
    adj: csr_matrix  # undirected adjacency, to find the edges around a point
    tree: cKDTree | None
    snap_nodes: np.ndarray  # node ids in the largest (weakly) connected component
    components: int
    main_share: float

    def edge(self, n: int, a: int, b: int) -> tuple[float, float] | None:
        """(seconds, metres) of the directed edge a→b, or None when it is not allowed."""
        key = a * n + b
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return float(self.secs[i]), float(self.lengths[i])
        return None


@dataclass(frozen=True)
class EdgeSnap:
    """A point placed on its nearest road segment a–b at fraction ``f`` from a."""

    a: int
    b: int
    f: float
    offset_m: float  # distance from the point to the road
    lat: float = math.nan  # the point itself
    lon: float = math.nan


@dataclass
class LoadReport:
    """What the loader kept and what it skipped (with reasons)."""

    features: int = 0
    ways: int = 0
    segments: int = 0
    nodes: int = 0
    skipped: list[str] = field(default_factory=list)
    components: dict[str, int] = field(default_factory=dict)
    main_component_share: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "features": self.features,
            "ways": self.ways,
            "segments": self.segments,
            "nodes": self.nodes,
            "skipped": self.skipped[:50],
            "skipped_count": len(self.skipped),
            "components": self.components,
            "main_component_share": self.main_component_share,
        }
