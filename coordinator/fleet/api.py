"""Devices, fleet health views, certificate warnings, camera-down alerts, ingest status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import AuditDep, DbDep, FleetDep, IngestDep, MqttDep, ScopeDep, require
from ..identity.auth import Principal
from .api_models import (
    DeadLetter,
    Device,
    DeviceAlert,
    DeviceDetail,
    FleetSummary,
    GroupedAlerts,
    IngestStatus,
    SequenceGap,
    SharingOut,
)
from .permissions import Perm
from .service import DeviceIn
from .sharing import EvidenceSharing, effective_sharing

router = APIRouter(prefix="/api", tags=["fleet"])
Reader = Annotated[Principal, Depends(require(Perm.DEVICES_READ))]


@router.post("/devices", response_model=DeviceDetail, status_code=201)
def register_device(
    body: DeviceIn,
    fleet: FleetDep,
    audit: AuditDep,
    who: Annotated[Principal, Depends(require(Perm.DEVICES_WRITE))],
) -> dict[str, Any]:
    """Register or update a device (upsert by id); the provisioning tool calls this."""
    row = fleet.register(body)
    # An unset sharing term is left out, so the entry reads as it did before the field existed.
    unset = {"evidence_sharing"} if body.evidence_sharing is None else None
    audit.record(
        who,
        "device_register",
        "device",
        body.id,
        detail=body.model_dump(mode="json", exclude=unset),
    )
    return row


class SharingIn(BaseModel):
    """A camera's evidence-sharing terms, as agreed with its owner."""

    model_config = ConfigDict(extra="forbid")
    evidence_sharing: EvidenceSharing | None = Field(
        description="always, on_request (with a stated purpose) or none; null = owner default"
    )
    note: str = Field(
        min_length=3, max_length=500, description="where the terms come from (agreement, letter)"
    )


@router.put("/devices/{device_id}/evidence-sharing", response_model=SharingOut)
def set_evidence_sharing(
    device_id: str,
    body: SharingIn,
    fleet: FleetDep,
    audit: AuditDep,
    who: Annotated[Principal, Depends(require(Perm.DEVICES_WRITE))],
) -> SharingOut:
    """Set whether the centre may take frames from this camera (audited)."""
    value = None if body.evidence_sharing is None else body.evidence_sharing.value
    row = fleet.set_sharing(device_id, value)
    if row is None:
        raise HTTPException(404, f"no device {device_id!r}")
    audit.record(
        who,
        "device_evidence_sharing",
        "device",
        device_id,
        detail={"from": row.get("evidence_sharing"), "to": value, "note": body.note},
    )
    return SharingOut(
        device_id=device_id,
        evidence_sharing=body.evidence_sharing,
        effective=effective_sharing(row["owner_type"], value),
    )


@router.get("/devices", response_model=list[Device])
def list_devices(
    fleet: FleetDep,
    _who: Reader,
    scope: ScopeDep,
    zone: str | None = None,
    owner_type: Literal["government", "company", "community"] | None = None,
    owner_org: str | None = None,
    status: Literal["online", "offline", "stale", "unknown", "revoked"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
    centre: str | None = None,
    org_id: Annotated[int | None, Query(ge=1, description="owner organisation")] = None,
) -> list[dict[str, Any]]:
    """Devices of your centres, filtered by zone, centre, owner and health status."""
    return fleet.search(
        org_id=org_id,
        centre=centre,
        scope=scope,
        zone=zone,
        owner_type=owner_type,
        owner_org=owner_org,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get("/devices/{device_id}", response_model=DeviceDetail)
def get_device(device_id: str, fleet: FleetDep, _who: Reader, scope: ScopeDep) -> dict[str, Any]:
    """One device of your centres with its health, status and open alerts."""
    row = fleet.get(device_id)
    if row is None or not scope.allows(row.get("centre_id")):
        raise HTTPException(404, f"no device {device_id!r}")
    return row


@router.get("/devices/{device_id}/lost-events", response_model=list[SequenceGap])
def lost_events(device_id: str, ingest: IngestDep, _who: Reader) -> list[dict[str, Any]]:
    """Sequence gaps of a device: events it sent that never arrived."""
    return ingest.lost_events(device_id)


@router.get("/fleet/summary", response_model=FleetSummary)
def fleet_summary(
    fleet: FleetDep,
    _who: Reader,
    scope: ScopeDep,
    by: Literal["zone", "owner_type", "owner_org", "centre_id", "org_id"] = "zone",
) -> dict[str, Any]:
    """Online / offline / stale / unknown / cert-expiring counts of your centres' cameras
    per zone, centre or owner."""
    return fleet.summary(by, scope)


@router.get("/fleet/cert-expiry", response_model=list[Device])
def cert_expiry(
    fleet: FleetDep, _who: Reader, days: Annotated[float | None, Query(gt=0, le=3650)] = None
) -> list[dict[str, Any]]:
    """Devices whose certificate expires within ``days`` (default: the warning window, 30)."""
    return fleet.cert_expiring(days)


@router.get("/fleet/alerts", response_model=list[DeviceAlert])
def fleet_alerts(
    fleet: FleetDep, _who: Reader, scope: ScopeDep, open_only: bool = True
) -> list[dict[str, Any]]:
    """Camera-down alerts of your centres' cameras (device offline or health stale)."""
    return fleet.alerts(open_only=open_only, scope=scope)


@router.get("/fleet/alert-groups", response_model=GroupedAlerts)
def fleet_alert_groups(
    fleet: FleetDep,
    _who: Reader,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> dict[str, Any]:
    """Open camera-down alerts of your centres' cameras, with cameras down together folded
    into one group each (a group reaching into another centre shows only your members)."""
    return fleet.alert_groups(limit, scope)


@router.get("/ingest/status", response_model=IngestStatus)
def ingest_status(ingest: IngestDep, mqtt: MqttDep, _who: Reader) -> dict[str, Any]:
    """Ingest counters, queue depth and lag."""
    st = ingest.stats
    return {
        "received": st.received,
        "stored": st.stored,
        "duplicates": st.duplicates,
        "lost": st.lost,
        "late": st.late,
        "skewed": st.skewed,
        "dead_letters": dict(st.dead_letters),
        "lag_s": st.lag_s,
        "queued": ingest.queued,
        "mqtt_connected": mqtt.connected.is_set(),
    }


@router.get("/ingest/dead-letters", response_model=list[DeadLetter])
def dead_letters(
    db: DbDep, _who: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Newest dead letters with their reason; raw bytes as hex (first 512 bytes)."""
    rows = db.query("select * from dead_letters order by id desc limit ?", [limit])
    for r in rows:
        r["raw"] = bytes(r["raw"] or b"")[:512].hex()
    return rows
