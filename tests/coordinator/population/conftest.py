"""Population fixtures: the real service on a real SQLite file, officers per zone, a clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from coordinator.container import Services
from coordinator.identity.auth import Role
from coordinator.population import PopulationService
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.population import PURPOSE


class Clock:
    """A settable clock injected into the service (expiry, SLA and lateness tests)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def pop(services: Services) -> PopulationService:
    """The population service of the open services."""
    return services.population


@pytest.fixture
def clock(pop: PopulationService) -> Iterator[Clock]:
    """Freeze the service clock at 2026-06-01 12:00 UTC (real time before and after)."""
    import time

    c = Clock(1780315200.0)
    old = pop.ctx.clock
    pop.ctx.clock = c
    yield c
    pop.ctx.clock = old if old is not None else time.time


@pytest.fixture
def officer_tokens(api: TestClient, services: Services) -> dict[str, dict[str, str]]:
    """Headers (bearer + purpose) for officer-a (Z01) and officer-b (Z02)."""
    out = {}
    for name, zone in (("officer-a", "Z01"), ("officer-b", "Z02")):
        services.auth.create_user(
            name, PASSWORD, [Role.POPULATION_OFFICER], zones=[zone], totp_secret=seeded_secret(name)
        )
        out[name] = {**bearer(login(api, name)), **PURPOSE}
    return out
