"""Enrolment of camera boards: one-time tokens, CSR signing, registration, first sighting.

A technician (``Perm.ENROL``) obtains a one-time token bound to them and to an assigned
device id; only its keyed hash is stored. The board presents the token with a CSR whose
CN is that id; in one write transaction the token is consumed, the certificate recorded
and the audit entry written, so a token can never enrol two boards. Registration goes
to the fleet registry (``services.extra["fleet"]``) when one is attached, and is always
kept in ``enrolments``. The first ``state`` the centre's ingest records for the board in
the fleet registry sets ``first_seen``; the board polls for it with a confirmation token
to prove its first authenticated publish reached the centre. Revocation and rotation live in
:mod:`coordinator.enrolment_lifecycle`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import sqlite_utils
import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils.migrations import Migrations

from protocol import ProtocolError, check_id

from . import enrolment_ca as ca
from .audit import AuditService
from .auth import Principal
from .db import Database

CONFIG_FILE = "enrolment.yaml"


class EnrolmentError(Exception):
    """An enrolment step was refused; ``status`` is the HTTP status, the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class EnrolmentConfig(BaseModel):
    """Enrolment settings, in ``<data_dir>/enrolment.yaml`` (written by ``provision broker-config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_dir: Path = Field(description="Folder with issuing.crt, issuing.key and ca-bundle.pem")
    crl_file: Path = Field(description="CRL file the broker's listener reads (crlfile)")
    broker_host: str = Field(description="Broker address boards connect to")
    broker_port: int = Field(ge=1, le=65535, description="Boards' mTLS listener port")
    broker_control_host: str | None = Field(
        None, description="Broker address as seen from the centre (default broker_host)"
    )
    broker_tls_name: str | None = Field(
        None, description="Name in the broker's certificate (default broker_host)"
    )
    broker_pid_file: Path | None = Field(None, description="Mosquitto pid file for SIGHUP")
    broker_reload_command: list[str] | None = Field(
        None, description="Command that reloads the broker (instead of the pid file)"
    )
    topic_root: str = Field("cw/v1", description="MQTT topic root boards publish under")
    cert_days: int = Field(365, ge=1, le=3650, description="Lifetime of a board certificate")
    token_ttl_s: int = Field(300, ge=30, le=3600, description="Default enrolment token lifetime")
    token_max_ttl_s: int = Field(3600, ge=30, le=86400, description="Longest token allowed")
    confirm_ttl_s: int = Field(900, ge=60, le=86400, description="Lifetime of a confirm token")
    device_id_prefix: str = Field("cam", description="Prefix of generated device ids")

    @classmethod
    def load(cls, path: Path) -> EnrolmentConfig:
        """Read the YAML file, resolving relative paths against its folder."""
        data = yaml.safe_load(path.read_text()) or {}
        for key in ("ca_dir", "crl_file", "broker_pid_file"):
            if data.get(key) and not Path(data[key]).is_absolute():
                data[key] = str(path.parent / data[key])
        return cls(**data)


class DeviceRegistry(Protocol):
    """What enrolment needs from the fleet registry (coordinator core)."""

    def register(self, record: dict[str, Any]) -> None:
        """Create or update a device; ``record`` has the fields of ``POST /api/devices``."""
        ...


migrations = Migrations("enrolment")


@migrations()
def m001_enrolment(db: sqlite_utils.Database) -> None:
    """Tokens, enrolled boards and every certificate issued to them."""
    db.table("enrol_tokens").create(
        {
            "token_hash": str,
            "device_id": str,
            "issued_by": int,
            "issued_by_name": str,
            "issued_at": float,
            "expires_at": float,
            "used_at": float,
        },
        pk="token_hash",
    )
    db.table("enrolments").create(
        {
            "device_id": str,
            "status": str,
            "owner_org": str,
            "owner_type": str,
            "lat": float,
            "lon": float,
            "heading": float,
            "zone": str,
            "profile": str,
            "serial": str,
            "fingerprint": str,
            "not_after": str,
            "enrolled_by": str,
            "enrolled_at": float,
            "rotated_at": float,
            "revoked_at": float,
            "revoked_by": str,
            "first_seen": float,
            "confirm_hash": str,
            "confirm_expires": float,
            "fleet_error": str,
        },
        pk="device_id",
        not_null={"status", "serial", "fingerprint"},
    )
    db.table("device_certs").create(
        {
            "serial": str,  # hex: 159-bit serials overflow SQLite integers
            "device_id": str,
            "fingerprint": str,
            "not_after": str,
            "issued_at": float,
            "revoked_at": float,
            "reason": str,
        },
        pk="serial",
    )
    db.table("device_certs").create_index(["device_id"])


class Registration(BaseModel):
    """What a board is and where it stands (sent with the CSR)."""

    model_config = ConfigDict(extra="forbid")
    owner_org: str = Field(min_length=1, max_length=100, description="Owning organisation")
    owner_type: Literal["government", "company", "community"] = "government"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    heading: float = Field(ge=0, lt=360, description="Camera heading, degrees from north")
    zone: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    profile: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")


def iso(ts: dt.datetime) -> str:
    """ISO 8601 UTC with a Z."""
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    ) -> None:
        self.db, self.audit, self.config = db, audit, config
        self._key = secret_key.encode()
        self.fleet = fleet
        self.clock = clock
        self.ca = ca.IssuingCa.load(config.ca_dir)

    def _hash(self, token: str) -> str:
        return hmac.new(self._key, b"enrol:" + token.encode(), hashlib.sha256).hexdigest()

    # tokens -----------------------------------------------------------------------------
    def issue_token(
        self, p: Principal, device_id: str | None = None, ttl_s: int | None = None
    ) -> dict[str, Any]:
        """A one-time token for ``device_id`` (generated when None), bound to ``p``."""
        ttl = ttl_s or self.config.token_ttl_s
        if not 30 <= ttl <= self.config.token_max_ttl_s:
            raise EnrolmentError(f"ttl_s must be 30..{self.config.token_max_ttl_s}", 422)
        if device_id is None:
            device_id = f"{self.config.device_id_prefix}-{secrets.token_hex(5)}"
        try:
            check_id(device_id, "device id")
        except ProtocolError as exc:
            raise EnrolmentError(str(exc), 422) from None
        row = self.db.query("select status from enrolments where device_id = ?", [device_id])
        if row and row[0]["status"] == "enrolled":
            raise EnrolmentError(
                f"device {device_id} is already enrolled: revoke it first "
                f"(provision revoke {device_id}) or rotate its certificate",
                409,
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
            db.table("audit_log").insert(
                AuditService.entry(p, "enrol_token", "device", device_id, detail={"ttl_s": ttl})
            )

        self.db.write(insert)
        return {"token": token, "device_id": device_id, "expires_at": now + ttl, "ttl_s": ttl}

    def _check_token(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token.startswith("cwe_") or len(token) > 100:
            raise EnrolmentError("not an enrolment token: ask for a new one (provision token)", 401)
        rows = self.db.query(
            "select t.*, u.active from enrol_tokens t left join users u on u.id = t.issued_by "
            "where t.token_hash = ?",
            [self._hash(token)],
        )
        if not rows:
            raise EnrolmentError("unknown enrolment token: check it or ask for a new one", 401)
        row = rows[0]
        if row["used_at"] is not None:
            raise EnrolmentError(
                "enrolment token already used: each token enrols one board; ask for a new one",
                401,
            )
        late = self.clock() - row["expires_at"]
        if late > 0:
            raise EnrolmentError(
                f"enrolment token expired {late:.0f}s ago: ask for a new one "
                "(tokens last 5 minutes by default)",
                401,
            )
        if not row["active"]:
            raise EnrolmentError("the technician who issued this token is disabled", 401)
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
        try:
            csr = ca.parse_csr(csr_pem, device_id)
        except ca.CsrError as exc:
            raise EnrolmentError(str(exc), 422) from None
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
                raise EnrolmentError("enrolment token already used; ask for a new one", 401)
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
            db.table("audit_log").insert(
                AuditService.entry(
                    actor,
                    "enrol",
                    "device",
                    device_id,
                    detail={"serial": serial, **reg.model_dump()},
                )
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
            raise EnrolmentError("unknown or expired confirmation token", 401)
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
            raise EnrolmentError(f"device {device_id} is not enrolled", 404)
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
    settings: Any, db: Database, audit: AuditService, extra: dict[str, Any]
) -> EnrolmentService | None:
    """The enrolment service when ``<data_dir>/enrolment.yaml`` exists, else None."""
    path = Path(settings.data_dir) / CONFIG_FILE
    if not path.exists():
        return None
    from .enrolment_lifecycle import LifecycleService

    svc = LifecycleService(
        db, audit, EnrolmentConfig.load(path), settings.secret_key, fleet=lambda: extra.get("fleet")
    )
    svc.refresh_crl_if_due()
    return svc
