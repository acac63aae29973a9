"""Login (with its second step), logout, the caller's identity and the audit log (staff
administration is ``coordinator/staff``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Unauthenticated
from ..http.client import client_address
from ..http.deps import (
    AuditDep,
    AuthDep,
    SettingsDep,
    ThrottleDep,
    bearer_token,
    get_principal,
    require,
)
from .api_models import AuditEntry
from .auth import LoginOutcome, Principal
from .permissions import Perm

router = APIRouter(prefix="/api", tags=["auth"])


class LoginBody(BaseModel):
    """Credentials (and, for accounts with a second factor, optionally the code at once)."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(
        None, max_length=10, description="the authenticator's 6-digit code, for one-step login"
    )


class SecondStepBody(BaseModel):
    """The second step of a login: the challenge and the authenticator's code."""

    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=6, max_length=10)


class ChallengeBody(BaseModel):
    """A login challenge (to enrol an authenticator during a first login)."""

    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    """A bearer token and what it grants, or the second step the login still needs."""

    access_token: str | None
    token_type: str = "bearer"
    expires_at: float | None
    username: str
    roles: list[str]
    permissions: list[str]
    zones: list[str]
    second_factor: Literal["totp", "totp_enrol"] | None = Field(
        None, description="set when a one-time code is still needed (then no token yet)"
    )
    challenge: str | None = Field(None, description="pass to /api/auth/login/totp with the code")


class EnrolmentOut(BaseModel):
    """A new authenticator secret: shown once, kept after a code from it is verified."""

    secret: str
    otpauth_uri: str


class MeOut(BaseModel):
    """The caller's identity and permissions (the UI shows only what these allow)."""

    username: str
    roles: list[str]
    permissions: list[str]
    zones: list[str]
    merchant_id: str | None
    unit_id: str | None


def _token_out(out: LoginOutcome) -> TokenOut:
    p = out.principal
    return TokenOut(
        access_token=out.token,
        expires_at=out.expires_at,
        username=p.username,
        roles=p.role_names,
        permissions=sorted(p.perms) if out.token else [],
        zones=sorted(p.zones) if out.token else [],
        second_factor=out.second_factor,  # type: ignore[arg-type]
        challenge=out.challenge,
    )


THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many failed logins from this address (Retry-After)"}
}


@router.post("/auth/login", response_model=TokenOut, responses=THROTTLED)
def login(
    request: Request,
    body: LoginBody,
    auth: AuthDep,
    audit: AuditDep,
    throttle: ThrottleDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange a username and password for a bearer token (one shift long); accounts that
    read personal data get a challenge for the second step instead (or send ``totp_code``).
    Failures (passwords and codes) are slowed per client address (429 with Retry-After)."""
    address = client_address(request, settings.trusted_proxies)
    attempt = throttle.reserve(address, body.username)
    try:
        out = auth.login(body.username, body.password, body.totp_code)
    except Unauthenticated as exc:
        throttle.failed(address, body.username, str(exc))
        raise
    throttle.succeeded(attempt)
    if out.token:
        audit.record(out.principal, "login", "user", out.principal.user_id,
                     detail={"second_factor": bool(body.totp_code), "address": address})  # fmt: skip
    return _token_out(out)


@router.post("/auth/login/totp", response_model=TokenOut, responses=THROTTLED)
def login_second_step(
    request: Request,
    body: SecondStepBody,
    auth: AuthDep,
    audit: AuditDep,
    throttle: ThrottleDep,
    settings: SettingsDep,
) -> TokenOut:
    """The second step: the challenge from /api/auth/login and the authenticator's code
    (a wrong code counts as a failed login from this address)."""
    address = client_address(request, settings.trusted_proxies)
    attempt = throttle.reserve(address, "")
    try:
        out = auth.complete_login(body.challenge, body.code)
    except Unauthenticated as exc:
        throttle.failed(address, "", str(exc))
        raise
    throttle.succeeded(attempt)
    audit.record(out.principal, "login", "user", out.principal.user_id,
                 detail={"second_factor": True, "address": address})  # fmt: skip
    return _token_out(out)


@router.post("/auth/totp/enrol", response_model=EnrolmentOut)
def enrol_authenticator(body: ChallengeBody, auth: AuthDep, audit: AuditDep) -> EnrolmentOut:
    """During a first login: a new authenticator secret (shown once; kept once a code from
    it is verified by /api/auth/login/totp)."""
    e = auth.enrol_second_factor(body.challenge)
    uid = auth.mfa.challenge(body.challenge)["user_id"]
    name = auth.db.query("select username from users where id = ?", [uid])[0]["username"]
    audit.record(name, "totp_enrol_started", "user", uid)
    return EnrolmentOut(secret=e.secret, otpauth_uri=e.otpauth_uri)


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request, auth: AuthDep, p: Annotated[Principal, Depends(get_principal)]
) -> None:
    """Revoke the caller's token."""
    auth.logout(bearer_token(request))


@router.get("/auth/me", response_model=MeOut)
def me(p: Annotated[Principal, Depends(get_principal)]) -> MeOut:
    """Who am I, and what may I do."""
    return MeOut(
        username=p.username,
        roles=p.role_names,
        permissions=sorted(p.perms),
        zones=sorted(p.zones),
        merchant_id=p.merchant_id,
        unit_id=p.unit_id,
    )


@router.get("/audit", response_model=list[AuditEntry])
def audit_log(
    audit: AuditDep,
    p: Annotated[Principal, Depends(require(Perm.AUDIT_READ))],
    actor: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    limit: int = 200,
) -> list[dict]:
    """Search the audit log (newest first)."""
    return audit.search(
        actor=actor, subject_type=subject_type, subject_id=subject_id, action=action, limit=limit
    )
