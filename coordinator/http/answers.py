"""The base of every response model: the API typed both ways, without dropping data.

A response model names the fields a client may read (they become the OpenAPI schema the
dashboard is checked against). A field a service returns that its model does not name yet is
passed through, never silently dropped: an installed client reading it keeps working, and the
dashboard's contract test fails until the model names it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """Base of response models: declared fields typed, undeclared ones passed through."""

    model_config = ConfigDict(extra="allow")


class Created(Answer):
    """The id of the record a request created."""

    id: int


class IntegrityCheck(Answer):
    """The database's last integrity check (SQLite's ``quick_check``)."""

    status: str  # ok | corrupt | unchecked
    checked_at: float | None = None
    reason: str | None = None
    problems: list[str] = []


class Health(Answer):
    """Liveness: the API answers, the database is reachable and its last check passed."""

    status: str
    version: str
    integrity: IntegrityCheck | None = None
