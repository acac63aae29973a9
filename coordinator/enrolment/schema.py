"""Enrolment's data: settings (``enrolment.yaml``), the registration a board sends, the
fleet-registry interface, and the schema (tokens, enrolments, certificates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal, Protocol

import sqlite_utils
import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils.migrations import Migrations

CONFIG_FILE = "enrolment.yaml"


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
    service_accounts: list[str] = Field(
        default_factory=list,
        description="The city's broker accounts (coordinator, ingest workers, units): no board "
        "may be enrolled under one of these names (written by provision broker-config)",
    )

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

    def register(self, record: dict[str, Any]) -> object:
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
