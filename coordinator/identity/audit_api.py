"""The auditor's routes (data-protection officer, permission ``audit:read``): who accessed a
person, unusual lookup volumes, the chain's verification and its signed checkpoints.

The administrator does not hold ``audit:read``. The auditor's own reads are audited too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from ..http.deps import AuditDep, require
from .api_models import AuditCheckpoint, AuditEntry, AuditReport, UnusualVolume
from .audit import public_pem
from .auth import Principal
from .permissions import Perm

router = APIRouter(prefix="/api/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Perm.AUDIT_READ))]


@router.get("/persons/{person_id}", response_model=list[AuditEntry])
def person_accesses(
    person_id: int, audit: AuditDep, p: Auditor,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:  # fmt: skip
    """Who accessed this person: every entry naming them, alone or in a list, newest first."""
    rows = audit.accessed("person", str(person_id), limit)
    audit.record(p, "audit_read", "person", person_id, None, {"entries": len(rows)})
    return rows


@router.get("/unusual", response_model=list[UnusualVolume])
def unusual_volumes(
    audit: AuditDep, p: Auditor,
    days: Annotated[int, Query(ge=1, le=31)] = 1,
    baseline_days: Annotated[int, Query(ge=1, le=365)] = 28,
    factor: Annotated[float, Query(ge=1.0, le=100.0)] = 3.0,
    minimum: Annotated[int, Query(ge=1, le=100000)] = 50,
) -> list[dict[str, Any]]:  # fmt: skip
    """Actors whose personal-data accesses per day exceed ``factor`` × their own mean over
    the ``baseline_days`` before (and at least ``minimum``)."""
    rows = audit.unusual_volumes(days=days, baseline_days=baseline_days, factor=factor,
                                 minimum=minimum)  # fmt: skip
    audit.record(p, "audit_read", "audit", "unusual", None, {"flagged": len(rows)})
    return rows


@router.get("/verify", response_model=AuditReport)
def verify(audit: AuditDep, p: Auditor) -> dict[str, Any]:
    """Walk the hash chain and check every signed checkpoint (the report lists problems)."""
    report = audit.verify().as_dict()
    audit.record(p, "audit_verify", "audit", None, None, {"ok": report["ok"]})
    return report


@router.get("/checkpoints", response_model=list[AuditCheckpoint])
def checkpoints(audit: AuditDep, p: Auditor) -> list[dict[str, Any]]:
    """Every signed checkpoint, oldest first (keep a copy outside the centre)."""
    return audit.checkpoints()


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(audit: AuditDep, p: Auditor) -> str:
    """The checkpoints' verifying key (PEM): keep a copy to verify with later."""
    assert audit.key is not None
    return public_pem(audit.key.public()).decode()
