"""``make demo``: the whole city on this machine, on ports of its own.

1. Provisioning: a CA, a generated mTLS broker config, and demo boards enrolled through the
   real flow (one-time token, key on the board, CSR, registration, self-test, the centre's
   confirmation), one of them then revoked; an enrolled board runs the real edge agent.
2. The city: Mosquitto running the production config ``provision broker-config`` writes
   (boards' mTLS door with CRL and per-board ACL, the centre's TLS + password door, the
   bounds) plus, in dev mode only, a loopback door with a simulator account for the
   simulated boards and units; the coordinator (API + dashboard, MQTT ingest, incidents, fleet,
   dispatch, population, fraud), a Yiwu-shaped geography (14 monitoring centres, 28
   police-station areas, 112 patrol zones, streets with generated Chinese names), 24,000
   registered cameras (about 3,600 the government's, the rest companies' and communities'),
   patrol units of every centre driven by the unit simulator, a generated population and
   market with a published warning on a fraudster.
3. Real edge agents, each enrolled through the real flow and connected with its own
   certificate, running the pose detector on synthetic scenes of real photographs, and
   simulated boards from the load generator (the simulator account): incidents form,
   auto-dispatch sends units.

Prints the dashboard URL and the demo logins; Ctrl-C stops everything cleanly.
``--once`` checks that each part works and exits (0 = all good).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _guarded(name: str, fn: Any) -> Any:
    """Run one part of the demo; a failure prints a clear message and the demo goes on."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the demo reports and continues
        print(f"      !! {name} part of the demo failed: {type(exc).__name__}: {exc}")
        return None


DEMO_BOARDS = [
    # (device id, profile, lat, lon, heading, zone, owner, owner type)
    ("cam-demo-gate", "raspberry-pi-5", 29.3066, 120.0764, 135, "Z01", "Yiwu PSB", "government"),
    ("cam-demo-mkt", "rtsp-gateway", 29.3312, 120.1068, 270, "Z02", "Futian Market", "company"),
    ("cam-demo-res", "raspberry-pi-5", 29.2981, 120.0702, 45, "Z03", "Choucheng Res.", "community"),
]


def enrol_demo_boards(workdir: Path) -> list[Path]:
    """Enrol the demo boards through the real provisioning flow (issue 5).

    CA + broker config from ``provision``, a real Mosquitto and coordinator API, one token
    per board, key generated per board, centre confirmation, then a revocation whose live
    session is dropped. Returns the boards' bundle folders.
    """
    from provisioning.api import Coordinator
    from provisioning.enroll import EnrollOptions, enroll
    from tests.harness.field import TECH_PASSWORD, FieldEnv

    fw = ROOT / "provisioning" / "firmware_configs"
    bundles = []
    print("[enrol] CA, broker config, Mosquitto and coordinator from `provision` ...")
    with FieldEnv(workdir) as env, Coordinator(env.url) as api:
        api.login("tech-li", TECH_PASSWORD)
        for dev, profile, lat, lon, heading, zone, owner, otype in DEMO_BOARDS:
            tok = api.enrolment_token(dev)
            print(f"[enrol] technician tech-li got a one-time token for {dev} ({tok['ttl_s']} s)")
            res = enroll(
                EnrollOptions(
                    coordinator=env.url,
                    token=tok["token"],
                    profile=profile,
                    lat=lat,
                    lon=lon,
                    heading=heading,
                    zone=zone,
                    owner=owner,
                    owner_type=otype,
                    bundle_dir=workdir / "boards" / dev,
                    firmware_dir=fw,
                    source_kind="synthetic",  # demo boards film a synthetic scene
                )
            )
            if not res["ok"]:
                raise RuntimeError(f"enrolment of {dev} failed")
            bundles.append(workdir / "boards" / dev)
        _run_enrolled_agent(env, DEMO_BOARDS[0][0], bundles[0])
        FOOTAGE_CHECK.update(_replay_street_clip(env, DEMO_BOARDS[1][0], bundles[1]))
        victim = env.connect_board(bundles[-1])
        out = api.request("POST", f"/api/enrolment/devices/{DEMO_BOARDS[-1][0]}/revoke", {})
        dropped = victim.disconnected.wait(60)
        victim.close()
        when = f"after {out['disconnected_ms']:.0f} ms" if dropped else "NOT within 60 s"
        print(f"[enrol] revoked {DEMO_BOARDS[-1][0]}: live session dropped {when}")
    return bundles


