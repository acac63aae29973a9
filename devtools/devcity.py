"""A whole CityWatch city on this machine, for the demo, the browser tests and the benches.

Starts a real Mosquitto on a free port, the real coordinator (API on uvicorn, the MQTT link,
ingest and jobs), a synthetic city (river, bridges, one-way streets, patrol zones), patrol
units driven by the unit simulator over MQTT, registered cameras and one user per role.
The data goes in through :data:`SEED_STEPS`, one seed function per domain called in order
(a caller may pass its own list). Everything stops with :meth:`DevCity.stop`. Not for
production: dev-mode settings.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from coordinator.app import create_app
from coordinator.bootstrap import open_services, start_core
from coordinator.container import Services
from coordinator.settings import Settings
from protocol import Channel, Event, Topics, UnitPosition, encode, uuid7
from provisioning.mosquitto import BrokerConfig, MosquittoProcess, PlainListener, free_port

DEMO_PASSWORD = "citywatch-demo"
#: username → (roles, zones, merchant id)
DEMO_USERS: dict[str, tuple[list[str], list[str], str | None]] = {
    "admin": (["admin"], [], None),
    # A second administrator: access to personal data needs two (staff administration).
    "admin2": (["admin"], [], None),
    "operator": (["operator"], [], None),
    "dispatcher": (["dispatcher", "operator"], [], None),
    "officer": (["population_officer"], ["Z001", "Z002", "Z003", "Z004", "Z005"], None),
    "investigator": (["fraud_investigator"], [], None),
    "investigator2": (["fraud_investigator"], [], None),
    # The foreigners' service hall's clerk (visa and residence-permit cases).
    "clerk": (["hall_clerk"], [], None),
    "merchant": (["merchant"], [], "m-demo"),
    "technician": (["technician"], [], None),
    "supervisor": (["supervisor", "operator"], [], None),
    # Approves officers' break-the-glass requests and reviews their emergency grants.
    "approver": (["data_access_approver"], [], None),
    # The data-protection officer: reads the audit log (the administrator does not).
    "auditor": (["auditor"], [], None),
    "dpo": (["auditor"], [], None),  # data-protection officer: reads the audit log
    # A company's login: its own cameras and the incidents they raised (seed_owners binds
    # it to the company with most cameras).
    "owner": (["camera_owner"], [], None),
}
#: The city command room: these demo users see every centre (the city-wide flag).
DEMO_CITY_WIDE = ("operator", "dispatcher", "supervisor")
#: Each monitoring centre's own demo operator (operator + dispatcher), ``op-c01`` …
CENTRE_OPERATOR = "op-{centre}"
#: Share of cameras by owner type (Yiwu: ~4,000 of 24,000 are the government's).
OWNER_SHARES = (("government", 0.15), ("company", 0.6), ("community", 0.25))


def second_factor_users() -> list[str]:
    """The demo accounts whose logins need a TOTP code (seeded secrets)."""
    from coordinator.identity.auth import needs_second_factor

    return [u for u, (roles, _z, _m) in DEMO_USERS.items() if needs_second_factor(roles)]


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
    market: dict[str, Any] = field(default_factory=dict)
    health: Any = None  # the simulated boards' health (devtools/board_health.py)
    #: The simulator door's account (secure broker only): simulated boards and units.
    sim_account: tuple[str, str] | None = None

    @property
    def mqtt_port(self) -> int:
        """The port simulated boards and units use (the simulator door of a secure broker)."""
        return self.broker.ports[2] if self.sim_account else self.broker.ports[0]

    @property
    def mqtt_auth(self) -> dict[str, str | None]:
        """``username``/``password`` for a simulator connection (None on an open broker)."""
        user, pw = self.sim_account or (None, None)
        return {"username": user, "password": pw}

    @property
    def device_port(self) -> int:
        """The boards' mTLS door of a secure broker."""
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
            phase=phase,  # type: ignore[arg-type]
            label="person",
            conf=conf,
            track=track,
            box=(300, 200, 450, 800),
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


