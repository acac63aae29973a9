"""Population API: persons, registrations, search, ID lookup, break-the-glass, erasure.

Every route that returns personal data needs an ``X-Purpose`` header and writes an
audit entry before answering (tests/coordinator/population/test_audit_walk.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import require
from ..identity.auth import Principal
from .api_common import DbId, PathId, Pop, Purpose
from .api_models import (
    DocumentExistsOut,
    Erased,
    GlassRequest,
    Grant,
    LookupOut,
    MoveOut,
    PersonCreated,
    PersonListItem,
    PersonRecord,
    RegistrationDetail,
    RegistrationItem,
)
from .permissions import Perm

router = APIRouter(prefix="/api/population", tags=["population"])
Reader = Annotated[Principal, Depends(require(Perm.POPULATION_READ))]
Writer = Annotated[Principal, Depends(require(Perm.POPULATION_WRITE))]
Reviewer = Annotated[Principal, Depends(require(Perm.POPULATION_REVIEW))]


class PersonIn(BaseModel):
    """A person as entered at the counter (no ethnicity, religion or biometrics exist)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)
    name_latin: str | None = Field(None, max_length=100)
    id_type: str = Field(max_length=40)
    id_number: str = Field(max_length=40)
    dob: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    sex: str | None = Field(None, max_length=1)
    nationality: str | None = Field(None, max_length=2, description="ISO 3166 alpha-2")
    origin: str | None = Field(None, max_length=100, description="province or country")
    phone: str | None = Field(None, max_length=30)
    zone: str = Field(max_length=32)
    hukou_place: str | None = Field(
        None, max_length=6, description="registered household place, 6-digit area code "
        "(a PRC ID's first six digits when not given); the city's own code makes a local")  # fmt: skip


class PersonPatch(BaseModel):
    """Corrections to a person (the whole record is re-validated)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=100)
    name_latin: str | None = Field(None, max_length=100)
    id_type: str | None = Field(None, max_length=40)
    id_number: str | None = Field(None, max_length=40)
    dob: str | None = Field(None, max_length=10)
    sex: str | None = Field(None, max_length=1)
    nationality: str | None = Field(None, max_length=2)
    origin: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30)
    zone: str | None = Field(None, max_length=32)
    hukou_place: str | None = Field(None, max_length=6)


class LookupIn(BaseModel):
    """An ID-document number to look up (sent in the body, never in a logged URL)."""

    model_config = ConfigDict(extra="forbid")
    id_type: str = Field(max_length=40)
    id_number: str = Field(max_length=40)


class RegistrationIn(BaseModel):
    """A residence registration."""

    model_config = ConfigDict(extra="forbid")
    person_id: DbId
    kind: Literal["rented", "own", "employer", "other"] = "rented"
    house_id: DbId | None = None
    address: str | None = Field(None, max_length=300)
    zone: str | None = Field(None, max_length=32)
    valid_from: str | None = Field(None, max_length=10)
    valid_to: str | None = Field(None, max_length=10)
    status: Literal["draft", "registered"] = "draft"
    backdate_reason: str | None = Field(
        None, max_length=500, description="why valid_from is before today: a second officer "
        "approves it; until then the registration counts from the day it was recorded")  # fmt: skip


class MoveIn(BaseModel):
    """A change of address: the new residence and the day the person moved."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["rented", "own", "employer", "other"] = "rented"
    house_id: DbId | None = None
    address: str | None = Field(None, max_length=300)
    zone: str | None = Field(None, max_length=32)
    valid_from: str | None = Field(
        None, max_length=10, description="the move date (today unless given; never in the "
        "future); the new registration counts from the day it was recorded")  # fmt: skip
    valid_to: str | None = Field(None, max_length=10)
    note: str | None = Field(None, max_length=1000)


class TransitionIn(BaseModel):
    """A lifecycle step."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["registered", "moved_out", "expired", "archived"]
    note: str | None = Field(None, max_length=1000)


class GlassIn(BaseModel):
    """A break-the-glass request: one person or one zone, a reason, up to an hour; a
    data-access approver decides."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=10, max_length=500)
    person_id: DbId | None = None
    zone: str | None = Field(None, max_length=32)
    minutes: int = Field(60, ge=1, le=60, description="how long the access lasts once approved")


class EmergencyIn(BaseModel):
    """An emergency grant: one person, at once, for 15 minutes, reviewed afterwards."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=10, max_length=500)
    person_id: DbId


class EraseIn(BaseModel):
    """Why a person is erased (anonymised) now."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=10, max_length=500)


