"""Snapshot requests and views (on demand, audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from .api_models import SnapshotRequest, SnapshotStatus
from .snapshots import SnapshotError

router = APIRouter(prefix="/api", tags=["snapshots"])
Asker = Annotated[Principal, Depends(require(Perm.SNAPSHOT_REQUEST))]


@router.post("/incidents/{incident_id}/snapshot", response_model=SnapshotRequest, status_code=202)
def request_snapshot(incident_id: str, services: ServicesDep, who: Asker) -> dict[str, Any]:
    """Ask the camera for the frame of the incident's latest event (answer arrives later)."""
    try:
        return services.extra["snapshots"].request(incident_id, who.username)
    except SnapshotError as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/snapshots/{req}", response_model=SnapshotStatus)
def snapshot_status(req: str, services: ServicesDep, _who: Asker) -> dict[str, Any]:
    """pending, ok (image available) or error (with the board's reason)."""
    try:
        return services.extra["snapshots"].status(req)
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/snapshots/{req}/image", response_class=Response)
def snapshot_image(req: str, services: ServicesDep, who: Asker) -> Response:
    """The JPEG itself (each view is audited)."""
    try:
        data, mime = services.extra["snapshots"].image(req, who)
    except SnapshotError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(content=data, media_type=mime, headers={"Cache-Control": "no-store"})
