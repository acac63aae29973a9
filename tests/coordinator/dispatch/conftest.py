"""Dispatch fixtures: a small synthetic river city, a dispatch service over real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coordinator.dispatch.policy import DispatchSettings
from coordinator.dispatch.service import DispatchService
from coordinator.geo.service import GeoService
from coordinator.services import Services
from devtools.synthetic_city import City, CitySpec, generate
from protocol import Topics, UnitPosition


class RecordingPublisher:
    """Test double of the Publisher contract for tests that do not need a broker."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, int]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self.sent.append((topic, payload, qos))


@pytest.fixture(scope="session")
def city() -> City:
    """20x20 streets, a river with 2 bridges, 4 patrol zones and 2 centres."""
    return generate(CitySpec(cols=20, rows=20, bridges=2, zones_x=2, zones_y=2, centres=2))


@pytest.fixture
def make_dispatch(services: Services, city: City) -> Iterator[Any]:
    """Factory of DispatchService instances with the city loaded; closed after the test."""
    made: list[DispatchService] = []

    def make(publisher: Any = None, roads: bool = True, **settings: Any) -> DispatchService:
        geo = GeoService(services.db)
        geo.load_zones(city.zones)
        if roads:
            geo.load_roads(city.roads)
        svc = DispatchService(
            services.db,
            geo,
            publisher=publisher,
            topics=Topics(),
            settings=DispatchSettings(**settings),
        )
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


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
