"""Response models of the enrolment routes (what the technicians' `provision` command reads)."""

from __future__ import annotations

from pydantic import Field

from ..http.answers import Answer


class TokenIssued(Answer):
    """A one-time enrolment token for a device id."""

    token: str
    device_id: str
    expires_at: float
    ttl_s: int


class Begun(Answer):
    """An enrolment started: the board must finish before it expires."""

    device_id: str
    expires_at: float


class BrokerAddress(Answer):
    """Where the board connects, and its topic root."""

    host: str
    port: int
    topic_root: str


class ServedModel(Answer):
    """A converted, pinned detection model the centre serves (protocol ModelRef)."""

    name: str
    kind: str = Field(description="detector backend that runs it")
    sha256: str
    size: int
    url: str = Field(description="path on the centre; the download is signed with the board's key")


class Enrolled(Answer):
    """The board's certificate, the CA bundle, the broker and the token to confirm with."""

    device_id: str
    certificate: str
    ca_bundle: str
    serial: str
    fingerprint: str
    not_after: str
    broker: BrokerAddress
    confirm_token: str
    registered: bool
    registration_error: str | None
    models: list[ServedModel] = Field(
        default_factory=list, description="models served; the board takes its detector's"
    )


class Confirmed(Answer):
    """An enrolment confirmed by the board's first connection."""

    device_id: str
    first_seen: float | None
    status: str


class Rotated(Answer):
    """A device's new certificate (the old one revoked)."""

    device_id: str
    certificate: str
    serial: str
    fingerprint: str
    not_after: str
    old_serial: str | None
    broker_error: str | None
    registration_error: str | None


class Certificate(Answer):
    """One certificate issued to a device."""

    serial: str
    fingerprint: str
    not_after: str
    issued_at: float
    revoked_at: float | None
    reason: str | None


class EnrolledDevice(Answer):
    """A device's enrolment: owner, place, certificate state and history."""

    device_id: str
    status: str
    owner_org: str | None
    owner_type: str | None
    lat: float | None
    lon: float | None
    heading: float | None
    zone: str | None
    profile: str | None
    serial: str | None
    fingerprint: str | None
    not_after: str | None
    enrolled_by: str | None
    enrolled_at: float | None
    rotated_at: float | None
    revoked_at: float | None
    revoked_by: str | None
    first_seen: float | None
    fleet_error: str | None
    cert_days_left: float | None
    certificates: list[Certificate]


class Revoked(Answer):
    """A revocation: certificates revoked, and how fast the broker dropped the board."""

    device_id: str
    certificates_revoked: int
    crl_written_ms: float | None
    reload: str | None
    crl_live_ms: float | None
    disconnected_ms: float | None
    session_dropped: bool | None


class EnrolmentItem(Answer):
    """An enrolled or revoked board as the list shows it."""

    device_id: str
    status: str
    profile: str | None
    zone: str | None
    owner_org: str | None
    not_after: str | None
    first_seen: float | None
    enrolled_at: float | None
