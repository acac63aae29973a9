"""The dispatch service: recommendation, orders over MQTT, acks, re-offers, auto-dispatch.

The I/O shell around the pure ranking (``ranking.py``) and order state machine
(``orders.py``). It receives a :class:`coordinator.bus.Publisher` to send orders with
and exposes :meth:`handlers` for the MQTT link (positions, acks). Incidents come from
``services.extra["incidents"]`` (issue 4's IncidentService) when present, else from a
small in-memory store with the same contract.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from protocol import (
    Ack,
    Channel,
    Dispatch,
    ParsedTopic,
    ProtocolError,
    Topics,
    UnitPosition,
    decode,
    encode,
    uuid7,
)

from ..bus import Handler, Publisher
from ..db import Database
from ..geo.project import haversine_m
from ..geo.roads import fallback_estimate_s
from ..geo.service import GeoService
from .incidents_local import LocalIncidents
from .kpi import kpis, to_ms
from .orders import ACTIVE, TIME_COLUMN, UNIT_STATUS_FOR, apply_ack, incident_steps
from .policy import AutoPolicy, DispatchSettings
from .ranking import Candidate, Ranked, rank_units, zone_counts
from .units import UnitError, UnitRegistry

log = logging.getLogger(__name__)


class DispatchError(Exception):
    """A dispatch request cannot be honoured; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class DispatchService:
    """Recommend, dispatch, follow acks and time-outs, and report KPIs."""

    def __init__(
        self,
        db: Database,
        geo: GeoService,
        *,
        extra: dict[str, Any] | None = None,
        publisher: Publisher | None = None,
        topics: Topics | None = None,
        settings: DispatchSettings | None = None,
        clock: Any = time.time,
    ) -> None:
        self.db = db
        self.geo = geo
        self.extra = extra if extra is not None else {}
        self.publisher = publisher
        self.topics = topics or Topics()
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.units = UnitRegistry(db, clock)
        self.local_incidents = LocalIncidents()
        self.rejected: deque[str] = deque(maxlen=200)  # last refused messages, for operators
        self.counters = {"positions": 0, "acks": 0, "rejected": 0, "duplicate": 0, "late": 0}
        self._lock = threading.RLock()
        self._bound: object | None = None
        self._timers: list[tuple[float, str]] = []
        self._timer_cv = threading.Condition()
        self._timer_thread: threading.Thread | None = None
        self._closed = False
        row = db.query("select json from dispatch_policy where id = 1")
        self.policy = AutoPolicy.model_validate_json(row[0]["json"]) if row else AutoPolicy()
        _ = self.incidents  # subscribe to incident changes (auto-dispatch) right away

    def bind(self) -> None:
        """(Re)subscribe to the incident service now in ``extra`` (call after wiring)."""
        _ = self.incidents

    # wiring ---------------------------------------------------------------------------
    @property
    def incidents(self) -> Any:
        """The incident service in use (issue 4's, else the local one)."""
        svc = self.extra.get("incidents") or self.local_incidents
        if self._bound is not svc:
            self._bound = svc
            svc.on_change(self._on_incident_change)
        return svc

    def attach_publisher(self, publisher: Publisher) -> None:
        """Use ``publisher`` (the MQTT link) for orders from now on."""
        self.publisher = publisher

    def handlers(self) -> dict[Channel, Handler]:
        """Channel → handler, for the MQTT link's ``add_handler``."""
        return {Channel.POSITION: self.handle_position, Channel.ACK: self.handle_ack}

    def now_ms(self) -> int:
        """The centre's clock in epoch ms."""
        return int(self.clock() * 1000)

    def _reject(self, reason: str) -> None:
        self.counters["rejected"] += 1
        self.rejected.append(reason)
        log.warning("dispatch: %s", reason)

    # policy ---------------------------------------------------------------------------
    def set_policy(self, policy: AutoPolicy, actor: str) -> AutoPolicy:
        """Replace the auto-dispatch policy (persisted)."""
        text = policy.model_dump_json()
        now = self.now_ms()
        self.db.write(
            lambda db: db.table("dispatch_policy").upsert(
                {"id": 1, "json": text, "updated_ms": now, "updated_by": actor}, pk="id"
            )
        )
        self.policy = policy
        return policy

    # recommendation -------------------------------------------------------------------
    def incident_zone(self, incident: dict[str, Any]) -> str | None:
        """The incident's patrol zone: its own, else looked up from its position."""
        if incident.get("zone"):
            return str(incident["zone"])
        zones = self.geo.zones
        return zones.zone_of(incident["lat"], incident["lon"]) if zones else None

    def recommend(
        self, incident: dict[str, Any], k: int | None = None, exclude: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Top-k available units for ``incident`` (needs lat, lon) with reasons."""
        k = k or self.settings.top_k
        lat, lon = float(incident["lat"]), float(incident["lon"])
        zone = self.incident_zone(incident)
        now = self.now_ms()
        excluded = set(exclude)
        roads = self.geo.roads
        skipped: list[dict[str, str]] = []
        with self.units.lock:
            units = list(self.units.units.values())
        per_zone = zone_counts((u.home_zone, u.status) for u in units)
        pool = []
        for u in units:
            if u.status != "available":
                continue
            if u.id in excluded:
                skipped.append({"unit": u.id, "reason": "already offered this incident"})
            elif u.lat is None or u.lon is None or u.pos_ms is None:
                skipped.append({"unit": u.id, "reason": "no position reported"})
            else:
                pool.append(u)
        reaches = {}
        if roads is not None:
            for mode in sorted({u.mode for u in pool}):
                reaches[mode] = roads.reach(lat, lon, mode, self.settings.search_horizon_s)
        cands = []
        by_mode: dict[str, list[Any]] = {}
        for u in pool:
            age = max(0.0, (now - (u.pos_ms or now)) / 1000)
            if roads is None:
                straight = haversine_m(u.lat, u.lon, lat, lon)  # type: ignore[arg-type]
                cands.append(
                    Candidate(
                        u.id,
                        u.call_sign,
                        u.mode,
                        u.home_zone,
                        fallback_estimate_s(straight, u.mode),
                        age,
                        "estimate",
                        "no road network loaded",
                        straight * 1.4,
                    )
                )
                continue
            # Read once: a position arriving on the MQTT thread may clear the cache meanwhile.
            snap = u.snap.get(u.mode)
            if snap is None:
                snap = roads.snap_edge(u.lat, u.lon, u.mode)  # type: ignore[arg-type]
                u.snap[u.mode] = snap
            by_mode.setdefault(u.mode, []).append((u, age, snap))
        for mode, group in by_mode.items():
            snaps = [sn for _, _, sn in group]
            # Vectorised for the common case; route_from decides the special ones.
            etas = reaches[mode].batch_eta(snaps) if None not in snaps else [math.nan] * len(group)
            for (u, age, snap), eta in zip(group, etas, strict=True):
                if math.isfinite(eta):
                    if eta >= 0:
                        cands.append(
                            Candidate(u.id, u.call_sign, u.mode, u.home_zone, float(eta), age)
                        )
                    else:
                        cands.append(
                            Candidate(
                                u.id,
                                u.call_sign,
                                u.mode,
                                u.home_zone,
                                float(-eta),
                                age,
                                "estimate",
                                "beyond the road search horizon",
                            )
                        )
                    continue
                r = reaches[mode].route_from(
                    u.lat,
                    u.lon,
                    with_distance=False,
                    snapped=snap,
                )
                cands.append(
                    Candidate(
                        u.id,
                        u.call_sign,
                        u.mode,
                        u.home_zone,
                        r.eta_s,
                        age,
                        r.method,
                        r.note,
                        r.distance_m,
                    )
                )
        ranked = rank_units(cands, zone, per_zone, self.settings.rank_policy(), k)
        out = []
        for ranked_unit in ranked:
            d = self._ranked_view(ranked_unit)
            u = self.units.units[ranked_unit.unit_id]
            if roads is not None and ranked_unit.method == "road" and u.lat is not None:
                route = reaches[u.mode].route_from(u.lat, u.lon or 0.0, snapped=u.snap.get(u.mode))
                d["distance_m"] = round(route.distance_m, 1)
                d["reasons"].insert(1, f"{d['distance_m'] / 1000:.2f} km by road")
            out.append(d)
        return {
            "incident": incident.get("id"),
            "zone": zone,
            "lat": lat,
            "lon": lon,
            "candidates": out,
            "skipped": skipped,
            "road_network": roads is not None,
        }

    @staticmethod
    def _ranked_view(r: Ranked) -> dict[str, Any]:
        return {
            "rank": r.rank,
            "unit": r.unit_id,
            "call_sign": r.call_sign,
            "mode": r.mode,
            "home_zone": r.home_zone,
            "eta_s": round(r.eta_s, 1),
            "score_s": round(r.score_s, 1),
            "distance_m": None if r.distance_m != r.distance_m else round(r.distance_m, 1),
            "method": r.method,
            "position_age_s": round(r.position_age_s, 1),
            "stale": r.stale,
            "reasons": list(r.reasons),
        }

    # orders ---------------------------------------------------------------------------
    def orders_for(self, incident_id: str) -> list[dict[str, Any]]:
        """Every order of an incident, oldest first."""
        return self.db.query(
            "select * from dispatch_orders where incident_id = ? order by sent_ms, rowid",
            [incident_id],
        )

    def events_for(self, incident_id: str) -> list[dict[str, Any]]:
        """The timestamped dispatch history of an incident (acks included)."""
        return self.db.query(
            "select * from dispatch_events where incident_id = ? order by id", [incident_id]
        )

    def order(self, order_id: str) -> dict[str, Any] | None:
        """One order, or None."""
        rows = self.db.query("select * from dispatch_orders where id = ?", [order_id])
        return rows[0] if rows else None

    def dispatch(
        self,
        incident_id: str,
        unit_id: str | None = None,
        *,
        actor: str = "system",
        decided_by: str = "dispatcher",
        backup: bool = False,
    ) -> dict[str, Any]:
        """Offer the incident to ``unit_id`` (default: the top recommendation) over MQTT."""
        with self._lock:
            incident = self.incidents.get(incident_id)
            if incident is None:
                raise DispatchError(f"no incident {incident_id}", 404)
            if incident.get("status") in ("resolved", "closed", "dismissed", "merged"):
                raise DispatchError(f"incident {incident_id} is {incident['status']}")
            orders = self.orders_for(incident_id)
            active = [o for o in orders if o["status"] in ACTIVE]
            if active and not backup:
                raise DispatchError(
                    f"incident already has an active order to "
                    f"{active[0]['unit_id']} ({active[0]['status']}); "
                    "send a backup explicitly"
                )
            tried = {o["unit_id"] for o in orders}
            rec = self.recommend(incident, k=50, exclude=tried if unit_id is None else ())
            if unit_id is None:
                if not rec["candidates"]:
                    raise DispatchError("no available unit with a known position")
                choice = rec["candidates"][0]
            else:
                unit = self.units.get(unit_id)
                if unit is None:
                    raise DispatchError(f"no unit {unit_id}", 404)
                if unit.status == "off_duty":
                    raise DispatchError(f"unit {unit_id} is off duty")
                if unit.status != "available":
                    raise DispatchError(f"unit {unit_id} is not available ({unit.status})")
                choice = next((c for c in rec["candidates"] if c["unit"] == unit_id), None)
                if choice is None:
                    raise DispatchError(f"unit {unit_id} has no position to dispatch from")
            return self._offer(incident, choice, len(orders) + 1, decided_by, actor)

    def _offer(
        self,
        incident: dict[str, Any],
        choice: dict[str, Any],
        attempt: int,
        decided_by: str,
        actor: str,
    ) -> dict[str, Any]:
        unit = self.units.units[choice["unit"]]
        now = self.now_ms()
        order = {
            "id": uuid7(),
            "incident_id": incident["id"],
            "unit_id": unit.id,
            "status": "offered",
            "attempt": attempt,
            "decided_by": decided_by,
            "rank": choice["rank"],
            "eta_s": choice["eta_s"],
            "distance_m": choice["distance_m"],
            "zone": self.incident_zone(incident),
            "shift": unit.shift,
            "kind": incident.get("kind"),
            "priority": incident.get("priority"),
            "detected_ms": to_ms(incident.get("created_at")),
            "sent_ms": now,
        }
        msg = Dispatch(
            id=order["id"],
            ts=now,
            incident=incident["id"],
            kind=incident.get("kind") or "presence",
            priority=int(incident.get("priority") or 3),
            lat=float(incident["lat"]),
            lon=float(incident["lon"]),
            eta_s=min(86400.0, choice["eta_s"]),
            note="; ".join(choice["reasons"][:2]),
        )
        detail = json.dumps({"actor": actor, "reasons": choice["reasons"]})
        self.db.write(
            lambda db: (
                db.table("dispatch_orders").insert(order),
                db.table("dispatch_events").insert(
                    self._event(order, now, "offered", "offered", "applied", detail)
                ),
            )
        )
        if self.publisher is not None:
            self.publisher.publish(self.topics.unit(unit.id, Channel.DISPATCH), encode(msg), qos=1)
        else:
            self._record(order, "not_sent", "offered", "queued", "no MQTT link attached")
        self._schedule(self.clock() + self.settings.ack_timeout_s, order["id"])
        return order

    @staticmethod
    def _event(
        order: dict[str, Any],
        ts: int,
        kind: str,
        status: str | None,
        outcome: str,
        detail: str = "",
    ) -> dict[str, Any]:
        return {
            "order_id": order["id"],
            "incident_id": order["incident_id"],
            "unit_id": order["unit_id"],
            "ts_ms": ts,
            "kind": kind,
            "status": status,
            "outcome": outcome,
            "detail": detail,
        }

    def _record(
        self, order: dict[str, Any], kind: str, status: str | None, outcome: str, detail: str = ""
    ) -> None:
        ev = self._event(order, self.now_ms(), kind, status, outcome, detail)
        self.db.write(lambda db: db.table("dispatch_events").insert(ev))

    def _end(self, order: dict[str, Any], status: str, reason: str, reoffer: bool) -> None:
        now = self.now_ms()
        self.db.write(
            lambda db: (
                db.table("dispatch_orders").update(
                    order["id"], {"status": status, "ended_reason": reason}
                ),
                db.table("dispatch_events").insert(
                    self._event(order, now, status, status, "applied", reason)
                ),
            )
        )
        if reoffer:
            self._reoffer(order["incident_id"], order.get("decided_by") or "dispatcher")

    def _reoffer(self, incident_id: str, decided_by: str) -> None:
        try:
            self.dispatch(
                incident_id,
                actor="system",
                decided_by="auto" if decided_by == "auto" else "reoffer",
            )
        except DispatchError as exc:
            now = self.now_ms()
            ev = {
                "order_id": None,
                "incident_id": incident_id,
                "unit_id": None,
                "ts_ms": now,
                "kind": "no_unit",
                "status": None,
                "outcome": "unassigned",
                "detail": str(exc),
            }
            self.db.write(lambda db: db.table("dispatch_events").insert(ev))

    # acks and positions ---------------------------------------------------------------
    def handle_ack(self, topic: ParsedTopic, payload: bytes) -> None:
        """MQTT handler: apply a unit's acknowledgement (never raises on bad input)."""
        try:
            ack = decode(Channel.ACK, payload)
        except ProtocolError as exc:
            self._reject(f"ack from {topic.ident}: {exc}")
            return
        self.counters["acks"] += 1
        try:
            self.apply_ack(str(topic.ident), ack)
        except DispatchError as exc:
            self._reject(str(exc))

    def apply_ack(self, unit_id: str, ack: Ack) -> str:
        """Apply ``ack`` from ``unit_id``; returns the verdict's outcome."""
        with self._lock:
            order = self.order(ack.order)
            if order is None:
                raise DispatchError(f"ack from {unit_id} for unknown order {ack.order}")
            if order["unit_id"] != unit_id:
                raise DispatchError(f"ack from {unit_id} for an order of {order['unit_id']}")
            v = apply_ack(order["status"], ack.status)
            if v.outcome != "applied":
                if v.outcome in ("duplicate", "late"):
                    self.counters[v.outcome] += 1
                self._record(order, "ack", ack.status, v.outcome, f"{v.reason} (unit ts {ack.ts})")
                return v.outcome
            now = self.now_ms()
            fields: dict[str, Any] = {"status": v.new_status, TIME_COLUMN[ack.status]: now}
            if not order.get("ack_ms"):
                fields["ack_ms"] = now  # any status from the unit acknowledges the order
            unit = self.units.get(unit_id)

            def fn(db: Any) -> None:
                db.table("dispatch_orders").update(order["id"], fields)
                db.table("dispatch_events").insert(
                    self._event(
                        order,
                        now,
                        "ack",
                        ack.status,
                        "applied",
                        f"unit ts {ack.ts}" + (f"; {ack.note}" if ack.note else ""),
                    )
                )
                if unit is not None and unit.status != "off_duty":
                    self.units.set_status(
                        unit, UNIT_STATUS_FOR[str(v.new_status)], f"ack {order['id']}", db
                    )

            self.db.write(fn)
            for step in incident_steps(order["status"], str(v.new_status)):
                try:
                    self.incidents.transition(
                        order["incident_id"], step, f"unit:{unit_id}", f"order {order['id']}"
                    )
                except (ValueError, KeyError) as exc:
                    self._record(order, "incident", step, "refused", str(exc))
        if v.reoffer:
            self._reoffer(order["incident_id"], order.get("decided_by") or "dispatcher")
        return "applied"

    def handle_position(self, topic: ParsedTopic, payload: bytes) -> None:
        """MQTT handler: record a unit's position (never raises on bad input)."""
        try:
            pos = decode(Channel.POSITION, payload)
            unit, reported = self.units.apply_position(str(topic.ident), pos)
        except (ProtocolError, UnitError) as exc:
            self._reject(f"position from {topic.ident}: {exc}")
            return
        self.counters["positions"] += 1
        if reported is not None:
            self.set_unit_status(unit.id, reported, "position report")

    def position(self, unit_id: str, pos: UnitPosition) -> None:
        """Apply a position directly (tests, the simulator without a broker)."""
        unit, reported = self.units.apply_position(unit_id, pos)
        if reported is not None:
            self.set_unit_status(unit.id, reported, "position report")

    def set_unit_status(self, unit_id: str, status: str, source: str) -> dict[str, Any]:
        """Set available/busy/off_duty; going off duty cancels and re-offers its orders."""
        unit = self.units.get(unit_id)
        if unit is None:
            raise DispatchError(f"no unit {unit_id}", 404)
        if status not in ("available", "busy", "off_duty"):
            raise DispatchError(
                f"status {status!r}: only available, busy or off_duty can be "
                "set; the others follow acknowledgements",
                422,
            )
        with self._lock:
            active = self.db.query(
                "select * from dispatch_orders where unit_id = ? and status in "
                "('offered','accepted','en_route','on_scene')",
                [unit_id],
            )
            if active and status == "available":
                raise DispatchError(f"unit {unit_id} has an active order; clear it first")
            self.units.set_status(unit, status, source)
            for o in active:
                self._end(o, "cancelled", f"unit {unit_id} went {status}", reoffer=True)
        return unit.view(self.now_ms(), self.settings.stale_after_s)

    # auto-dispatch --------------------------------------------------------------------
    def _on_incident_change(self, incident: dict[str, Any], change: str) -> None:
        if change not in ("created", "opened", "new") and incident.get("status") not in (
            "new",
            "open",
        ):
            return
        rule = self.policy.matches(incident)
        if rule is None or self.orders_for(incident["id"]):
            return
        try:
            self.dispatch(incident["id"], actor="auto-policy", decided_by="auto")
        except DispatchError as exc:
            self._reoffer_failed(incident["id"], str(exc))

    def _reoffer_failed(self, incident_id: str, reason: str) -> None:
        ev = {
            "order_id": None,
            "incident_id": incident_id,
            "unit_id": None,
            "ts_ms": self.now_ms(),
            "kind": "auto_dispatch",
            "status": None,
            "outcome": "unassigned",
            "detail": reason,
        }
        self.db.write(lambda db: db.table("dispatch_events").insert(ev))

    # ack timeouts ---------------------------------------------------------------------
    def _schedule(self, deadline: float, order_id: str) -> None:
        with self._timer_cv:
            if self._closed:
                return
            heapq.heappush(self._timers, (deadline, order_id))
            if self._timer_thread is None:
                self._timer_thread = threading.Thread(
                    target=self._timer_loop, name="dispatch-ack-timer", daemon=True
                )
                self._timer_thread.start()
            self._timer_cv.notify()

    def _timer_loop(self) -> None:
        while True:
            with self._timer_cv:
                while not self._closed and (not self._timers or self._timers[0][0] > self.clock()):
                    wait = self._timers[0][0] - self.clock() if self._timers else None
                    self._timer_cv.wait(timeout=wait)
                if self._closed:
                    return
                _, order_id = heapq.heappop(self._timers)
            try:
                self.check_timeout(order_id)
            except Exception:  # noqa: BLE001 - one failure must not stop the timer
                log.exception("ack timeout handling failed for %s", order_id)

    def check_timeout(self, order_id: str) -> bool:
        """Time out ``order_id`` if still unacknowledged; re-offer. True when it timed out."""
        with self._lock:
            order = self.order(order_id)
            if order is None or order["status"] != "offered":
                return False
            self._end(
                order,
                "timed_out",
                f"no acknowledgement within {self.settings.ack_timeout_s:g} s",
                reoffer=True,
            )
            return True

    # KPIs -----------------------------------------------------------------------------
    def kpis(
        self,
        since_ms: int | None = None,
        until_ms: int | None = None,
        group_by: tuple[str, ...] = ("zone", "shift"),
    ) -> list[dict[str, Any]]:
        """KPI rows per zone and shift for orders sent in [since, until)."""
        rows = self.db.query(
            "select * from dispatch_orders where sent_ms >= ? and sent_ms < ?",
            [since_ms or 0, until_ms or 2**62],
        )
        return kpis(rows, group_by)

    def close(self) -> None:
        """Stop the ack-timeout thread."""
        with self._timer_cv:
            self._closed = True
            self._timer_cv.notify_all()
        if self._timer_thread is not None:
            self._timer_thread.join(timeout=10)
