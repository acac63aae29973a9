"""The dispatch service: recommendation, orders over MQTT, acks, re-offers, auto-dispatch.

The I/O shell around the pure ranking (``ranking.py``) and order state machine
(``orders.py``). It receives a :class:`coordinator.platform.bus.Publisher` to send orders with
and exposes :meth:`handlers` for the MQTT link (positions, acks). Incidents come from the
incident service the composition root passes in, else from a small in-memory store with
the same contract (:class:`IncidentSource`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

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

from ..errors import Conflict, Invalid, NotFound
from ..geo.project import haversine_m
from ..geo.service import GeoService
from ..incidents.status import CLOSED, ChangeKind, IncidentStatus
from ..platform.bus import Handler, Publisher, Unsubscribe
from ..platform.db import Database
from .incidents_local import LocalIncidents
from .kpi import kpis, to_ms
from .orders import ACTIVE, TIME_COLUMN, UNIT_STATUS_FOR, apply_ack, incident_steps
from .pending import (
    COMMITTED,
    UnitView,
    move_ups,
    needs_dispatch,
    pending_item,
    preemptible,
    queue_order,
    waiting_reason,
)
from .policy import AutoPolicy, DispatchSettings
from .recommend import recommend
from .timer import DeadlineTimer
from .units import Unit, UnitError, UnitRegistry

log = logging.getLogger(__name__)


class DispatchError(Conflict):
    """A dispatch request cannot be honoured in the current state (unit busy, incident closed)."""


class DispatchNotFound(NotFound, DispatchError):
    """No such incident, unit or order."""


class DispatchInvalid(Invalid, DispatchError):
    """The request itself is wrong (a status a dispatcher may not set)."""


class IncidentSource(Protocol):
    """What dispatch needs of incidents (the incident service, or the local store)."""

    def get(self, incident_id: str) -> dict[str, Any] | None:
        """The incident, or None."""
        ...

    def transition(
        self, incident_id: str, status: str, actor: str, note: str | None = None
    ) -> dict[str, Any]:
        """Move the incident along its lifecycle."""
        ...

    def on_change(self, callback: Callable[[dict[str, Any], ChangeKind], None]) -> Unsubscribe:
        """Follow changes; returns the undo."""
        ...

    def search(
        self, *, status: Sequence[str] | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Incidents in the given statuses."""
        ...


