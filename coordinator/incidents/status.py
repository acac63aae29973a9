"""Incident statuses and the kinds of change the incident service announces.

These are the named contract between the incident service and everyone who listens to it
(dispatch, the live stream, metrics). They are ``StrEnum``s, so a member equals its
string: rows read from the database and JSON sent to browsers carry the plain value.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    """Where an incident stands in its lifecycle."""

    NEW = "new"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    MERGED = "merged"  # absorbed into another incident (final)


class ChangeKind(StrEnum):
    """What happened to an incident, as passed to ``on_change`` callbacks."""

    CREATED = "created"  # opened by ingest, or split off another incident
    UPDATED = "updated"  # new events joined, or a merge/split recounted it
    TRANSITION = "transition"  # moved along its lifecycle (confirm, dismiss, dispatch …)
    ANNOTATED = "annotated"  # an operator added a note
    MERGED = "merged"  # absorbed by another incident
    HANDLED = "handled"  # its alarm handling moved (acknowledged, claimed, assigned, held …)


class HandlingState(StrEnum):
    """Where the operators' handling of an alarm stands, beside its dispatch lifecycle."""

    NEW = "new"  # nobody has looked at it yet
    ACKNOWLEDGED = "acknowledged"  # an operator saw it (claimed when it has an assignee)
    IN_PROGRESS = "in_progress"  # someone works it (verifying, a unit on the way)
    ON_HOLD = "on_hold"  # parked, with a reason (waiting for a call-back, a patrol)
    CLOSED = "closed"  # nothing left to do


#: Statuses an incident can still absorb cross-camera events in.
ACTIVE = frozenset(
    {
        IncidentStatus.NEW,
        IncidentStatus.CONFIRMED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.EN_ROUTE,
        IncidentStatus.ON_SCENE,
    }
)
#: Statuses nobody dispatches to or counts as open any more.
CLOSED = frozenset({IncidentStatus.RESOLVED, IncidentStatus.DISMISSED, IncidentStatus.MERGED})
