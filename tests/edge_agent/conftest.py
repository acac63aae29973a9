"""Edge-agent fixtures: the real fetched models and the agents a test started (the helpers
that write configs and start agents are in tests/harness/agents.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.agents import ROOT, AgentProcess


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


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    """Agents started by a test; any still running at the end are stopped."""
    started: list[AgentProcess] = []
    yield started
    for a in started:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait(10)
