"""Response models of the population routes the officers' screens read."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..http.answers import Answer


class PersonListItem(Answer):
    """A person as lists show them: the ID number masked, no phone."""

    id: int
    name: str
    name_latin: str | None
    id_type: str | None
    id_masked: str | None
    dob: str | None
    sex: str | None
    nationality: str | None
    origin: str | None
    zone: str | None
    status: str | None
    hukou: str | None = Field(None, description="local, migrant or none (a foreign national)")
    hukou_place: str | None = Field(None, description="registered household place (area code)")


class DuplicateCandidate(Answer):
    """Two records that may be one person, with the score and the reasons."""

    id: int
    score: float
    reasons: list[str]
    status: str
    created_at: float
    person: PersonListItem | None
    other: PersonListItem | None
    decided_by: str | None
    merge_id: int | None = Field(None, description="the merge that settled it (to undo it)")


class ServiceRequestItem(Answer):
    """A resident's service request in the officers' queue."""

    id: int
    channel: str | None
    category: str
    contact_name: str | None
    zone: str | None
    status: str
    assignee: str | None
    due_at: float | None
    created_at: float
    resolved_at: float | None
    satisfaction: int | None
    person_id: int | None
    overdue: bool


class Registration(Answer):
    """A residence registration: who lives where, from when, in which state."""

    id: int
    person_id: int
    kind: str
    house_id: int | None
    address: str | None
    zone: str | None
    valid_from: str | None
    valid_to: str | None
    status: str
    created_at: float
    updated_at: float | None
    recorded_on: str | None = Field(None, description="the day the registration was recorded")
    counts_from: str | None = Field(
        None, description="the day it counts towards a permit from (recorded_on unless an "
        "earlier valid_from was approved by a second officer)")  # fmt: skip
    backdate_state: str | None = Field(
        None, description="pending, approved, rejected, expired or withdrawn"
    )
    backdate_approval_id: int | None = None
    import_job_id: int | None = None


class RegistrationItem(Registration):
    """A registration as lists show it, with the person's name (ID number masked)."""

    name: str | None = None
    name_latin: str | None = None
    id_masked: str | None = None


class StatusStep(Answer):
    """One step of a record's status history."""

    ts: float
    actor: str
    from_status: str | None
    to_status: str
    note: str | None


class RegistrationDetail(Registration):
    """A registration with its status history."""

    history: list[StatusStep]


class MoveOut(Answer):
    """A change of address: the registration opened and the ones it ended (moved out)."""

    registration: RegistrationDetail
    moved_out: list[int]


class LookupOut(Answer):
    """People found by ID number, and how many matches lie outside the officer's zones."""

    results: list[PersonListItem]
    outside_jurisdiction: list[Any]


class PersonRecord(PersonListItem):
    """A person's full record with what hangs on it (read with a stated purpose)."""

    phone: str | None
    merged_into: int | None
    closed_at: float | None
    registrations: list[Registration]
    visits: list[dict[str, Any]]
    permits: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    houses: list[dict[str, Any]]


class PersonCreated(Answer):
    """The person registered, and the likely duplicates queued for review."""

    person: PersonRecord
    duplicates: list[dict[str, Any]]


class Landlord(Answer):
    """A house's landlord (ID number masked)."""

    id: int
    name: str
    name_latin: str | None
    id_masked: str | None
    phone: str | None


class Tenancy(Answer):
    """A registration at a house, as the house shows it."""

    id: int
    person_id: int
    name: str | None
    status: str
    valid_from: str | None
    valid_to: str | None


class House(Answer):
    """A letting: the house, its landlord and who is registered there."""

    id: int
    address: str
    zone: str | None
    landlord_id: int | None
    rooms: int | None
    status: str
    registered_at: float
    withdrawn_at: float | None
    landlord: Landlord | None
    tenancies: list[Tenancy]


class PopulationStats(Answer):
    """Counts by group (small counts shown as "<5" so no person can be singled out)."""

    zone: dict[str, int | str]
    origin: dict[str, int | str]
    nationality: dict[str, int | str]
    registration_status: dict[str, int | str]
    request_category: dict[str, int | str]
    request_status: dict[str, int | str]
    totals: dict[str, int]
    centre: dict[str, int | str] | None = Field(
        None, description="persons per monitoring centre (zones rolled up the area hierarchy)"
    )
    station: dict[str, int | str] | None = Field(
        None, description="persons per police-station area (zones rolled up)"
    )
    hukou: dict[str, int | str] | None = Field(
        None, description="persons by hukou status: local, migrant, none (foreign nationals)"
    )
    zone_hukou: dict[str, int | str] | None = Field(
        None, description="persons per patrol zone and hukou status ('Z01|migrant')"
    )
    station_hukou: dict[str, int | str] | None = Field(
        None, description="persons per police-station area and hukou status"
    )
    centre_hukou: dict[str, int | str] | None = Field(
        None, description="persons per monitoring centre and hukou status"
    )


class Erased(Answer):
    """A record after erasure or a decision that closes it."""

    id: int
    status: str


class Grant(Answer):
    """A break-glass grant: temporary access beyond the officer's zones, with its reason."""

    id: int
    username: str
    person_id: int | None
    zone: str | None
    reason: str
    granted_at: float
    expires_at: float


