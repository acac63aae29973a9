"""``make demo``: the whole city on this machine, on ports of its own.

1. Provisioning: a CA, a generated mTLS broker config, and demo boards enrolled through the
   real flow (one-time token, key on the board, CSR, registration, self-test, the centre's
   confirmation), one of them then revoked; an enrolled board runs the real edge agent.
2. The city: Mosquitto, the coordinator (API + dashboard, MQTT ingest, incidents, fleet,
   dispatch, population, fraud), 24,000 registered cameras, patrol units driven by the unit
   simulator, a generated population and market with a published warning on a fraudster.
3. Real edge agents running the pose detector on synthetic scenes of real photographs, and
   simulated boards from the load generator: incidents form, auto-dispatch sends units.

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


def start_agents(city: Any, n: int, workdir: Path) -> list[subprocess.Popen[bytes]]:
    """Real edge agents (real detector on synthetic scenes of real photographs)."""
    from devtools.devcity import start_edge_agent

    procs = [start_edge_agent(city, f"cam-edge-{i + 1:02d}", workdir) for i in range(n)]
    print(
        f"[agents] {n} real edge agents: synthetic scene -> motion gate -> pose detector "
        f"(LiteRT) -> tracker -> rules -> spool -> MQTT; logs in {workdir}"
    )
    return procs


def start_loadgen(city: Any, stop: threading.Event, cameras: int, rate: float) -> threading.Thread:
    """Simulated boards: tracks of events from a subset of the registered cameras."""
    from devtools.loadgen import EventStream, Publisher

    devs = [c["id"] for c in city.cameras[:cameras]]
    pub = Publisher("127.0.0.1", city.mqtt_port, connections=1, name="demo-loadgen")
    stream = iter(EventStream(devs, seed=3, track_len=3))

    def loop() -> None:
        try:
            while not stop.wait(1.0 / rate):
                pub.publish(next(stream))
        finally:
            pub.close()

    t = threading.Thread(target=loop, name="demo-loadgen", daemon=True)
    t.start()
    print(f"[boards] {cameras} simulated boards publish ~{rate:.0f} events/s (QoS 1)")
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
    ap.add_argument("--units", type=int, default=24, help="simulated patrol units")
    ap.add_argument("--no-enrol", action="store_true", help="skip the provisioning walkthrough")
    args = ap.parse_args()

    from devtools.devcity import DEMO_PASSWORD, DEMO_USERS, PHONE_UNIT, PHONE_USER, start_city

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
        "incidents from simulated boards": lambda: (
            db.query("select count(*) n from incidents")[0]["n"] > 0
        ),
        "a unit auto-dispatched": lambda: (
            db.query("select count(*) n from dispatch_orders")[0]["n"] > 0
        ),
        "population loaded": lambda: db.query("select count(*) n from pop_persons")[0]["n"] > 0,
        "warning published": lambda: bool(city.market),
        "merchant check on the vest shows the warning": lambda: _vest_check(city),
    }
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
