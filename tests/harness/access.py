"""A coordinator with the people that access control is about: two administrators, officers,
a data-access approver, investigators, an auditor — for the access and approvals tests.

Real app, real SQLite file, real argon2 (cheap parameters); accounts that read personal data
have the seeded second factor (``devtools.totp_codes``), and log in through the API in two
steps as the dashboard does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.bootstrap import open_services
from coordinator.container import Services
from coordinator.identity.auth import Role
from coordinator.settings import Settings
from tests.harness.api import PASSWORD, bearer, login, seeded_secret

PURPOSE = {"X-Purpose": "access control test"}

#: username → (roles, zones)
PEOPLE: dict[str, tuple[list[Role], list[str]]] = {
    "admin-1": ([Role.ADMIN], []),
    "admin-2": ([Role.ADMIN], []),
    "officer-a": ([Role.POPULATION_OFFICER], ["Z01"]),
    "officer-b": ([Role.POPULATION_OFFICER], ["Z02"]),
    "approver": ([Role.DATA_ACCESS_APPROVER], []),
    "supervisor": ([Role.SUPERVISOR, Role.OPERATOR], []),
    "inv-1": ([Role.FRAUD_INVESTIGATOR], []),
    "auditor": ([Role.AUDITOR], []),
    "operator": ([Role.OPERATOR], []),
}


@dataclass
class AccessCity:
    """The running coordinator and its people."""

    services: Services
    client: TestClient
    ids: dict[str, int] = field(default_factory=dict)

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        """Bearer and purpose headers for ``username`` (second factor included)."""
        return {**bearer(login(self.client, username, password)), **PURPOSE}

    def person(self, zone: str = "Z01", n: int = 0) -> int:
        """A registered person in ``zone``; its id."""
        from tests.harness.population import officer, person_data

        clerk = officer("clerk", (zone,))
        made = self.services.population.records.create_person(
            clerk, person_data(n, zone=zone), "seed"
        )
        return int(made["person"]["id"])

    def audit(self, action: str, actor: str | None = None) -> list[dict[str, Any]]:
        """Audit entries of ``action`` (by ``actor``), newest first."""
        return self.services.audit.search(action=action, actor=actor)


@contextmanager
def access_city(data_dir: Path) -> Iterator[AccessCity]:
    """Open the coordinator in ``data_dir`` with :data:`PEOPLE`; close it after."""
    settings = Settings.for_dev(data_dir, argon2_memory_kib=4096, argon2_time_cost=1)
    services = open_services(settings)
    try:
        city = AccessCity(services, None)  # type: ignore[arg-type]
        for name, (roles, zones) in PEOPLE.items():
            city.ids[name] = services.auth.create_user(
                name, PASSWORD, list(roles), zones=zones, totp_secret=seeded_secret(name)
            )
        with TestClient(create_app(services)) as client:
            city.client = client
            yield city
    finally:
        services.close()