class GlassRequest(Answer):
    """A break-the-glass request through the approvals service (``/api/approvals/{id}``)."""

    id: int
    kind: str
    state: str
    subject_type: str
    subject_id: str | None
    reason: str
    requested_by: str
    duration_s: float | None
    pending_until: float
    emergency: bool
    review_state: str | None
    result: dict[str, Any] | None


class HouseItem(Answer):
    """A letting as lists show it: the landlord's name and the number of tenants."""

    id: int
    address: str
    zone: str | None
    status: str
    rooms: int | None
    landlord_id: int | None
    landlord: str | None
    tenants: int


class Visit(Answer):
    """A foreign visitor's reported stay, with the flags the reporting rules raised."""

    id: int
    person_id: int
    visa_type: str | None
    visa_expiry: str | None
    host_kind: str | None
    host_name: str | None
    address: str | None
    zone: str | None
    arrived_at: float | None
    reported_at: float | None
    planned_departure: str | None
    departed_at: float | None
    late: int | None
    flags: list[str]
    name: str | None
    name_latin: str | None
    nationality: str | None
    id_masked: str | None
    house_id: int | None = Field(None, description="the registered house stayed at")
    host_person_id: int | None = Field(None, description="the host (a person on record)")


class PermitEligibility(Answer):
    """Whether a person may get a residence permit yet, and from when."""

    person_id: int
    eligible: bool
    since: str | None
    eligible_from: str | None
    reason: str | None
    channel: str = Field(
        "population", description="where the permit is applied for: population or hall"
    )


class Permit(Answer):
    """A residence permit."""

    id: int
    person_id: int
    number: str
    issued_on: str | None
    expires_on: str | None
    renewals: int | None
    status: str
    zone: str | None
    created_at: float | None
    name: str | None = None
    id_masked: str | None = None


class ExpiringPermit(Answer):
    """A permit that expires soon, with the holder's name and phone for the reminder."""

    id: int
    person_id: int
    number: str
    expires_on: str | None
    zone: str | None
    name: str | None
    phone: str | None


class RequestCategory(Answer):
    """A service-request category and the hours within which it must be answered."""

    category: str
    sla_hours: int


class ServiceRequest(ServiceRequestItem):
    """A service request with its description, contact and status history."""

    description: str | None
    contact_phone: str | None
    resolution: str | None
    closed_at: float | None
    history: list[StatusStep]


class MergeOut(Answer):
    """Two records merged: which survived (reversible with the merge id)."""

    merge_id: int
    survivor_id: int
    merged_id: int


class UnmergeOut(Answer):
    """A merge undone: the record restored."""

    merge_id: int
    restored_id: int


class ImportRowError(Answer):
    """A rejected row of an import: line, reason and masked values (never the raw line)."""

    record: int
    line: int | None
    reason: str
    masked: str


class ImportProgress(Answer):
    """An import's progress: status (running, done, cancelled), records and bytes done."""

    job_id: int
    status: str
    file_name: str
    actor: str
    records: int
    imported: int
    rejected: int
    bytes_done: int
    bytes_total: int
    started_at: float
    updated_at: float | None
    finished_at: float | None
    cancel_requested: bool
    existing: int = Field(0, description="rows for a document already on record (not created)")
    historical_rows: int = Field(0, description="registrations dated before the import")
    file_sha256: str | None = None
    dates_state: str | None = Field(
        None, description="the approval of the batch's historical dates (pending, approved …)"
    )
    dates_approved_by: str | None = None
    dates_approved_at: float | None = None


class ImportJob(ImportProgress):
    """An import's outcome: rows read, imported and rejected (with the first errors)."""

    resumed: bool
    errors: list[ImportRowError]


class UploadState(Answer):
    """A chunked upload: how many bytes the centre holds (send the next chunk from there)."""

    upload_id: str
    received: int
    size: int
    complete: bool


class RetentionRun(Answer):
    """Records the retention job erased or closed, by kind."""

    persons: int
    requests: int


class DocumentExistsOut(Answer):
    """409: the document is on record; the counter opens that person instead."""

    class Detail(Answer):
        """Which person holds the document (by id; no personal data)."""

        message: str
        field: str
        existing_person_id: int
        zone: str
        in_jurisdiction: bool

    detail: Detail


class ImportBatch(Answer):
    """An import batch's provenance and the approval of its historical dates."""

    id: int
    file_sha256: str
    file_name: str
    actor: str
    status: str
    imported: int
    rejected: int
    existing: int
    historical_rows: int
    started_at: float
    finished_at: float | None
    dates_state: str | None
    dates_approval_id: int | None
    dates_requested_by: str | None
    dates_approved_by: str | None
    dates_approved_at: float | None


class CompareSide(Answer):
    """One record of a duplicate pair as the reviewer sees it (ID masked)."""

    person: PersonListItem
    created_at: float
    address: str | None
    registrations: int
    permits: int
    houses: int


class DuplicateCompare(Answer):
    """A duplicate pair side by side: both records, why they may be one, which fields agree."""

    id: int
    score: float
    reasons: list[str]
    status: str
    merge_id: int | None
    left: CompareSide
    right: CompareSide
    same: list[str] = Field(description="fields with equal values")
    differ: list[str] = Field(description="fields with different values")