@dataclass(frozen=True)
class CityOptions:
    """What the seed steps put into the city."""

    cameras: int = 200
    units: int = 10
    seed: int = 11
    sim_speedup: float = 10.0
    population: int = 0
    market: int = 0
    offline_share: float = 0.04
    geography: str = "small"  # "small" (tests: 2 centres) or "yiwu" (demo: 14 centres)
    health_interval_s: float = 30.0  # simulated boards' health cadence (0: none)
    #: The production broker (generated config: boards' mTLS door with CRL and ACLs, the
    #: centre's password door, the bounds) plus a simulator door for the simulated boards
    #: and units, on loopback only; False: one anonymous loopback door (tests).
    secure_broker: bool = False


SeedStep = Callable[[DevCity, CityOptions], None]


def start_city(
    workdir: Path,
    *,
    cameras: int = 200,
    units: int = 10,
    seed: int = 11,
    sim_speedup: float = 10.0,
    fast_hash: bool = True,
    population: int = 0,
    market: int = 0,
    offline_share: float = 0.04,
    steps: Sequence[SeedStep] | None = None,
    geography: str = "small",
    health_interval_s: float = 30.0,
    secure_broker: bool = False,
) -> DevCity:
    """Start a city in ``workdir``, seed it with ``steps`` (default :data:`SEED_STEPS`, one
    per domain, in order) and return it running (API at ``city.url``). ``geography`` is
    ``small`` (2 centres, 8 patrol zones: tests) or ``yiwu`` (14 centres, 112 zones)."""
    opts = CityOptions(
        cameras,
        units,
        seed,
        sim_speedup,
        population,
        market,
        offline_share,
        geography,
        health_interval_s,
        secure_broker,
    )
    dc = _start_centre(workdir, opts, fast_hash)
    try:
        for step in SEED_STEPS if steps is None else steps:
            step(dc, opts)
    except BaseException:
        dc.stop()
        raise
    return dc


def _start_centre(workdir: Path, opts: CityOptions, fast_hash: bool) -> DevCity:
    """Broker, coordinator (link, jobs, API) and one board connection; nothing seeded yet."""
    from .synthetic_city import SMALL, YIWU, generate

    workdir.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {"argon2_memory_kib": 4096, "argon2_time_cost": 1} if fast_hash else {}
    sim_account = None
    if opts.secure_broker:
        broker, link, sim_account = _secure_broker(workdir)
        extra.update(link)
    else:
        broker = MosquittoProcess(
            BrokerConfig(workdir / "broker", [PlainListener(free_port())], persistence=True)
        ).start()
        extra["mqtt_port"] = broker.ports[0]
    settings = Settings.for_dev(workdir / "coordinator", api_port=free_port(), **extra)
    services = open_services(settings)
    if opts.geography not in ("small", "yiwu"):
        raise ValueError(f"geography {opts.geography!r} is not small or yiwu")
    city = generate(YIWU if opts.geography == "yiwu" else SMALL, seed=opts.seed)
    start_core(services)
    app = create_app(services)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=settings.api_port,
            log_level="warning",
            lifespan="off",
            proxy_headers=False,  # as `coordinator run`: X-Forwarded-For only via trusted_proxies
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
        sim_account=sim_account,
    )
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    # One connection standing in for the cameras that publish_event() speaks for.
    board = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="devcity-boards", protocol=mqtt.MQTTv5
    )
    if sim_account:
        board.username_pw_set(*sim_account)
    board.connect("127.0.0.1", dc.mqtt_port)
    board.loop_start()
    dc._board = board
    return dc


