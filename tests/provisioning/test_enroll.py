"""Enrolment end to end: token → key on the board → signed cert → registration → bundle →
self-test step → first authenticated publish confirmed by the centre. Real Mosquitto started
from the generated config, real coordinator API over HTTP."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography import x509

from protocol import Channel, decode
from provisioning.api import Coordinator
from tests.harness.enrolment import FIRMWARE, enroll_board
from tests.harness.field import FieldEnv


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_enroll_makes_a_trusted_reporting_board(field_env: FieldEnv, tech: Coordinator, tmp_path):
    bundle = tmp_path / "board"
    # The real edge-agent self-test runs on the bundle (a synthetic scene stands in for
    # the Pi camera this machine lacks): frame, model, inference and broker must pass.
    res = enroll_board(field_env, tech, bundle, "cam-e2e-1", selftest=True, source_kind="synthetic")
    steps = {s["step"]: s for s in res["steps"]}
    assert res["ok"], res["steps"]
    assert steps["first publish"]["status"] == "ok" and steps["centre confirms"]["status"] == "ok"
    assert steps["self-test"]["status"] == "ok", steps["self-test"]
    assert (
        "broker ok" in steps["self-test"]["detail"] or "FAILED" not in steps["self-test"]["detail"]
    )
    # Tight permissions: folder 0700, every file 0600.
    assert _mode(bundle) == 0o700
    for name in ("device.key", "device.crt", "ca-bundle.pem", "agent.yaml", "enrolment.json"):
        assert _mode(bundle / name) == 0o600, name
    agent = yaml.safe_load((bundle / "agent.yaml").read_text())
    assert agent["device_id"] == "cam-e2e-1" and agent["profile"] == "raspberry-pi-5"
    assert agent["broker"]["port"] == field_env.device_port
    assert agent["broker"]["tls"] == {
        "ca": "ca-bundle.pem",
        "cert": "device.crt",
        "key": "device.key",
    }
    profile = yaml.safe_load((FIRMWARE / "raspberry-pi-5.yaml").read_text())
    assert agent["detector"] == profile["detector"]  # the profile's own settings are kept
    assert agent["source"]["kind"] == "synthetic"
    cert = x509.load_pem_x509_certificates((bundle / "device.crt").read_bytes())[0]
    assert cert.subject.rfc4514_string() == "CN=cam-e2e-1"
    status = field_env.enrolment.status("cam-e2e-1")
    assert status["status"] == "enrolled" and status["first_seen"]
    assert status["fingerprint"] == res["fingerprint"]
    assert (status["profile"], status["zone"], status["heading"]) == (
        "raspberry-pi-5",
        "Z12",
        135.0,
    )
    record = field_env.enrolment.fleet_record("cam-e2e-1")
    assert set(record) == {
        "id", "owner_org", "owner_type", "lat", "lon", "heading", "zone", "profile",
        "cert_fingerprint", "cert_not_after",
    }  # fmt: skip
    # The enrolment is audited under the technician who obtained the token.
    audit = field_env.services.audit.search(subject_id="cam-e2e-1", action="enrol")
    assert audit and audit[0]["actor"] == "tech-li"
    # Enrolment seeded the camera's rules with its profile's defaults (revision 1).
    rules = field_env.services.camrules.revisions("cam-e2e-1")
    assert [r["rev"] for r in rules] == [1] and "raspberry-pi-5" in rules[0]["reason"]
    # The board's retained state reached the broker with its identity.
    board = field_env.connect_board(bundle)
    try:
        board.subscribe(field_env.topics.device("cam-e2e-1", Channel.CONFIG))
        late = field_env.connect_service("centre-2")
        try:
            late.subscribe(field_env.topics.device("cam-e2e-1", Channel.STATE))
            st = decode(Channel.STATE, late.get().payload)
            assert st.profile == "raspberry-pi-5"
        finally:
            late.close()
    finally:
        board.close()


def test_enroll_cli_subprocess_prints_steps_and_json(
    field_env: FieldEnv, tech: Coordinator, tmp_path
):
    token = tech.enrolment_token("cam-cli-1")["token"]
    bundle = tmp_path / "b"
    cmd = [
        sys.executable, "-m", "provisioning.cli", "enroll", "--coordinator", field_env.url,
        "--token", token, "--profile", "rtsp-gateway", "--location", "29.31,120.08",
        "--heading", "270", "--zone", "Z03", "--owner", "Futian Market Co.",
        "--owner-type", "company", "--bundle-dir", str(bundle), "--firmware-dir", str(FIRMWARE),
        "--confirm-timeout", "10", "--no-selftest", "--json",
    ]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ})
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["device_id"] == "cam-cli-1" and out["ok"]
    steps = {s["step"]: s for s in out["steps"]}
    assert steps["self-test"]["detail"] == "skipped on request (--no-selftest)"
    assert [s["step"] for s in out["steps"]] == [
        "check token", "generate key", "sign certificate", "register", "write bundle",
        "install model", "self-test", "first publish", "centre confirms",
    ]  # fmt: skip
    # The same token a second time: refused, with what to do next, exit 1, nothing written.
    again = subprocess.run(
        [*cmd[:-1], "--bundle-dir", str(tmp_path / "b2")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 1
    assert "already used" in again.stdout and "next:" in again.stdout
    assert not (tmp_path / "b2").exists()


def test_bad_inputs_fail_before_the_token_is_used(field_env: FieldEnv, tech: Coordinator, tmp_path):
    tok = tech.enrolment_token("cam-bad-1")
    # Unknown profile: refused locally; the token stays usable.
    res = enroll_board(field_env, tech, tmp_path / "x", profile="no-such-board")
    assert not res["ok"] and res["steps"][0]["step"] == "check inputs"
    assert "no firmware config" in res["steps"][0]["detail"]
    assert field_env.enrolment.begin(tok["token"])["device_id"] == "cam-bad-1"
    # Bad location / heading are refused by the CLI with exit 2.
    for bad in (["--location", "91,10"], ["--location", "abc"], ["--heading", "400"]):
        args = {"--location": "29.3,120.0", "--heading": "10"}
        args[bad[0]] = bad[1]
        r = subprocess.run(
            [sys.executable, "-m", "provisioning.cli", "enroll", "--coordinator", field_env.url,
             "--token", tok["token"], "--profile", "raspberry-pi-5", "--zone", "Z1", "--owner", "x",
             *[x for kv in args.items() for x in kv]],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert r.returncode == 2, (bad, r.stderr)
        assert "provision:" in r.stderr


def test_unreachable_coordinator_says_what_to_do(tmp_path):
    from provisioning.enroll import EnrollOptions, enroll
    from provisioning.mosquitto import free_port

    res = enroll(
        EnrollOptions(
            coordinator=f"http://127.0.0.1:{free_port()}",
            token="cwe_x",
            profile="raspberry-pi-5",
            lat=1,
            lon=1,
            heading=1,
            zone="Z1",
            owner="o",
            bundle_dir=tmp_path / "b",
            firmware_dir=FIRMWARE,
        ),
        quiet=True,
    )
    step = res["steps"][-1]
    assert step["status"] == "failed" and "cannot reach the coordinator" in step["detail"]
    assert "--coordinator" in step["next"]


class _RefusingRegistry:
    """A registry that refuses every registration (as a validation error would)."""

    def register(self, record: dict) -> dict:
        raise ValueError("owner_org: too long")

    def get(self, device_id: str) -> None:
        return None


def test_registration_reaches_the_real_fleet_registry(
    field_env: FieldEnv, tech: Coordinator, tmp_path
):
    res = enroll_board(field_env, tech, tmp_path / "f", "cam-fleet-1")
    assert res["ok"]
    row = field_env.services.fleet.get("cam-fleet-1")
    assert row["cert_fingerprint"] == res["fingerprint"]
    assert row["cert_not_after"].startswith(res["not_after"][:19])
    assert (row["owner_type"], row["zone"], row["profile"]) == (
        "government",
        "Z12",
        "raspberry-pi-5",
    )
    # The fleet saw the board's first state through the coordinator's own ingest.
    assert row["status"] == "online" and not row["cert_expiring"]


def test_refused_registration_is_reported_with_next_step(
    field_env: FieldEnv, tech: Coordinator, tmp_path
):
    enrolment = field_env.services.enrolment
    assert enrolment is not None
    real = enrolment.fleet
    enrolment.fleet = _RefusingRegistry
    try:
        res = enroll_board(field_env, tech, tmp_path / "f", "cam-fleet-2", confirm_timeout=1.0)
    finally:
        enrolment.fleet = real
    step = next(s for s in res["steps"] if s["step"] == "register")
    assert not res["ok"] and step["status"] == "failed" and "owner_org" in step["detail"]
    assert "provision status cam-fleet-2" in step["next"]
    assert field_env.enrolment.status("cam-fleet-2")["fleet_error"]


def test_failing_self_test_is_reported_failed_with_next_step(
    field_env: FieldEnv, tech: Coordinator, tmp_path
):
    # An RTSP gateway whose camera URL leads nowhere: the real agent's frame check fails.
    res = enroll_board(
        field_env, tech, tmp_path / "g", "cam-nocam", profile="rtsp-gateway", selftest=True,
        source_kind="opencv", source_uri=str(tmp_path / "no-such-stream.mp4"),
    )  # fmt: skip
    step = next(s for s in res["steps"] if s["step"] == "self-test")
    assert not res["ok"] and step["status"] == "failed", step
    assert "frame FAILED" in step["detail"] and "edge-agent selftest --config" in step["next"]
    # The board is still enrolled and reporting: only the camera needs fixing.
    assert field_env.enrolment.status("cam-nocam")["status"] == "enrolled"
