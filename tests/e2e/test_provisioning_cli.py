"""The deployment path, every piece a separate process started from its CLI:
``provision ca init`` → ``provision broker-config`` → ``mosquitto -c`` (the generated file)
→ ``provision ca server-cert`` → ``coordinator create-user`` / ``coordinator run`` (HTTPS)
→ ``provision token`` → ``provision enroll`` → ``provision status`` → ``provision revoke``
while the board is connected; every ``provision`` call verifies the coordinator's
certificate against the centre's CA (``--cacert``)."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioning.mosquitto import find_mosquitto, free_port
from tests.harness.mqtt import TlsFiles, connect, wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "field-tech-password"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict]:
    """CA, broker and coordinator set up and started exactly as docs/technicians.md says."""
    ca, out, data = tmp_path / "pki", tmp_path / "broker", tmp_path / "coord"
    dport, sport, api_port = free_port(), free_port(), free_port()
    r = _cli(
        "provisioning.cli",
        "ca",
        "init",
        "--ca-dir",
        str(ca),
        "--root-key-out",
        str(tmp_path / "offline" / "root.key"),
    )
    assert r.returncode == 0, r.stderr
    r = _cli(
        "provisioning.cli", "broker-config", "--ca-dir", str(ca), "--out", str(out),
        "--host", "127.0.0.1", "--bind", "127.0.0.1", "--device-port", str(dport),
        "--service-port", str(sport), "--account", "coordinator:centre",
        "--coordinator-dir", str(data), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    tls = tmp_path / "tls"
    r = _cli("provisioning.cli", "ca", "server-cert", "--ca-dir", str(ca), "--out", str(tls),
             "--host", "127.0.0.1")  # fmt: skip
    assert r.returncode == 0, r.stderr
    broker = subprocess.Popen(
        [find_mosquitto(), "-c", str(out / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (out / "mosquitto.pid").write_text(str(broker.pid))  # as systemd's PIDFile= would
    secrets = dict(
        line.split(" ", 1) for line in (out / "accounts.secret").read_text().splitlines()
    )
    env = {
        "CITYWATCH_DATA_DIR": str(data),
        # Production mode: real random keys, as an operator would set them.
        "CITYWATCH_SECRET_KEY": os.urandom(24).hex(),
        "CITYWATCH_DATA_KEY": os.urandom(24).hex(),
        "CITYWATCH_API_PORT": str(api_port),
        "CITYWATCH_ARGON2_MEMORY_KIB": "4096",
        "CITYWATCH_ARGON2_TIME_COST": "1",
        "CITYWATCH_MQTT_PORT": str(sport),
        "CITYWATCH_MQTT_USERNAME": "coordinator",
        "CITYWATCH_MQTT_PASSWORD": secrets["coordinator"],
        "CITYWATCH_MQTT_CA": str(ca / "ca-bundle.pem"),
        "CITYWATCH_NEW_USER_PASSWORD": PASSWORD,
        "CITYWATCH_TLS_CERT": str(tls / "server.crt"),
        "CITYWATCH_TLS_KEY": str(tls / "server.key"),
    }
    coord = None
    try:
        wait_for(lambda: _listening(dport) and _listening(sport), 15, "broker listening")
        r = _cli("coordinator.cli", "create-user", "tech-li", "--role", "technician", env=env)
        assert r.returncode == 0, r.stderr
        with open(tmp_path / "coordinator.log", "wb") as log:
            coord = subprocess.Popen(
                [sys.executable, "-m", "coordinator.cli", "run"],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        url = f"https://127.0.0.1:{api_port}"
        cacert = str(tls / "ca-bundle.pem")
        wait_for(lambda: _up(url, cacert), 60, "coordinator API")
        (tmp_path / "pw").write_text(PASSWORD)
        yield {
            "url": url,
            "cacert": cacert,
            "pw": str(tmp_path / "pw"),
            "tmp": tmp_path,
            "dport": dport,
        }
    finally:
        for proc in (coord, broker):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def _up(url: str, cacert: str) -> bool:
    try:
        ctx = ssl.create_default_context(cafile=cacert)
        return httpx.get(url + "/api/health", timeout=1, verify=ctx).status_code == 200
    except httpx.HTTPError:
        return False


def test_board_enrolled_reporting_and_revoked_through_the_clis(deployment: dict):
    url, pw, tmp = deployment["url"], deployment["pw"], deployment["tmp"]
    cacert = ["--cacert", deployment["cacert"]]
    login = ["--coordinator", url, *cacert, "--user", "tech-li", "--password-file", pw, "--json"]
    r = _cli("provisioning.cli", "token", *login, "--device-id", "cam-e2e-field")
    assert r.returncode == 0, r.stderr
    token = json.loads(r.stdout)["token"]
    bundle = tmp / "board"
    r = _cli(
        "provisioning.cli", "enroll", "--coordinator", url, *cacert, "--token", token,
        "--profile", "raspberry-pi-4", "--location", "29.30,120.07", "--heading", "200",
        "--zone", "Z07", "--owner", "Yiwu PSB", "--bundle-dir", str(bundle),
        "--source-kind", "synthetic", "--json",
    )  # fmt: skip
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["ok"], out["steps"]
    assert {s["step"]: s["status"] for s in out["steps"]}["self-test"] == "ok"
    r = _cli("provisioning.cli", "status", "cam-e2e-field", *login)
    status = json.loads(r.stdout)
    assert status["first_seen"] and status["profile"] == "raspberry-pi-4"
    board = connect(
        deployment["dport"],
        "cam-e2e-field",
        tls=TlsFiles(bundle / "ca-bundle.pem", bundle / "device.crt", bundle / "device.key"),
    )
    try:
        r = _cli("provisioning.cli", "revoke", "cam-e2e-field", *login, "--reason", "e2e")
        assert r.returncode == 0, r.stdout + r.stderr
        wait_for(board.disconnected.is_set, 60, "revoked board dropped")
    finally:
        board.close()
    r = _cli("provisioning.cli", "status", "cam-e2e-field", *login)
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "revoked"