def _secure_broker(workdir: Path) -> tuple[MosquittoProcess, dict[str, Any], tuple[str, str]]:
    """The production broker from ``provision broker-config`` (a CA of the city's own), plus
    a password door on loopback for the simulators; returns it, the coordinator's link
    settings and the simulator account."""
    import secrets

    from provisioning.ca import BrokerPlan, broker_config, init_ca
    from provisioning.mosquitto import password_hash

    pki = workdir / "pki"
    init_ca(pki)
    plan = BrokerPlan(
        ca_dir=pki,
        out_dir=workdir / "broker",
        hostnames=["127.0.0.1", "localhost"],
        device_port=free_port(),
        service_port=free_port(),
        bind="127.0.0.1",
        accounts={"coordinator": "centre"},
        coordinator_dir=workdir / "coordinator",
    )
    _summary, cfg = broker_config(plan)
    secret = dict(
        line.split(" ", 1) for line in (plan.out_dir / "accounts.secret").read_text().splitlines()
    )
    # Dev mode only: the simulated boards and units share a few connections under one
    # account on a loopback door of its own (never part of a production config).
    sim = ("simulator", secrets.token_urlsafe(18))
    pw = plan.out_dir / "passwd-simulator"
    pw.write_text(f"{sim[0]}:{password_hash(sim[1])}\n")
    pw.chmod(0o600)
    acl = plan.out_dir / "acl-simulator"
    acl.write_text(f"user {sim[0]}\ntopic readwrite {plan.topic_root}/#\n")
    cfg.listeners.append(PlainListener(free_port(), password_file=pw, acl_file=acl))
    broker = MosquittoProcess(cfg).start()
    assert broker.proc is not None
    # as systemd's PIDFile= would: a revocation reloads the broker through it
    (plan.out_dir / "mosquitto.pid").write_text(str(broker.proc.pid))
    link = {
        "mqtt_host": "127.0.0.1",
        "mqtt_port": plan.service_port,
        "mqtt_username": "coordinator",
        "mqtt_password": secret["coordinator"],
        "mqtt_ca": pki / "ca-bundle.pem",
    }
    return broker, link, sim


# seed steps, one per domain -------------------------------------------------------------
def seed_identity(dc: DevCity, opts: CityOptions) -> None:
    """One demo user per role (password :data:`DEMO_PASSWORD`); accounts that read personal
    data get their seeded second factor (``devtools.totp_codes``)."""
    from coordinator.identity.auth import needs_second_factor

    from .totp_codes import seeded_secret

    for name, (roles, zones, merchant) in DEMO_USERS.items():
        secret = seeded_secret(name) if needs_second_factor(roles) else None
        dc.services.auth.create_user(
            name, DEMO_PASSWORD, roles, zones=zones, merchant_id=merchant, totp_secret=secret
        )


def seed_geo(dc: DevCity, opts: CityOptions) -> None:
    """The synthetic city's patrol zones, centres and road network."""
    dc.services.geo.load_zones(dc.city.zones)
    dc.services.geo.load_roads(dc.city.roads)


def seed_centres(dc: DevCity, opts: CityOptions) -> None:
    """Who works where: the city command room's demo users are city-wide; each centre gets
    its own operator (``op-c01`` …, operator and dispatcher), member of that centre only."""
    centres = dc.services.geo.centres
    for name in DEMO_CITY_WIDE:
        centres.set_membership(name, [], city_wide=True, actor="devcity")
    from concurrent.futures import ThreadPoolExecutor

    def staff(cid: str) -> None:
        name = CENTRE_OPERATOR.format(centre=cid.lower())
        dc.services.auth.create_user(name, DEMO_PASSWORD, ["operator", "dispatcher"])
        centres.set_membership(name, [cid], city_wide=False, actor="devcity")

    # Password hashing is the slow part (argon2 releases the GIL): two at a time.
    with ThreadPoolExecutor(2, thread_name_prefix="devcity-staff") as pool:
        list(pool.map(staff, dc.services.geo.centre_ids()))


