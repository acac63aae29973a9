"""Helpers for core tests: a coordinator wired to a real broker, devices, event builders."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coordinator.bootstrap import open_services, start_core
from coordinator.container import Services
from coordinator.settings import Settings
from protocol import Channel, Event, Topics, encode, uuid7
from tests.harness.mqtt import wait_for

# Yiwu-ish coordinates; cameras 0..2 within ~100 m of each other, camera 9 ~2 km away.
CAMERAS = {
    "cam-0": (29.3060, 120.0760),
    "cam-1": (29.3066, 120.0766),
    "cam-2": (29.3054, 120.0770),
    "cam-9": (29.3240, 120.0900),
}


def core_settings(tmp: Path, port: int, **over: Any) -> Settings:
    """Dev settings pointing at a test broker, with a unique client id."""
    base: dict[str, Any] = {
        "argon2_memory_kib": 4096,
        "argon2_time_cost": 1,
        "mqtt_port": port,
        "mqtt_client_id": f"coord-{uuid7()[-8:]}",
    }
    return Settings.for_dev(tmp, **{**base, **over})


@contextmanager
def running_core(settings: Settings) -> Iterator[Services]:
    """Open services, start the link and jobs, wait for the connection; close after."""
    svc = open_services(settings)
    try:
        start_core(svc)
        assert svc.mqtt.wait_connected(10), "coordinator did not connect"
        yield svc
    finally:
        svc.close()


def register(svc: Services, cams: dict[str, tuple[float, float]] | None = None) -> None:
    """Register cameras in the fleet."""
    for dev, (lat, lon) in (cams or CAMERAS).items():
        svc.fleet.register(
            {
                "id": dev,
                "owner_org": "Yiwu PSB",
                "owner_type": "government",
                "lat": lat,
                "lon": lon,
                "zone": "Z01",
            }
        )


def event(
    dev: str,
    seq: int,
    *,
    track: int = 1,
    kind: str = "intrusion",
    ts: int | None = None,
    conf: float = 0.8,
    phase: str = "start",
    eid: str | None = None,
) -> Event:
    """A protocol event."""
    return Event(
        id=eid or uuid7(),
        seq=seq,
        ts=ts if ts is not None else int(time.time() * 1000),
        dev=dev,
        kind=kind,
        phase=phase,
        label="person",
        conf=conf,
        track=track,
        box=(100, 100, 300, 800),
    )


def ev_topic(dev: str) -> str:
    """Event topic of a device."""
    return Topics().device(dev, Channel.EVENT)


def count(svc: Services, sql: str, params: list[Any] | None = None) -> int:
    """One integer from a query."""
    return int(next(iter(svc.db.query(sql, params or [])[0].values())))


def wait_count(
    svc: Services, sql: str, n: int, timeout: float = 10.0, params: list[Any] | None = None
) -> None:
    """Wait until the query's count reaches ``n``."""
    wait_for(lambda: count(svc, sql, params) >= n, timeout, f"{sql} >= {n}")


def publish_events(client: Any, events: list[Event]) -> None:
    """Publish events at QoS 1 and wait for their PUBACKs."""
    for e in events:
        client.publish(ev_topic(e.dev), encode(e), qos=1)


def inject(svc: Services, events: list[Event]) -> None:
    """Feed events through the real ingest pipeline without a broker (no acks)."""
    from coordinator.platform.mqtt import Inbound

    t = Topics()
    for e in events:
        topic = ev_topic(e.dev)
        svc.ingest.sink(Inbound(topic, t.parse(topic), encode(e), 0, 0, 0, time.time()))


def camera_until(svc: Services, stop: Any, sent: list[int], dev: str = "cam-0") -> None:
    """A camera feeding ingest an event every 10 ms until ``stop`` (a threading.Event) is
    set; each sequence number sent is appended to ``sent`` (run it in a thread)."""
    seq = 0
    while not stop.is_set():
        seq += 1
        inject(svc, [event(dev, seq, track=seq)])
        sent.append(seq)
        time.sleep(0.01)
