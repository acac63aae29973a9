"""The one scheduler as its own process: ``coordinator jobs`` runs only the periodic jobs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from coordinator.bootstrap import open_services
from coordinator.settings import load_settings
from tests.harness.mqtt import wait_for


def _stale_alerts(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "select device_id from device_alerts where kind = 'stale' and closed_at is null"
        ).fetchall()
        return [r[0] for r in rows]
    finally:
        conn.close()


def test_jobs_command_runs_the_periodic_jobs_in_its_own_process(tmp_path: Path):
    settings_file = tmp_path / "coordinator.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "coord"),
                "dev_mode": True,
                "secret_key": "s" * 40,
                "data_key": "d" * 40,
                "health_stale_s": 2.0,  # the staleness check runs every 0.5 s
                "mqtt_port": 1,  # never contacted: the jobs process has no MQTT link
            }
        )
    )
    settings = load_settings(settings_file, environ={})
    services = open_services(settings)
    try:
        services.fleet.register(
            {"id": "cam-1", "owner_org": "o", "owner_type": "government", "lat": 1, "lon": 1}
        )
        old = time.time() - 3600  # online, but silent for an hour
        services.db.execute_write(
            "update devices set status = 'online', status_at = ?, last_health_at = ?", [old, old]
        )
    finally:
        services.close()
    assert _stale_alerts(settings.db_path) == []
    log = tmp_path / "jobs.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "coordinator.cli", "jobs", "--settings", str(settings_file)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ran fleet-stale" in log.read_text(), 30, "the staleness job ran")
        wait_for(lambda: _stale_alerts(settings.db_path) == ["cam-1"], 10, "stale alert")
        assert "ran fraud-overdue" in log.read_text()  # the sweep that runs at start
    finally:
        proc.terminate()
        code = proc.wait(30)
    assert code == 0, log.read_text()


def test_jobs_once_runs_every_job_and_exits(tmp_path: Path):
    env = {
        "CITYWATCH_DEV_MODE": "true",
        "CITYWATCH_DATA_DIR": str(tmp_path / "coord"),
        "CITYWATCH_SECRET_KEY": "s" * 40,
        "CITYWATCH_DATA_KEY": "d" * 40,
        "PATH": "/usr/bin:/bin",
    }
    r = subprocess.run(
        [sys.executable, "-m", "coordinator.cli", "jobs", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    ran = {line.removeprefix("ran ") for line in r.stdout.splitlines()}
    assert {"fleet-stale", "purge-raw-events", "fraud-overdue", "population-retention"} <= ran
