"""Snapshot requests and views (on demand, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..http.deps import SnapshotsDep, require
from ..identity.auth import Principal
from .api_models import SnapshotRequest, SnapshotStatus
from .permissions import Perm

router = APIRouter(prefix="/api", tags=["snapshots"])
Asker = Annotated[Principal, Depends(require(Perm.SNAPSHOT_REQUEST))]


@router.post("/incidents/{incident_id}/snapshot", response_model=SnapshotRequest, status_code=202)
def request_snapshot(incident_id: str, snapshots: SnapshotsDep, who: Asker) -> dict[str, Any]:
    """Ask the camera for the frame of the incident's latest event (answer arrives later)."""
    return snapshots.request(incident_id, who.username)


@router.get("/snapshots/{req}", response_model=SnapshotStatus)
def snapshot_status(req: str, snapshots: SnapshotsDep, _who: Asker) -> dict[str, Any]:
    """pending, ok (image available) or error (with the board's reason)."""
    return snapshots.status(req)


@router.get("/snapshots/{req}/image", response_class=Response)
def snapshot_image(req: str, snapshots: SnapshotsDep, who: Asker) -> Response:
    """The JPEG itself (each view is audited)."""
    data, mime = snapshots.image(req, who)
    return Response(content=data, media_type=mime, headers={"Cache-Control": "no-store"})