def seed_fleet(dc: DevCity, opts: CityOptions) -> None:
    """Register the cameras across the city, each with its owner organisation (most are
    companies' and communities'), then announce their state as boards do."""
    from coordinator.fleet.service import DeviceIn

    from .synthetic_owners import Owners

    rng = random.Random(opts.seed)
    zones = dc.services.geo.zones
    owners = Owners(dc.city.zones, opts.cameras, seed=opts.seed)
    cams = []
    for i in range(opts.cameras):
        lat, lon = dc.city.random_point(rng)
        zone = zones.zone_of(lat, lon) if zones else None
        owner_type, owner_org = owners.pick(zone, rng)
        cams.append(
            {
                "id": f"cam-{i:05d}",
                "owner_org": owner_org,
                "owner_type": owner_type,
                "lat": lat,
                "lon": lon,
                "heading": float(rng.randrange(0, 360)),
                "zone": zone,
                "profile": "raspberry-pi-5",
            }
        )
    if cams:
        dc.services.fleet.upsert_many([DeviceIn.model_validate(c) for c in cams])
    dc.cameras = cams
    online = announce_cameras(dc, opts.offline_share, rng)
    if opts.health_interval_s > 0 and online:
        start_board_health(dc, online, opts.health_interval_s)


def seed_owners(dc: DevCity, opts: CityOptions) -> None:
    """The owner organisations made from the cameras' labels get what they are (schools,
    hospitals), a contact and an area, and varied sharing agreements (most events only);
    the demo ``owner`` login is bound to the company with most cameras."""
    import time

    from .synthetic_owners import agreement, org_kind

    rng = random.Random(opts.seed + 3)
    now = time.time()
    svc = dc.services
    orgs = svc.db.query(
        "select o.id, o.name, o.kind, min(d.zone) zone, count(d.id) n from owner_orgs o "
        "left join devices d on d.org_id = o.id group by o.id order by o.id"
    )
    if not orgs:
        return
    kinds = [(org_kind(o["name"], o["kind"]), o["id"]) for o in orgs]
    fields = [(f"保卫科 0579-85{rng.randrange(100000, 999999)}", o["zone"], o["id"]) for o in orgs]
    terms = [t for (k, oid) in kinds if (t := agreement(oid, k, rng, now)) is not None]
    cols = list(terms[0]) if terms else []

    def write(db: Any) -> None:
        db.conn.executemany("update owner_orgs set kind = ? where id = ?", kinds)
        db.conn.executemany("update owner_orgs set contact = ?, area = ? where id = ?", fields)
        if terms:
            db.conn.executemany(
                f"insert into sharing_agreements ({', '.join(cols)}) "
                f"values ({', '.join('?' for _ in cols)})",
                [[t[c] for c in cols] for t in terms],
            )

    svc.db.write(write)
    svc.owners.refresh()
    biggest = max((o for o in orgs if o["kind"] == "company"), key=lambda o: o["n"], default=None)
    if biggest is not None and "owner" in DEMO_USERS:
        svc.owners.bind_account("owner", biggest["id"])


def seed_population(dc: DevCity, opts: CityOptions) -> None:
    """``opts.population`` generated residents in the patrol zones."""
    if opts.population:
        load_population(dc, opts.population)


def seed_fraud(dc: DevCity, opts: CityOptions) -> None:
    """A generated market of ``opts.market`` companies, with one published warning."""
    if opts.market:
        dc.market = load_market(dc, opts.market)


def seed_hall(dc: DevCity, opts: CityOptions) -> None:
    """The foreigners' service hall's past year of cases, scaled to the city's population
    (Yiwu: 13,000 resident foreigners, 25,700 cases a year), and today's open ones."""
    from devtools.hall_data import HallSpec
    from devtools.hall_data import load as load_hall

    if opts.population:
        s = dc.services
        load_hall(
            s.db, s.population.ctx.keyring, HallSpec.scaled(opts.population, opts.seed), time.time()
        )


