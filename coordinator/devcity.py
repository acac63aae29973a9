"""A whole CityWatch city on this machine, for the demo, the browser tests and the benches.

Starts a real Mosquitto on a free port, the real coordinator (API on uvicorn, the MQTT link,
ingest and jobs), a synthetic city (river, bridges, one-way streets, patrol zones), patrol
units driven by the unit simulator over MQTT, registered cameras and one user per role.
Everything stops with :meth:`DevCity.stop`. Not for production: dev-mode settings.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from protocol import Channel, Event, Topics, UnitPosition, encode, uuid7
from provisioning.mosquitto import BrokerConfig, MosquittoProcess, PlainListener, free_port

from .app import create_app
from .core import start_core
from .services import Services, open_services
from .settings import Settings

DEMO_PASSWORD = "citywatch-demo"
#: username → (roles, zones, merchant id)
DEMO_USERS: dict[str, tuple[list[str], list[str], str | None]] = {
    "admin": (["admin"], [], None),
    "operator": (["operator"], [], None),
    "dispatcher": (["dispatcher", "operator"], [], None),
    "officer": (["population_officer"], ["Z1", "Z2", "Z3", "Z4", "Z5"], None),
    "investigator": (["fraud_investigator"], [], None),
    "investigator2": (["fraud_investigator"], [], None),
    "merchant": (["merchant"], [], None),
    "technician": (["technician"], [], None),
}


@dataclass
class DevCity:
    """Handles of a running city; build with :func:`start_city`."""

    workdir: Path
    broker: MosquittoProcess
    services: Services
    server: uvicorn.Server
    server_thread: threading.Thread
    url: str
    city: Any
    topics: Topics = field(default_factory=Topics)
    cameras: list[dict[str, Any]] = field(default_factory=list)
    sim: Any = None
    sim_link: Any = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _seq: dict[str, int] = field(default_factory=dict)
    _board: Any = None

    @property
    def mqtt_port(self) -> int:
        """The broker's port."""
        return self.broker.ports[0]

    def publish_event(
        self,
        dev: str,
        kind: str = "intrusion",
        conf: float = 0.92,
        track: int = 1,
        phase: str = "start",
    ) -> Event:
        """Publish one protocol event as camera ``dev`` would (QoS 1), return it."""
        seq = self._seq[dev] = self._seq.get(dev, 0) + 1
        ev = Event(
            id=uuid7(),
            seq=seq,
            ts=int(time.time() * 1000),
            dev=dev,
            kind=kind,  # type: ignore[arg-type]
            phase=phase,
            label="person",
            conf=conf,
            track=track,
            box=(300, 200, 450, 800),  # type: ignore[arg-type]
            zone="restricted" if kind == "intrusion" else None,
        )
        self._board.publish(
            self.topics.device(dev, Channel.EVENT), encode(ev), qos=1
        ).wait_for_publish(10)
        return ev

    def stop(self) -> None:
        """Stop everything this city started, in reverse order."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        if self._board is not None:
            self._board.disconnect()
            self._board.loop_stop()
            self._board._reset_sockets()
        if self.sim_link is not None:
            self.sim_link.stop()
        self.server.should_exit = True
        self.server_thread.join(timeout=15)
        self.services.close()
        self.broker.stop()


def start_city(
    workdir: Path,
    *,
    cameras: int = 200,
    units: int = 10,
    seed: int = 11,
    sim_speedup: float = 10.0,
    fast_hash: bool = True,
) -> DevCity:
    """Start a city in ``workdir`` and return it running (API at ``city.url``)."""
    from .dispatch.mqtt_adapter import PahoLink
    from .dispatch.simulator import SimUnit, UnitSimulator, spawn_units
    from .geo.synthetic import CitySpec, generate

    workdir.mkdir(parents=True, exist_ok=True)
    broker = MosquittoProcess(
        BrokerConfig(workdir / "broker", [PlainListener(free_port())], persistence=True)
    ).start()
    extra: dict[str, Any] = {"argon2_memory_kib": 4096, "argon2_time_cost": 1} if fast_hash else {}
    settings = Settings.for_dev(
        workdir / "coordinator", mqtt_port=broker.ports[0], api_port=free_port(), **extra
    )
    services = open_services(settings)
    for name, (roles, zones, merchant) in DEMO_USERS.items():
        services.auth.create_user(name, DEMO_PASSWORD, roles, zones=zones, merchant_id=merchant)
    geo = services.extra["geo"]
    dispatch = services.extra["dispatch"]
    city = generate(CitySpec(cols=30, rows=30, bridges=3, zones_x=3, zones_y=3), seed=seed)
    geo.load_zones(city.zones)
    geo.load_roads(city.roads)
    rng = random.Random(seed)
    cams = []
    for i in range(cameras):
        lat, lon = city.random_point(rng)
        cams.append(
            {
                "id": f"cam-{i:05d}",
                "owner_org": ["Yiwu PSB", "Futian Market Co.", "Choucheng Community"][i % 3],
                "owner_type": ["government", "company", "community"][i % 3],
                "lat": lat,
                "lon": lon,
                "heading": float(rng.randrange(0, 360)),
                "zone": geo.zones.zone_of(lat, lon) if geo.zones else None,
                "profile": "raspberry-pi-5",
            }
        )
    if cams:
        from .fleet import DeviceIn

        services.extra["fleet"].upsert_many([DeviceIn.model_validate(c) for c in cams])
    start_core(services)
    app = create_app(services)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=settings.api_port, log_level="warning", lifespan="off"
        )
    )
    st = threading.Thread(target=server.run, name="devcity-api", daemon=True)
    st.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not st.is_alive():
            raise RuntimeError("the coordinator API did not start")
        time.sleep(0.02)
    dc = DevCity(
        workdir,
        broker,
        services,
        server,
        st,
        f"http://127.0.0.1:{settings.api_port}",
        city,
        Topics(settings.topic_root),
        cams,
    )
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    # One connection standing in for the cameras that publish_event() speaks for.
    board = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="devcity-boards", protocol=mqtt.MQTTv5
    )
    board.connect("127.0.0.1", broker.ports[0])
    board.loop_start()
    dc._board = board
    if units:
        defs = spawn_units(units, city, seed=seed, zones=geo.zones)
        for u in defs:
            dispatch.units.upsert(
                {k: u[k] for k in ("id", "call_sign", "mode", "home_zone", "shift", "status")}
            )
            dispatch.position(
                u["id"], UnitPosition(ts=dispatch.now_ms(), lat=u["lat"], lon=u["lon"])
            )
        link = PahoLink("127.0.0.1", broker.ports[0], "devcity-unit-sim").start()
        sim = UnitSimulator(
            geo.roads,
            [SimUnit(u["id"], u["mode"], u["lat"], u["lon"]) for u in defs],
            link,
            on_scene_hold_s=600,
        ).start()
        dc.sim, dc.sim_link = sim, link
        t = threading.Thread(
            target=sim.run,
            args=(dc._stop, 0.1, sim_speedup, 2.0),
            name="devcity-unit-sim",
            daemon=True,
        )
        t.start()
        dc._threads.append(t)
    return dc
