"""Building a :class:`~coordinator.geo.roads.RoadNetwork` from GeoJSON: parsing OSM-style
ways (class, one-way, maxspeed), joining shared vertices, per-mode graphs, connectivity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .project import Projection
from .road_graph import (
    CLASS_KMH,
    FORBIDDEN,
    MODE_MAX_KMH,
    MODES,
    LoadReport,
    ModeGraph,
    RoadNetworkError,
)

_ONEWAY = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1, "no": 0, "false": 0, "0": 0}


def _oneway(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    key = str(value).strip().lower()
    if key not in _ONEWAY:
        raise ValueError(f"oneway {value!r} is not yes/no/-1")
    return _ONEWAY[key]


def _speed(props: dict[str, Any], cls: str) -> float:
    raw = props.get("maxspeed")
    if raw is None:
        return CLASS_KMH.get(cls, CLASS_KMH["unclassified"])
    text = str(raw).strip().lower()
    mph = text.endswith("mph")
    try:
        value = float(text.removesuffix("mph").removesuffix("km/h").strip())
    except ValueError:
        raise ValueError(f"maxspeed {raw!r} is not a number") from None
    if not 1 <= value <= 200:
        raise ValueError(f"maxspeed {raw!r} outside 1..200")
    return value * 1.609 if mph else value


def _lines(geom: Any) -> list[list[Any]]:
    if not isinstance(geom, dict):
        raise ValueError("geometry missing")
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind == "LineString":
        lines = [coords]
    elif kind == "MultiLineString" and isinstance(coords, list):
        lines = coords
    else:
        raise ValueError(f"geometry type {kind!r} is not a LineString")
    out = []
    for line in lines:
        if not isinstance(line, list) or len(line) < 2:
            raise ValueError("a LineString needs at least 2 positions")
        for p in line:
            if (
                not isinstance(p, list | tuple)
                or len(p) < 2
                or not all(isinstance(c, int | float) and math.isfinite(c) for c in p[:2])
                or not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90)
            ):
                raise ValueError(f"position {p!r} is not [lon, lat] in range")
        out.append(line)
    return out


def build_network(cls: Any, data: Any, min_main_share: float) -> Any:
    """Parse ways, join shared vertices, build the per-mode graphs (see RoadNetwork)."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RoadNetworkError(["road network must be a GeoJSON FeatureCollection"])
    feats = data.get("features")
    if not isinstance(feats, list) or not feats:
        raise RoadNetworkError(["road network has no features"])
    report = LoadReport(features=len(feats))
    ways: list[tuple[list[list[Any]], str, float, int]] = []
    for i, f in enumerate(feats):
        try:
            if not isinstance(f, dict):
                raise ValueError("not a Feature")
            props = f.get("properties") or {}
            if not isinstance(props, dict):
                raise ValueError("properties is not an object")
            cls_ = str(props.get("highway") or "unclassified")
            ways.append(
                (
                    _lines(f.get("geometry")),
                    cls_,
                    _speed(props, cls_),
                    _oneway(props.get("oneway")),
                )
            )
        except ValueError as exc:
            report.skipped.append(f"feature {i}: {exc}")
    if not ways:
        raise RoadNetworkError(["no usable LineString features", *report.skipped])
    report.ways = len(ways)
    ref_lat = float(np.mean([ln[0][0][1] for ln, *_ in ways]))
    proj = Projection(ref_lat)
    index: dict[tuple[float, float], int] = {}
    xs: list[float] = []
    ys: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    seg_cls: list[str] = []
    seg_kmh: list[float] = []
    seg_dir: list[int] = []
    for lines, cls_, kmh, direction in ways:
        for line in lines:
            prev = None
            for p in line:
                # 1e-7 degrees (~1 cm): vertices that share a point join, as in OSM.
                key = (round(float(p[0]), 7), round(float(p[1]), 7))
                node = index.get(key)
                if node is None:
                    node = index[key] = len(xs)
                    x, y = proj.xy(key[1], key[0])
                    xs.append(x)
                    ys.append(y)
                if prev is not None and prev != node:
                    us.append(prev)
                    vs.append(node)
                    seg_cls.append(cls_)
                    seg_kmh.append(kmh)
                    seg_dir.append(direction)
                prev = node
    if not us:
        raise RoadNetworkError(["no road segment of non-zero length"])
    xy = np.column_stack((np.asarray(xs), np.asarray(ys)))
    u, v = np.asarray(us, dtype=np.int64), np.asarray(vs, dtype=np.int64)
    length = np.hypot(*(xy[v] - xy[u]).T)
    report.segments, report.nodes = len(u), len(xy)
    graphs = {
        m: _mode_graph(m, xy, u, v, length, seg_cls, np.asarray(seg_kmh), np.asarray(seg_dir))
        for m in MODES
    }
    for m, g in graphs.items():
        report.components[m] = g.components
        report.main_component_share[m] = round(g.main_share, 4)
    if graphs["car"].main_share < min_main_share:
        raise RoadNetworkError(
            [
                f"road graph is disconnected: its largest connected part holds only "
                f"{graphs['car'].main_share:.0%} of the nodes for cars "
                f"({graphs['car'].components} parts); at least {min_main_share:.0%} required"
            ]
        )
    return cls(proj, xy, graphs, report)


