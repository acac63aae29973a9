"""Certificate lifecycle of enrolled boards: CRL, revocation (with live disconnect), rotation."""

from __future__ import annotations

import base64
import binascii
import contextlib
import time
from typing import Any

import sqlite_utils

from ..identity.audit import AuditService
from ..identity.auth import Principal
from . import ca
from .broker import BrokerControlError, BrokerEndpoint, mqtt_connect_as, reload_broker, wait_refused
from .service import (
    EnrolmentConflict,
    EnrolmentInvalid,
    EnrolmentService,
    NotEnrolled,
    TokenRefused,
    iso,
)

ROTATE_CONTEXT = b"citywatch-rotate-v1\n"


def rotation_message(device_id: str, csr_pem: str) -> bytes:
    """What the board signs with its *current* key to prove it asks for the rotation."""
    return ROTATE_CONTEXT + device_id.encode() + b"\n" + csr_pem.encode()


class LifecycleService:
    """Revocation, rotation and the CRL of enrolled boards (``Services.lifecycle``).

    Built on the enrolment service it is given (its database, CA, clock and fleet registry),
    so both always agree on which boards are enrolled.
    """

    crl_timeout_s = 30.0

    def __init__(self, enrolment: EnrolmentService) -> None:
        self.enrolment = enrolment
        self.db = enrolment.db
        self.audit = enrolment.audit
        self.config = enrolment.config
        self.ca = enrolment.ca

    def clock(self) -> float:
        """The enrolment service's clock (tests move it to age tokens and CRLs)."""
        return self.enrolment.clock()

    # CRL ------------------------------------------------------------------------------
    def write_crl(self) -> int:
        """Rewrite the CRL from every revoked serial; returns how many it lists."""
        rows = self.db.query(
            "select serial, revoked_at from device_certs where revoked_at is not null"
        )
        pem = ca.build_crl(self.ca, [(int(r["serial"], 16), r["revoked_at"]) for r in rows])
        self.config.crl_file.parent.mkdir(parents=True, exist_ok=True)
        ca.write_atomic(self.config.crl_file, pem)
        return len(rows)

    def refresh_crl_if_due(self, within_days: float = 7.0) -> bool:
        """Re-sign the CRL and reload the broker when it expires within ``within_days``.

        An expired CRL makes OpenSSL refuse *every* board, so this must run daily (the
        coordinator's periodic jobs) and at start. Returns True when it refreshed.
        """
        from cryptography import x509

        try:
            crl = x509.load_pem_x509_crl(self.config.crl_file.read_bytes())
            next_update = crl.next_update_utc
        except (OSError, ValueError):
            next_update = None
        if next_update is not None and next_update.timestamp() > self.clock() + within_days * 86400:
            return False
        self.write_crl()
        # Without a reachable broker it reads the fresh file when it next starts or reloads.
        with contextlib.suppress(BrokerControlError):
            reload_broker(self.config.broker_pid_file, self.config.broker_reload_command)
        return True

    def _endpoint(self) -> BrokerEndpoint:
        c = self.config
        return BrokerEndpoint(
            host=c.broker_control_host or c.broker_host,
            port=c.broker_port,
            ca_bundle_pem=self.ca.bundle_pem,
            server_name=c.broker_tls_name or c.broker_host,
        )

    def _record_control_cert(self, cert: Any, device_id: str, revoked: bool) -> None:
        now = self.clock()
        self.db.write(
            lambda db: db.table("device_certs").insert(
                {
                    "serial": format(cert.serial_number, "x"),
                    "device_id": device_id,
                    "fingerprint": ca.fingerprint(cert),
                    "not_after": iso(cert.not_valid_after_utc),
                    "issued_at": now,
                    "revoked_at": now if revoked else None,
                    "reason": "control",
                }
            )
        )

    # revoke -------------------------------------------------------------------------------
    def revoke(self, device_id: str, p: Principal, reason: str = "") -> dict[str, Any]:
        """Revoke every certificate of a board, reload the broker and drop its live session.

        Steps, each timed: CRL written; broker reloaded; CRL proven live (a revoked probe
        identity is refused); the board's session taken over and closed.
        """
        rows = self.db.query("select status from enrolments where device_id = ?", [device_id])
        if not rows:
            raise NotEnrolled(f"device {device_id} is not enrolled")
        t0 = time.monotonic()
        now = self.clock()
        probe_chain, probe_key, probe = ca.ephemeral_identity(self.ca, f"probe-{device_id}"[:64])

        def commit(db: sqlite_utils.Database) -> int:
            n = db.execute(
                "update device_certs set revoked_at = ?, reason = ? "
                "where device_id = ? and revoked_at is null",
                [now, "revoked", device_id],
            ).rowcount
            db.execute(
                "update enrolments set status = 'revoked', revoked_at = ?, revoked_by = ? "
                "where device_id = ?",
                [now, p.username, device_id],
            )
            if db.table("devices").exists():
                # the fleet view shows "revoked", not just "offline"; state messages that
                # arrive late (the board's Last Will) do not overwrite it
                db.execute(
                    "update devices set status = 'revoked', status_at = ?, updated_at = ? "
                    "where id = ?",
                    [now, now, device_id],
                )
            AuditService.append(
                db, AuditService.entry(p, "revoke", "device", device_id, detail={"reason": reason})
            )
            return int(n)

        n_revoked = self.db.write(commit)
        self._record_control_cert(probe, device_id, revoked=True)
        self.write_crl()
        out: dict[str, Any] = {
            "device_id": device_id,
            "certificates_revoked": n_revoked,
            "crl_written_ms": round((time.monotonic() - t0) * 1000, 1),
        }
        try:
            out["reload"] = reload_broker(
                self.config.broker_pid_file, self.config.broker_reload_command
            )
            ep = self._endpoint()
            wait_refused(ep, probe_chain, probe_key, "probe", self.crl_timeout_s)
            out["crl_live_ms"] = round((time.monotonic() - t0) * 1000, 1)
            kick_chain, kick_key, kick = ca.ephemeral_identity(self.ca, device_id)
            self._record_control_cert(kick, device_id, revoked=False)
            took_over = mqtt_connect_as(ep, kick_chain, kick_key, device_id)
            out["disconnected_ms"] = round((time.monotonic() - t0) * 1000, 1)
            out["session_dropped"] = took_over
            # The takeover identity is revoked right after its one use.
            self.db.execute_write(
                "update device_certs set revoked_at = ? where serial = ?",
                [self.clock(), format(kick.serial_number, "x")],
            )
            self.write_crl()
            reload_broker(self.config.broker_pid_file, self.config.broker_reload_command)
        except BrokerControlError as exc:
            out["broker_error"] = str(exc)
        return out

    # rotate -------------------------------------------------------------------------------
    def rotate(
        self, device_id: str, current_cert_pem: str, csr_pem: str, proof_b64: str
    ) -> dict[str, Any]:
        """New certificate for a new board key, proven by the current key; old one revoked."""
        rows = self.db.query("select * from enrolments where device_id = ?", [device_id])
        if not rows or rows[0]["status"] != "enrolled":
            raise NotEnrolled(f"device {device_id} is not enrolled (or revoked)")
        try:
            current = ca.load_cert(current_cert_pem)
            proof = base64.b64decode(proof_b64, validate=True)
        except (ValueError, binascii.Error):
            raise EnrolmentInvalid("current certificate or proof is malformed") from None
        if ca.fingerprint(current) != rows[0]["fingerprint"] or not ca.issued_by(current, self.ca):
            raise TokenRefused(
                "that is not this board's current certificate: enrol again with a token",
            )
        if not ca.verify_proof(current, rotation_message(device_id, csr_pem), proof):
            raise TokenRefused("proof of the current key does not verify")
        try:
            csr = ca.parse_csr(csr_pem, device_id)
        except ca.CsrError as exc:
            raise EnrolmentInvalid(str(exc)) from None
        if csr.public_key() == current.public_key():
            raise EnrolmentInvalid("rotation needs a new key, not the current one")
        cert = ca.sign_device(self.ca, csr.public_key(), device_id, self.config.cert_days)  # type: ignore[arg-type]
        fp, serial, not_after = (
            ca.fingerprint(cert),
            format(cert.serial_number, "x"),
            iso(cert.not_valid_after_utc),
        )
        now = self.clock()
        old_serial = rows[0]["serial"]

        def commit(db: sqlite_utils.Database) -> None:
            changed = db.execute(
                "update enrolments set serial = ?, fingerprint = ?, not_after = ?, rotated_at = ? "
                "where device_id = ? and serial = ? and status = 'enrolled'",
                [serial, fp, not_after, now, device_id, old_serial],
            ).rowcount
            if changed != 1:
                raise EnrolmentConflict("the board rotated concurrently; retry")
            db.execute(
                "update device_certs set revoked_at = ?, reason = 'superseded' where serial = ?",
                [now, old_serial],
            )
            db.table("device_certs").insert(
                {
                    "serial": serial,
                    "device_id": device_id,
                    "fingerprint": fp,
                    "not_after": not_after,
                    "issued_at": now,
                    "revoked_at": None,
                    "reason": None,
                }
            )
            AuditService.append(
                db,
                AuditService.entry(
                    f"device:{device_id}",
                    "rotate",
                    "device",
                    device_id,
                    detail={"old_serial": old_serial, "serial": serial},
                ),
            )

        self.db.write(commit)
        # The superseded certificate joins the CRL; the board reconnects with the new one.
        self.write_crl()
        broker_error = None
        try:
            reload_broker(self.config.broker_pid_file, self.config.broker_reload_command)
        except BrokerControlError as exc:
            broker_error = str(exc)
        fleet_error = None
        fleet = self.enrolment.fleet()
        if fleet is not None:
            try:
                fleet.register(self.enrolment.fleet_record(device_id) or {})
            except Exception as exc:  # noqa: BLE001 - reported, rotation kept
                fleet_error = str(exc)
        return {
            "device_id": device_id,
            "certificate": ca.cert_pem(cert) + ca.cert_pem(self.ca.cert),
            "serial": serial,
            "fingerprint": fp,
            "not_after": not_after,
            "old_serial": old_serial,
            "broker_error": broker_error,
            "registration_error": fleet_error,
        }
