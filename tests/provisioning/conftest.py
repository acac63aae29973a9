"""Provisioning fixtures: a running field (CA, Mosquitto from the generated config, API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from provisioning.api import Coordinator
from tests.harness.field import TECH_PASSWORD, FieldEnv


@pytest.fixture(scope="module")
def field_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldEnv]:
    """One field per test module: starting Mosquitto + uvicorn per test would dominate."""
    env = FieldEnv(tmp_path_factory.mktemp("field"), units=["car-1"]).start()
    yield env
    env.stop()


@pytest.fixture
def tech(field_env: FieldEnv) -> Iterator[Coordinator]:
    """An API client logged in as the technician."""
    with Coordinator(field_env.url) as api:
        api.login("tech-li", TECH_PASSWORD)
        yield api


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """The suite's leak check, except AnyIO's worker threads.

    The module's uvicorn server runs sync routes on AnyIO's thread pool, which spawns
    workers on demand and ends them with the server's event loop (module teardown);
    everything else — brokers, agents, MQTT loops — must be gone after each test.
    """

    from tests.harness.processes import leak_check

    with leak_check(ignore=lambda t: t.name.startswith("AnyIO worker thread")):
        yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the attack matrix collected by test_attacks / test_lifecycle."""
    import sys

    mod = sys.modules.get("tests.provisioning.test_attacks")
    rows = getattr(mod, "MATRIX", None)
    if not rows:
        return
    tr = terminalreporter
    tr.section("provisioning attack matrix (real Mosquitto + coordinator)")
    tr.write_line(f"{'attack':<58} {'outcome':<52} legit board")
    for attack, outcome, legit in rows:
        tr.write_line(f"{attack:<58} {outcome:<52} {legit}")
