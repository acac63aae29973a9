"""A hall case's statuses and the steps between them (pure)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a case stands."""

    APPLIED = "applied"
    DOCUMENTS_CHECKED = "documents_checked"
    UNDER_REVIEW = "under_review"
    DECIDED = "decided"  # approved: the document waits to be collected
    COLLECTED = "collected"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


#: Statuses whose deadline is running (the decision is not made yet).
OPEN = (Status.APPLIED, Status.DOCUMENTS_CHECKED, Status.UNDER_REVIEW)
CLOSED = (Status.COLLECTED, Status.REJECTED, Status.WITHDRAWN)

NEXT: dict[Status, frozenset[Status]] = {
    Status.APPLIED: frozenset({Status.DOCUMENTS_CHECKED, Status.REJECTED, Status.WITHDRAWN}),
    Status.DOCUMENTS_CHECKED: frozenset({Status.UNDER_REVIEW, Status.WITHDRAWN}),
    Status.UNDER_REVIEW: frozenset({Status.DECIDED, Status.REJECTED, Status.WITHDRAWN}),
    Status.DECIDED: frozenset({Status.COLLECTED}),
    Status.COLLECTED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}


def allowed(current: str, target: str) -> bool:
    """Whether a case may go from ``current`` to ``target``."""
    try:
        return Status(target) in NEXT[Status(current)]
    except ValueError:
        return False
