"""A whole provisioning field: generated CA and broker config, real Mosquitto, real coordinator.

``FieldEnv`` starts Mosquitto from the config ``provision broker-config`` writes, the
coordinator (services, its MQTT link on the services' listener with the generated
password account, ingest and fleet registry) and its FastAPI app under uvicorn on a
free port (real HTTP).
Used by tests/provisioning, bench/provisioning.py and the demo.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from coordinator.app import create_app
from coordinator.bootstrap import open_services, start_core
from coordinator.container import Services
from coordinator.settings import Settings
from protocol import Topics
from provisioning.ca import BrokerPlan, broker_config, init_ca
from provisioning.mosquitto import MosquittoProcess, free_port

from .mqtt import MqttTestClient, TlsFiles, connect, wait_for

TECH_PASSWORD = "technician-password-1"
ADMIN_PASSWORD = "admin-password-0001"


@dataclass
class FieldEnv:
    """Everything a provisioning test needs, started; call :meth:`stop` (or use ``with``)."""

    root: Path
    units: list[str] = field(default_factory=list)
    broker: MosquittoProcess | None = None
    services: Services | None = None
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    url: str = ""
    passwords: dict[str, str] = field(default_factory=dict)
    topics: Topics = field(default_factory=Topics)

    @property
    def ca_dir(self) -> Path:
        """The CA folder made by ``init_ca``."""
        return self.root / "pki"

    @property
    def broker_dir(self) -> Path:
        """The folder ``broker_config`` wrote."""
        return self.root / "broker"

    @property
    def device_port(self) -> int:
        """The boards' mTLS listener."""
        assert self.broker
        return self.broker.ports[0]

    @property
    def service_port(self) -> int:
        """The services' TLS + password listener."""
        assert self.broker
        return self.broker.ports[1]

    @property
    def enrolment(self) -> Any:
        """The coordinator's enrolment service."""
        assert self.services
        return self.services.enrolment

    def start(self) -> FieldEnv:
        """Create the CA, write the broker config, start Mosquitto, the API and the centre."""
        init_ca(self.ca_dir)
        accounts = {
            "coordinator": "centre",
            "centre-2": "centre",
            "ops": "centre",
            **{u: "unit" for u in self.units},
        }
        coord_dir = self.root / "coord"
        plan = BrokerPlan(
            ca_dir=self.ca_dir,
            out_dir=self.broker_dir,
            hostnames=["127.0.0.1", "localhost"],
            device_port=free_port(),
            service_port=free_port(),
            bind="127.0.0.1",
            accounts=accounts,
            coordinator_dir=coord_dir,
        )
        _summary, cfg = broker_config(plan)
        for line in (self.broker_dir / "accounts.secret").read_text().splitlines():
            user, pw = line.split(" ", 1)
            self.passwords[user] = pw
        self.broker = MosquittoProcess(cfg).start()
        # Foreground Mosquitto writes no pid file; systemd would (PIDFile=).
        assert self.broker.proc is not None
        (self.broker_dir / "mosquitto.pid").write_text(str(self.broker.proc.pid))
        settings = Settings.for_dev(
            coord_dir,
            argon2_memory_kib=4096,
            argon2_time_cost=1,
            mqtt_host="127.0.0.1",
            mqtt_port=self.service_port,
            mqtt_username="coordinator",
            mqtt_password=self.passwords["coordinator"],
            mqtt_ca=self.ca_dir / "ca-bundle.pem",
        )
        self.services = open_services(settings)
        # The real coordinator core: its MQTT link on the services' listener, ingest
        # recording boards' state in the fleet registry (the enrolment confirmation).
        start_core(self.services)
        if not self.services.mqtt.wait_connected(20):
            raise RuntimeError("the coordinator's MQTT link did not connect")
        self.services.auth.create_user("tech-li", TECH_PASSWORD, ["technician"])
        self.services.auth.create_user("admin-wang", ADMIN_PASSWORD, ["admin"])
        self.services.auth.create_user("op-chen", ADMIN_PASSWORD, ["operator"])
        port = free_port()
        config = uvicorn.Config(
            create_app(self.services), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="field-api", daemon=True)
        self.thread.start()
        wait_for(lambda: self.server is not None and self.server.started, 20, "API started")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def connect_service(self, user: str, client_id: str | None = None, **kw: Any) -> MqttTestClient:
        """Connect a service account (centre or patrol unit) on the services' listener."""
        return connect(
            self.service_port,
            client_id or user,
            username=user,
            password=self.passwords[user],
            tls=TlsFiles(ca=self.ca_dir / "ca-bundle.pem"),
            **kw,
        )

    def connect_board(self, bundle: Path, client_id: str = "", **kw: Any) -> MqttTestClient:
        """Connect with a board's bundle (its own key and certificate)."""
        return connect(
            self.device_port,
            client_id,
            tls=TlsFiles(
                ca=bundle / "ca-bundle.pem", cert=bundle / "device.crt", key=bundle / "device.key"
            ),
            **kw,
        )

    def stop(self) -> None:
        """Stop the API, the services (MQTT link, ingest, jobs) and the broker."""
        if self.server and self.thread:
            self.server.should_exit = True
            self.thread.join(timeout=20)
        if self.services:
            self.services.close()
        if self.broker:
            self.broker.stop()

    def __enter__(self) -> FieldEnv:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_seen(env: FieldEnv, device_id: str, timeout: float = 10.0) -> float:
    """Wait until the coordinator recorded the board's first state; returns first_seen."""
    return wait_for(
        lambda: env.enrolment.status(device_id)["first_seen"], timeout, f"{device_id} seen"
    )


def elapsed_ms(t0: float) -> float:
    """Milliseconds since ``t0`` (time.monotonic)."""
    return (time.monotonic() - t0) * 1000
