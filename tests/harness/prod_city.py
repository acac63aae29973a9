"""A production-style CityWatch for the adversarial suite, every piece from its own CLI:
``provision ca init`` → ``provision broker-config`` → ``mosquitto -c`` (the generated file,
untouched: boards' mTLS listener with CRL and pattern ACL, services' TLS + password
listener, the generated bounds) → ``provision ca server-cert`` → ``coordinator run`` (HTTPS,
random production keys, its MQTT link logged in with the generated ``coordinator``
account) → boards enrolled through the real flow (one-time token, CSR, registration, the
centre's confirmation over MQTT).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol import Topics
from provisioning.api import Coordinator
from provisioning.enroll import EnrollOptions, enroll
from provisioning.mosquitto import find_mosquitto, free_port

from .https_centre import (
    PASSWORD,
    Centre,
    add_users,
    base_settings,
    cli,
    issue_server_cert,
    secrets_env,
    start_coordinator,
)
from .mqtt import MqttTestClient, TlsFiles, connect, wait_for
from .processes import SESSION_OWNED

FIRMWARE = Path(__file__).resolve().parents[2] / "provisioning" / "firmware_configs"
#: The broker accounts ``provision broker-config`` is asked for (name → role).
ACCOUNTS = {"coordinator": "centre", "ops": "centre", "car-12": "unit"}
#: The staff of the production-style centre (name → role); password :data:`PASSWORD`.
STAFF = {
    "tech-li": "technician",
    "admin-wang": "admin",
    "admin-zhao": "admin",
    "op-chen": "operator",
    "officer-xu": "population_officer",
    "auditor-he": "auditor",
    "merchant-qi": "merchant",
}


class ConfBroker:
    """``mosquitto -c`` on the file ``provision broker-config`` wrote (kill, restart, reload)."""

    def __init__(self, conf: Path, ports: list[int]) -> None:
        self.conf = conf
        self.ports = ports
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ConfBroker:
        """Start it and wait until every listener accepts connections."""
        err = self.conf.parent / "mosquitto.stderr"
        with err.open("ab") as out:
            self.proc = subprocess.Popen(
                [find_mosquitto(), "-c", str(self.conf)],
                stdout=subprocess.DEVNULL,
                stderr=out,
                start_new_session=True,
            )
        SESSION_OWNED.add(self.proc.pid)
        # as systemd's PIDFile= would: the centre's revocation reloads the broker through it
        (self.conf.parent / "mosquitto.pid").write_text(str(self.proc.pid))
        wait_for(lambda: all(_listening(p) for p in self.ports), 15, "broker listening")
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash or power loss would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        """The broker's log file."""
        with suppress(OSError):
            return (self.conf.parent / "mosquitto.log").read_text(errors="replace")
        return ""


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class ProdCity:
    """The running production-style set-up and how to reach each part."""

    work: Path
    centre: Centre
    broker: ConfBroker
    env: dict[str, str]
    passwords: dict[str, str]
    topics: Topics = field(default_factory=Topics)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ca_dir(self) -> Path:
        """The CA folder ``provision ca init`` made."""
        return self.work / "pki"

    @property
    def broker_dir(self) -> Path:
        """The folder ``provision broker-config`` wrote."""
        return self.work / "broker"

    @property
    def device_port(self) -> int:
        """The boards' mTLS listener."""
        return self.broker.ports[0]

    @property
    def service_port(self) -> int:
        """The services' TLS + password listener."""
        return self.broker.ports[1]

    def api(self, user: str) -> Coordinator:
        """A provisioning API client logged in as ``user`` (verifying the centre's CA)."""
        c = Coordinator(self.centre.url, verify=str(self.centre.ca_bundle))
        c.login(user, PASSWORD)
        return c

    def token(self, user: str) -> str:
        """A bearer token of ``user`` (second factor from the seeded secret), cached."""
        from .api import login

        if user not in self.tokens:
            with self.centre.client() as http:
                self.tokens[user] = login(http, user, PASSWORD)
        return self.tokens[user]

    def headers(self, user: str) -> dict[str, str]:
        """Authorization header of ``user``."""
        return {"Authorization": f"Bearer {self.token(user)}"}

    def enrol(self, device_id: str, bundle: Path, owner: str = "Yiwu PSB") -> dict[str, Any]:
        """A technician's token and the board's whole enrolment flow into ``bundle``."""
        with self.api("tech-li") as api:
            token = api.enrolment_token(device_id)["token"]
        opts = EnrollOptions(
            coordinator=self.centre.url,
            token=token,
            profile="raspberry-pi-5",
            lat=29.3066,
            lon=120.0764,
            heading=135.0,
            zone="Z12",
            owner=owner,
            bundle_dir=bundle,
            firmware_dir=FIRMWARE,
            confirm_timeout=30.0,
            selftest=False,
            verify=str(self.centre.ca_bundle),
        )
        return enroll(opts, quiet=True)

    def board_tls(self, bundle: Path) -> TlsFiles:
        """A board's own key and certificate."""
        return TlsFiles(bundle / "ca-bundle.pem", bundle / "device.crt", bundle / "device.key")

    def connect_board(self, bundle: Path, client_id: str = "", **kw: Any) -> MqttTestClient:
        """Connect with a board's bundle on the mTLS listener."""
        return connect(self.device_port, client_id, tls=self.board_tls(bundle), **kw)

    def connect_service(self, user: str, client_id: str | None = None, **kw: Any) -> MqttTestClient:
        """Connect a broker account (centre or unit) on the services' listener."""
        return connect(
            self.service_port,
            client_id or user,
            username=user,
            password=self.passwords[user],
            tls=TlsFiles(ca=self.ca_dir / "ca-bundle.pem"),
            **kw,
        )

    def health(self) -> dict[str, Any]:
        """``GET /api/health`` of the running centre."""
        with self.centre.client() as http:
            out: dict[str, Any] = http.get("/api/health").json()
            return out

    def ingest_status(self) -> dict[str, Any]:
        """``GET /api/ingest/status`` (counters, dead letters, the MQTT link) as an operator."""
        with self.centre.client() as http:
            r = http.get("/api/ingest/status", headers=self.headers("op-chen"))
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

    def stored(self, event_ids: set[str]) -> set[str]:
        """Which of ``event_ids`` the centre's database holds (read-only, beside the process)."""
        import sqlite3

        db = sqlite3.connect(f"file:{self.centre.data_dir / 'citywatch.db'}?mode=ro", uri=True)
        try:
            found: set[str] = set()
            ids = sorted(event_ids)
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                q = f"select id from events where id in ({','.join('?' * len(part))})"
                found |= {r[0] for r in db.execute(q, part)}
            return found
        finally:
            db.close()

    def restart_coordinator(self, *, kill: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL as a crash) and start ``coordinator run`` again."""
        if kill:
            self.centre.proc.kill()
            self.centre.proc.wait(10)
        else:
            self.centre.stop()
        settings = self.centre.extra["settings"]
        extra = self.centre.extra
        self.centre = start_coordinator(self.work, settings, self.env)
        SESSION_OWNED.add(self.centre.proc.pid)
        self.centre.extra = extra
        self.tokens.clear()


def _provision(work: Path) -> tuple[dict[str, str], list[int]]:
    """``provision ca init``, ``broker-config`` and ``ca server-cert``, each its CLI."""
    r = cli("provisioning.cli", "ca", "init", "--ca-dir", str(work / "pki"),
            "--root-key-out", str(work / "offline" / "root.key"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    dport, sport = free_port(), free_port()
    args = ["provisioning.cli", "broker-config", "--ca-dir", str(work / "pki"),
            "--out", str(work / "broker"), "--host", "127.0.0.1", "--host", "localhost",
            "--bind", "127.0.0.1", "--device-port", str(dport), "--service-port", str(sport),
            "--coordinator-dir", str(work / "data" / "coordinator"), "--json"]  # fmt: skip
    for name, role in ACCOUNTS.items():
        args += ["--account", f"{name}:{role}"]
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    issue_server_cert(work / "pki", work / "tls", "127.0.0.1", "centre.test")
    secret = (work / "broker" / "accounts.secret").read_text().splitlines()
    return dict(line.split(" ", 1) for line in secret), [dport, sport]


@contextmanager
def prod_city(work: Path, **extra: Any) -> Iterator[ProdCity]:
    """The whole production-style set-up in ``work``; stopped on exit."""
    passwords, ports = _provision(work)
    broker = ConfBroker(work / "broker" / "mosquitto.conf", ports).start()
    centre = None
    city = None
    try:
        settings = base_settings(
            work,
            ports[1],
            tls_cert=str(work / "tls" / "server.crt"),
            tls_key=str(work / "tls" / "server.key"),
            mqtt_username="coordinator",
            mqtt_password=passwords["coordinator"],
            mqtt_ca=str(work / "pki" / "ca-bundle.pem"),
            **extra,
        )
        env = secrets_env()
        cfg = work / "users.yaml"
        import yaml

        cfg.write_text(yaml.safe_dump(settings))
        add_users(cfg, env, STAFF)
        centre = start_coordinator(work, settings, env)
        SESSION_OWNED.add(centre.proc.pid)
        centre.extra = {"settings": settings}
        city = ProdCity(work, centre, broker, env, passwords)
        wait_for(lambda: _mqtt_up(city), 30, "the coordinator's MQTT link")
        yield city
    finally:
        if city is not None:
            city.centre.stop()
        elif centre is not None:
            centre.stop()
        broker.stop()


def _mqtt_up(city: ProdCity) -> bool:
    return bool(city.ingest_status()["mqtt_connected"])


def elapsed_ms(t0: float) -> float:
    """Milliseconds since ``t0`` (time.monotonic)."""
    return (time.monotonic() - t0) * 1000


def pid_alive(pid: int) -> bool:
    """True while a process with ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