def seed_dispatch(dc: DevCity, opts: CityOptions) -> None:
    """``opts.units`` patrol units at their positions, driven by the unit simulator."""
    from devtools.paho_link import PahoLink

    from .unit_simulator import SimUnit, UnitSimulator, spawn_units

    if not opts.units:
        return
    dispatch, geo = dc.services.dispatch, dc.services.geo
    defs = spread_over_centres(
        spawn_units(opts.units, dc.city, seed=opts.seed, zones=geo.zones), dc, opts.seed
    )
    for u in defs:
        dispatch.units.upsert(
            {k: u[k] for k in ("id", "call_sign", "mode", "home_zone", "shift", "status")}
        )
        dispatch.position(u["id"], UnitPosition(ts=dispatch.now_ms(), lat=u["lat"], lon=u["lon"]))
    auth = dc.mqtt_auth
    link = PahoLink(
        "127.0.0.1",
        dc.mqtt_port,
        "devcity-unit-sim",
        username=auth["username"],
        password=auth["password"],
    ).start()
    sim = UnitSimulator(
        geo.roads,
        [SimUnit(u["id"], u["mode"], u["lat"], u["lon"]) for u in defs],
        link,
        on_scene_hold_s=600,
    ).start()
    dc.sim, dc.sim_link = sim, link
    seed_phone_unit(dc, defs[0])
    t = threading.Thread(
        target=sim.run,
        args=(dc._stop, 0.1, opts.sim_speedup, 2.0),
        name="devcity-unit-sim",
        daemon=True,
    )
    t.start()
    dc._threads.append(t)


#: The patrol unit worked by a person from the phone page (``/ui/unit.html``), not by the
#: simulator: it starts off duty, so nothing is offered to it until someone signs on.
PHONE_UNIT = "phone-01"
PHONE_USER = "patrol"


def seed_phone_unit(dc: DevCity, near: dict[str, Any]) -> None:
    """One unit for the phone page, and its account (role patrol_unit, linked to it)."""
    dispatch = dc.services.dispatch
    dispatch.units.upsert(
        {
            "id": PHONE_UNIT,
            "call_sign": "P01",
            "mode": "car",
            "home_zone": near["home_zone"],
            "shift": near.get("shift"),
            "status": "off_duty",
        }
    )
    dispatch.position(
        PHONE_UNIT, UnitPosition(ts=dispatch.now_ms(), lat=near["lat"], lon=near["lon"])
    )
    dc.services.auth.create_user(
        PHONE_USER, DEMO_PASSWORD, ["patrol_unit"], unit_id=PHONE_UNIT, display_name="P01"
    )


#: The city's seed, one step per domain, in order (geography before the cameras placed in
#: it, the cameras before the units that patrol among them).
SEED_STEPS: list[SeedStep] = [
    seed_identity,
    seed_geo,
    seed_centres,
    seed_fleet,
    seed_owners,
    seed_population,
    seed_fraud,
    seed_hall,
    seed_dispatch,
]


def spread_over_centres(defs: list[dict[str, Any]], dc: DevCity, seed: int) -> list[dict[str, Any]]:
    """Place unit ``i`` in centre ``i mod n`` (a random street point of that centre), so
    that every centre patrols with its own units."""
    zones, centres = dc.services.geo.zones, dc.services.geo.centre_ids()
    if zones is None or not centres:
        return defs
    rng = random.Random(seed + 1)
    for i, u in enumerate(defs):
        want = centres[i % len(centres)]
        for _ in range(500):
            lat, lon = dc.city.random_point(rng)
            if zones.centre_for(lat, lon) == want:
                u.update(lat=lat, lon=lon, home_zone=zones.zone_of(lat, lon))
                break
    return defs


def start_board_health(dc: DevCity, devices: list[str], interval_s: float) -> Any:
    """The online cameras report health as real boards do (every ``interval_s``, QoS 0,
    spread over the interval) until the city stops."""
    from .board_health import BoardHealth

    board = dc._board
    health = BoardHealth(
        devices, lambda topic, payload, qos: board.publish(topic, payload, qos=qos),
        dc.topics, interval_s,
    )  # fmt: skip
    t = threading.Thread(
        target=health.run, args=(dc._stop,), name="devcity-board-health", daemon=True
    )
    t.start()
    dc._threads.append(t)
    dc.health = health
    return health


