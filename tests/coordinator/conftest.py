"""Coordinator fixtures: real SQLite files, open services, an API client, users per role,
and a small synthetic river city (dispatch and geo)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.bootstrap import open_services
from coordinator.container import Services
from coordinator.identity.auth import Role
from coordinator.settings import Settings
from devtools.synthetic_city import City, CitySpec, generate
from tests.harness.api import PASSWORD, login, seeded_secret


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Dev-mode settings with a fresh data folder."""
    # Real argon2id, with a small memory cost so a test can log in eight roles quickly.
    return Settings.for_dev(tmp_path / "coord", argon2_memory_kib=4096, argon2_time_cost=1)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Open services on a real SQLite file."""
    s = open_services(settings)
    yield s
    s.close()


@pytest.fixture
def api(services: Services) -> Iterator[TestClient]:
    """A FastAPI test client over the real app."""
    with TestClient(create_app(services)) as client:
        yield client


@pytest.fixture
def users(services: Services) -> dict[Role, str]:
    """One user per role, named after the role; returns role → username. The command-centre
    staff among them are city-wide (they see every centre's work once centres are loaded;
    tests of centre scoping create their own members)."""
    out = {}
    for role in Role:
        name = f"u-{role.value.replace('_', '-')}"
        services.auth.create_user(
            name,
            PASSWORD,
            [role],
            zones=["Z01"],
            merchant_id="m-1" if role is Role.MERCHANT else None,
            unit_id="car-1" if role is Role.PATROL_UNIT else None,
            totp_secret=seeded_secret(name),
        )
        out[role] = name
        services.geo.centres.set_membership(name, [], city_wide=True, actor="test")
    return out


@pytest.fixture
def tokens(api: TestClient, users: dict[Role, str]) -> dict[Role, str]:
    """A bearer token per role."""
    return {role: login(api, name) for role, name in users.items()}


@pytest.fixture(scope="session")
def city() -> City:
    """20x20 streets, a river with 2 bridges, 4 patrol zones and 2 centres."""
    return generate(CitySpec(cols=20, rows=20, bridges=2, zones_x=2, zones_y=2, centres=2))
