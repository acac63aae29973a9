"""Enrolment API: technicians get tokens; boards enrol, confirm and rotate; admins revoke.

Board-facing routes (``begin``, ``enrol``, ``confirm``, ``rotate``) carry no bearer token:
the board is authenticated by the one-time enrolment token, the confirmation token, or a
signature with its current key. Everything else needs a logged-in user's permission.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from .api_models import (
    Begun,
    Confirmed,
    Enrolled,
    EnrolledDevice,
    EnrolmentItem,
    Revoked,
    Rotated,
    TokenIssued,
)
from .lifecycle import LifecycleService
from .service import EnrolmentError, Registration

router = APIRouter(prefix="/api/enrolment", tags=["enrolment"])


def _svc(services: Any) -> LifecycleService:
    svc = services.extra.get("enrolment")
    if svc is None:
        raise HTTPException(
            503,
            "enrolment is not configured on this coordinator: run `provision broker-config "
            "--coordinator-dir DATA_DIR` (writes enrolment.yaml) and restart",
        )
    return svc


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except EnrolmentError as exc:
        raise HTTPException(exc.status, str(exc)) from None


class TokenIn(BaseModel):
    """A token request; the device id is generated when omitted."""

    model_config = ConfigDict(extra="forbid")
    device_id: str | None = Field(None, max_length=64)
    ttl_s: int | None = Field(None, ge=30, le=86400, description="Lifetime (default 300 s)")


class BeginIn(BaseModel):
    """A board checks its token and learns its assigned id."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=200)


class EnrolIn(Registration):
    """A board's enrolment: the token, its CSR and where it stands."""

    token: str = Field(max_length=200)
    csr: str = Field(max_length=8192, description="PEM CSR, CN = assigned device id")


class ConfirmIn(BaseModel):
    """The confirmation token returned by ``enrol``."""

    model_config = ConfigDict(extra="forbid")
    confirm_token: str = Field(max_length=200)


class RotateIn(BaseModel):
    """A rotation request signed with the board's current key."""

    model_config = ConfigDict(extra="forbid")
    certificate: str = Field(max_length=16384, description="current certificate PEM")
    csr: str = Field(max_length=8192, description="CSR for the new key")
    proof: str = Field(max_length=512, description="base64 ECDSA signature, current key")


class RevokeIn(BaseModel):
    """Why the board is revoked (recorded in the audit log)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def issue_token(
    body: TokenIn, services: ServicesDep, p: Annotated[Principal, Depends(require(Perm.ENROL))]
) -> dict[str, Any]:
    """A one-time enrolment token bound to the caller (default 5 minutes)."""
    return _call(_svc(services).issue_token, p, body.device_id, body.ttl_s)


@router.post("/begin", response_model=Begun)
def begin(body: BeginIn, services: ServicesDep) -> dict[str, Any]:
    """Check a token without using it; answers the assigned device id."""
    return _call(_svc(services).begin, body.token)


@router.post("/enrol", response_model=Enrolled, status_code=201)
def enrol(body: EnrolIn, services: ServicesDep) -> dict[str, Any]:
    """Use the token: sign the CSR, register the board, return its certificate and broker."""
    reg = Registration(**body.model_dump(exclude={"token", "csr"}))
    return _call(_svc(services).enrol, body.token, body.csr, reg)


@router.post("/confirm", response_model=Confirmed)
def confirm(body: ConfirmIn, services: ServicesDep) -> dict[str, Any]:
    """Whether the centre has received the board's first authenticated state message."""
    return _call(_svc(services).confirm, body.confirm_token)


@router.post("/devices/{device_id}/rotate", response_model=Rotated)
def rotate(device_id: str, body: RotateIn, services: ServicesDep) -> dict[str, Any]:
    """New certificate for the board's new key (proof: signature with its current key)."""
    return _call(_svc(services).rotate, device_id, body.certificate, body.csr, body.proof)


@router.get("/devices", response_model=list[EnrolmentItem])
def list_devices(
    services: ServicesDep, p: Annotated[Principal, Depends(require(Perm.DEVICES_READ))]
) -> list[dict[str, Any]]:
    """Every enrolled or revoked board."""
    return _svc(services).list()


@router.get("/devices/{device_id}", response_model=EnrolledDevice)
def status(
    device_id: str,
    services: ServicesDep,
    p: Annotated[Principal, Depends(require(Perm.DEVICES_READ))],
) -> dict[str, Any]:
    """A board's enrolment, certificates, expiry and first sighting."""
    return _call(_svc(services).status, device_id)


@router.post("/devices/{device_id}/revoke", response_model=Revoked)
def revoke(
    device_id: str,
    body: RevokeIn,
    services: ServicesDep,
    p: Annotated[Principal, Depends(require(Perm.DEVICES_WRITE))],
) -> dict[str, Any]:
    """Revoke the board: CRL, broker reload, live session dropped; timings returned."""
    return _call(_svc(services).revoke, device_id, p, body.reason)


@router.get("/crl", response_class=PlainTextResponse)
def crl(services: ServicesDep) -> str:
    """The current CRL (PEM); public, as CRLs are."""
    return _svc(services).config.crl_file.read_text()
