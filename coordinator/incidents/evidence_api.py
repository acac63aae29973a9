"""Evidence export of an incident for hand-over (a zip with hashes; every export audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..fleet.permissions import Perm as FleetPerm
from ..http.deps import EvidenceDep, IncidentInScope, require
from ..identity.auth import Principal
from .permissions import Perm

router = APIRouter(prefix="/api", tags=["evidence"])
# Exporting hands over what an operator may already request and read: no separate role.
Exporter = Annotated[Principal, Depends(require(FleetPerm.SNAPSHOT_REQUEST, Perm.INCIDENTS_READ))]


class ExportRequest(BaseModel):
    """Why the incident is handed over (recorded in the bundle and the audit log)."""

    model_config = ConfigDict(extra="forbid")
    purpose: str = Field(
        min_length=3, max_length=500, description="purpose of the hand-over, e.g. a case number"
    )


@router.post(
    "/incidents/{incident_id}/evidence",
    response_class=Response,
    dependencies=[IncidentInScope],
    responses={
        200: {
            "content": {"application/zip": {}},
            "description": "the evidence bundle; X-Manifest-SHA256 is the manifest's hash",
        }
    },
)
def export_evidence(
    incident_id: str, body: ExportRequest, evidence: EvidenceDep, who: Exporter
) -> Response:
    """The incident's frames, events and action log as a zip with a SHA-256 manifest."""
    data, digest, _meta = evidence.export(incident_id, who, body.purpose)
    return Response(
        content=data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{incident_id}.zip"',
            "X-Manifest-SHA256": digest,
            "Cache-Control": "no-store",
        },
    )
