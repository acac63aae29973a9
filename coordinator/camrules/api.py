"""Camera-rules routes: current rules and revisions, a new revision, rollback, drift."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from ..http.deps import ServicesDep, require
from ..identity.auth import Principal
from . import permissions
from .models import CameraRules, Revision, Rollback, RulesChange, RulesStatus
from .service import CamRulesService, RulesError

router = APIRouter(prefix="/api/cameras", tags=["camera rules"])
Reader = Annotated[Principal, Depends(require(permissions.READ))]
Editor = Annotated[Principal, Depends(require(permissions.EDIT))]


def _svc(services: Any) -> CamRulesService:
    return services.extra["camrules"]


def _call(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except RulesError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.get("/rules/drift")
def drift(services: ServicesDep, _who: Reader) -> list[RulesStatus]:
    """Every camera with rules: desired vs applied revision, drifting cameras first."""
    return [RulesStatus(**r) for r in _svc(services).drift_summary()]


@router.get("/{device_id}/rules")
def get_rules(device_id: str, services: ServicesDep, _who: Reader) -> CameraRules:
    """A camera's current rules, its revisions (newest first) and drift status."""
    svc = _svc(services)
    if services.extra["fleet"].get(device_id) is None:
        raise HTTPException(404, f"no device {device_id!r}")
    revs = svc.revisions(device_id)
    return CameraRules(
        current=Revision(**revs[0]) if revs else None,
        revisions=[Revision(**r) for r in revs],
        status=RulesStatus(**svc.status(device_id)),
    )


@router.put("/{device_id}/rules", status_code=201)
def set_rules(device_id: str, body: RulesChange, services: ServicesDep, who: Editor) -> Revision:
    """Store the rules as a new revision and publish them as the board's retained config.

    409 when no rule would raise an incident any more, unless ``confirm_no_incident_rules``.
    """
    rules = body.rules.model_dump(exclude_none=True)
    row = _call(
        lambda: _svc(services).set(
            device_id,
            rules,
            who.username,
            body.reason,
            confirm_no_incident_rules=body.confirm_no_incident_rules,
        )
    )
    return Revision(**row)


@router.post("/{device_id}/rules/rollback", status_code=201)
def rollback(device_id: str, body: Rollback, services: ServicesDep, who: Editor) -> Revision:
    """A new revision with an older revision's content (history is never rewritten)."""
    row = _call(
        lambda: _svc(services).rollback(
            device_id,
            body.to_rev,
            who.username,
            body.reason,
            confirm_no_incident_rules=body.confirm_no_incident_rules,
        )
    )
    return Revision(**row)
