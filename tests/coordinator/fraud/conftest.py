"""Fraud fixtures: two investigators, two merchants with accounts, a logged-in client each."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coordinator.container import Services
from coordinator.identity.auth import Role
from tests.harness.api import PASSWORD, bearer, login, seeded_secret
from tests.harness.fraud import Actors


def _login(api: TestClient, name: str) -> dict[str, str]:
    return bearer(login(api, name))


@pytest.fixture
def actors(api: TestClient, services: Services) -> Actors:
    """Two investigators, merchants m-1 and m-2 (accounts opened), an operator."""
    for name, roles, mid in (
        ("inv-li", [Role.FRAUD_INVESTIGATOR], None),
        ("inv-chen", [Role.FRAUD_INVESTIGATOR], None),
        ("merchant-1", [Role.MERCHANT], "m-1"),
        ("merchant-2", [Role.MERCHANT], "m-2"),
        ("op", [Role.OPERATOR], None),
    ):
        services.auth.create_user(
            name, PASSWORD, roles, zones=["Z01"], merchant_id=mid, totp_secret=seeded_secret(name)
        )
    a = Actors(*(_login(api, n) for n in ("inv-li", "inv-chen", "merchant-1", "merchant-2", "op")))
    for mid in ("m-1", "m-2"):
        r = api.post(
            "/api/fraud/merchants",
            json={
                "id": mid,
                "name": f"Booth {mid}",
                "market": "District 2",
                "booth": "H2-301",
                "contact_name": "Zhang San",
                "contact_phone": "13900000000",
            },
            headers=a.inv1,
        )
        assert r.status_code == 201, r.text
    return a
