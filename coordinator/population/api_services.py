"""Population API: rented houses, foreign visitors, residence permits, service requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import require
from ..identity.auth import Principal
from .api_common import DbId, PathId, Pop, Purpose
from .api_models import (
    ExpiringPermit,
    House,
    HouseItem,
    Permit,
    PermitEligibility,
    RequestCategory,
    ServiceRequest,
    ServiceRequestItem,
    Visit,
)
from .permissions import Perm

router = APIRouter(prefix="/api/population", tags=["population"])
Reader = Annotated[Principal, Depends(require(Perm.POPULATION_READ))]
Writer = Annotated[Principal, Depends(require(Perm.POPULATION_WRITE))]


class HouseIn(BaseModel):
    """A letting registration by a landlord (an existing person)."""

    model_config = ConfigDict(extra="forbid")
    address: str = Field(max_length=300)
    zone: str = Field(max_length=32)
    landlord_id: DbId
    rooms: int | None = Field(None, ge=1, le=500)


class VisitIn(BaseModel):
    """A foreign visitor's accommodation registration."""

    model_config = ConfigDict(extra="forbid")
    person_id: DbId
    visa_type: str = Field(max_length=20)
    visa_expiry: str = Field(max_length=10, description="YYYY-MM-DD")
    host_kind: Literal["hotel", "host"]
    host_name: str | None = Field(None, max_length=100, description="a hotel's name")
    address: str | None = Field(None, max_length=300, description="a hotel's address")
    zone: str | None = Field(None, max_length=32, description="a hotel's zone")
    house_id: DbId | None = Field(None, description="a private host's registered house")
    host_person_id: DbId | None = Field(
        None, description="the host: the house's landlord (default) or a person registered there"
    )
    arrived_at: str = Field(max_length=40, description="ISO date-time of arrival")
    planned_departure: str | None = Field(None, max_length=10)
    accept_expired_visa: bool = False


class RequestIn(BaseModel):
    """A service request taken by hotline, at the counter or on the web."""

    model_config = ConfigDict(extra="forbid")
    channel: Literal["hotline", "walk_in", "web"]
    category: str = Field(max_length=40)
    description: str = Field(max_length=4000)
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=30)
    person_id: DbId | None = None
    zone: str = Field(max_length=32)


class RequestStep(BaseModel):
    """A step in a request's life: assign, start, resolve, close."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["assigned", "in_progress", "resolved", "closed"]
    assignee: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=1000)
    resolution: str | None = Field(None, max_length=4000)
    satisfaction: int | None = Field(None, ge=1, le=5)


# houses ------------------------------------------------------------------------------
@router.post("/houses", response_model=House, status_code=201)
def register_letting(body: HouseIn, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Register a rented house and its landlord."""
    return pop.housing.register_letting(p, body.model_dump(), purpose)


@router.get("/houses", response_model=list[HouseItem])
def list_houses(
    pop: Pop, p: Reader, purpose: Purpose,
    zone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    """Rented houses in your zones."""
    return pop.housing.list(p, purpose, zone, limit)


@router.get("/houses/{house_id}", response_model=House)
def get_house(house_id: PathId, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """A house, its landlord and current tenancies."""
    return pop.housing.get(p, house_id, purpose)


@router.post("/houses/{house_id}/withdraw", response_model=House)
def withdraw_letting(house_id: PathId, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """End a letting (no tenants may remain registered)."""
    return pop.housing.withdraw(p, house_id, purpose)


# visitors ----------------------------------------------------------------------------
@router.post("/visitors", response_model=Visit, status_code=201)
def report_visit(body: VisitIn, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Register a foreign visitor's stay (late reports and visa problems are flagged)."""
    return pop.visitors.report(p, body.model_dump(), purpose)


@router.get("/visitors", response_model=list[Visit])
def list_visits(
    pop: Pop, p: Reader, purpose: Purpose, flagged: bool = False, current: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    """Stays in your zones, flagged ones (late, visa) first."""
    return pop.visitors.list(p, purpose, flagged=flagged, current=current, limit=limit)


@router.get("/visitors/{visit_id}", response_model=Visit)
def get_visit(visit_id: PathId, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """One stay."""
    return pop.visitors.get(p, visit_id, purpose)


@router.post("/visitors/{visit_id}/depart", response_model=Visit)
def depart(visit_id: PathId, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Record the visitor's departure."""
    return pop.visitors.depart(p, visit_id, purpose)


# permits -----------------------------------------------------------------------------
@router.get("/persons/{person_id}/permit-eligibility", response_model=PermitEligibility)
def permit_eligibility(person_id: PathId, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """Whether 6 months of continuous registered residence are reached."""
    return pop.permits.check(p, person_id, purpose)


@router.post("/persons/{person_id}/permits", response_model=Permit, status_code=201)
def issue_permit(person_id: PathId, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Issue a residence permit (409 with the reason when not eligible)."""
    return pop.permits.issue(p, person_id, purpose)


@router.get("/permits/expiring", response_model=list[ExpiringPermit])
def expiring_permits(
    pop: Pop, p: Reader, purpose: Purpose, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> list[dict[str, Any]]:
    """Reminders: permits in your zones expiring within ``days``."""
    return pop.permits.expiring(p, purpose, days)


@router.get("/permits/{permit_id}", response_model=Permit)
def get_permit(permit_id: PathId, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """One permit."""
    return pop.permits.get(p, permit_id, purpose)


@router.post("/permits/{permit_id}/renew", response_model=Permit)
def renew_permit(permit_id: PathId, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Renew for a year (from 30 days before expiry, while still registered)."""
    return pop.permits.renew(p, permit_id, purpose)


# service requests --------------------------------------------------------------------
@router.get("/requests/categories", response_model=list[RequestCategory])
def request_categories(pop: Pop, p: Reader) -> list[dict[str, Any]]:
    """Categories and their SLA in hours."""
    return pop.requests.categories()


@router.post("/requests", response_model=ServiceRequest, status_code=201)
def create_request(body: RequestIn, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Take a service request in."""
    return pop.requests.create(p, body.model_dump(), purpose)


@router.get("/requests", response_model=list[ServiceRequestItem])
def list_requests(
    pop: Pop, p: Reader, purpose: Purpose,
    status: Annotated[str | None, Query(max_length=20)] = None,
    overdue: bool = False,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    """Requests in your zones, overdue first."""
    return pop.requests.list(p, purpose, status=status, overdue=overdue,
                assignee=assignee, limit=limit)  # fmt: skip


@router.get("/requests/{request_id}", response_model=ServiceRequest)
def get_request(request_id: PathId, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """One request with its history."""
    return pop.requests.get(p, request_id, purpose)


@router.post("/requests/{request_id}/status", response_model=ServiceRequest)
def request_step(
    request_id: PathId, body: RequestStep, pop: Pop, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Assign, start, resolve or close a request."""
    return pop.requests.change(p, request_id, body.status, purpose,
                assignee=body.assignee, note=body.note, resolution=body.resolution,
                satisfaction=body.satisfaction)  # fmt: skip