def _mode_graph(
    mode: str,
    xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray,
    seg_cls: list[str],
    kmh: np.ndarray,
    direction: np.ndarray,
) -> ModeGraph:
    n = len(xy)
    allowed = np.asarray([c not in FORBIDDEN[mode] for c in seg_cls], dtype=bool)
    speed = np.minimum(kmh, MODE_MAX_KMH[mode]) / 3.6
    if mode == "foot":
        direction = np.zeros_like(direction)  # pedestrians walk both ways on one-way streets
    fwd = allowed & (direction >= 0)
    bwd = allowed & (direction <= 0)
    src = np.concatenate((u[fwd], v[bwd]))
    dst = np.concatenate((v[fwd], u[bwd]))
    lens = np.concatenate((length[fwd], length[bwd]))
    secs = np.concatenate((length[fwd] / speed[fwd], length[bwd] / speed[bwd]))
    keys = src * n + dst
    # Parallel ways between the same two nodes: keep the fastest (csr would *sum* them).
    order = np.lexsort((secs, keys))
    keys, secs, lens, src, dst = keys[order], secs[order], lens[order], src[order], dst[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    keys, secs, lens, src, dst = keys[first], secs[first], lens[first], src[first], dst[first]
    # One spare node (index n) hosts a query's exact target point (see RoadNetwork.reach).
    reverse = csr_matrix((secs, (dst, src)), shape=(n + 1, n + 1))
    both = np.concatenate((src, dst))
    adj = csr_matrix((np.ones(2 * len(src)), (both, np.concatenate((dst, src)))), shape=(n, n))
    if len(keys) == 0:
        return ModeGraph(mode, reverse, keys, secs, lens, adj, None, np.zeros(0, np.int64), 0, 0.0)
    # Weak components: a one-way dead end still belongs to the city (reachable, or able
    # to leave); a true island does not, and points are snapped to the main part only.
    ncomp, labels = connected_components(adj, directed=False)
    # Only nodes the mode actually touches count towards the share.
    touched = np.zeros(n, dtype=bool)
    touched[src] = touched[dst] = True
    counts = np.bincount(labels[touched], minlength=ncomp)
    main = int(np.argmax(counts))
    snap_nodes = np.flatnonzero(touched & (labels == main))
    real_parts = int((counts > 0).sum())
    return ModeGraph(
        mode,
        reverse,
        keys,
        secs,
        lens,
        adj,
        cKDTree(xy[snap_nodes]),
        snap_nodes,
        real_parts,
        float(counts[main] / max(1, touched.sum())),
    )
