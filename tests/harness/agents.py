"""Edge-agent test helpers: agent YAML configs and real ``edge-agent run`` subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.harness.brokers import PkiFixture

ROOT = Path(__file__).resolve().parents[2]


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
