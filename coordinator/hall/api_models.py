"""Request and response models of the hall's routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..http.answers import Answer

Locale = dict[str, str]


class HallCaseIn(BaseModel):
    """An application taken at the counter."""

    model_config = ConfigDict(extra="forbid")
    service: str = Field(max_length=40, description="a service code of the catalogue")
    applicant_name: str = Field(max_length=100)
    name_latin: str | None = Field(None, max_length=100)
    nationality: str = Field(max_length=2, description="ISO 3166 two-letter code")
    passport_number: str = Field(max_length=40)
    requested_until: str | None = Field(None, max_length=10, description="YYYY-MM-DD asked for")
    person_id: int | None = Field(None, ge=1, description="the population record, if any")
    visit_id: int | None = Field(None, ge=1, description="the accommodation registration")
    note: str | None = Field(None, max_length=1000)


class HallStepIn(BaseModel):
    """A step of a case that is not a decision."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["documents_checked", "under_review", "collected", "withdrawn"]
    note: str | None = Field(None, max_length=1000, description="required to withdraw")


class HallDecisionIn(BaseModel):
    """A decision, always with its reason."""

    model_config = ConfigDict(extra="forbid")
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)
    granted_until: str | None = Field(None, max_length=10, description="YYYY-MM-DD")


class HallRevealIn(BaseModel):
    """Why the full passport number is needed."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class HallFindIn(BaseModel):
    """A passport to look up."""

    model_config = ConfigDict(extra="forbid")
    nationality: str = Field(max_length=2)
    passport_number: str = Field(max_length=40)


class HallCaseItem(Answer):
    """A case as the queue shows it (passport masked)."""

    id: int
    receipt: str
    service: str
    counter: str
    status: str
    applicant_name: str
    name_latin: str | None
    nationality: str
    passport_masked: str
    person_id: int | None
    visit_id: int | None
    requested_until: str | None
    note: str | None
    applied_at: float
    due_at: float
    decided_at: float | None
    closed_at: float | None
    decision: str | None
    decision_reason: str | None
    granted_until: str | None
    clerk: str
    overdue: bool
    due_in_s: float | None
    documents_required: list[str]
    documents_missing: list[str]


class HallDocument(Answer):
    """A document kept for a case (metadata; the body is read separately, audited)."""

    doc: str
    file_id: str
    at: float
    actor: str
    filename: str
    content_type: str
    size: int
    sha256: str


class HallEvent(Answer):
    """One step in a case's history."""

    at: float
    actor: str
    from_status: str | None
    to_status: str
    note: str | None


class HallStay(Answer):
    """The linked accommodation registration (the 24-hour rule's flag)."""

    id: int
    arrived_at: float
    reported_at: float
    late: bool
    flags: list[str]
    address: str


class HallCase(HallCaseItem):
    """One case with its documents, history and linked stay."""

    checked_at: float | None
    review_at: float | None
    documents: list[HallDocument]
    events: list[HallEvent]
    stay: HallStay | None


class PassportReveal(Answer):
    """The full passport number of one case (the reveal is audited)."""

    passport_number: str


class CatalogueCounter(Answer):
    """A counter of the hall."""

    code: str
    name: Locale


class CatalogueDocument(Answer):
    """A kind of supporting document."""

    code: str
    name: Locale


class CatalogueService(Answer):
    """A service, its counter, time limit (working days) and required documents."""

    code: str
    counter: str
    days: int
    name: Locale
    documents: list[str]


class HallCatalogue(Answer):
    """The hall's service catalogue."""

    version: int
    counters: list[CatalogueCounter]
    documents: list[CatalogueDocument]
    services: list[CatalogueService]


class HallAlert(Answer):
    """A deadline alert: a decision due within a day, or overdue."""

    id: int
    case_id: int
    kind: str
    at: float
    receipt: str
    service: str
    counter: str
    status: str
    applicant_name: str
    nationality: str
    due_at: float


class Enquiry(Answer):
    """An application's status for the applicant (no personal data)."""

    receipt: str
    service: str
    status: str
    applied_at: float
    due_at: float
    decided_at: float | None
    closed_at: float | None
    decision: str | None
    ready_for_collection: bool
    overdue: bool


class HallStatCell(Answer):
    """Cases of one nationality and service (None: suppressed)."""

    nationality: str
    service: str
    count: int | None


class HallStats(Answer):
    """Cases by nationality and service, small counts suppressed."""

    year: int | None
    total: int | None
    cells: list[HallStatCell]
    by_service: dict[str, int | None]
    by_nationality: dict[str, int | None]
    min_cell: int


class SweepResult(Answer):
    """Alerts raised by a deadline sweep."""

    overdue: int
    due_soon: int
