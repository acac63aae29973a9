"""Durability against real processes: kill -9 the coordinator mid-stream, restart the broker.

Counts what the issue's fault figures count: events lost (published and PUBACKed by the
broker but never stored) and events stored twice. Both must be zero.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from devtools.loadgen import EventStream, Publisher, make_fleet, run, write_fleet_csv
from tests.harness.brokers import start_plain
from tests.harness.core import core_settings, running_core
from tests.harness.mqtt import wait_for

N_CAMS = 20
CAM_EVENTS = "select count(*) from events where dev like 'cam-%'"


def _settings_file(tmp: Path, port: int) -> Path:
    f = tmp / "coordinator.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp / "data"),
                "dev_mode": True,
                "secret_key": "k" * 40,
                "data_key": "d" * 40,
                "mqtt_port": port,
                "mqtt_client_id": "coord-durable",
                "api_port": 0,
                "allow_plain_http": True,  # a loopback API in dev mode
                "argon2_memory_kib": 4096,
                "argon2_time_cost": 1,
            }
        )
    )
    return f


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        conn.close()


class Coordinator:
    """A real `coordinator run` subprocess."""

    def __init__(self, settings: Path, log: Path) -> None:
        self.settings, self.log = settings, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "coordinator.cli", "run", "--settings", str(self.settings)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def fleet_csv(tmp_path):
    f = tmp_path / "fleet.csv"
    write_fleet_csv(make_fleet(N_CAMS) + make_fleet(1, prefix="probe"), f)
    return f


def _load_fleet(settings: Path, fleet_csv: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "coordinator.cli",
            "load-fleet",
            str(fleet_csv),
            "--settings",
            str(settings),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert f"loaded {N_CAMS + 1} devices" in r.stdout


def test_kill9_coordinator_mid_stream_loses_and_duplicates_nothing(tmp_path, fleet_csv):
    broker = start_plain(tmp_path / "broker", persistence=True)
    settings = _settings_file(tmp_path, broker.ports[0])
    db = tmp_path / "data" / "citywatch.db"
    coord = Coordinator(settings, tmp_path / "coordinator.log")
    pub = None
    try:
        _load_fleet(settings, fleet_csv)
        coord.start()
        pub = Publisher("127.0.0.1", broker.ports[0], 2, name="durable-gen")
        stream = iter(EventStream([d["id"] for d in make_fleet(N_CAMS)], seed=7))
        # The session exists once the coordinator has subscribed (its Python start takes a
        # few seconds): probe from a separate camera until one probe is stored.
        probes = iter(EventStream(["probe-00000"], seed=1))
        for _ in range(120):
            run(pub, probes, count=1, rate=None)
            try:
                wait_for(lambda: _count(db, "select count(*) from events") > 0, 0.5, "probe")
                break
            except AssertionError:
                continue
        total = 4000
        gen = threading.Thread(
            target=run, args=(pub, stream), kwargs={"count": total, "rate": 1000}
        )
        gen.start()
        wait_for(
            lambda: _count(db, "select count(*) from events where dev like 'cam-%'") > 800,
            30,
            "mid-stream",
        )
        coord.kill9()
        killed_at = _count(db, CAM_EVENTS)
        coord.start()
        gen.join(60)
        assert pub.wait_acked(60), "broker did not PUBACK every event"
        expected = total
        wait_for(lambda: _count(db, CAM_EVENTS) >= expected, 60, "all stored")
        stored = _count(db, CAM_EVENTS)
        assert killed_at < expected, "the kill happened after the stream ended"
        assert stored == expected, f"lost {expected - stored}"
        # none twice
        assert _count(db, "select count(distinct id) from events where dev like 'cam-%'") == stored
        # Incident counters were not inflated by redelivered copies.
        assert _count(db, "select coalesce(sum(event_count), 0) from incidents") == _count(
            db, "select count(*) from events where incident_id is not null"
        )
        assert _count(db, "select coalesce(sum(last_seq - first_seq + 1), 0) from seq_gaps") == 0
    finally:
        if pub:
            pub.close()
        coord.stop()
        broker.stop()


def test_broker_restart_with_persistence_loses_nothing(tmp_path):
    broker = start_plain(tmp_path / "broker", persistence=True)
    fleet = make_fleet(N_CAMS)
    pub = None
    try:
        with running_core(
            core_settings(tmp_path / "c", broker.ports[0], mqtt_client_id="coord-b")
        ) as svc:
            for d in fleet:
                svc.fleet.register(d)
            pub = Publisher("127.0.0.1", broker.ports[0], 2, name="restart-gen")
            stream = iter(EventStream([d["id"] for d in fleet], seed=3))
            total = 3000
            gen = threading.Thread(
                target=run, args=(pub, stream), kwargs={"count": total, "rate": 1000}
            )
            gen.start()
            wait_for(lambda: svc.ingest.stats.stored > 500, 30, "mid-stream")
            broker.stop()  # SIGTERM: Mosquitto writes its persistence file
            broker.start()
            gen.join(60)
            assert pub.wait_acked(60), "events not PUBACKed after the broker came back"
            wait_for(lambda: svc.ingest.stats.stored >= total, 60, "all stored")
            assert svc.mqtt.connects >= 2  # it really reconnected
            rows = svc.db.query("select count(*) as n, count(distinct id) as d from events")[0]
            assert rows["n"] == total and rows["d"] == total
    finally:
        if pub:
            pub.close()
        broker.stop()
