"""Hall fixtures: the real service on a real SQLite file, a settable clock, a clerk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from coordinator.container import Services
from coordinator.hall.service import HallService
from coordinator.identity.auth import Role
from tests.harness.api import PASSWORD, bearer, login, seeded_secret

PURPOSE = {"X-Purpose": "counter A application"}


class Clock:
    """A settable clock injected into the hall service (deadline tests)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def hall(services: Services) -> HallService:
    """The hall service of the open services."""
    return services.hall


@pytest.fixture
def clock(hall: HallService) -> Iterator[Clock]:
    """Monday 2026-06-01 10:00 Beijing time (02:00 UTC), injected into the hall and its store."""
    c = Clock(1780279200.0)
    old, old_files = hall.clock, hall.files.clock
    hall.clock = c
    hall.files.clock = c
    yield c
    hall.clock, hall.files.clock = old, old_files


@pytest.fixture
def clerk(api: TestClient, services: Services) -> dict[str, str]:
    """Headers (bearer + purpose) of a hall clerk."""
    services.auth.create_user(
        "clerk-a", PASSWORD, [Role.HALL_CLERK], totp_secret=seeded_secret("clerk-a")
    )
    return {**bearer(login(api, "clerk-a")), **PURPOSE}
