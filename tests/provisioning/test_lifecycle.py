"""Revocation (live session dropped), rotation, status, batch — against the real field."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from protocol.messages import State
from provisioning.api import ApiError, Coordinator
from provisioning.lifecycle import rotate, status_lines
from tests.harness.enrolment import FIRMWARE, enroll_board
from tests.harness.field import ADMIN_PASSWORD, TECH_PASSWORD, FieldEnv
from tests.harness.mqtt import TlsFiles, connect, wait_for


def _refused(env: FieldEnv, bundle: Path) -> bool:
    tls = TlsFiles(bundle / "ca-bundle.pem", bundle / "device.crt", bundle / "device.key")
    c = connect(env.device_port, "x", tls=tls, expect_success=False)
    ok = not c.connected.is_set()
    c.close()
    return ok


def _cli(env: FieldEnv, tmp: Path, *args: str, user: str = "tech-li", pw: str = TECH_PASSWORD):
    pwf = tmp / "pw"
    pwf.write_text(pw)
    return subprocess.run(
        [sys.executable, "-m", "provisioning.cli", *args, "--coordinator", env.url,
         "--user", user, "--password-file", str(pwf), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_revoke_drops_the_live_session_and_refuses_reconnects(
    field_env: FieldEnv, tech: Coordinator, tmp_path
):
    bundle = tmp_path / "stolen"
    assert enroll_board(field_env, tech, bundle, "cam-stolen")["ok"]
    # The stolen board is online and (like a real agent) reconnects on its own.
    stolen = field_env.connect_board(bundle)
    try:
        t0 = time.monotonic()
        res = _cli(field_env, tmp_path, "revoke", "cam-stolen", "--reason", "stolen from pole")
        assert res.returncode == 0, res.stdout + res.stderr
        out = json.loads(res.stdout)
        wait_for(stolen.disconnected.is_set, 60, "revoked board disconnected")
        dropped_s = time.monotonic() - t0
        assert out["session_dropped"] is True and out["disconnected_ms"] < 60_000
        assert dropped_s < 60
        # Its reconnects now fail the TLS handshake: it never comes back.
        assert _refused(field_env, bundle)
        assert not stolen.connected.is_set()
    finally:
        stolen.close()
    st = field_env.enrolment.status("cam-stolen")
    assert st["status"] == "revoked" and st["revoked_by"] == "tech-li"
    assert field_env.services.audit.search(subject_id="cam-stolen", action="revoke")
    lines = status_lines(st)
    assert "REVOKED" in lines[0]
    # The board was online before it was stolen: the centre saw it, and says when.
    seen = [line for line in lines if line.startswith("first seen")]
    assert seen and "never" not in seen[0] and seen[0].endswith("Z")
    # The fleet view says "revoked" (not merely offline), and the board's Last Will
    # arriving late does not turn it back into an offline camera with an alert.
    fleet = field_env.services.fleet
    assert fleet.get("cam-stolen")["health_status"] == "revoked"
    lwt = State(status="offline")
    alerts = field_env.services.db.write(
        lambda db: fleet.apply_state(db, "cam-stolen", lwt, time.time())
    )
    assert alerts == [] and fleet.get("cam-stolen")["health_status"] == "revoked"
    assert fleet.summary()["total"]["revoked"] >= 1
    # A revoked id can be enrolled again only with a new token (a new key and cert).
    again = enroll_board(field_env, tech, tmp_path / "again", "cam-stolen")
    assert again["ok"] and again["fingerprint"] != st["fingerprint"]
    assert fleet.get("cam-stolen")["health_status"] != "revoked"


def test_operator_cannot_revoke(field_env: FieldEnv, tmp_path):
    res = _cli(field_env, tmp_path, "revoke", "cam-legit", user="op-chen", pw=ADMIN_PASSWORD)
    assert res.returncode == 1 and "lack permission" in res.stderr


def test_rotate_gives_a_new_key_and_retires_the_old_certificate(
    field_env: FieldEnv, tech: Coordinator, tmp_path
):
    bundle = tmp_path / "rot"
    first = enroll_board(field_env, tech, bundle, "cam-rot")
    assert first["ok"]
    old = tmp_path / "old"
    shutil.copytree(bundle, old)
    old_key = (bundle / "device.key").read_bytes()
    with Coordinator(field_env.url) as board_api:  # the board needs no login: its key is proof
        out = rotate(bundle, board_api)
    assert (bundle / "device.key").read_bytes() != old_key
    assert out["fingerprint"] != first["fingerprint"]
    st = field_env.enrolment.status("cam-rot")
    assert st["fingerprint"] == out["fingerprint"] and st["rotated_at"]
    assert (st["zone"], st["enrolled_by"]) == ("Z12", "tech-li")  # registration untouched
    # The fleet view shows the new certificate's fingerprint and expiry.
    fleet_row = field_env.services.fleet.get("cam-rot")
    assert fleet_row["cert_fingerprint"] == out["fingerprint"] and fleet_row["zone"] == "Z12"
    board = field_env.connect_board(bundle)
    board.close()
    wait_for(lambda: _refused(field_env, old), 15, "superseded certificate refused")
    # Replaying the rotation with the retired key is refused.
    with Coordinator(field_env.url) as board_api, pytest.raises(ApiError) as exc:
        rotate(old, board_api)
    assert exc.value.status == 401


def test_rotate_with_a_forged_proof_is_refused(field_env: FieldEnv, tech: Coordinator, tmp_path):
    from provisioning import pki

    bundle = tmp_path / "rot2"
    assert enroll_board(field_env, tech, bundle, "cam-rot2")["ok"]
    # Someone holding only the (public) certificate signs with a key of their own.
    (bundle / "device.key").write_bytes(pki.key_pem(pki.new_key()))
    with Coordinator(field_env.url) as api, pytest.raises(ApiError) as exc:
        rotate(bundle, api)
    assert exc.value.status == 401 and "proof" in str(exc.value)
    body = {"certificate": "junk", "csr": "junk", "proof": base64.b64encode(b"x").decode()}
    with Coordinator(field_env.url) as api, pytest.raises(ApiError) as exc:
        api.request("POST", "/api/enrolment/devices/cam-rot2/rotate", body)
    assert exc.value.status == 422


def test_status_command_shows_expiry_and_sighting(field_env: FieldEnv, tech: Coordinator, tmp_path):
    assert enroll_board(field_env, tech, tmp_path / "s", "cam-status")["ok"]
    res = _cli(field_env, tmp_path, "status", "cam-status")
    assert res.returncode == 0, res.stderr
    s = json.loads(res.stdout)
    assert 360 <= s["cert_days_left"] <= 366 and s["first_seen"] and s["status"] == "enrolled"
    missing = _cli(field_env, tmp_path, "status", "cam-nope")
    assert missing.returncode == 1 and "not enrolled" in missing.stderr


def test_batch_is_re_runnable_and_lists_failures(field_env: FieldEnv, tmp_path):
    csv = tmp_path / "sites.csv"
    csv.write_text(
        "device_id,profile,lat,lon,heading,zone,owner,owner_type\n"
        "cam-b-1,raspberry-pi-5,29.30,120.07,0,Z1,Yiwu PSB,government\n"
        "cam-b-2,rtsp-gateway,29.31,120.08,90,Z2,Futian Market,company\n"
        "cam-b-3,raspberry-pi-5,not-a-number,120.08,90,Z2,X,community\n"
        "cam+b,raspberry-pi-5,29.3,120.0,0,Z1,X,community\n"
        "cam-b-5,no-such-profile,29.3,120.0,0,Z1,X,community\n"
    )
    args = ["batch", str(csv), "--results", str(tmp_path / "res"), "--firmware-dir", str(FIRMWARE)]
    first = _cli(field_env, tmp_path, *args)
    assert first.returncode == 1, first.stderr
    out = json.loads(first.stdout)
    assert (out["ok"], out["failed"], out["skipped"]) == (2, 3, 0)
    assert sorted(f["line"] for f in out["failures"]) == [4, 5, 6]
    assert json.loads((tmp_path / "res" / "cam-b-1.json").read_text())["outcome"] == "ok"
    assert json.loads((tmp_path / "res" / "cam-b-5.json").read_text())["outcome"] == "failed"
    again = json.loads(_cli(field_env, tmp_path, *args).stdout)
    assert (again["ok"], again["skipped"], again["failed"]) == (0, 2, 3)
    assert field_env.enrolment.status("cam-b-2")["owner_type"] == "company"


def test_broker_listener_settings_are_the_hardened_ones(field_env: FieldEnv):
    conf = (field_env.broker_dir / "mosquitto.conf").read_text()
    device, services = conf.split("\nlistener ")[1:3]
    for line in (
        "require_certificate true",
        "use_identity_as_username true",
        "use_username_as_clientid true",
        "allow_anonymous false",
        "crlfile ",
    ):
        assert line in device
    assert "require_certificate false" in services and "password_file" in services
    assert "use_username_as_clientid true" in services
    acl = (field_env.broker_dir / "acl-devices").read_text()
    assert "pattern write cw/v1/dev/%u/event" in acl and "topic" not in acl.split("\n", 1)[1]
    assert (field_env.broker_dir / "passwd").stat().st_mode & 0o077 == 0


def test_crl_is_refreshed_before_it_expires(field_env: FieldEnv):
    from cryptography import x509

    svc = field_env.enrolment
    lifecycle = field_env.services.lifecycle
    assert lifecycle is not None
    assert lifecycle.refresh_crl_if_due() is False  # fresh: 30 days left
    real = svc.clock
    svc.clock = lambda: real() + 25 * 86400  # 25 days later: within the 7-day margin
    try:
        assert lifecycle.refresh_crl_if_due() is True
    finally:
        svc.clock = real
    crl = x509.load_pem_x509_crl(svc.config.crl_file.read_bytes())
    assert crl.next_update_utc.timestamp() > real() + 29 * 86400
