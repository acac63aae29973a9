"""Unit simulator for tests, the bench and the demo: simulated patrol units that report
positions over MQTT, obey dispatch orders, drive along the road network at their speed,
and acknowledge each step (accepted → en_route → on_scene → cleared).

Simulated time advances only through :meth:`UnitSimulator.step`, so a test or the bench
decides how fast a shift runs; messages carry the wall clock (the centre's clock).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from coordinator.geo.project import haversine_m
from coordinator.geo.road_graph import fallback_estimate_s
from coordinator.geo.roads import RoadNetwork
from devtools.paho_link import PahoLink
from protocol import Ack, Channel, Dispatch, ParsedTopic, Topics, UnitPosition, decode, encode


@dataclass
class SimUnit:
    """One simulated unit; ``behaviour`` is obey, silent (never acks) or decline."""

    id: str
    mode: str
    lat: float
    lon: float
    behaviour: str = "obey"
    status: str = "available"
    order: str | None = None
    path: list[tuple[float, float]] = field(default_factory=list)
    speed_mps: float = 0.0
    order_t: float = 0.0
    arrived_t: float | None = None
    travel_s: list[float] = field(default_factory=list)


class UnitSimulator:
    """Drives :class:`SimUnit` s; talks MQTT through its own :class:`PahoLink`."""

    def __init__(
        self,
        roads: RoadNetwork | None,
        units: list[SimUnit],
        link: PahoLink | None,
        *,
        topics: Topics | None = None,
        on_scene_hold_s: float = 120.0,
    ) -> None:
        self.roads = roads
        self.units = {u.id: u for u in units}
        self.link = link
        self.topics = topics or Topics()
        self.hold_s = on_scene_hold_s
        self.t = 0.0  # simulated seconds since start
        self.orders_seen: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> UnitSimulator:
        """Subscribe each unit to its dispatch topic."""
        if self.link is not None:
            for uid in self.units:
                self.link.subscribe_topic(self.topics.unit(uid, Channel.DISPATCH), self.on_order)
        return self

    # messages -------------------------------------------------------------------------
    def _send(self, unit: SimUnit, msg: Ack | UnitPosition) -> None:
        if self.link is None:
            return
        ch = Channel.ACK if isinstance(msg, Ack) else Channel.POSITION
        self.link.publish(
            self.topics.unit(unit.id, ch), encode(msg), qos=1 if ch is Channel.ACK else 0
        )

    def ack(self, unit: SimUnit, status: str, order: str | None = None) -> None:
        """Publish an acknowledgement for the unit's (or the given) order."""
        oid = order or unit.order
        if oid is not None:
            self._send(unit, Ack(order=oid, ts=int(time.time() * 1000), status=status))  # type: ignore[arg-type]

    def on_order(self, topic: ParsedTopic, payload: bytes) -> None:
        """MQTT handler of a unit's dispatch topic: obey, decline or stay silent."""
        order: Dispatch = decode(Channel.DISPATCH, payload)
        with self._lock:
            unit = self.units.get(str(topic.ident))
            if unit is None:
                return
            self.orders_seen.append(order.id)
            if unit.behaviour == "silent":
                return
            if unit.behaviour == "decline" or unit.status != "available":
                self.ack(unit, "declined", order.id)
                return
            unit.order, unit.status, unit.order_t, unit.arrived_t = (
                order.id,
                "en_route",
                self.t,
                None,
            )
            unit.path, unit.speed_mps = self._plan(unit, order.lat, order.lon)
        self.ack(unit, "accepted")
        self.ack(unit, "en_route")

    def _plan(
        self, unit: SimUnit, lat: float, lon: float
    ) -> tuple[list[tuple[float, float]], float]:
        if self.roads is not None:
            est, path = self.roads.route(unit.lat, unit.lon, lat, lon, unit.mode)
            eta, dist = est.eta_s, est.distance_m
        else:
            dist = haversine_m(unit.lat, unit.lon, lat, lon)
            eta, path = fallback_estimate_s(dist, unit.mode), [(unit.lat, unit.lon), (lat, lon)]
        # Length of the polyline itself, travelled in the estimated time.
        length = sum(haversine_m(*a, *b) for a, b in zip(path, path[1:], strict=False))
        del dist
        return path, length / eta if length > 0 and eta > 0 else 1.0

    # time -----------------------------------------------------------------------------
    def step(self, dt: float) -> list[tuple[str, str]]:
        """Advance simulated time by ``dt`` seconds; return (unit, status) changes."""
        changes = []
        with self._lock:
            self.t += dt
            for u in self.units.values():
                if u.status == "en_route":
                    self._advance(u, u.speed_mps * dt)
                    if len(u.path) <= 1:
                        u.status, u.arrived_t = "on_scene", self.t
                        u.travel_s.append(self.t - u.order_t)
                        changes.append((u.id, "on_scene"))
                elif (
                    u.status == "on_scene"
                    and u.arrived_t is not None
                    and (self.t - u.arrived_t >= self.hold_s)
                ):
                    u.status = "available"
                    changes.append((u.id, "cleared"))
        for uid, status in changes:
            self.ack(self.units[uid], status)
            if status == "cleared":
                self.units[uid].order = None
        return changes

    @staticmethod
    def _advance(u: SimUnit, metres: float) -> None:
        while metres > 0 and len(u.path) > 1:
            (la, lo), (lb, lob) = u.path[0], u.path[1]
            seg = haversine_m(la, lo, lb, lob)
            if seg <= metres:
                metres -= seg
                u.path.pop(0)
                u.lat, u.lon = lb, lob
            else:
                f = metres / seg
                u.lat, u.lon = la + (lb - la) * f, lo + (lob - lo) * f
                u.path[0] = (u.lat, u.lon)
                metres = 0

    def report_positions(self) -> None:
        """Publish every unit's position (QoS 0), as units do every few seconds."""
        now = int(time.time() * 1000)
        for u in list(self.units.values()):
            status: Any = u.status  # available / en_route / on_scene, as a unit's radio reports
            self._send(
                u,
                UnitPosition(
                    ts=now,
                    lat=u.lat,
                    lon=u.lon,
                    status=status,
                    speed=min(100.0, u.speed_mps) if u.path else 0.0,
                ),
            )

    def run(
        self,
        stop: threading.Event,
        tick_s: float = 0.2,
        speedup: float = 10.0,
        report_every_s: float = 5.0,
    ) -> None:
        """Real-time loop for the demo: simulated time runs ``speedup`` x wall time."""
        last_report = -math.inf
        while not stop.wait(tick_s):
            self.step(tick_s * speedup)
            if self.t - last_report >= report_every_s:
                self.report_positions()
                last_report = self.t


def spawn_units(
    n: int,
    city: Any,
    seed: int = 1,
    zones: Any = None,
    modes: tuple[str, ...] = ("car", "car", "ebike", "foot"),
) -> list[dict[str, Any]]:
    """Definitions (id, call sign, mode, home zone, shift, position) of ``n`` random units."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lat, lon = city.random_point(rng)
        mode = modes[i % len(modes)]
        out.append(
            {
                "id": f"{mode}-{i + 1:03d}",
                "call_sign": f"{mode[0].upper()}{i + 1:03d}",
                "mode": mode,
                "home_zone": zones.zone_of(lat, lon) if zones else None,
                "shift": "day" if i % 2 == 0 else "night",
                "status": "available",
                "lat": lat,
                "lon": lon,
            }
        )
    return out
