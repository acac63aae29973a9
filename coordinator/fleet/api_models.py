"""Response models of the fleet routes: devices, health summary, alerts, map, snapshots."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..http.answers import Answer
from .sharing import EvidenceSharing

#: ``denied``: the answer came after the owner's agreement stopped sharing; not kept.
SnapStatus = Literal["pending", "ok", "error", "timeout", "denied"]


class Device(Answer):
    """A camera board as registered, with its derived health status and certificate warning."""

    id: str
    owner_org: str
    owner_type: str
    lat: float
    lon: float
    heading: float | None
    zone: str | None
    centre_id: str | None = Field(None, description="monitoring centre, from the location")
    org_id: int | None = Field(None, description="the owner organisation's record")
    profile: str | None
    cert_fingerprint: str | None
    cert_not_after: str | None
    cert_not_after_ts: float | None
    firmware: str | None
    model: str | None
    config_rev: int | None
    config_error: str | None
    status: str | None
    status_at: float | None
    last_health_at: float | None
    health: dict[str, Any] | None
    registered_at: float | None
    updated_at: float | None
    health_status: str
    cert_expiring: bool
    cert_days_left: float | None
    evidence_sharing: EvidenceSharing | None = Field(
        None, description="evidence-sharing setting (none: the owner type's default)"
    )


class HealthCounts(Answer):
    """How many devices are in each health state (and how many certificates expire soon)."""

    online: int
    offline: int
    stale: int
    unknown: int
    revoked: int
    cert_expiring: int


class FleetSummary(Answer):
    """Health counts in total and per group (zone, owner type or owner)."""

    by: str
    groups: dict[str, HealthCounts]
    total: HealthCounts


class DeviceAlert(Answer):
    """A camera-down alert: opened when a board goes offline, closed when it returns."""

    id: int
    device_id: str
    kind: str
    opened_at: float
    closed_at: float | None
    detail: str | None
    group_id: int | None = None


class DeviceAlertGroup(Answer):
    """Cameras that went down together, as one alert ("12 cameras down in zone Z003")."""

    id: int
    dim: str
    value: str
    label: str
    opened_at: float
    last_at: float | None
    closed_at: float | None
    count: int
    open_count: int


class GroupedAlerts(Answer):
    """Open camera-down alerts, flood-proof: groups, the alerts in no group, the totals."""

    groups: list[DeviceAlertGroup]
    singles: list[DeviceAlert]
    open: int
    grouped: int


class CameraColumns(Answer):
    """Every camera for the map, as parallel columns (compact for tens of thousands)."""

    id: list[str]
    lat: list[float | None]
    lon: list[float | None]
    status: list[str]
    count: int


class SnapshotRequest(Answer):
    """A frame requested from the board that saw the event."""

    req: str = Field(description="request id (poll /api/snapshots/{req})")
    device_id: str
    event_id: str | None
    status: SnapStatus


class SnapshotStatus(Answer):
    """A snapshot request's state, without the image."""

    req: str
    incident_id: str | None
    device_id: str
    event_id: str | None
    requested_by: str | None
    purpose: str | None = Field(description="the purpose stated with the request")
    created_at: float
    sent_at: float | None = Field(description="last time the request was sent (it is retried)")
    answered_at: float | None
    attempts: int | None
    status: SnapStatus
    mime: str | None
    width: int | None
    height: int | None
    bytes: int | None
    sha256: str | None = Field(description="SHA-256 of the JPEG as the board sent it")
    error: str | None


class Refused(Answer):
    """A camera whose sharing terms refused the request, and why."""

    device_id: str
    sharing: EvidenceSharing
    reason: str
    agreement: bool = Field(
        False, description="refused by the owner organisation's sharing agreement"
    )


class FramesRequested(Answer):
    """What was asked of which board, what was refused, and how many were already there."""

    incident_id: str
    requested: list[SnapshotRequest]
    refused: list[Refused]
    already: int = Field(description="frames of this incident already stored or on their way")


class FrameBox(Answer):
    """An event's box on the frame, in thousandths of the width/height (x1, y1, x2, y2)."""

    event_id: str
    label: str | None
    kind: str | None
    box: list[int]


class Frame(SnapshotStatus):
    """One of the incident's frames, with the boxes the dashboard draws over it."""

    phase: str | None
    t: float | None = Field(description="event time, unix seconds")
    boxes: list[FrameBox]


class SharingOut(Answer):
    """A camera's evidence-sharing setting and the terms in force."""

    device_id: str
    evidence_sharing: EvidenceSharing | None
    effective: EvidenceSharing


class DeviceDetail(Device):
    """A device with its camera-down alerts and its camera-rules status."""

    alerts: list[DeviceAlert]
    rules: dict[str, Any] | None = Field(
        None,
        description="camera rules: desired_rev, applied_rev, drift, error, config_level, "
        "masks_unsupported (GET /api/cameras/{id}/rules has the typed form)",
    )


class IngestStatus(Answer):
    """The ingest pipeline's counters since the centre started."""

    received: int
    stored: int
    duplicates: int
    lost: int
    late: int
    skewed: int
    dead_letters: dict[str, int]
    lag_s: float | None
    queued: int
    mqtt_connected: bool


class SequenceGap(Answer):
    """Events a board sent that never arrived: a gap in its sequence numbers."""

    id: int
    dev: str
    first_seq: int
    last_seq: int
    detected_at: float | None


class DeadLetter(Answer):
    """A message ingest refused, with the reason (raw bytes as hex, first 512 bytes)."""

    id: int
    ts: float
    topic: str | None
    device: str | None
    reason: str
    size: int | None
    raw: str
