"""``provision rotate`` (on the board) and the centre-side helpers for revoke and status."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from protocol import check_id

from . import pki
from .api import Coordinator
from .ca import ProvisionError
from .enroll import write_private

ROTATE_CONTEXT = b"citywatch-rotate-v1\n"  # must match coordinator/enrolment/lifecycle.py


def rotate(bundle: Path, api: Coordinator, device_id: str | None = None) -> dict[str, Any]:
    """Make a new key on the board, get it certified with proof of the current key.

    The new key and certificate replace the old ones only after the coordinator
    answered, each file swapped by rename, so an interrupted rotation keeps the old pair.
    """
    try:
        record = json.loads((bundle / "enrolment.json").read_text())
        current_pem = (bundle / "device.crt").read_text()
        current_key = serialization.load_pem_private_key(
            (bundle / "device.key").read_bytes(), password=None
        )
    except (OSError, ValueError) as exc:
        raise ProvisionError(
            f"cannot read this board's bundle in {bundle}: {exc}; pass --bundle-dir"
        ) from None
    dev = check_id(device_id or record["device_id"], "device id")
    if dev != record["device_id"]:
        raise ProvisionError(f"the bundle in {bundle} belongs to {record['device_id']}, not {dev}")
    assert isinstance(current_key, ec.EllipticCurvePrivateKey)
    new_key = pki.new_key()
    csr_pem = pki.make_csr(new_key, dev).public_bytes(serialization.Encoding.PEM).decode()
    message = ROTATE_CONTEXT + dev.encode() + b"\n" + csr_pem.encode()
    proof = current_key.sign(message, ec.ECDSA(hashes.SHA256()))
    answer = api.request(
        "POST",
        f"/api/enrolment/devices/{dev}/rotate",
        {
            "certificate": current_pem,
            "csr": csr_pem,
            "proof": base64.b64encode(proof).decode(),
        },
    )
    tmp_key, tmp_crt = bundle / "device.key.new", bundle / "device.crt.new"
    pki.write_private_key(tmp_key, new_key)
    write_private(tmp_crt, answer["certificate"].encode())
    tmp_key.replace(bundle / "device.key")
    tmp_crt.replace(bundle / "device.crt")
    record.update(
        serial=answer["serial"], fingerprint=answer["fingerprint"], not_after=answer["not_after"]
    )
    write_private(bundle / "enrolment.json", json.dumps(record, indent=2).encode())
    return answer


def revoke(api: Coordinator, device_id: str, reason: str) -> dict[str, Any]:
    """Ask the coordinator to revoke a board (CRL, broker reload, live session dropped)."""
    dev = check_id(device_id, "device id")
    return api.request("POST", f"/api/enrolment/devices/{dev}/revoke", {"reason": reason})


def status(api: Coordinator, device_id: str) -> dict[str, Any]:
    """A board's enrolment status from the coordinator."""
    return api.status(check_id(device_id, "device id"))


def _when(ts: float | None) -> str | None:
    """A Unix time as UTC ISO 8601 (None stays None)."""
    if not ts:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def status_lines(s: dict[str, Any]) -> list[str]:
    """Human-readable status, one fact a line, warnings first."""
    lines = []
    if s["status"] != "enrolled":
        lines.append(f"!! {s['device_id']} is {s['status'].upper()} (by {s.get('revoked_by')})")
    elif s["cert_days_left"] < 30:
        lines.append(
            f"!! certificate expires in {s['cert_days_left']} days: run `provision rotate` "
            "on the board"
        )
    if not s.get("first_seen"):
        lines.append("!! the centre has never received a state from this board")
    lines += [
        f"device      {s['device_id']} ({s['profile']}, zone {s['zone']}, owner {s['owner_org']} / {s['owner_type']})",
        f"location    {s['lat']},{s['lon']} heading {s['heading']:g}",
        f"status      {s['status']}",
        f"first seen  {_when(s.get('first_seen')) or 'never (no state received from the board yet)'}",
        f"certificate serial {s['serial'][:16]}…, valid until {s['not_after']} ({s['cert_days_left']} days)",
        f"fingerprint {s['fingerprint']}",
        f"enrolled by {s['enrolled_by']}; certificates issued: {len([c for c in s['certificates'] if c['reason'] != 'control'])}",
    ]
    if s.get("fleet_error"):
        lines.append(f"!! fleet registry: {s['fleet_error']}")
    return lines
