"""Incidents taken from a phone call (call-taking, as at a CAD console).

A call-taker records what the caller reports: the kind, where (a point, or a patrol zone's
centre when the caller can only name the area), an optional call note. The incident is
``confirmed`` at once (a person reported it; it needs a unit), acknowledged by the
call-taker, and enters the same alarm queue, grouping and pending-dispatch queue as a
camera's. Its priority comes from the same model with the reason "reported by phone"; the
call-taker may raise it (never lower it) with a reason, which is kept beside the model's.

The caller's number is not kept: a call note that holds a phone or ID number is refused
(the number would sit in plain text in the incident's log). A client request key makes the
submission idempotent: the same key from the same user returns the incident it made.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlite_utils

from protocol import uuid7

from ..errors import Invalid
from . import grouping
from .actions import load_row, log_action, public_row
from .merge import IncidentConflict
from .status import ChangeKind, IncidentStatus

if TYPE_CHECKING:
    from ..platform.db import Database

#: A run of seven or more digits (spaces, dashes, dots between them allowed): a phone,
#: ID or card number, which a call note must not hold.
NUMBER_RUN = re.compile(r"\d(?:[\s\-.]?\d){6,}")


class CallRefused(Invalid):
    """The call cannot be recorded as entered (a note holding a number, a lowered priority)."""


@dataclass(frozen=True)
class Call:
    """One reported incident as the call-taker entered it (location already resolved)."""

    kind: str
    lat: float
    lon: float
    zone: str | None
    centre_id: str | None
    address: str | None
    note: str | None = None
    priority: int | None = None  # raised by the call-taker (1 highest)
    priority_reason: str | None = None
    request_id: str | None = None
    landmark: str | None = None  # what the caller named ("north gate of the market")


def check_note(text: str | None) -> None:
    """CallRefused when the note holds a phone or ID number."""
    if text and NUMBER_RUN.search(text):
        raise CallRefused(
            "the call note must not hold a phone or ID number: the caller's number is not "
            "kept (write what was said, not who said it)"
        )


class CallActions:
    """Take a call: make a confirmed incident with the model's priority (a mixin of the
    incident service)."""

    db: Database
    triage: Any

    def _emit(
        self, changes: Iterable[tuple[dict[str, Any], ChangeKind]]
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    def take_call(self, call: Call, actor: str) -> tuple[dict[str, Any], bool]:
        """The incident made from ``call`` and True, or the one an earlier submission with
        the same request key made and False (IncidentConflict when that key named another
        kind of incident; CallRefused for a note holding a number)."""
        for text in (call.note, call.landmark, call.priority_reason):
            check_note(text)
        key = f"{actor}\x1f{call.request_id}" if call.request_id else None

        def write(db: sqlite_utils.Database) -> tuple[dict[str, Any], bool]:
            if key is not None:
                cur = db.execute("select * from incidents where call_key = ?", [key])
                old = cur.fetchone()
                if old is not None:
                    found = dict(zip([d[0] for d in cur.description], old, strict=True))
                    if found["kind"] != call.kind:
                        raise IncidentConflict(
                            f"request {call.request_id!r} already made incident {found['id']} "
                            f"of kind {found['kind']}: use a new request id for another call"
                        )
                    return found, False
            now = time.time()
            row: dict[str, Any] = {
                "id": uuid7(),
                "kind": call.kind,
                "status": IncidentStatus.CONFIRMED,
                "lat": call.lat,
                "lon": call.lon,
                "zone": call.zone,
                "confidence": None,
                "event_count": 0,
                "devices": "[]",
                "first_ts": now,
                "last_ts": now,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
                "notes": 0,
                "centre_id": call.centre_id,
                "address": call.address,
                "handling": "acknowledged",
                "handling_at": now,
                "source": "call",
                "call_key": key,
                "priority": 5,
            }
            cols = list(row)
            db.conn.execute(
                f"insert into incidents ({','.join(cols)}) values ({','.join('?' * len(cols))})",
                [row[c] for c in cols],
            )
            if self.triage is not None:  # the model's priority; grouped with related alarms
                self.triage.on_assigned(db, [(row, ChangeKind.CREATED)], now)
            raised = self._raise(db, row, call, actor)
            detail: dict[str, Any] = {
                "kind": call.kind,
                "zone": call.zone,
                "centre": call.centre_id,
                "priority": row["priority"],
                "request": call.request_id,
            }
            if call.landmark:
                detail["landmark"] = call.landmark
            if call.note:
                detail["note"] = call.note
            if raised is not None:
                detail["raised_from"] = raised
            log_action(db, row["id"], actor, "call", detail)
            return load_row(db, row["id"]), True

        row, created = self.db.write(write)
        if created:
            self._emit([(row, ChangeKind.CREATED)])
        return public_row(row), created

    def _raise(
        self, db: sqlite_utils.Database, row: dict[str, Any], call: Call, actor: str
    ) -> int | None:
        """Apply the call-taker's raise; the model's level it replaced (None: no raise)."""
        want = call.priority
        model = int(row["priority"])
        if want is None or want == model:
            return None
        if want > model:
            raise CallRefused(
                f"the priority model gives {model} for this call; a call-taker may raise it "
                f"(a smaller number), not lower it to {want}"
            )
        reasons = json.loads(row.get("priority_reasons") or "[]")
        reasons.insert(
            0,
            {
                "code": "raised",
                "points": 0,
                "level": want,
                "value": call.priority_reason,
                "text": f"raised from {model} to {want} by {actor}: {call.priority_reason}",
            },
        )
        row["priority"], row["priority_reasons"] = want, json.dumps(reasons)
        db.execute(
            "update incidents set priority = ?, priority_reasons = ? where id = ?",
            [want, row["priority_reasons"], row["id"]],
        )
        if row.get("group_id"):
            grouping.refresh(db, row["group_id"], time.time())
        return model