class DispatchService:
    """Recommend, dispatch, follow acks and time-outs, and report KPIs."""

    def __init__(
        self,
        db: Database,
        geo: GeoService,
        *,
        incidents: IncidentSource | None = None,
        publisher: Publisher | None = None,
        topics: Topics | None = None,
        settings: DispatchSettings | None = None,
        clock: Any = time.time,
    ) -> None:
        self.db = db
        self.geo = geo
        self.publisher = publisher
        self.topics = topics or Topics()
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.units = UnitRegistry(db, clock)
        self.units.centre_of_zone = self._centre_of_zone
        self.local_incidents = LocalIncidents()
        #: The incident service in use (the real one, else the local one).
        self.incidents: IncidentSource = (
            incidents if incidents is not None else self.local_incidents
        )
        self.rejected: deque[str] = deque(maxlen=200)  # last refused messages, for operators
        self.counters = {"positions": 0, "acks": 0, "rejected": 0, "duplicate": 0, "late": 0}
        self._lock = threading.RLock()
        self._timer = DeadlineTimer(clock, self.check_timeout, "dispatch-ack-timer")
        row = db.query("select json from dispatch_policy where id = 1")
        self.policy = AutoPolicy.model_validate_json(row[0]["json"]) if row else AutoPolicy()
        # Auto-dispatch follows incident changes from the start; undone by close().
        self._unsubscribe = self.incidents.on_change(self._on_incident_change)

    def _centre_of_zone(self, zone: str | None) -> str | None:
        zones = self.geo.zones
        return zones.hierarchy.centre_of(zone) if zones is not None else None

    # wiring ---------------------------------------------------------------------------
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
        self,
        incident: dict[str, Any],
        k: int | None = None,
        exclude: Iterable[str] = (),
        include: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Top-k available units for ``incident`` (needs lat, lon) with reasons."""
        return recommend(self, incident, k, exclude, include)

    # orders ---------------------------------------------------------------------------
    def orders_for(self, incident_id: str) -> list[dict[str, Any]]:
        """Every order of an incident, oldest first."""
        return self.db.query(
            "select * from dispatch_orders where incident_id = ? order by sent_ms, attempt",
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
                raise DispatchNotFound(f"no incident {incident_id}")
            if incident.get("status") in CLOSED:
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
                    raise DispatchNotFound(f"no unit {unit_id}")
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
        self._note_mutual_aid(incident, unit, actor)
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

    def _note_mutual_aid(self, incident: dict[str, Any], unit: Unit, actor: str) -> None:
        """A unit of another centre sent to an incident: a handover entry in its log."""
        mine = incident.get("centre_id")
        note = getattr(self.incidents, "log_mutual_aid", None)
        if unit.centre_id is None or unit.centre_id == mine or note is None:
            return
        note(incident["id"], actor, unit.id, unit.centre_id, mine)

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
            raise DispatchNotFound(f"no unit {unit_id}")
        if status not in ("available", "busy", "off_duty"):
            raise DispatchInvalid(
                f"status {status!r}: only available, busy or off_duty can be "
                "set; the others follow acknowledgements",
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
    def _on_incident_change(self, incident: dict[str, Any], change: ChangeKind) -> None:
        # Auto-dispatch follows detection: a newly opened incident, or one still new whose
        # confidence grew as events joined it. Operator steps (notes, transitions) and
        # merges never dispatch on their own.
        opened = change == ChangeKind.CREATED
        grew = change == ChangeKind.UPDATED and incident.get("status") == IncidentStatus.NEW
        if not (opened or grew):
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
        self._timer.schedule(deadline, order_id)

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

    # the pending-dispatch queue --------------------------------------------------------
    def unit_views(self) -> list[UnitView]:
        """Every unit as the pending queue sees it."""
        with self.units.lock:
            return [
                UnitView(u.id, u.mode, u.status, u.home_zone, u.lat is not None)
                for u in self.units.units.values()
            ]

    def _active_incidents(self) -> set[str]:
        rows = self.db.query(
            "select distinct incident_id from dispatch_orders where status in "
            "('offered','accepted','en_route','on_scene')"
        )
        return {r["incident_id"] for r in rows}

    def _last_events(self, incident_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The dispatch events that explain a wait, per incident (one query per 500)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for i in range(0, len(incident_ids), 500):
            chunk = incident_ids[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            for row in self.db.query(
                f"select * from dispatch_events where incident_id in ({marks}) and kind in "
                "('no_unit','auto_dispatch','declined','timed_out','cancelled') order by id",
                chunk,
            ):
                out.setdefault(row["incident_id"], []).append(row)
        return out

    def pending(
        self, limit: int = 200, allows: Callable[[str | None], bool] | None = None
    ) -> dict[str, Any]:
        """Incidents that need a unit and have none, each with why, most urgent first
        (only those of the centres ``allows`` accepts, when given)."""
        now = self.now_ms()
        statuses = [IncidentStatus.NEW, *sorted(COMMITTED)]
        found = self.incidents.search(status=statuses, limit=5000)
        active = self._active_incidents()
        units = self.unit_views()
        waiting, unverified = [], 0
        for inc in found:
            if inc["id"] in active or (allows is not None and not allows(inc.get("centre_id"))):
                continue
            if needs_dispatch(inc, self.policy.matches(inc) is not None):
                waiting.append(inc)
            elif inc.get("status") == IncidentStatus.NEW:
                unverified += 1
        events = self._last_events([i["id"] for i in waiting])
        items = []
        for inc in waiting:
            modes = self.settings.required_modes.get(str(inc.get("kind") or ""), [])
            reason = waiting_reason(inc, units, events.get(inc["id"], []), modes)
            items.append(pending_item(inc, now, reason, self.incident_zone(inc)))
        ordered = queue_order(items)
        return {
            "now_ms": now,
            "total": len(ordered),
            "awaiting_verification": unverified,
            "items": ordered[:limit],
        }

    def preemption(self, incident_id: str, k: int = 5) -> dict[str, Any]:
        """Units that could be diverted to ``incident_id`` from lower-priority work, and the cost."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            raise DispatchNotFound(f"no incident {incident_id}")
        active = self.db.query(
            "select * from dispatch_orders where status in ('offered','accepted','en_route')"
        )
        orders = {o["unit_id"]: o for o in preemptible(incident, active)}
        rec = self.recommend(incident, k=50, include=orders)
        proposals = []
        for cand in rec["candidates"]:
            order = orders.get(cand["unit"])
            if order is None:
                continue
            left = self.incidents.get(order["incident_id"]) or {"id": order["incident_id"]}
            replacement = None
            if "lat" in left:
                alt = self.recommend(left, k=1, exclude={cand["unit"]})["candidates"]
                replacement = alt[0]["eta_s"] if alt else None
            proposals.append(
                {
                    **cand,
                    "leaves_incident": order["incident_id"],
                    "leaves_priority": int(order.get("priority") or 3),
                    "leaves_order_status": order["status"],
                    "replacement_eta_s": replacement,
                }
            )
            if len(proposals) >= k:
                break
        return {"incident": incident_id, "proposals": proposals}

    def divert(self, incident_id: str, unit_id: str, actor: str) -> dict[str, Any]:
        """Take ``unit_id`` off its lower-priority order and offer it ``incident_id``."""
        with self._lock:
            incident = self.incidents.get(incident_id)
            if incident is None:
                raise DispatchNotFound(f"no incident {incident_id}")
            current = self.db.query(
                "select * from dispatch_orders where unit_id = ? and status in "
                "('offered','accepted','en_route','on_scene')",
                [unit_id],
            )
            allowed = {o["id"] for o in preemptible(incident, current)}
            if not current or any(o["id"] not in allowed for o in current):
                raise DispatchError(
                    f"unit {unit_id} cannot be diverted: it has no lower-priority order "
                    "it could leave (on scene, same or higher priority, or free)"
                )
            unit = self.units.get(unit_id)
            if unit is None:
                raise DispatchNotFound(f"no unit {unit_id}")
            for o in current:
                self._end(o, "cancelled", f"diverted to {incident_id} by {actor}", reoffer=False)
            self.units.set_status(unit, "available", f"diverted by {actor}")
            return self.dispatch(incident_id, unit_id, actor=actor, decided_by="dispatcher")

    def coverage(self) -> dict[str, Any]:
        """Zones left without an available unit, each with a move-up proposal."""
        zones = self.geo.zones
        if zones is None:
            return {"zones": 0, "uncovered": []}
        ids = zones.patrol_zones()
        centroids = {z: c for z in ids if (c := zones.centroid(z)) is not None}
        with self.units.lock:
            positions = {
                u.id: (u.lat, u.lon)
                for u in self.units.units.values()
                if u.lat is not None and u.lon is not None
            }
        units = self.unit_views()
        proposals = move_ups(
            ids, units, centroids, positions, lambda a, b: haversine_m(a[0], a[1], b[0], b[1])
        )
        return {"zones": len(ids), "uncovered": proposals}

    # KPIs -----------------------------------------------------------------------------
    def kpis(
        self,
        since_ms: int | None = None,
        until_ms: int | None = None,
        group_by: tuple[str, ...] = ("zone", "shift"),
    ) -> list[dict[str, Any]]:
        """KPI rows per zone and shift for orders sent in [since, until)."""
        lo, hi = since_ms or 0, until_ms or 2**62
        rows = self.db.query(
            "select * from dispatch_orders where sent_ms >= ? and sent_ms < ?", [lo, hi]
        )
        items = [w for w in self.pending(limit=100_000)["items"] if lo <= w["detected_ms"] < hi]
        ordered = self._ever_ordered([w["incident_id"] for w in items])
        waiting = [w for w in items if w["incident_id"] not in ordered]
        return kpis(rows, group_by, waiting)

    def _ever_ordered(self, incident_ids: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(incident_ids), 500):
            chunk = incident_ids[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            rows = self.db.query(
                f"select distinct incident_id from dispatch_orders where incident_id in ({marks})",
                chunk,
            )
            out |= {r["incident_id"] for r in rows}
        return out

    def close(self) -> None:
        """Stop following incident changes and stop the ack-timeout thread."""
        self._unsubscribe()
        self._timer.close()
