"""Response models of the population routes the officers' screens read."""

from __future__ import annotations

from typing import Any

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


class RegistrationItem(Answer):
    """A residence registration as lists show it, with the person's name."""

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
    name: str | None = None
    name_latin: str | None = None
    id_masked: str | None = None


class LookupOut(Answer):
    """People found by ID number, and how many matches lie outside the officer's zones."""

    results: list[PersonListItem]
    outside_jurisdiction: list[Any]
