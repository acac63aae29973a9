"""Camera-rules routes: current rules and revisions, a new revision, rollback, drift.

Thin: parse, call the service, answer a response model. The service raises the domain's
errors (``coordinator.errors``); the one exception handler maps them to HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response

from ..errors import NotFound
from ..http.deps import CamRulesDep, FleetDep, SnapshotsDep, header_text, require
from ..identity.auth import Principal
from . import permissions
from .models import (
    CameraRules,
    Revision,
    Rollback,
    RulesChange,
    RulesStatus,
    ViewRequested,
    ViewStatus,
)

router = APIRouter(prefix="/api/cameras", tags=["camera rules"])
Reader = Annotated[Principal, Depends(require(permissions.READ))]
Editor = Annotated[Principal, Depends(require(permissions.EDIT))]


@router.get("/rules/drift")
def drift(rules: CamRulesDep, _who: Reader) -> list[RulesStatus]:
    """Every camera with rules: desired vs applied revision, drifting cameras first."""
    return [RulesStatus(**r) for r in rules.drift_summary()]


@router.get("/{device_id}/rules")
def get_rules(device_id: str, rules: CamRulesDep, fleet: FleetDep, _who: Reader) -> CameraRules:
    """A camera's current rules, its revisions (newest first) and drift status."""
    if fleet.get(device_id) is None:
        raise NotFound(f"no device {device_id!r}")
    revs = rules.revisions(device_id)
    return CameraRules(
        current=Revision(**revs[0]) if revs else None,
        revisions=[Revision(**r) for r in revs],
        status=RulesStatus(**rules.status(device_id)),
    )


@router.put("/{device_id}/rules", status_code=201)
def set_rules(device_id: str, body: RulesChange, rules: CamRulesDep, who: Editor) -> Revision:
    """Store the rules as a new revision and publish them as the board's retained config.

    409 when no rule would raise an incident any more, unless ``confirm_no_incident_rules``.
    """
    row = rules.set(
        device_id,
        body.rules.model_dump(exclude_none=True),
        who.username,
        body.reason,
        confirm_no_incident_rules=body.confirm_no_incident_rules,
    )
    return Revision(**row)


@router.post("/{device_id}/rules/rollback", status_code=201)
def rollback(device_id: str, body: Rollback, rules: CamRulesDep, who: Editor) -> Revision:
    """A new revision with an older revision's content (history is never rewritten)."""
    row = rules.rollback(
        device_id,
        body.to_rev,
        who.username,
        body.reason,
        confirm_no_incident_rules=body.confirm_no_incident_rules,
    )
    return Revision(**row)


#: Why the editor asks for a camera's view (recorded with the request and every view).
VIEW_PURPOSE = "camera rules: drawing zones, lines and masks on the camera's current view"
ViewPurpose = Annotated[
    str | None,
    Header(max_length=500, description="why the view is needed (audited; a default is stated)"),
]


@router.post("/{device_id}/view", response_model=ViewRequested, status_code=202)
def request_view(
    device_id: str, snapshots: SnapshotsDep, who: Editor, x_purpose: ViewPurpose = None
) -> dict[str, Any]:
    """Ask the camera for its current view (a fresh frame, privacy masks burned in), within
    its sharing terms; poll the request, then fetch the image (both audited)."""
    return snapshots.request_view(device_id, who, header_text(x_purpose) or VIEW_PURPOSE)


def _view(snapshots: Any, device_id: str, req: str) -> dict[str, Any]:
    row = snapshots.status(req)
    if row["device_id"] != device_id or row["event_id"] is not None:
        raise NotFound(f"no view {req} of camera {device_id}")
    return dict(row)


@router.get("/{device_id}/view/{req}", response_model=ViewStatus)
def view_status(device_id: str, req: str, snapshots: SnapshotsDep, _who: Editor) -> dict[str, Any]:
    """pending, ok (image available), error (the board's reason) or timeout."""
    return _view(snapshots, device_id, req)


@router.get("/{device_id}/view/{req}/image", response_class=Response)
def view_image(
    device_id: str, req: str, snapshots: SnapshotsDep, who: Editor, x_purpose: ViewPurpose = None
) -> Response:
    """The JPEG as the board sent it, unaltered (the view is audited)."""
    _view(snapshots, device_id, req)
    data, mime = snapshots.image(req, who, header_text(x_purpose) or VIEW_PURPOSE)
    return Response(content=data, media_type=mime, headers={"Cache-Control": "no-store"})
