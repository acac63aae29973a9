"""Snapshot requests and views (on demand, within the cameras' sharing terms, audited)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from .sharing import EvidenceSharing
from .snapshots import SharingRefused, SnapshotError

router = APIRouter(prefix="/api", tags=["snapshots"])
Asker = Annotated[Principal, Depends(require(Perm.SNAPSHOT_REQUEST))]
Purpose = Annotated[
    str | None,
    Header(
        alias="X-Purpose",
        max_length=500,
        description="why the frame is viewed (audited; defaults to the request's purpose)",
    ),
]
SnapStatus = Literal["pending", "ok", "error", "timeout"]


class FramesRequest(BaseModel):
    """Why the frames are needed (required by cameras shared ``on_request``)."""

    model_config = ConfigDict(extra="forbid")
    purpose: str | None = Field(
        None, max_length=500, description="stated purpose, recorded with the request and audited"
    )
    event_ids: list[str] | None = Field(
        None, min_length=1, max_length=500, description="only these events' frames (default: all)"
    )


class Requested(BaseModel):
    """One frame asked of a board."""

    req: str = Field(description="request id (poll /api/snapshots/{req})")
    device_id: str
    event_id: str
    status: SnapStatus


class Refused(BaseModel):
    """A camera whose sharing terms refused the request, and why."""

    device_id: str
    sharing: EvidenceSharing
    reason: str


class FramesRequested(BaseModel):
    """What was asked of which board, what was refused, and how many were already there."""

    incident_id: str
    requested: list[Requested]
    refused: list[Refused]
    already: int = Field(description="frames of this incident already stored or on their way")


class SnapshotStatus(BaseModel):
    """A snapshot request's state, without the image."""

    req: str
    incident_id: str
    device_id: str
    event_id: str | None
    requested_by: str | None
    purpose: str | None
    created_at: float
    sent_at: float | None
    answered_at: float | None
    attempts: int | None
    status: SnapStatus
    mime: str | None
    width: int | None
    height: int | None
    bytes: int | None
    sha256: str | None = Field(description="SHA-256 of the JPEG as the board sent it")
    error: str | None


class FrameBox(BaseModel):
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


def _refused(exc: SnapshotError) -> HTTPException:
    return HTTPException(403 if isinstance(exc, SharingRefused) else 409, str(exc))


@router.post("/incidents/{incident_id}/snapshot", status_code=202)
def request_snapshot(
    incident_id: str, services: ServicesDep, who: Asker, purpose: Purpose = None
) -> Requested:
    """Ask the camera for the frame of the incident's latest event (answer arrives later)."""
    try:
        return Requested(**services.extra["snapshots"].request(incident_id, who, purpose))
    except SnapshotError as exc:
        raise _refused(exc) from None


@router.post("/incidents/{incident_id}/frames", status_code=202)
def request_frames(
    incident_id: str, body: FramesRequest, services: ServicesDep, who: Asker
) -> FramesRequested:
    """Ask the incident's cameras for its events' frames, where their sharing terms allow
    (403 with the reasons when every camera refuses)."""
    try:
        out = services.extra["snapshots"].request_incident(
            incident_id, who, body.purpose, body.event_ids
        )
    except SnapshotError as exc:
        raise _refused(exc) from None
    return FramesRequested(**out)


@router.get("/incidents/{incident_id}/frames")
def incident_frames(incident_id: str, services: ServicesDep, _who: Asker) -> list[Frame]:
    """The incident's requested frames and their state, with the events' boxes."""
    return [Frame(**r) for r in services.extra["snapshots"].frames(incident_id)]


@router.get("/snapshots/{req}")
def snapshot_status(req: str, services: ServicesDep, _who: Asker) -> SnapshotStatus:
    """pending, ok (image available), error (with the board's reason) or timeout."""
    try:
        return SnapshotStatus(**services.extra["snapshots"].status(req))
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/snapshots/{req}/image", response_class=Response)
def snapshot_image(
    req: str, services: ServicesDep, who: Asker, purpose: Purpose = None
) -> Response:
    """The JPEG as the board sent it (each view is audited with its purpose)."""
    try:
        data, mime = services.extra["snapshots"].image(req, who, purpose)
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(content=data, media_type=mime, headers={"Cache-Control": "no-store"})
