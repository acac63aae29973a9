"""A minimal in-memory incident store with the IncidentService contract of issue 4.

Used only when ``services.extra["incidents"]`` is absent (dispatch built before the
incident service, the bench and the demo): ``get``, ``transition``, ``on_change``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from protocol import uuid7

LIFECYCLE = ("new", "dispatched", "en_route", "on_scene", "resolved")


class LocalIncidents:
    """Incidents kept in memory; transitions only move forward along LIFECYCLE."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[dict[str, Any], str], None]] = []

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
            "status": "new",
            "kind": kind,
            "priority": priority,
            "lat": lat,
            "lon": lon,
            "zone": zone,
            "confidence": confidence,
            "created_at": now,
            "updated_at": now,
            "history": [("new", now, "system")],
        }
        with self._lock:
            self._items[inc["id"]] = inc
        self._emit(inc, "created")
        return dict(inc)

    def get(self, incident_id: str) -> dict[str, Any] | None:
        """The incident, or None."""
        with self._lock:
            inc = self._items.get(incident_id)
            return dict(inc) if inc else None

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
        self._emit(out, status)
        return out

    def on_change(self, callback: Callable[[dict[str, Any], str], None]) -> None:
        """Call ``callback(incident, change)`` after each create/transition."""
        self._callbacks.append(callback)

    def _emit(self, inc: dict[str, Any], change: str) -> None:
        for cb in list(self._callbacks):
            cb(dict(inc), change)
