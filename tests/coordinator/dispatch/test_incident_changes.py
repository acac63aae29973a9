"""Auto-dispatch reacts to the change kinds the incident service really announces."""

from __future__ import annotations

from typing import Any

import pytest

from coordinator.dispatch.policy import AutoPolicy, AutoRule
from coordinator.dispatch.service import DispatchService
from coordinator.geo.service import GeoService
from coordinator.incidents.status import ChangeKind, IncidentStatus
from protocol import Topics, uuid7
from tests.harness.dispatch import RecordingPublisher, place


class ScriptedIncidents:
    """Incident-service double: announces whichever change a test names, like the real one."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.callbacks: list[Any] = []

    def on_change(self, callback: Any) -> Any:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def get(self, incident_id: str) -> dict[str, Any] | None:
        item = self.items.get(incident_id)
        return dict(item) if item else None

    def transition(self, incident_id: str, status: str, actor: str, note: str | None = None):
        self.items[incident_id]["status"] = status
        return self.get(incident_id)

    def announce(self, incident: dict[str, Any], change: ChangeKind) -> None:
        self.items[incident["id"]] = dict(incident)
        for cb in self.callbacks:
            cb(dict(incident), change)


@pytest.mark.parametrize(
    ("change", "status", "dispatched"),
    [
        (ChangeKind.CREATED, IncidentStatus.NEW, True),
        # confidence grew as events joined a still-new incident
        (ChangeKind.UPDATED, IncidentStatus.NEW, True),
        # an operator's note or a lifecycle step never dispatches on its own
        (ChangeKind.ANNOTATED, IncidentStatus.NEW, False),
        (ChangeKind.TRANSITION, IncidentStatus.CONFIRMED, False),
        (ChangeKind.UPDATED, IncidentStatus.CONFIRMED, False),
        (ChangeKind.MERGED, IncidentStatus.MERGED, False),
    ],
)
def test_auto_dispatch_follows_detection_changes_only(services, city, change, status, dispatched):
    incidents = ScriptedIncidents()
    geo = GeoService(services.db)
    geo.load_zones(city.zones)
    geo.load_roads(city.roads)
    svc = DispatchService(
        services.db,
        geo,
        incidents=incidents,
        publisher=RecordingPublisher(),
        topics=Topics(),
    )
    try:
        svc.set_policy(
            AutoPolicy(enabled=True, rules=[AutoRule(kind="intrusion", min_confidence=0.8)]),
            "admin",
        )
        place(svc, city, "u1", 4, 3)
        lat, lon = city.latlon(5, 3)
        inc = {
            "id": uuid7(),
            "status": status,
            "kind": "intrusion",
            "priority": 2,
            "confidence": 0.95,
            "lat": lat,
            "lon": lon,
            "zone": None,
            "created_at": svc.now_ms() / 1000,
        }
        incidents.announce(inc, change)
        assert bool(svc.orders_for(inc["id"])) is dispatched
    finally:
        svc.close()
