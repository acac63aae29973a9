"""Edge-agent fixtures: the real fetched model, agent configs and agent subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.brokers import PkiFixture

ROOT = Path(__file__).resolve().parents[2]


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


def agent_config(
    tmp: Path,
    device: str,
    port: int,
    model: Path,
    *,
    pki: PkiFixture | None = None,
    tls: Any = None,
    source: dict[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """Write an agent YAML config into ``tmp`` and return its path."""
    cfg: dict[str, Any] = {
        "device_id": device,
        "profile": "test",
        "broker": {"host": "127.0.0.1", "port": port, "keepalive_s": 5},
        "source": source
        or {
            "kind": "synthetic",
            "fps": 10,
            "width": 320,
            "height": 240,
            "people": 2,
            "realtime": False,
        },
        "detector": {"model": str(model), "threads": 1},
        "spool": {"path": str(tmp / f"{device}-spool.db")},
        "health_interval_s": 1,
    }
    if pki is not None:
        files = tls or pki.client(device)
        cfg["broker"]["tls"] = {"ca": str(files.ca), "cert": str(files.cert), "key": str(files.key)}
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k] = {**cfg[k], **v}
        else:
            cfg[k] = v
    path = tmp / f"{device}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@dataclass
class AgentProcess:
    """A real ``edge-agent run`` subprocess."""

    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal it and wait for it to exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def start_agent(config: Path, log: Path) -> AgentProcess:
    """Start ``edge-agent run --config`` as a child process."""
    f = open(log, "wb")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(config)],
        stdout=f,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    f.close()
    return AgentProcess(proc, log)


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    """Agents started by a test; any still running at the end are stopped."""
    started: list[AgentProcess] = []
    yield started
    for a in started:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait(10)
