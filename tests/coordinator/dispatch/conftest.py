"""Dispatch fixtures: a dispatch service over real SQLite on the synthetic river city."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coordinator.container import Services
from coordinator.dispatch.policy import DispatchSettings
from coordinator.dispatch.service import DispatchService
from coordinator.geo.service import GeoService
from devtools.synthetic_city import City
from protocol import Topics


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
