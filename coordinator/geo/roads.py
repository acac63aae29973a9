"""Road network from GeoJSON LineStrings (the form OSM extract tools write).

Each feature is a way: ``properties.highway`` is the road class, ``oneway`` is ``yes`` /
``-1`` / ``no`` (OSM spelling), ``maxspeed`` optional (km/h). Ways are joined where they
share a vertex, as in OSM extracts. One directed graph per travel mode (foot ignores
one-way restrictions and motorways; cars and e-bikes obey them) weighted by travel
seconds. Queries run one *reverse* Dijkstra from the incident per mode: that yields every
unit's travel time to it at once, the same answer as a multi-source search from all units
(compiled scipy.sparse.csgraph). Positions are placed on their nearest segment, so a
unit mid-block on a one-way street leaves it in the allowed direction. Building from
GeoJSON lives in ``roads_build.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .project import Projection, haversine_m
from .road_graph import (
    ACCESS_KMH,
    AT_NODE,
    DETOUR_FACTOR,
    FALLBACK_KMH,
    MAX_SNAP_M,
    EdgeSnap,
    LoadReport,
    ModeGraph,
    fallback_estimate_s,
)
from .roads_build import build_network


@dataclass
class Route:
    """Travel to a target: seconds, metres, and how it was estimated."""

    eta_s: float
    distance_m: float
    method: str  # "road" or "estimate"
    note: str | None = None
    via: int | None = None  # the node the route leaves the origin's segment by


@dataclass
class Reach:
    """One reverse search towards a target for one mode; answers many origins cheaply."""

    net: RoadNetwork
    mode: str
    target_lat: float
    target_lon: float
    target: EdgeSnap | None
    target_access_s: float
    dist: np.ndarray | None
    pred: np.ndarray | None
    limit_s: float = math.inf
    # metres from each end node of the target's segment to the target point
    last_leg: dict[int, float] = field(default_factory=dict)

    def route_from(
        self,
        lat: float,
        lon: float,
        *,
        with_distance: bool = True,
        snapped: EdgeSnap | None = None,
    ) -> Route:
        """Travel time (and road distance) from a point to this reach's target.

        ``snapped`` is the origin's cached :meth:`RoadNetwork.snap_edge` result, if known.
        The origin leaves its segment by whichever end its direction allows and is faster.
        """
        straight = haversine_m(lat, lon, self.target_lat, self.target_lon)

        def estimate(note: str, floor: float = 0.0) -> Route:
            return Route(
                max(floor, fallback_estimate_s(straight, self.mode)),
                straight * DETOUR_FACTOR,
                "estimate",
                note,
            )

        if self.dist is None or self.target is None:
            return estimate("incident off the road network")
        s = snapped if snapped is not None else self.net.snap_edge(lat, lon, self.mode)
        if s is None or s.offset_m > MAX_SNAP_M:
            return estimate("unit off the road network")
        g = self.net.graphs[self.mode]
        n = self.net.n
        best, via, part_m = math.inf, None, 0.0
        for start, end, frac in ((s.a, s.b, 1 - s.f), (s.b, s.a, s.f)):
            if 1 - frac < AT_NODE and self.dist[start] < best:  # at a node: leave any way
                best, via, part_m = float(self.dist[start]), start, 0.0
            e = g.edge(n, start, end)
            if e is not None and e[0] * frac + self.dist[end] < best:
                best, via, part_m = e[0] * frac + float(self.dist[end]), end, e[1] * frac
        t = self.target
        if {s.a, s.b} == {t.a, t.b}:  # same segment: drive straight there if allowed
            fu = s.f if s.a == t.a else 1 - s.f
            for start, end, sign in ((t.a, t.b, 1), (t.b, t.a, -1)):
                e = g.edge(n, start, end)
                gap = (t.f - fu) * sign
                if e is not None and gap >= 0 and e[0] * gap < best:
                    best, via, part_m = e[0] * gap, None, e[1] * gap
        if not math.isfinite(best):
            if math.isfinite(self.limit_s):
                # Beyond the horizon: never ranks ahead of a unit found within it.
                return estimate("beyond the road search horizon", self.limit_s)
            return estimate("no road path (one-way streets or a gap in the network)")
        access = s.offset_m / (ACCESS_KMH[self.mode] / 3.6)
        dist_m = math.nan
        if with_distance:
            dist_m = part_m + s.offset_m + (self.path_length(via) if via is not None else 0.0)
        return Route(best + access + self.target_access_s, dist_m, "road", via=via)

    def batch_eta(self, snaps: list[EdgeSnap]) -> np.ndarray:
        """Road ETAs for many snapped origins at once. NaN where :meth:`route_from` must
        decide (off the network, no path, on the target's own segment); a negative value
        is minus the straight-line estimate of an origin beyond the search horizon."""
        out = np.full(len(snaps), np.nan)
        if self.dist is None or self.target is None or not snaps:
            return out
        g, n = self.net.graphs[self.mode], self.net.n
        a = np.fromiter((s.a for s in snaps), np.int64, len(snaps))
        b = np.fromiter((s.b for s in snaps), np.int64, len(snaps))
        f = np.fromiter((s.f for s in snaps), float, len(snaps))
        off = np.fromiter((s.offset_m for s in snaps), float, len(snaps))

        def secs(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            key = u * n + v
            i = np.minimum(np.searchsorted(g.keys, key), len(g.keys) - 1)
            return np.where(g.keys[i] == key, g.secs[i], np.inf)

        best = np.minimum(secs(a, b) * (1 - f) + self.dist[b], secs(b, a) * f + self.dist[a])
        best = np.where(f < AT_NODE, np.minimum(best, self.dist[a]), best)
        best = np.where(1 - f < AT_NODE, np.minimum(best, self.dist[b]), best)
        eta = best + off / (ACCESS_KMH[self.mode] / 3.6) + self.target_access_s
        t = self.target
        special = (off > MAX_SNAP_M) | (((a == t.a) & (b == t.b)) | ((a == t.b) & (b == t.a)))
        if math.isfinite(self.limit_s):
            # Beyond the horizon: the straight-line estimate, never below the horizon.
            lat = np.fromiter((s.lat for s in snaps), float, len(snaps))
            lon = np.fromiter((s.lon for s in snaps), float, len(snaps))
            straight = np.hypot(
                (lon - self.target_lon) * self.net.proj.kx,
                (lat - self.target_lat) * self.net.proj.ky,
            )
            est = np.maximum(
                straight * DETOUR_FACTOR / (FALLBACK_KMH[self.mode] / 3.6), self.limit_s
            )
            far = ~np.isfinite(best) & ~special
            out[far] = -est[far]  # negative marks "estimate beyond the horizon"
        ok = np.isfinite(best) & ~special
        out[ok] = eta[ok]
        return out

    def path_nodes(self, node: int) -> list[int]:
        """Real nodes from ``node`` to the target's segment (via the search predecessors)."""
        assert self.pred is not None
        out = [node]
        while True:
            node = int(self.pred[node])
            if node < 0:
                return []
            if node == self.net.n:  # the virtual target node
                return out
            out.append(node)

    def path_length(self, node: int) -> float:
        """Road metres from ``node`` to the target point."""
        path = np.asarray(self.path_nodes(node), dtype=np.int64)
        if len(path) == 0:
            return math.nan
        g = self.net.graphs[self.mode]
        keys = path[:-1] * self.net.n + path[1:]
        inner = float(g.lengths[np.searchsorted(g.keys, keys)].sum()) if len(keys) else 0.0
        return inner + self.last_leg.get(int(path[-1]), 0.0)


class RoadNetwork:
    """Nodes, per-mode travel-time graphs and snapping; built by :meth:`from_geojson`."""

    def __init__(
        self, proj: Projection, xy: np.ndarray, graphs: dict[str, ModeGraph], report: LoadReport
    ) -> None:
        self.proj = proj
        self.xy = xy
        self.n = len(xy)
        self.graphs = graphs
        self.report = report

    @property
    def edge_count(self) -> int:
        """Directed edges of the largest mode graph (the size benchmarks quote)."""
        return max(len(g.keys) for g in self.graphs.values())

    def node_latlon(self, node: int) -> tuple[float, float]:
        """(lat, lon) of a node."""
        return self.proj.latlon(float(self.xy[node, 0]), float(self.xy[node, 1]))

    def snap_edge(self, lat: float, lon: float, mode: str) -> EdgeSnap | None:
        """The nearest road segment usable by ``mode`` (in its main component)."""
        g = self.graphs[mode]
        if g.tree is None:
            return None
        p = np.asarray(self.proj.xy(lat, lon))
        k = min(8, len(g.snap_nodes))
        _, idx = g.tree.query(p, k=k)
        nodes = g.snap_nodes[np.atleast_1d(idx)]
        a_list, b_list = [], []
        for a in nodes:
            nb = g.adj.indices[g.adj.indptr[a] : g.adj.indptr[a + 1]]
            a_list.append(np.full(len(nb), a))
            b_list.append(nb)
        a_arr, b_arr = np.concatenate(a_list), np.concatenate(b_list)
        if len(a_arr) == 0:
            return None
        pa, ab = self.xy[a_arr], self.xy[b_arr] - self.xy[a_arr]
        denom = np.maximum((ab * ab).sum(axis=1), 1e-12)
        f = np.clip(((p - pa) * ab).sum(axis=1) / denom, 0.0, 1.0)
        d = np.hypot(*(pa + ab * f[:, None] - p).T)
        i = int(np.argmin(d))
        return EdgeSnap(int(a_arr[i]), int(b_arr[i]), float(f[i]), float(d[i]), lat, lon)

    def reach(self, lat: float, lon: float, mode: str, limit_s: float = math.inf) -> Reach:
        """Search backwards from a target once; then :meth:`Reach.route_from` any origin."""
        t = self.snap_edge(lat, lon, mode)
        if t is None or t.offset_m > MAX_SNAP_M:
            return Reach(self, mode, lat, lon, None, 0.0, None, None, limit_s)
        g = self.graphs[mode]
        # The target sits on segment a–b: reached from a (if a→b is allowed) after f of
        # it, from b (if b→a) after 1-f. In the reverse graph: edges virtual → a / b.
        cols, vals, last_leg = [], [], {}
        for start, end, frac in ((t.a, t.b, t.f), (t.b, t.a, 1 - t.f)):
            e = g.edge(self.n, start, end)
            if frac < AT_NODE:  # the target is at this node: reached from it, whatever way
                cols.append(start)
                vals.append(1e-9)  # csgraph drops explicit zeros
                last_leg[start] = 0.0
            elif e is not None:
                cols.append(start)
                vals.append(e[0] * frac)
                last_leg[start] = e[1] * frac
        r = g.reverse
        indptr = r.indptr.copy()
        indptr[-1] += len(cols)
        rev = csr_matrix(
            (np.concatenate((r.data, vals)), np.concatenate((r.indices, cols)), indptr),
            shape=r.shape,
        )
        dist, pred = dijkstra(
            rev, directed=True, indices=self.n, return_predecessors=True, limit=limit_s
        )
        access = t.offset_m / (ACCESS_KMH[mode] / 3.6)
        return Reach(self, mode, lat, lon, t, access, dist, pred, limit_s, last_leg)

    def route(
        self, from_lat: float, from_lon: float, to_lat: float, to_lon: float, mode: str
    ) -> tuple[Route, list[tuple[float, float]]]:
        """Travel estimate and the polyline (lat, lon) a unit follows to the target."""
        r = self.reach(to_lat, to_lon, mode)
        est = r.route_from(from_lat, from_lon)
        if est.method != "road":
            return est, [(from_lat, from_lon), (to_lat, to_lon)]
        pts = [self.node_latlon(n) for n in r.path_nodes(est.via)] if est.via is not None else []
        return est, [(from_lat, from_lon), *pts, (to_lat, to_lon)]

    # construction -------------------------------------------------------------------

    @classmethod
    def from_geojson(cls, data: Any, *, min_main_share: float = 0.5) -> RoadNetwork:
        """Build from a FeatureCollection; raise RoadNetworkError when unusable.

        Features that are not usable ways are skipped and listed in the report. A graph
        whose largest connected part holds less than ``min_main_share`` of the nodes
        (for cars) is refused: routes across the gaps would silently not exist.
        """
        return build_network(cls, data, min_main_share)
