"""Shared fixtures: real Mosquitto brokers (plain, password, mTLS) and leak checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol import Topics
from provisioning.mosquitto import MosquittoProcess
from tests.harness.brokers import PkiFixture, make_pki, start_password, start_plain, start_tls
from tests.harness.processes import child_pids

BROKER_USERS = {"alice": "correct horse", "coordinator": "centre-secret"}


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a thread or a child process (broker, agent) running."""
    threads_before = set(threading.enumerate())
    children_before = child_pids()
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra_threads = [
            t for t in threading.enumerate() if t not in threads_before and t.is_alive()
        ]
        extra_children = child_pids() - children_before
        if not extra_threads and not extra_children:
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    pytest.fail(
        f"test leaked threads {[t.name for t in extra_threads]} / processes {sorted(extra_children)}"
    )


@pytest.fixture
def topics() -> Topics:
    """The default topic root."""
    return Topics()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A real anonymous Mosquitto on a free loopback port."""
    b = start_plain(tmp_path / "broker")
    yield b
    b.stop()


@pytest.fixture
def broker_auth(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A real Mosquitto requiring the username/passwords in BROKER_USERS."""
    b = start_password(tmp_path / "broker-auth", BROKER_USERS)
    yield b
    b.stop()


@pytest.fixture
def test_pki(tmp_path: Path) -> PkiFixture:
    """A fresh root + issuing CA, broker certificate and empty CRL."""
    return make_pki(tmp_path / "pki")


@pytest.fixture
def broker_tls(tmp_path: Path, test_pki: PkiFixture, topics: Topics) -> Iterator[MosquittoProcess]:
    """A real Mosquitto with mTLS (CN = username = client id), device ACL patterns and CRL."""
    b = start_tls(tmp_path / "broker-tls", test_pki, topics, {"coordinator": "centre"})
    yield b
    b.stop()