def announce_cameras(dc: DevCity, offline_share: float, rng: random.Random) -> list[str]:
    """Publish each camera's retained state, as boards do (a few are left offline); returns
    the ids of the cameras announced online."""
    from protocol import State

    now = int(time.time() * 1000)
    infos = []
    online_ids: list[str] = []
    for cam in dc.cameras:
        online = rng.random() >= offline_share
        if online:
            online_ids.append(cam["id"])
        st = State(
            status="online" if online else "offline",
            ts=now,
            firmware="0.1.0",
            profile=cam.get("profile"),
        )
        infos.append(
            dc._board.publish(
                dc.topics.device(cam["id"], Channel.STATE), encode(st), qos=1, retain=True
            )
        )
    for info in infos:
        info.wait_for_publish(10)
    return online_ids


def load_population(dc: DevCity, n: int) -> dict[str, Any]:
    """Import ``n`` generated persons living in the city's patrol zones."""
    from .population_data import write_csv

    zones = [
        f["properties"]["id"]
        for f in dc.city.zones["features"]
        if f["properties"].get("id", "").startswith("Z")
    ]
    pop = dc.services.population
    f = write_csv(dc.workdir / "population.csv", n, seed=7, zones=zones or None)
    summary = pop.importer.run("devcity", f, purpose="demo data")
    # The demo's residents come from a historical register: the batch's dates count once a
    # second person approves them, as for any import (here the host's seeding, two names).
    batch = pop.dates.request_batch("devcity", summary["job_id"],
                                    "demo city's historical residence register, seeded")  # fmt: skip
    dc.services.approvals.approve("devcity:register-office", int(batch["dates_approval_id"]))
    return summary


def load_market(dc: DevCity, n: int) -> dict[str, Any]:
    """Load a generated market, publish a warning on one fraudster, and return its vest.

    The warning is drafted by one investigator and approved by another, as the workflow
    requires; the returned vest shares identifiers with the warned company.
    """
    from coordinator.bootstrap import role_matrix
    from coordinator.fraud.warning_desk import WarningIn
    from coordinator.identity.auth import Principal, Role, perms_for

    from .fraud_data import generate
    from .fraud_data import load_market as load

    svc = dc.services.fraud
    mk = generate(n, seed=2026)
    stats = load(svc, mk)
    vest = next(
        c for c in mk.companies if c.vest_of and any(k == "phone" for k, _ in c.identifiers)
    )
    inv = frozenset({Role.FRAUD_INVESTIGATOR})
    perms = perms_for(inv, role_matrix())
    li = Principal(1, "investigator", inv, perms=perms)
    chen = Principal(2, "investigator2", inv, perms=perms)
    name = dc.services.db.query(
        "select display_name from fraud_companies where id = ?", [vest.vest_of]
    )[0]["display_name"]
    wid = svc.desk.draft_warning(
        li,
        WarningIn(
            company_id=int(vest.vest_of or 0),
            headline=f"{name}：赊账订货，拖欠货款不付",
            description="多家商户反映已发货但一直未收到货款。",
            instruction="发货前请要求对方全额付款。",
        ),
    )
    svc.desk.approve_warning(chen, wid)
    svc.desk.publish_warning(li, wid)
    phone = next(raw for k, raw in vest.identifiers if k == "phone")
    # The demo merchant login speaks for the first generated merchant account.
    dc.services.db.execute_write(
        "update users set merchant_id = ? where username = 'merchant'", [mk.merchants[0]]
    )
    return {
        "stats": stats,
        "warned": name,
        "warning_id": wid,
        "vest_phone": phone,
        "merchants": mk.merchants,
    }


#: The demo edge agent's rules: one intrusion zone over the whole frame, always on.
DEMO_RULES: dict[str, Any] = {
    "zones": [
        {
            "name": "gate",
            "rule": "intrusion",
            "points": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
        }
    ],
}


