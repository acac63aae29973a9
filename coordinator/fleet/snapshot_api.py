"""Snapshot requests and views (on demand, within the cameras' sharing terms, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import IncidentInScope, SnapshotsDep, header_text, require
from ..identity.auth import Principal
from .api_models import Frame, FramesRequested, SnapshotRequest, SnapshotStatus
from .permissions import Perm

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


@router.post(
    "/incidents/{incident_id}/snapshot",
    response_model=SnapshotRequest,
    status_code=202,
    dependencies=[IncidentInScope],
)
def request_snapshot(
    incident_id: str, snapshots: SnapshotsDep, who: Asker, x_purpose: Purpose = None
) -> dict[str, Any]:
    """Ask the camera for the frame of the incident's latest event (answer arrives later)."""
    return snapshots.request(incident_id, who, header_text(x_purpose))


@router.post(
    "/incidents/{incident_id}/frames",
    response_model=FramesRequested,
    status_code=202,
    dependencies=[IncidentInScope],
)
def request_frames(
    incident_id: str, body: FramesRequest, snapshots: SnapshotsDep, who: Asker
) -> dict[str, Any]:
    """Ask the incident's cameras for its events' frames, where their sharing terms allow
    (refused with the reasons when every camera refuses)."""
    return snapshots.request_incident(incident_id, who, body.purpose, body.event_ids)


@router.get(
    "/incidents/{incident_id}/frames", response_model=list[Frame], dependencies=[IncidentInScope]
)
def incident_frames(incident_id: str, snapshots: SnapshotsDep, _who: Asker) -> list[dict[str, Any]]:
    """The incident's requested frames and their state, with the events' boxes."""
    return snapshots.frames(incident_id)


@router.get("/snapshots/{req}", response_model=SnapshotStatus)
def snapshot_status(req: str, snapshots: SnapshotsDep, _who: Asker) -> dict[str, Any]:
    """pending, ok (image available), error (with the board's reason) or timeout."""
    return snapshots.status(req)


@router.get("/snapshots/{req}/image", response_class=Response)
def snapshot_image(
    req: str, snapshots: SnapshotsDep, who: Asker, x_purpose: Purpose = None
) -> Response:
    """The JPEG as the board sent it (each view is audited with its purpose)."""
    data, mime = snapshots.image(req, who, header_text(x_purpose))
    return Response(content=data, media_type=mime, headers={"Cache-Control": "no-store"})
