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
    import threading
    import time

    from tests.harness.processes import child_pids

    def ours(t: threading.Thread) -> bool:
        return not t.name.startswith("AnyIO worker thread")

    threads_before = set(threading.enumerate())
    children_before = child_pids()
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra = [
            t for t in threading.enumerate() if t not in threads_before and t.is_alive() and ours(t)
        ]
        children = child_pids() - children_before
        if not extra and not children:
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    pytest.fail(f"test leaked threads {[t.name for t in extra]} / processes {sorted(children)}")


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
