"""One production-style city for the adversarial suite's session (tests/harness/prod_city.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.prod_city import ProdCity, prod_city


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProdCity]:
    """``provision ca init``, ``broker-config``, the generated Mosquitto, ``coordinator run``
    over HTTPS with real keys; shared by every test of the session that asks for it."""
    with prod_city(tmp_path_factory.mktemp("prod")) as city:
        yield city
