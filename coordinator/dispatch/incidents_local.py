"""A minimal in-memory incident store with the incident service's contract.

Used only when dispatch is built without the incident service (the dispatch tests and the
bench): ``get``, ``transition``, ``on_change`` (which returns its undo).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from protocol import uuid7

from ..incidents.status import ChangeKind, IncidentStatus
from ..platform.bus import Unsubscribe, remover

_S = IncidentStatus
LIFECYCLE = (_S.NEW, _S.CONFIRMED, _S.DISPATCHED, _S.EN_ROUTE, _S.ON_SCENE, _S.RESOLVED)


class LocalIncidents:
    """Incidents kept in memory; transitions only move forward along LIFECYCLE."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[dict[str, Any], ChangeKind], None]] = []

    def create(
        self,
        *,
        lat: float,
        lon: float,
        kind: str = "intrusion",
        priority: int = 2,
        confidence: float = 0.9,
        zone: str | None = None,
        created_at: float | None = None,
    ) -> dict[str, Any]:
        """Open an incident and notify listeners with change ``created``."""
        now = time.time() if created_at is None else created_at
        inc: dict[str, Any] = {
            "id": uuid7(),
            "status": IncidentStatus.NEW,
            "kind": kind,
            "priority": priority,
            "lat": lat,
            "lon": lon,
            "zone": zone,
            "confidence": confidence,
            "created_at": now,
            "updated_at": now,
            "history": [(IncidentStatus.NEW, now, "system")],
        }
        with self._lock:
            self._items[inc["id"]] = inc
        self._emit(inc, ChangeKind.CREATED)
        return dict(inc)

    def get(self, incident_id: str) -> dict[str, Any] | None:
        """The incident, or None."""
        with self._lock:
            inc = self._items.get(incident_id)
            return dict(inc) if inc else None

    def search(
        self, *, status: Sequence[str] | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Incidents in ``status`` (all when None), most urgent first."""
        with self._lock:
            found = [
                dict(i) for i in self._items.values() if status is None or i["status"] in status
            ]
        found.sort(key=lambda i: (i["priority"], -i["updated_at"]))
        return found[:limit]

    def transition(
        self, incident_id: str, status: str, actor: str, note: str | None = None
    ) -> dict[str, Any]:
        """Move forward to ``status``; ValueError if unknown or not forward."""
        with self._lock:
            inc = self._items.get(incident_id)
            if inc is None:
                raise ValueError(f"no incident {incident_id}")
            if status not in LIFECYCLE or LIFECYCLE.index(status) <= LIFECYCLE.index(inc["status"]):
                raise ValueError(f"illegal transition {inc['status']} -> {status}")
            now = time.time()
            inc.update(status=status, updated_at=now)
            inc["history"].append((status, now, actor))
            out = dict(inc)
        self._emit(out, ChangeKind.TRANSITION)
        return out

    def on_change(self, callback: Callable[[dict[str, Any], ChangeKind], None]) -> Unsubscribe:
        """Call ``callback(incident, change)`` after each create/transition; returns its undo."""
        self._callbacks.append(callback)
        return remover(self._callbacks, callback)

    def _emit(self, inc: dict[str, Any], change: ChangeKind) -> None:
        for cb in list(self._callbacks):
            cb(dict(inc), change)