def _run_enrolled_agent(env, dev: str, bundle: Path) -> None:  # noqa: ANN001
    """Run the real edge agent on an enrolled bundle until the centre ingests its events."""
    import subprocess

    import yaml

    cfg_path = bundle / "agent.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["spool"]["path"] = "spool.db"  # inside the bundle, not /var/lib on this machine
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    with open(bundle / "agent.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(cfg_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        n = 0
        while time.monotonic() < deadline and proc.poll() is None:
            n = env.services.db.query("select count(*) n from events where dev = ?", [dev])[0]["n"]
            if n:
                break
            time.sleep(0.2)
        print(
            f"[enrol] {dev} runs the real edge agent with its own certificate: "
            f"{n} event(s) ingested by the coordinator"
            + ("" if n else f" (none within 60 s; see {bundle / 'agent.log'})")
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)


#: The real-footage check's outcome (set during enrolment, printed with --once's table).
FOOTAGE_CHECK: dict[str, Any] = {}
STREET_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
#: Local time the replay stands for: the defaults raise intrusions only at night
#: (22:00-06:00), so the street clip is judged as if filmed at 23:00 tonight.
REPLAY_AT = "23:00"


def _replay_street_clip(env, dev: str, bundle: Path) -> dict[str, Any]:  # noqa: ANN001
    """A freshly enrolled board's real agent replays real street footage with the rules the
    centre seeded (its profile's defaults): the centre must open an incident from it."""
    import datetime as dt

    import yaml

    if not STREET_CLIP.is_file():
        return {"ok": False, "detail": f"{STREET_CLIP} missing (make system-deps: opencv-doc)"}
    rules = env.services.camrules.current(dev)
    cfg = yaml.safe_load((bundle / "agent.yaml").read_text())
    tonight = dt.datetime.combine(dt.date.today(), dt.time.fromisoformat(REPLAY_AT))
    cfg["source"] = {
        "kind": "replay",
        "path": str(STREET_CLIP),
        "fps": 10,
        "loop": False,
        "realtime": False,
        "recorded_at": tonight.isoformat(),
    }
    cfg["spool"] = {"path": "replay-spool.db"}
    cfg["rules"] = {"rev": rules["rev"], **rules["rules"]} if rules else cfg.get("rules")
    path = bundle / "agent-replay.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    with open(bundle / "replay.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent.cli", "run", "--config", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    sql = "select id, kind from incidents where devices like ? and kind = 'intrusion'"
    try:
        deadline = time.monotonic() + 180
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not found:
            found = env.services.db.query(sql, [f"%{dev}%"])
            if proc.poll() is not None and not found:
                time.sleep(2)  # the last events may still be on their way to the centre
                found = env.services.db.query(sql, [f"%{dev}%"])
                break
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
    zones = ", ".join(z["name"] for z in (rules or {}).get("rules", {}).get("zones", []))
    detail = (
        f"{dev}: {STREET_CLIP.name} replayed as filmed at {REPLAY_AT} under its seeded rules "
        f"rev {rules['rev'] if rules else '?'} ({zones}): "
        + (f"incident {found[0]['id']} ({found[0]['kind']})" if found else "no incident")
    )
    print(f"[enrol] {detail}")
    return {"ok": bool(found), "detail": detail}


def start_agents(city: Any, n: int, workdir: Path) -> list[subprocess.Popen[bytes]]:
    """Real edge agents (real detector on synthetic scenes of real photographs)."""
    from devtools.devcity import start_edge_agent

    procs = [start_edge_agent(city, f"cam-edge-{i + 1:02d}", workdir) for i in range(n)]
    print(
        f"[agents] {n} real edge agents, each enrolled through the real flow and connected "
        f"with its own certificate (mTLS): synthetic scene -> motion gate -> pose detector "
        f"(LiteRT) -> tracker -> rules -> spool -> MQTT; logs in {workdir}"
    )
    return procs


def start_loadgen(city: Any, stop: threading.Event, cameras: int, rate: float) -> threading.Thread:
    """Simulated boards: tracks of events from a subset of the registered cameras."""
    from devtools.loadgen import EventStream, Publisher

    devs = [c["id"] for c in city.cameras[:cameras]]
    auth = city.mqtt_auth
    pub = Publisher(
        "127.0.0.1",
        city.mqtt_port,
        connections=1,
        name="demo-loadgen",
        username=auth["username"],
        password=auth["password"],
    )
    stream = iter(EventStream(devs, seed=3, track_len=3))

    def loop() -> None:
        try:
            while not stop.wait(1.0 / rate):
                pub.publish(next(stream))
        finally:
            pub.close()

    t = threading.Thread(target=loop, name="demo-loadgen", daemon=True)
    t.start()
    print(
        f"[boards] {cameras} simulated boards publish ~{rate:.0f} events/s (QoS 1) over one "
        f"connection with the simulator account on 127.0.0.1:{city.mqtt_port} - dev mode "
        "only, never part of a production broker"
    )
    return t


def seed_auto_dispatch(city: Any, opts: Any) -> None:
    """The demo's dispatch policy: intrusions seen with confidence >= 0.85 get a unit at once."""
    from coordinator.dispatch.policy import AutoPolicy, AutoRule

    city.services.dispatch.set_policy(
        AutoPolicy(enabled=True, rules=[AutoRule(kind="intrusion", min_confidence=0.85)]),
        "demo",
    )
    print("[dispatch] auto-dispatch: intrusion with confidence >= 0.85")


def demo_seed_steps() -> list[Any]:
    """The city's seed steps, one per domain, then the demo's own (the dispatch policy)."""
    from devtools.devcity import SEED_STEPS

    return [*SEED_STEPS, seed_auto_dispatch]


def main() -> int:
    """Bring the city up; ``--once`` verifies it and exits."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--once", action="store_true", help="verify every part, then exit")
    ap.add_argument("--cameras", type=int, default=24000, help="registered cameras (default 24000)")
    ap.add_argument("--agents", type=int, default=2, help="real edge agents (default 2)")
    ap.add_argument("--units", type=int, default=42, help="simulated patrol units (3 a centre)")
    ap.add_argument(
        "--geography",
        choices=("yiwu", "small"),
        default="yiwu",
        help="yiwu: 14 monitoring centres, 28 station areas, 112 patrol zones (default); "
        "small: the tests' 2-centre city",
    )
    ap.add_argument("--no-enrol", action="store_true", help="skip the provisioning walkthrough")
    args = ap.parse_args()

    from devtools.devcity import (
        CENTRE_OPERATOR,
        DEMO_CITY_WIDE,
        DEMO_PASSWORD,
        DEMO_USERS,
        PHONE_UNIT,
        PHONE_USER,
        second_factor_users,
        start_city,
    )
    from devtools.totp_codes import seeded_secret

    t0 = time.monotonic()
    if not args.no_enrol:
        with tempfile.TemporaryDirectory(prefix="citywatch-enrol-") as tmp:
            _guarded("provisioning", lambda: enrol_demo_boards(Path(tmp)))
    ok = True
    with tempfile.TemporaryDirectory(prefix="citywatch-city-") as tmp:
        work = Path(tmp)
        print(
            f"[city] starting: broker, coordinator, {args.cameras:,} cameras, {args.units} units, "
            "population, market ..."
        )
        city = start_city(
            work / "city",
            cameras=args.cameras,
            units=args.units,
            population=3000,
            market=1500,
            sim_speedup=5.0,
            fast_hash=False,
            steps=demo_seed_steps(),
            geography=args.geography,
            secure_broker=True,
        )
        b = city.broker.ports
        print(
            f"[broker] production config from `provision broker-config`: boards' mTLS door "
            f"127.0.0.1:{b[0]} (client certificate, CRL, per-board ACL), the centre's TLS + "
            f"password door 127.0.0.1:{b[1]}, packet/queue bounds; plus a dev-only simulator "
            f"door 127.0.0.1:{b[2]} (password, loopback) for the simulated boards and units"
        )
        stop = threading.Event()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            procs = (
                _guarded("edge agents", lambda: start_agents(city, args.agents, work / "agents"))
                or []
            )
            start_loadgen(city, stop, cameras=min(400, args.cameras), rate=4.0)
            up = time.monotonic() - t0
            print(f"\nCityWatch is up in {up:.0f} s. Dashboard: {city.url}/ui/")
            print(
                "Logins (password '"
                + DEMO_PASSWORD
                + "'): "
                + ", ".join(f"{u} ({'/'.join(r)})" for u, (r, _z, _m) in DEMO_USERS.items())
            )
            print(
                f"Patrol unit phone page: {city.url}/ui/unit.html (login {PHONE_USER!r}, "
                f"unit {PHONE_UNIT}, starts off duty; a phone needs the https:// address)"
            )
            centres = city.services.geo.centre_ids()
            print(
                f"{len(centres)} monitoring centres, each with its own operator: "
                f"{CENTRE_OPERATOR.format(centre=centres[0].lower())} … "
                f"{CENTRE_OPERATOR.format(centre=centres[-1].lower())} (operator/dispatcher of "
                f"that centre only); {', '.join(DEMO_CITY_WIDE)} see every centre"
            )
            print(
                "Second factor (accounts that read personal data): the demo's seeded "
                "authenticator keys are "
                + ", ".join(f"{u} {seeded_secret(u)}" for u in second_factor_users())
                + "; print a current code with `python -m devtools.totp_codes officer`"
            )
            if city.market:
                print(
                    f"Merchant check: try the phone {city.market['vest_phone']!r} (a vest of "
                    f"{city.market['warned']!r}, which has a published warning)"
                )
            if args.once:
                ok = verify(city, procs)
            else:
                print("Press Ctrl-C to stop.")
                done = threading.Event()
                signal.signal(signal.SIGINT, lambda *_: done.set())
                signal.signal(signal.SIGTERM, lambda *_: done.set())
                done.wait()
        finally:
            stop.set()
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
            city.stop()
    print("stopped cleanly")
    return 0 if ok else 1


def _vest_check(city: Any) -> bool:
    """The merchants' check on the vest's phone finds the warning published on its alias."""
    from coordinator.identity.auth import Principal, Role

    if not city.market:
        return False
    merchant = Principal(0, "demo-check", frozenset({Role.MERCHANT}))
    res = city.services.fraud.assessment.check(merchant, city.market["vest_phone"])
    return any(m["warnings"] for m in res["matches"])


def verify(city: Any, procs: list[subprocess.Popen[bytes]], timeout: float = 90.0) -> bool:
    """--once: wait until each part has shown it works; print a pass/fail table."""
    db = city.services.db
    checks = {
        "cameras registered": lambda: (
            db.query("select count(*) n from devices")[0]["n"] >= len(city.cameras)
        ),
        "every camera has its monitoring centre": lambda: (
            db.query("select count(*) n from devices where centre_id is null")[0]["n"] == 0
        ),
        "incidents from simulated boards": lambda: (
            db.query("select count(*) n from incidents")[0]["n"] > 0
        ),
        "a unit auto-dispatched": lambda: (
            db.query("select count(*) n from dispatch_orders")[0]["n"] > 0
        ),
        "population loaded": lambda: db.query("select count(*) n from pop_persons")[0]["n"] > 0,
        "warning published": lambda: bool(city.market),
        "merchant check on the vest shows the warning": lambda: _vest_check(city),
        "cameras of other owners under agreements, the owner login bound": lambda: (
            db.query("select count(*) n from devices where owner_type = 'government'")[0]["n"]
            < 0.2 * len(city.cameras)
            and db.query("select count(*) n from sharing_agreements")[0]["n"] > 0
            and city.services.owners.org_of("owner") is not None
        ),
    }
    if FOOTAGE_CHECK:
        checks["incident from real footage, fresh board's default rules"] = lambda: FOOTAGE_CHECK[
            "ok"
        ]
    if procs:
        checks["real edge agent events ingested"] = lambda: (
            db.query("select count(*) n from events where dev like 'cam-edge-%'")[0]["n"] > 0
        )
    deadline = time.monotonic() + timeout
    state = {k: False for k in checks}
    while time.monotonic() < deadline and not all(state.values()):
        for k, fn in checks.items():
            if not state[k]:
                try:
                    state[k] = bool(fn())
                except Exception:  # noqa: BLE001 - a table not there yet is a "not yet"
                    state[k] = False
        time.sleep(0.5)
    for k, v in state.items():
        print(f"  {'PASS' if v else 'FAIL'}  {k}")
    return all(state.values())


if __name__ == "__main__":
    raise SystemExit(main())
