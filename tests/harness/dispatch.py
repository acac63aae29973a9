"""Dispatch test helpers: a recording publisher and units placed on the synthetic city."""

from __future__ import annotations

from coordinator.dispatch.service import DispatchService
from devtools.synthetic_city import City
from protocol import UnitPosition


class RecordingPublisher:
    """Test double of the Publisher contract for tests that do not need a broker."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, int]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self.sent.append((topic, payload, qos))


def place(
    svc: DispatchService,
    city: City,
    uid: str,
    col: float,
    row: float,
    *,
    mode: str = "car",
    zone: str | None = "auto",
    shift: str = "day",
    age_s: float = 5.0,
) -> None:
    """Define a unit and give it a position at grid (col, row)."""
    lat, lon = city.latlon(col, row)
    home = svc.geo.zones.zone_of(lat, lon) if zone == "auto" else zone  # type: ignore[union-attr]
    svc.units.upsert(
        {
            "id": uid,
            "call_sign": uid.upper(),
            "mode": mode,
            "home_zone": home,
            "shift": shift,
            "status": "available",
        }
    )
    svc.position(uid, UnitPosition(ts=svc.now_ms() - int(age_s * 1000), lat=lat, lon=lon))