def _register_agent(dc: DevCity, dev: str, lat: float, lon: float, zone: str | None) -> None:
    from coordinator.fleet.service import DeviceIn

    dc.services.fleet.register(
        DeviceIn.model_validate(
            {
                "id": dev,
                "owner_org": "Yiwu PSB",
                "owner_type": "government",
                "lat": lat,
                "lon": lon,
                "heading": 90.0,
                "zone": zone,
                "profile": "rtsp-gateway",
            }
        )
    )


def _enrol_agent(
    dc: DevCity, dev: str, bundle: Path, lat: float, lon: float, zone: str | None
) -> dict[str, Any]:
    """Enrol ``dev`` through the real flow; returns its agent's broker section (mTLS)."""
    import yaml

    from provisioning.api import Coordinator
    from provisioning.enroll import EnrollOptions, enroll

    with Coordinator(dc.url) as api:
        api.login("technician", DEMO_PASSWORD)
        token = api.enrolment_token(dev)["token"]
    res = enroll(
        EnrollOptions(
            coordinator=dc.url,
            token=token,
            profile="rtsp-gateway",
            lat=lat,
            lon=lon,
            heading=90.0,
            zone=zone or "Z01",
            owner="Yiwu PSB",
            bundle_dir=bundle,
            firmware_dir=Path(__file__).resolve().parents[1] / "provisioning" / "firmware_configs",
            confirm_timeout=30.0,
            selftest=False,
        ),
        quiet=True,
    )
    if not res.get("ok"):
        raise RuntimeError(f"enrolment of {dev} failed: {res}")
    broker: dict[str, Any] = yaml.safe_load((bundle / "agent.yaml").read_text())["broker"]
    # the bundle's paths are relative to its own folder; the demo's config lives beside it
    broker["tls"] = {k: str((bundle / v).resolve()) for k, v in broker["tls"].items()}
    return broker


def start_edge_agent(dc: DevCity, dev: str, workdir: Path, *, fps: int = 8) -> Any:
    """Run the real edge agent (real detector, synthetic scene of real photographs) as a
    registered camera of this city; returns the subprocess (terminate it when done)."""
    import subprocess
    import sys

    import yaml

    from edge_agent.models import default_model_path

    model = default_model_path()
    if not model.exists():
        raise FileNotFoundError(f"{model} missing: run `edge-agent models fetch` (make models)")
    rng = random.Random(dev)
    lat, lon = dc.city.random_point(rng)
    geo = dc.services.geo
    zone = geo.zones.zone_of(lat, lon) if geo.zones else None
    d = workdir / dev
    d.mkdir(parents=True, exist_ok=True)
    broker: dict[str, Any] = {"host": "127.0.0.1", "port": dc.mqtt_port}
    if dc.sim_account:
        # A secure broker: the camera is enrolled through the real flow (technician's
        # token, key made here, CSR, registration, the centre's confirmation) and
        # connects to the boards' mTLS door with its own certificate.
        broker = _enrol_agent(dc, dev, d / "bundle", lat, lon, zone)
    else:
        _register_agent(dc, dev, lat, lon, zone)
    cfg = {
        "device_id": dev,
        "profile": "demo",
        "broker": broker,
        "source": {"kind": "synthetic", "fps": fps, "width": 640, "height": 480, "people": 2},
        "detector": {"model": str(model), "threads": 1},
        "spool": {"path": str(d / "spool.db")},
        "health_interval_s": 10,
        "rules": {"rev": 0, **DEMO_RULES},
    }
    # The centre holds the camera's rules (registration seeded its conservative defaults):
    # the demo camera raises an intrusion for anyone in view, at any hour.
    dc.services.camrules.set(
        dev, DEMO_RULES, "devcity", "demo camera: intrusion anywhere, at any hour"
    )
    (d / "agent.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    with open(d / "agent.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(d / "agent.yaml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
