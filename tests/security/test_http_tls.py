"""HTTPS for the API and the dashboard with the centre's own PKI: a real ``coordinator run``
serving the certificate ``provision ca server-cert`` issued, clients verifying it against
the centre's CA, and the refusals that keep passwords off plain HTTP."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.harness.https_centre import (
    PASSWORD,
    Centre,
    base_settings,
    cli,
    https_centre,
    issue_server_cert,
    secrets_env,
)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Centre]:
    """One HTTPS coordinator for the module."""
    with https_centre(tmp_path_factory.mktemp("tls"), {"op-tls": "operator"}) as (c, _env):
        yield c


def test_the_api_and_dashboard_answer_over_https_verified_against_the_centres_ca(centre):
    """Tried: log in and load the dashboard over HTTPS, trusting only the centre's CA.
    Expected: the certificate verifies for 127.0.0.1, the login works, HSTS is sent."""
    with centre.client() as http:
        r = http.post("/api/auth/login", json={"username": "op-tls", "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.headers["strict-transport-security"].startswith("max-age=")
        ui = http.get("/ui/")
        assert ui.status_code == 200 and "<title" in ui.text


def test_a_client_that_does_not_trust_the_centres_ca_refuses_the_connection(centre):
    """Tried: connect with the system's trust store only (not the centre's CA).
    Expected: certificate verification fails; nothing is sent in the clear."""
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(centre.url + "/api/health", verify=ssl.create_default_context(), timeout=10)


def test_the_certificate_names_only_the_hosts_it_was_issued_for(centre):
    """Tried: reach the server under a name the certificate does not carry (localhost).
    Expected: hostname verification fails."""
    ctx = centre.ssl_context()
    with (
        socket.create_connection(("127.0.0.1", centre.port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="match"),
    ):
        ctx.wrap_socket(raw, server_hostname="localhost")


def test_plain_http_to_the_tls_port_gets_no_answer_in_the_clear(centre):
    """Tried: a plain HTTP request (a password in it) to the HTTPS port.
    Expected: no HTTP answer comes back (the server speaks only TLS)."""
    with socket.create_connection(("127.0.0.1", centre.port), timeout=10) as s:
        s.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 44\r\n\r\n{"username":"op-tls","password":"' + b"x" * 9 + b'"}'
        )
        try:
            answer = s.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")
    assert b"access_token" not in answer


def test_server_cert_is_a_server_certificate_from_the_issuing_ca(tmp_path):
    """Tried: `provision ca server-cert` for a DNS name and an IP, then bad host names.
    Expected: a chain (leaf + issuing CA) with both names and serverAuth, key 0600 in a
    0700 folder; a URL or a name with a space is refused with a clear message."""
    from provisioning.ca import init_ca

    init_ca(tmp_path / "pki", root_key_out=tmp_path / "off" / "root.key")
    out = issue_server_cert(tmp_path / "pki", tmp_path / "tls", "centre.yiwu.example", "10.20.0.5")
    chain = x509.load_pem_x509_certificates((out / "server.crt").read_bytes())
    assert len(chain) == 2
    san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["centre.yiwu.example"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["10.20.0.5"]
    eku = chain[0].extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert chain[1].subject == chain[0].issuer
    assert (out / "server.key").stat().st_mode & 0o777 == 0o600
    assert out.stat().st_mode & 0o777 == 0o700
    for bad in ("https://centre.example", "centre example", "centre.example:8443"):
        r = cli("provisioning.cli", "ca", "server-cert", "--ca-dir", str(tmp_path / "pki"),
                "--out", str(tmp_path / "bad"), "--host", bad)  # fmt: skip
        assert r.returncode == 1 and "not a DNS name" in r.stderr


@pytest.mark.parametrize(
    "extra,args,message",
    [
        ({}, [], "no tls_cert/tls_key"),
        ({"allow_plain_http": True, "api_host": "0.0.0.0"}, [], "loopback api_host"),
        (
            {},
            ["--tls-cert", "/nonexistent/server.crt", "--tls-key", "/nonexistent/k"],
            "does not exist",
        ),
        ({"tls_cert": "X"}, [], "tls_cert and tls_key go together"),
    ],
    ids=["no-tls", "plain-on-every-address", "missing-files", "cert-without-key"],
)
def test_run_refuses_to_serve_passwords_in_the_clear(tmp_path, extra, args, message):
    """Tried: `coordinator run` in production mode without TLS, with plain HTTP on every
    address, with missing certificate files, with a certificate but no key.
    Expected: it exits 2 with a sentence saying what to do, before opening anything."""
    import yaml

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({**base_settings(tmp_path, 1883), **extra}))
    r = cli("coordinator.cli", "run", "--settings", str(cfg), *args, env=secrets_env())
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert not Path(base_settings(tmp_path, 1883)["data_dir"]).exists()


def test_run_refuses_a_tls_key_others_can_read(tmp_path):
    """Tried: the server key left 0644. Expected: `coordinator run` refuses to start."""
    import yaml

    from provisioning.ca import init_ca

    init_ca(tmp_path / "pki", root_key_out=tmp_path / "off" / "root.key")
    out = issue_server_cert(tmp_path / "pki", tmp_path / "tls", "127.0.0.1")
    os.chmod(out / "server.key", 0o644)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(base_settings(tmp_path, 1883)))
    r = cli("coordinator.cli", "run", "--settings", str(cfg), "--tls-cert",
            str(out / "server.crt"), "--tls-key", str(out / "server.key"), env=secrets_env())  # fmt: skip
    assert r.returncode == 2 and "readable by others" in r.stderr