@router.post(
    "/persons", response_model=PersonCreated, status_code=201,
    responses={409: {"model": DocumentExistsOut, "description": "the document is on record"}},
)  # fmt: skip
def create_person(body: PersonIn, pop: Pop, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Register a person; likely duplicates are returned and queued for review. A document
    already on record (type, issuing country, number) is never registered twice: 409 names
    the person to open instead."""
    return pop.records.create_person(p, body.model_dump(), purpose)


@router.get("/persons/search", response_model=list[PersonListItem])
def search_persons(
    pop: Pop, p: Reader, purpose: Purpose,
    name: Annotated[str | None, Query(max_length=100)] = None,
    address: Annotated[str | None, Query(max_length=100)] = None,
    zone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:  # fmt: skip
    """Search by name (Chinese characters or Latin spelling) and/or address; IDs masked."""
    return pop.search.persons(p, purpose, name=name, address=address, zone=zone,
                limit=limit)  # fmt: skip


@router.post("/persons/lookup", response_model=LookupOut)
def lookup_person(body: LookupIn, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """Exact lookup by ID-document number (keyed hash); matches outside your zones by id only."""
    return pop.records.lookup_id(p, body.id_type, body.id_number, purpose)


@router.get("/persons/{person_id}", response_model=PersonRecord)
def get_person(
    person_id: PathId, pop: Pop, p: Reader, purpose: Purpose, reveal_id: bool = False
) -> dict[str, Any]:
    """One person with registrations, stays, permits; ``reveal_id`` shows the full ID number."""
    return pop.records.get_person(p, person_id, purpose, reveal=reveal_id)


@router.patch("/persons/{person_id}", response_model=PersonRecord)
def update_person(
    person_id: PathId, body: PersonPatch, pop: Pop, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Correct a person's fields."""
    return pop.records.update_person(p, person_id, body.model_dump(exclude_unset=True),
                purpose)  # fmt: skip


@router.post("/persons/{person_id}/erase", response_model=Erased)
def erase_person(
    person_id: PathId, body: EraseIn, pop: Pop, p: Reviewer, purpose: Purpose
) -> dict[str, Any]:
    """Anonymise a person now (erasure request); audited with the reason."""
    return pop.retention.erase(p, person_id, body.reason, purpose)


@router.post("/registrations", response_model=RegistrationDetail, status_code=201)
def create_registration(
    body: RegistrationIn, pop: Pop, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Register a residence (a rented one needs a registered letting)."""
    return pop.records.register(p, body.model_dump(), purpose)


@router.post("/persons/{person_id}/move", response_model=MoveOut, status_code=201)
def move_person(
    person_id: PathId, body: MoveIn, pop: Pop, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Change of address in one transaction: the current registration ends as moved out and
    the new one opens, registered — or, on any refusal, nothing changes."""
    return pop.records.move(p, person_id, body.model_dump(), purpose)


@router.get("/registrations", response_model=list[RegistrationItem])
def list_registrations(
    pop: Pop, p: Reader, purpose: Purpose,
    status: Annotated[str | None, Query(max_length=20)] = None,
    zone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    """Registrations in your zones, newest first (``status=draft``: awaiting confirmation)."""
    return pop.records.list_registrations(p, purpose, status=status, zone=zone,
                limit=limit)  # fmt: skip


@router.get("/registrations/{reg_id}", response_model=RegistrationDetail)
def get_registration(reg_id: PathId, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """A registration with its status history."""
    return pop.records.get_registration(p, reg_id, purpose)


@router.post("/registrations/{reg_id}/status", response_model=RegistrationDetail)
def transition_registration(
    reg_id: PathId, body: TransitionIn, pop: Pop, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Move a registration along draft → registered → moved out / expired → archived."""
    return pop.records.transition(p, reg_id, body.status, body.note, purpose)


@router.post("/break-glass", response_model=GlassRequest, status_code=202)
def break_glass(body: GlassIn, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """Ask for access to a person or zone outside your jurisdiction (reason, at most an hour);
    it opens when a data-access approver approves (never yourself)."""
    return pop.access.request(p, body.reason, person_id=body.person_id, zone=body.zone,
                              minutes=body.minutes, purpose=purpose)  # fmt: skip


@router.post("/break-glass/emergency", response_model=GlassRequest, status_code=201)
def emergency_glass(body: EmergencyIn, pop: Pop, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """Fifteen minutes' access to one person at once, in an emergency; an approver reviews
    it afterwards (a whole zone always needs approval)."""
    return pop.access.emergency(p, body.reason, body.person_id, purpose)


@router.get("/break-glass", response_model=list[Grant])
def my_grants(pop: Pop, p: Reader) -> list[dict[str, Any]]:
    """Your unexpired break-the-glass grants."""
    return pop.access.active_grants(p)
