"""Enrolment of camera boards: one-time tokens, CSR signing, registration, first sighting.

A technician (``Perm.ENROL``) obtains a one-time token bound to them and to an assigned
device id; only its keyed hash is stored. The board presents the token with a CSR whose
CN is that id; in one write transaction the token is consumed, the certificate recorded
and the audit entry written, so a token can never enrol two boards. Registration goes
to the fleet registry (the composition root passes the fleet service) and is always
kept in ``enrolments``. The first ``state`` the centre's ingest records for the board in
the fleet registry sets ``first_seen``; the board polls for it with a confirmation token
to prove its first authenticated publish reached the centre. Revocation and rotation live in
:mod:`coordinator.enrolment.lifecycle`, built on this service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from protocol import ProtocolError, check_id
from protocol.names import device_name_problem

from ..errors import Conflict, DomainError, Invalid, NotFound, Unauthenticated
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..platform.db import Database
from . import ca
from .schema import CONFIG_FILE, DeviceRegistry, EnrolmentConfig, Registration, iso


class EnrolmentError(DomainError):
    """An enrolment step was refused; the message says why and what to do next."""


class TokenRefused(Unauthenticated, EnrolmentError):
    """The enrolment or confirmation token, or the rotation proof, is not accepted."""


class NotEnrolled(NotFound, EnrolmentError):
    """The device is not enrolled (or was revoked)."""


class EnrolmentConflict(Conflict, EnrolmentError):
    """The device is already enrolled, or rotated concurrently."""


class EnrolmentInvalid(Invalid, EnrolmentError):
    """The request is malformed (bad id, CSR, lifetime, certificate)."""


#: How far a board's signed request time may be from the centre's clock.
MODEL_REQUEST_SKEW_S = 300


class EnrolmentService:
    """Issues tokens, signs CSRs, records registrations and first sightings."""

    def __init__(
        self,
        db: Database,
        audit: AuditService,
        config: EnrolmentConfig,
        secret_key: str,
        fleet: Callable[[], DeviceRegistry | None] = lambda: None,
        clock: Callable[[], float] = time.time,
        taken_names: Callable[[], Iterable[str]] = lambda: (),
        placement: Callable[[str, float, float], str | None] = lambda z, lat, lon: None,
    ) -> None:
        self.db, self.audit, self.config = db, audit, config
        # Names a board may never take: the city's patrol units (asked when needed, since
        # units come and go) besides the broker accounts in the config.
        self.taken_names = taken_names
        # The centre's zone registry: the zone must exist and the location lie in it.
        self.placement = placement
        self._key = secret_key.encode()
        self.fleet = fleet
        self.clock = clock
        self.ca = ca.IssuingCa.load(config.ca_dir)

    def authenticate_board(
        self, device_id: str, cert_b64: str, unix_s: str, name: str, proof_b64: str
    ) -> None:
        """Check a board's signed download request (TokenRefused when it does not hold).

        The certificate must be the board's current one (same fingerprint as enrolled,
        issued by this CA, not revoked); the proof must be its key's signature over the
        request; the time within :data:`MODEL_REQUEST_SKEW_S` of the centre's clock.
        """
        import base64
        import binascii

        from protocol import model_request_message

        try:
            t = int(unix_s)
            cert = ca.load_cert(base64.b64decode(cert_b64, validate=True).decode())
            proof = base64.b64decode(proof_b64, validate=True)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise TokenRefused("malformed board credentials") from None
        if abs(self.clock() - t) > MODEL_REQUEST_SKEW_S:
            raise TokenRefused("the request's time is off by more than 5 minutes (board clock?)")
        rows = self.db.query(
            "select status, fingerprint from enrolments where device_id = ?", [device_id]
        )
        if not rows or rows[0]["status"] != "enrolled":
            raise TokenRefused(f"{device_id} is not an enrolled board")
        if ca.fingerprint(cert) != rows[0]["fingerprint"] or not ca.issued_by(cert, self.ca):
            raise TokenRefused("that is not the board's current certificate")
        if not ca.verify_proof(cert, model_request_message(device_id, name, t), proof):
            raise TokenRefused("the request's signature does not verify")

    def _hash(self, token: str) -> str:
        return hmac.new(self._key, b"enrol:" + token.encode(), hashlib.sha256).hexdigest()

    # tokens -----------------------------------------------------------------------------
    def issue_token(
        self, p: Principal, device_id: str | None = None, ttl_s: int | None = None
    ) -> dict[str, Any]:
        """A one-time token for ``device_id`` (generated when None), bound to ``p``."""
        ttl = ttl_s or self.config.token_ttl_s
        if not 30 <= ttl <= self.config.token_max_ttl_s:
            raise EnrolmentInvalid(f"ttl_s must be 30..{self.config.token_max_ttl_s}")
        if device_id is None:
            device_id = f"{self.config.device_id_prefix}-{secrets.token_hex(5)}"
        try:
            check_id(device_id, "device id")
        except ProtocolError as exc:
            raise EnrolmentInvalid(str(exc)) from None
        self.check_name(device_id)
        row = self.db.query("select status from enrolments where device_id = ?", [device_id])
        if row and row[0]["status"] == "enrolled":
            raise EnrolmentConflict(
                f"device {device_id} is already enrolled: revoke it first "
                f"(provision revoke {device_id}) or rotate its certificate",
            )
        token = "cwe_" + secrets.token_urlsafe(32)
        now = self.clock()

        def insert(db: sqlite_utils.Database) -> None:
            db.table("enrol_tokens").insert(
                {
                    "token_hash": self._hash(token),
                    "device_id": device_id,
                    "issued_by": p.user_id,
                    "issued_by_name": p.username,
                    "issued_at": now,
                    "expires_at": now + ttl,
                    "used_at": None,
                }
            )
            AuditService.append(
                db, AuditService.entry(p, "enrol_token", "device", device_id, detail={"ttl_s": ttl})
            )

        self.db.write(insert)
        return {"token": token, "device_id": device_id, "expires_at": now + ttl, "ttl_s": ttl}

    def check_name(self, device_id: str) -> None:
        """Refuse a device id that is, or imitates, a service account or a patrol unit."""
        taken = [*self.config.service_accounts, *self.taken_names()]
        problem = device_name_problem(device_id, taken)
        if problem is not None:
            raise EnrolmentInvalid(f"device id refused: {problem}")

    def _check_token(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token.startswith("cwe_") or len(token) > 100:
            raise TokenRefused("not an enrolment token: ask for a new one (provision token)")
        rows = self.db.query(
            "select t.*, u.active from enrol_tokens t left join users u on u.id = t.issued_by "
            "where t.token_hash = ?",
            [self._hash(token)],
        )
        if not rows:
            raise TokenRefused("unknown enrolment token: check it or ask for a new one")
        row = rows[0]
        if row["used_at"] is not None:
            raise TokenRefused(
                "enrolment token already used: each token enrols one board; ask for a new one",
            )
        late = self.clock() - row["expires_at"]
        if late > 0:
            raise TokenRefused(
                f"enrolment token expired {late:.0f}s ago: ask for a new one "
                "(tokens last 5 minutes by default)",
            )
        if not row["active"]:
            raise TokenRefused("the technician who issued this token is disabled")
        return row

    def begin(self, token: str) -> dict[str, Any]:
        """Check a token without using it; tells the board its assigned id."""
        row = self._check_token(token)
        return {"device_id": row["device_id"], "expires_at": row["expires_at"]}

    # enrolment ----------------------------------------------------------------------------
    def enrol(self, token: str, csr_pem: str, reg: Registration) -> dict[str, Any]:
        """Consume ``token``, sign the CSR, record and register the board."""
        row = self._check_token(token)
        device_id = row["device_id"]
        self.check_name(device_id)  # a unit or account may have taken the name since
        # Before the token is used: a wrong zone costs the technician nothing but a retry.
        problem = self.placement(reg.zone, reg.lat, reg.lon)
        if problem is not None:
            raise EnrolmentInvalid(f"registration refused: {problem}")
        try:
            csr = ca.parse_csr(csr_pem, device_id)
        except ca.CsrError as exc:
            raise EnrolmentInvalid(str(exc)) from None
        cert = ca.sign_device(self.ca, csr.public_key(), device_id, self.config.cert_days)  # type: ignore[arg-type]
        fp, serial = ca.fingerprint(cert), format(cert.serial_number, "x")
        not_after = iso(cert.not_valid_after_utc)
        confirm = "cwc_" + secrets.token_urlsafe(24)
        now = self.clock()
        actor = row["issued_by_name"]

        def commit(db: sqlite_utils.Database) -> None:
            used = db.execute(
                "update enrol_tokens set used_at = ? where token_hash = ? and used_at is null",
                [now, self._hash(token)],
            ).rowcount
            if used != 1:  # a concurrent request won the race for this token
                raise TokenRefused("enrolment token already used; ask for a new one")
            db.table("enrolments").upsert(
                {
                    "device_id": device_id,
                    "status": "enrolled",
                    **reg.model_dump(),
                    "serial": serial,
                    "fingerprint": fp,
                    "not_after": not_after,
                    "enrolled_by": actor,
                    "enrolled_at": now,
                    "rotated_at": None,
                    "revoked_at": None,
                    "revoked_by": None,
                    "first_seen": None,
                    "confirm_hash": self._hash(confirm),
                    "confirm_expires": now + self.config.confirm_ttl_s,
                    "fleet_error": None,
                },
                pk="device_id",
            )
            if db.table("devices").exists():  # enrolled again after a revocation
                db.execute(
                    "update devices set status = 'unknown' where id = ? and status = 'revoked'",
                    [device_id],
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
                    actor,
                    "enrol",
                    "device",
                    device_id,
                    detail={"serial": serial, **reg.model_dump()},
                ),
            )

        self.db.write(commit)
        fleet_error = self._register(device_id, reg, fp, not_after)
        return {
            "device_id": device_id,
            "certificate": ca.cert_pem(cert) + ca.cert_pem(self.ca.cert),
            "ca_bundle": self.ca.bundle_pem.decode(),
            "serial": serial,
            "fingerprint": fp,
            "not_after": not_after,
            "broker": {
                "host": self.config.broker_host,
                "port": self.config.broker_port,
                "topic_root": self.config.topic_root,
            },
            "confirm_token": confirm,
            "registered": fleet_error is None,
            "registration_error": fleet_error,
        }

    def fleet_record(self, device_id: str) -> dict[str, Any] | None:
        """The ``POST /api/devices`` body for an enrolled board (for the fleet registry)."""
        rows = self.db.query("select * from enrolments where device_id = ?", [device_id])
        if not rows:
            return None
        r = rows[0]
        return {
            "id": device_id,
            **{k: r[k] for k in ("owner_org", "owner_type", "lat", "lon", "heading", "zone")},
            "profile": r["profile"],
            "cert_fingerprint": r["fingerprint"],
            "cert_not_after": r["not_after"],
        }

    def _register(self, device_id: str, reg: Registration, fp: str, not_after: str) -> str | None:
        """Register with the fleet registry; returns an error text or None."""
        fleet = self.fleet()
        if fleet is None:
            return None  # enrolments is the registry until the fleet service is attached
        record = self.fleet_record(device_id)
        try:
            fleet.register(record or {})
        except Exception as exc:  # noqa: BLE001 - reported to the technician, enrolment kept
            msg = f"fleet registry refused the device: {exc}"
            self.db.execute_write(
                "update enrolments set fleet_error = ? where device_id = ?", [msg, device_id]
            )
            return msg
        return None

    # first sighting -----------------------------------------------------------------------
    def confirm(self, confirm_token: str) -> dict[str, Any]:
        """For the board: has the centre seen its first authenticated publish yet?"""
        rows = self.db.query(
            "select device_id, first_seen, confirm_expires, status from enrolments "
            "where confirm_hash = ?",
            [self._hash(confirm_token or "")],
        )
        if not rows or rows[0]["confirm_expires"] < self.clock():
            raise TokenRefused("unknown or expired confirmation token")
        r = rows[0]
        first_seen = r["first_seen"] or self._seen_by_fleet(r["device_id"])
        return {"device_id": r["device_id"], "first_seen": first_seen, "status": r["status"]}

    def _seen_by_fleet(self, device_id: str) -> float | None:
        """First sighting as the fleet registry recorded it from the board's ``state``.

        With the coordinator core attached, ingest consumes ``state`` and the fleet keeps
        the board's status; a status recorded after enrolment is the first sighting.
        """
        fleet = self.fleet()
        get = getattr(fleet, "get", None)
        if get is None:
            return None
        row = get(device_id) or {}
        at = row.get("status_at")
        rows = self.db.query("select enrolled_at from enrolments where device_id = ?", [device_id])
        if row.get("status") not in ("online", "offline") or not at or not rows:
            return None
        if at < rows[0]["enrolled_at"] - 5:  # a state from before this enrolment
            return None
        self.db.execute_write(
            "update enrolments set first_seen = ? where device_id = ? and first_seen is null",
            [at, device_id],
        )
        return float(at)

    # status -------------------------------------------------------------------------------
    def status(self, device_id: str) -> dict[str, Any]:
        """Everything known about a board's enrolment and certificates."""
        rows = self.db.query("select * from enrolments where device_id = ?", [device_id])
        if not rows:
            raise NotEnrolled(f"device {device_id} is not enrolled")
        r = {k: v for k, v in rows[0].items() if k not in ("confirm_hash", "confirm_expires")}
        if r["status"] == "enrolled":
            r["first_seen"] = r["first_seen"] or self._seen_by_fleet(device_id)
        left = dt.datetime.fromisoformat(r["not_after"].replace("Z", "+00:00")).timestamp()
        r["cert_days_left"] = round((left - self.clock()) / 86400, 1)
        r["certificates"] = self.db.query(
            "select serial, fingerprint, not_after, issued_at, revoked_at, reason "
            "from device_certs where device_id = ? order by issued_at",
            [device_id],
        )
        return r

    def list(self) -> list[dict[str, Any]]:
        """Every enrolled or revoked board, newest first."""
        return self.db.query(
            "select device_id, status, profile, zone, owner_org, not_after, first_seen, "
            "enrolled_at from enrolments order by enrolled_at desc"
        )


def open_enrolment(
    settings: Any,
    db: Database,
    audit: AuditService,
    *,
    fleet: Callable[[], DeviceRegistry | None] = lambda: None,
    taken_names: Callable[[], Iterable[str]] = lambda: (),
    placement: Callable[[str, float, float], str | None] = lambda z, lat, lon: None,
) -> EnrolmentService | None:
    """The enrolment service when ``<data_dir>/enrolment.yaml`` exists, else None."""
    path = Path(settings.data_dir) / CONFIG_FILE
    if not path.exists():
        return None
    return EnrolmentService(
        db,
        audit,
        EnrolmentConfig.load(path),
        settings.secret_key,
        fleet=fleet,
        taken_names=taken_names,
        placement=placement,
    )
