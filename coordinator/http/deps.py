"""FastAPI dependencies: services, the authenticated principal, permission checks, purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..identity.auth import AuthError, Perm, Principal
from ..services import Services

_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login")


def get_services(request: Request) -> Services:
    """The app's service container."""
    return request.app.state.services


def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer``; 401 when missing, forged or expired."""
    token = creds.credentials if creds else None
    if token is None:
        # Browsers' EventSource cannot set headers: the live stream passes ?token=.
        token = request.query_params.get("access_token")
    if not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        return get_services(request).auth.verify(token)
    except AuthError as exc:
        raise HTTPException(exc.status, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


def require(*perms: Perm) -> Callable[..., Principal]:
    """Dependency factory: the caller must hold every permission in ``perms`` (else 403)."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        missing = [p.value for p in perms if not principal.can(p)]
        if missing:
            raise HTTPException(
                403, f"roles {', '.join(principal.role_names)} lack permission {', '.join(missing)}"
            )
        return principal

    check.required_perms = perms  # type: ignore[attr-defined]  # read by the role-matrix test
    return check


def require_purpose(
    x_purpose: Annotated[
        str | None,
        Header(description="Why personal data is read (recorded in the audit log)", max_length=500),
    ] = None,
) -> str:
    """Personal-data routes need a stated purpose (``X-Purpose`` header); 422 without one."""
    if x_purpose is None or len(x_purpose.strip()) < 3:
        raise HTTPException(422, "state the purpose of this access in the X-Purpose header")
    return x_purpose.strip()


ServicesDep = Annotated[Services, Depends(get_services)]
