"""``provision ca init`` / ``broker-config`` files, and the CSR parser facing the network."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.enrolment import ca as cca
from coordinator.enrolment.broker import connect_packet
from provisioning import pki
from provisioning.enroll import parse_location


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ca_init_keeps_root_key_apart_and_refuses_to_overwrite(tmp_path):
    ca, offline = tmp_path / "pki", tmp_path / "usb" / "root.key"
    r = _run("ca", "init", "--ca-dir", str(ca), "--root-key-out", str(offline), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["root_key"] == str(offline)
    assert offline.exists() and not (ca / "root.key").exists()
    assert stat.S_IMODE(ca.stat().st_mode) == 0o700
    assert stat.S_IMODE((ca / "issuing.key").stat().st_mode) == 0o600
    root = x509.load_pem_x509_certificate((ca / "root.crt").read_bytes())
    issuing = x509.load_pem_x509_certificate((ca / "issuing.crt").read_bytes())
    issuing.verify_directly_issued_by(root)
    again = _run("ca", "init", "--ca-dir", str(ca))
    assert again.returncode == 1 and "already holds a CA" in again.stderr


def test_broker_config_cli_writes_both_listeners(tmp_path):
    ca = tmp_path / "pki"
    assert _run("ca", "init", "--ca-dir", str(ca)).returncode == 0
    r = _run(
        "broker-config", "--ca-dir", str(ca), "--out", str(tmp_path / "b"),
        "--host", "broker.city.example", "--account", "coordinator:centre",
        "--account", "car-12:unit", "--coordinator-dir", str(tmp_path / "coord"), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    acl = (tmp_path / "b" / "acl-services").read_text()
    assert "user car-12\ntopic write cw/v1/unit/car-12/position" in acl
    assert "pattern" not in acl.split("\n", 1)[1]
    enrol = (tmp_path / "coord" / "enrolment.yaml").read_text()
    assert "broker_host: broker.city.example" in enrol and "broker_port: 8883" in enrol
    bad = _run(
        "broker-config", "--ca-dir", str(ca), "--out", str(tmp_path / "c"), "--account", "x+y:unit"
    )
    assert bad.returncode == 1 and "invalid" in bad.stderr
    missing = _run(
        "broker-config", "--ca-dir", str(tmp_path / "none"), "--out", str(tmp_path / "d")
    )
    assert missing.returncode == 1 and "provision ca init" in missing.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_csr_parser_refuses_garbage_with_one_error_type(text):
    with pytest.raises(cca.CsrError):
        cca.parse_csr(text, "cam-1")


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True))
def test_csr_parser_accepts_exactly_the_assigned_id(dev):
    csr = pki.make_csr(pki.new_key(), dev).public_bytes(serialization.Encoding.PEM).decode()
    assert cca.parse_csr(csr, dev).subject.rfc4514_string().endswith(dev)
    with pytest.raises(cca.CsrError, match="differs"):
        cca.parse_csr(csr, dev + "x")


@given(st.text(max_size=40))
def test_location_parser_only_raises_value_error(text):
    try:
        lat, lon = parse_location(text)
    except ValueError:
        return
    assert -90 <= lat <= 90 and -180 <= lon <= 180


@given(st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=300))
def test_connect_packet_remaining_length_is_exact(cid):
    pkt = connect_packet(cid)
    n, mult, i = 0, 1, 1
    while True:
        b = pkt[i]
        n += (b & 0x7F) * mult
        i += 1
        if not b & 0x80:
            break
        mult *= 128
    assert pkt[0] == 0x10 and len(pkt) - i == n


@pytest.mark.parametrize(("code", "status"), [(0, "ok"), (1, "failed")])
def test_selftest_result_is_reported_as_the_agent_said(tmp_path, monkeypatch, code, status):
    """Stand-in for an agent with `selftest` (the real one lands with the edge agent):
    a failing self-test is reported as failed, never as passed."""
    from provisioning.enroll import run_selftest

    exe = tmp_path / "edge-agent"
    ok = "true" if code == 0 else "false"
    out = f'{{"ok": {ok}, "checks": [{{"name": "camera", "ok": {ok}, "detail": "no frame"}}]}}'
    exe.write_text(f'#!/bin/sh\n[ "$2" = "--help" ] && exit 0\necho \'{out}\'\nexit {code}\n')
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    got, detail = run_selftest(tmp_path / "agent.yaml")
    assert got == status and ("camera ok" if code == 0 else "camera FAILED (no frame)") in detail
