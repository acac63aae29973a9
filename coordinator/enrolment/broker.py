"""Broker control for revocation: reload the CRL, prove it is live, drop the live session.

Mosquitto checks the CRL only during the TLS handshake, so a revoked board that is
already connected stays connected after a reload. We drop it with a *session takeover*:
``use_username_as_clientid`` makes the client id equal the certificate CN, so a
connection presenting a certificate with the board's CN (minted here, in memory, valid
two minutes, revoked right after use) makes Mosquitto close the board's connection
("already connected, closing old connection"). The board's reconnect then fails the
handshake because the reloaded CRL lists its certificate.

This speaks the few bytes of MQTT 3.1.1 CONNECT/CONNACK/DISCONNECT it needs over a plain
``ssl`` socket instead of going through the centre's MQTT link: the takeover must connect
*as the board's identity* on the boards' listener, which the link never does, and a
blocking socket needs no background thread.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class BrokerControlError(RuntimeError):
    """The broker could not be reloaded or the session could not be dropped."""


def connect_packet(client_id: str, keepalive: int = 10) -> bytes:
    """An MQTT 3.1.1 CONNECT with clean session and no credentials."""
    cid = client_id.encode()
    var = b"\x00\x04MQTT\x04\x02" + keepalive.to_bytes(2, "big")
    payload = len(cid).to_bytes(2, "big") + cid
    body = var + payload
    return b"\x10" + _remaining_length(len(body)) + body


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


DISCONNECT = b"\xe0\x00"


@dataclass(frozen=True)
class BrokerEndpoint:
    """Where the boards' mTLS listener is, seen from the centre."""

    host: str
    port: int
    ca_bundle_pem: bytes
    server_name: str | None = None  # TLS name to verify; default ``host``


def mqtt_connect_as(
    ep: BrokerEndpoint, chain_pem: bytes, key_pem: bytes, client_id: str, timeout: float = 5.0
) -> bool:
    """Open an mTLS MQTT session with the given identity; True when CONNACK accepted it.

    The session is closed cleanly right after. Any TLS or MQTT refusal returns False.
    """
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ep.ca_bundle_pem.decode())
    # ssl needs files for a client certificate; keep them in a private temp dir for
    # the few milliseconds of the handshake.
    with tempfile.TemporaryDirectory(prefix="cw-ctl-") as tmp:
        cert_f, key_f = Path(tmp, "c.pem"), Path(tmp, "k.pem")
        cert_f.write_bytes(chain_pem)
        fd = os.open(key_f, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        ctx.load_cert_chain(str(cert_f), str(key_f))
    try:
        with (
            socket.create_connection((ep.host, ep.port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=ep.server_name or ep.host) as s,
        ):
            s.sendall(connect_packet(client_id))
            ack = _read_exact(s, 4)
            ok = ack[:2] == b"\x20\x02" and ack[3] == 0
            if ok:
                s.sendall(DISCONNECT)
            return ok
    except (OSError, ssl.SSLError, ConnectionError):
        return False


def _read_exact(s: ssl.SSLSocket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return buf


def reload_broker(pid_file: Path | None, command: list[str] | None) -> str:
    """Ask Mosquitto to reread its config and CRL; returns how it was done."""
    if command:
        res = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        if res.returncode != 0:
            raise BrokerControlError(
                f"broker reload command {' '.join(command)!r} failed ({res.returncode}): "
                f"{res.stderr.strip() or res.stdout.strip()}"
            )
        return "command"
    if pid_file:
        try:
            pid = int(Path(pid_file).read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            raise BrokerControlError(
                f"cannot signal the broker from pid file {pid_file}: {exc}; "
                "set broker_pid_file or broker_reload_command in enrolment.yaml"
            ) from None
        return "sighup"
    raise BrokerControlError(
        "no way to reload the broker: set broker_pid_file or broker_reload_command "
        "in enrolment.yaml"
    )


def wait_refused(
    ep: BrokerEndpoint, chain_pem: bytes, key_pem: bytes, client_id: str, timeout: float
) -> float:
    """Retry a connection with a revoked probe identity until refused; seconds waited."""
    t0 = time.monotonic()
    while True:
        if not mqtt_connect_as(ep, chain_pem, key_pem, client_id, timeout=2.0):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise BrokerControlError(
                f"the broker still accepts a revoked certificate after {timeout:.0f}s: "
                "is its crlfile the one the coordinator writes?"
            )
        time.sleep(0.05)  # pacing between handshake attempts, not synchronisation
