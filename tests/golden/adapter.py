"""The one place where the golden tests touch coordinator internals.

Everything else in ``tests/golden`` speaks HTTP only, because the HTTP API is the contract
that existing installations and the dashboard depend on. The coordinator's modules are being
moved into domain packages; when an import below breaks, fix it here (and only here), keeping
each function's behaviour: the golden files were recorded through these exact entry points.

Key material is written out literally (not taken from ``Settings.for_dev``) so that the
committed release database stays readable even if the development defaults change: the
population ID numbers in it were encrypted under ``DATA_KEY``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

# ---- coordinator internals: the only imports that move with the re-packaging -------------
from coordinator.app import create_app
from coordinator.bootstrap import open_services, start_mqtt
from coordinator.container import Services
from coordinator.identity.auth import Role
from coordinator.platform.mqtt import Inbound
from coordinator.settings import Settings
from protocol import Channel, Event, Topics, UnitPosition, encode, uuid7

# ------------------------------------------------------------------------------------------

# The dev-mode keys of release 0.1.0 (Settings.for_dev): DEV_SECRET and DEV_SECRET + "-data".
SECRET_KEY = "dev-only-secret-not-for-production"
DATA_KEY = "dev-only-secret-not-for-production-data"
DB_FILE = "citywatch.db"
# The roles release 0.1.0 had (its users and the recorded scenario); later roles are new.
NEW_ROLES = {
    Role.SUPERVISOR,
    Role.AUDITOR,
    Role.DATA_ACCESS_APPROVER,
    Role.CAMERA_OWNER,
    Role.HALL_CLERK,
    Role.CALL_TAKER,
}
ROLES = [r.value for r in Role if r not in NEW_ROLES]
#: Who acts on the host (the installation's command line) in the recorded session.
HOST = "host:golden"


@dataclass
class Coordinator:
    """A running coordinator (no broker) and a test client over its real HTTP app."""

    services: Services
    client: TestClient


def settings(data_dir: Path) -> Any:
    """Dev-mode settings with the release's literal keys and cheap argon2 (tests log in often).

    The broker address is a closed local port: the centre runs with its broker down, so
    outgoing messages (dispatch orders, warning boards) queue in the link as in production.
    """
    return Settings(
        data_dir=data_dir,
        db_file=DB_FILE,
        dev_mode=True,
        secret_key=SECRET_KEY,
        data_key=DATA_KEY,
        argon2_memory_kib=4096,
        argon2_time_cost=1,
        mqtt_port=_closed_port(),
        mqtt_client_id=f"golden-{uuid7()[-8:]}",
    )


@contextmanager
def running(data_dir: Path) -> Iterator[Coordinator]:
    """Open (and migrate) the database in ``data_dir``, serve the app; close everything after."""
    services = open_services(settings(data_dir))
    try:
        start_mqtt(services)
        # A server error is an answer to record (status 500), not an exception in the test.
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            yield Coordinator(services, client)
    finally:
        services.close()


def openapi(data_dir: Path) -> dict[str, Any]:
    """The OpenAPI document of the app."""
    with running(data_dir) as c:
        return c.client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def create_first_admin(c: Coordinator, username: str, password: str) -> None:
    """The first administrator (an installation creates it from the command line)."""
    c.services.auth.create_user(username, password, [Role.ADMIN], zones=["Z01", "Z02"])


def create_user(c: Coordinator, username: str, password: str, role: str) -> None:
    """An account made on the host (``coordinator users create`` + its approval there)."""
    c.services.auth.create_user(username, password, [role])


def approve_on_host(c: Coordinator, approval_id: int) -> None:
    """The host approves a pending request as the second person (``coordinator users
    approve``): the recorded session has one administrator."""
    c.services.approvals.approve(HOST, approval_id, "golden session")


def needs_second_factor(c: Coordinator, username: str) -> bool:
    """True when the account's login asks for a TOTP code."""
    from coordinator.identity.auth import needs_second_factor as needs

    rows = c.services.db.query("select roles from users where username = ?", [username])
    return bool(rows) and needs(__import__("json").loads(rows[0]["roles"]))


def seed_second_factor(c: Coordinator, username: str) -> None:
    """Enrol the seeded authenticator secret of ``username`` (as its first login would)."""
    from devtools.totp_codes import seeded_secret

    sealed = c.services.auth.mfa.seal(seeded_secret(username))
    c.services.db.execute_write(
        "update users set totp_secret = ?, totp_enrolled_at = ? where username = ?",
        [sealed, time.time(), username],
    )


def auditor_headers(c: Coordinator, username: str, password: str) -> dict[str, str]:
    """A session of a data-protection officer made on the host (no recorded HTTP call)."""
    from devtools.totp_codes import next_code

    create_user(c, username, password, Role.AUDITOR.value)
    seed_second_factor(c, username)
    out = c.services.auth.login(username, password, next_code(username, "golden"))
    return {"Authorization": f"Bearer {out.token}"}


def ingest_events(c: Coordinator, events: list[dict[str, Any]], timeout: float = 10.0) -> None:
    """Feed camera events through the real ingest pipeline (as if from MQTT), wait until stored.

    Each event is ``{"dev", "seq", "kind", "track", "conf"}``; id and timestamp are made here.
    """
    topics = Topics()
    ids = []
    for e in events:
        ev = Event(
            id=uuid7(),
            seq=e["seq"],
            ts=int(time.time() * 1000),
            dev=e["dev"],
            kind=e["kind"],
            phase="start",
            label="person",
            conf=e.get("conf", 0.8),
            track=e.get("track", 1),
            box=(100, 100, 300, 800),
        )
        ids.append(ev.id)
        topic = topics.device(ev.dev, Channel.EVENT)
        inbound = Inbound(topic, topics.parse(topic), encode(ev), 0, 0, 0, time.time())
        c.services.ingest.sink(inbound)
    deadline = time.monotonic() + timeout
    marks = ",".join("?" * len(ids))
    sql = f"select count(*) n from events where id in ({marks}) and incident_id is not null"
    while c.services.db.query(sql, ids)[0]["n"] < len(ids):
        if time.monotonic() > deadline:
            raise AssertionError(f"events not ingested within {timeout} s")
        time.sleep(0.02)
    c.services.incidents.flush()


def report_unit_position(c: Coordinator, unit_id: str, lat: float, lon: float) -> None:
    """A patrol unit's position report (normally an MQTT message from the unit's tablet)."""
    dispatch = c.services.dispatch
    dispatch.position(unit_id, UnitPosition(ts=dispatch.now_ms(), lat=lat, lon=lon))


def sweep_fraud_overdue(c: Coordinator) -> list[Any]:
    """Run the scheduled overdue sweep now (normally every five minutes)."""
    return list(c.services.fraud.sweep_overdue())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
