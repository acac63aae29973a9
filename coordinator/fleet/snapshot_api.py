"""Snapshot requests and views (on demand, within the cameras' sharing terms, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from .api_models import Frame, FramesRequested, SnapshotRequest, SnapshotStatus
from .snapshots import SharingRefused, SnapshotError

router = APIRouter(prefix="/api", tags=["snapshots"])
Asker = Annotated[Principal, Depends(require(Perm.SNAPSHOT_REQUEST))]
Purpose = Annotated[
    str | None,
    Header(
        max_length=500,
        description="why the frame is viewed (audited; defaults to the request's purpose)",
    ),
]


class FramesRequest(BaseModel):
    """Why the frames are needed (required by cameras shared ``on_request``)."""

    model_config = ConfigDict(extra="forbid")
    purpose: str | None = Field(
        None, max_length=500, description="stated purpose, recorded with the request and audited"
    )
    event_ids: list[str] | None = Field(
        None, min_length=1, max_length=500, description="only these events' frames (default: all)"
    )


def _refused(exc: SnapshotError) -> HTTPException:
    return HTTPException(403 if isinstance(exc, SharingRefused) else 409, str(exc))


@router.post("/incidents/{incident_id}/snapshot", response_model=SnapshotRequest, status_code=202)
def request_snapshot(
    incident_id: str, services: ServicesDep, who: Asker, x_purpose: Purpose = None
) -> dict[str, Any]:
    """Ask the camera for the frame of the incident's latest event (answer arrives later)."""
    try:
        return services.extra["snapshots"].request(incident_id, who, x_purpose)
    except SnapshotError as exc:
        raise _refused(exc) from None


@router.post("/incidents/{incident_id}/frames", response_model=FramesRequested, status_code=202)
def request_frames(
    incident_id: str, body: FramesRequest, services: ServicesDep, who: Asker
) -> dict[str, Any]:
    """Ask the incident's cameras for its events' frames, where their sharing terms allow
    (403 with the reasons when every camera refuses)."""
    try:
        return services.extra["snapshots"].request_incident(
            incident_id, who, body.purpose, body.event_ids
        )
    except SnapshotError as exc:
        raise _refused(exc) from None


@router.get("/incidents/{incident_id}/frames", response_model=list[Frame])
def incident_frames(incident_id: str, services: ServicesDep, _who: Asker) -> list[dict[str, Any]]:
    """The incident's requested frames and their state, with the events' boxes."""
    return services.extra["snapshots"].frames(incident_id)


@router.get("/snapshots/{req}", response_model=SnapshotStatus)
def snapshot_status(req: str, services: ServicesDep, _who: Asker) -> dict[str, Any]:
    """pending, ok (image available), error (with the board's reason) or timeout."""
    try:
        return services.extra["snapshots"].status(req)
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/snapshots/{req}/image", response_class=Response)
def snapshot_image(
    req: str, services: ServicesDep, who: Asker, x_purpose: Purpose = None
) -> Response:
    """The JPEG as the board sent it (each view is audited with its purpose)."""
    try:
        data, mime = services.extra["snapshots"].image(req, who, x_purpose)
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(content=data, media_type=mime, headers={"Cache-Control": "no-store"})
