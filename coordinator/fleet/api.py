"""Devices, fleet health views, certificate warnings, camera-down alerts, ingest status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from .api_models import (
    DeadLetter,
    Device,
    DeviceAlert,
    DeviceDetail,
    FleetSummary,
    IngestStatus,
    SequenceGap,
    SharingOut,
)
from .service import DeviceIn
from .sharing import EvidenceSharing, effective_sharing

router = APIRouter(prefix="/api", tags=["fleet"])
Reader = Annotated[Principal, Depends(require(Perm.DEVICES_READ))]


@router.post("/devices", response_model=DeviceDetail, status_code=201)
def register_device(
    body: DeviceIn,
    services: ServicesDep,
    who: Annotated[Principal, Depends(require(Perm.DEVICES_WRITE))],
) -> dict[str, Any]:
    """Register or update a device (upsert by id); the provisioning tool calls this."""
    row = services.extra["fleet"].register(body)
    # An unset sharing term is left out, so the entry reads as it did before the field existed.
    unset = {"evidence_sharing"} if body.evidence_sharing is None else None
    services.audit.record(
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
    services: ServicesDep,
    who: Annotated[Principal, Depends(require(Perm.DEVICES_WRITE))],
) -> SharingOut:
    """Set whether the centre may take frames from this camera (audited)."""
    value = None if body.evidence_sharing is None else body.evidence_sharing.value
    row = services.extra["fleet"].set_sharing(device_id, value)
    if row is None:
        raise HTTPException(404, f"no device {device_id!r}")
    services.audit.record(
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
    services: ServicesDep,
    _who: Reader,
    zone: str | None = None,
    owner_type: Literal["government", "company", "community"] | None = None,
    owner_org: str | None = None,
    status: Literal["online", "offline", "stale", "unknown", "revoked"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Devices filtered by zone, owner and health status."""
    return services.extra["fleet"].search(
        zone=zone,
        owner_type=owner_type,
        owner_org=owner_org,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get("/devices/{device_id}", response_model=DeviceDetail)
def get_device(device_id: str, services: ServicesDep, _who: Reader) -> dict[str, Any]:
    """One device with its health, status and open alerts."""
    row = services.extra["fleet"].get(device_id)
    if row is None:
        raise HTTPException(404, f"no device {device_id!r}")
    return row


@router.get("/devices/{device_id}/lost-events", response_model=list[SequenceGap])
def lost_events(device_id: str, services: ServicesDep, _who: Reader) -> list[dict[str, Any]]:
    """Sequence gaps of a device: events it sent that never arrived."""
    return services.extra["ingest"].lost_events(device_id)


@router.get("/fleet/summary", response_model=FleetSummary)
def fleet_summary(
    services: ServicesDep, _who: Reader, by: Literal["zone", "owner_type", "owner_org"] = "zone"
) -> dict[str, Any]:
    """Online / offline / stale / unknown / cert-expiring counts per zone or owner."""
    return services.extra["fleet"].summary(by)


@router.get("/fleet/cert-expiry", response_model=list[Device])
def cert_expiry(
    services: ServicesDep, _who: Reader, days: Annotated[float | None, Query(gt=0, le=3650)] = None
) -> list[dict[str, Any]]:
    """Devices whose certificate expires within ``days`` (default: the warning window, 30)."""
    return services.extra["fleet"].cert_expiring(days)


@router.get("/fleet/alerts", response_model=list[DeviceAlert])
def fleet_alerts(
    services: ServicesDep, _who: Reader, open_only: bool = True
) -> list[dict[str, Any]]:
    """Camera-down alerts (device offline or health stale)."""
    return services.extra["fleet"].alerts(open_only=open_only)


@router.get("/ingest/status", response_model=IngestStatus)
def ingest_status(services: ServicesDep, _who: Reader) -> dict[str, Any]:
    """Ingest counters, queue depth and lag."""
    ing = services.extra["ingest"]
    st = ing.stats
    return {
        "received": st.received,
        "stored": st.stored,
        "duplicates": st.duplicates,
        "lost": st.lost,
        "late": st.late,
        "skewed": st.skewed,
        "dead_letters": dict(st.dead_letters),
        "lag_s": st.lag_s,
        "queued": ing.queued,
        "mqtt_connected": services.extra["mqtt"].connected.is_set(),
    }


@router.get("/ingest/dead-letters", response_model=list[DeadLetter])
def dead_letters(
    services: ServicesDep, _who: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Newest dead letters with their reason; raw bytes as hex (first 512 bytes)."""
    rows = services.db.query("select * from dead_letters order by id desc limit ?", [limit])
    for r in rows:
        r["raw"] = bytes(r["raw"] or b"")[:512].hex()
    return rows
