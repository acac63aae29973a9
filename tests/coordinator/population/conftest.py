"""Population fixtures: the real service on a real SQLite file, officers per zone, a clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coordinator.identity.auth import Principal, Role, perms_for
from coordinator.population import PopulationService
from coordinator.services import Services
from devtools.population_data import prc_id
from tests.coordinator.conftest import PASSWORD, bearer

PURPOSE = {"X-Purpose": "case 2026-117 follow-up"}


def officer(name: str = "officer-a", zones: tuple[str, ...] = ("Z01",)) -> Principal:
    """A population officer principal (for service-level tests)."""
    roles = frozenset({Role.POPULATION_OFFICER})
    return Principal(1, name, roles, frozenset(zones), perms=perms_for(roles))


class Clock:
    """A settable clock injected into the service (expiry, SLA and lateness tests)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def pop(services: Services) -> PopulationService:
    """The population service of the open services."""
    return services.extra["population"]


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
        services.auth.create_user(name, PASSWORD, [Role.POPULATION_OFFICER], zones=[zone])
        r = api.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        out[name] = {**bearer(r.json()["access_token"]), **PURPOSE}
    return out


def person_data(n: int = 0, **over: Any) -> dict[str, Any]:
    """A valid Chinese person in Z01 (distinct per n)."""
    import datetime as dt
    import random

    rng = random.Random(n)
    born = dt.date(1980, 1, 1) + dt.timedelta(days=n * 37)
    d = {
        "name": "李" + "伟芳娜敏静丽强磊"[n % 8] + "明超秀霞平刚"[n % 6],
        "id_type": "prc_id",
        "id_number": prc_id(rng, "36", born, "M"),
        "sex": "M",
        "phone": "13800138000",
        "zone": "Z01",
    }
    d.update(over)
    return d
