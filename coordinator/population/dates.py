"""Dates that cannot be gamed: a registration counts towards a residence permit from the day
it was recorded, not from a typed ``valid_from``.

A registration keeps the ``valid_from`` the officer entered (it is what the tenant says), but
eligibility reads ``counts_from``: the later of ``valid_from`` and the day the registration
was recorded (``recorded_on``, from the server's clock). An earlier date counts only when a
second officer approves it through the one approvals service — at the counter with a reason
(kind :data:`KIND_BACKDATE`), or for a whole import batch of historical registrations whose
provenance (the file's SHA-256, who asked, who approved, when) stays on the batch (kind
:data:`KIND_IMPORT_DATES`). The approval's effect and the approval are one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from ..approvals.reasons import reason_problem
from ..approvals.service import ApprovalsService, Kind
from ..errors import Conflict, Forbidden, NotFound
from .common import Actor, Ctx, username
from .ids import RecordError
from .permissions import Perm

KIND_BACKDATE = "population-backdate"
KIND_IMPORT_DATES = "population-import-dates"
#: How long a backdating or batch request waits for the second officer.
PENDING_TTL_S = 7 * 86400.0


def day_of(ts: float) -> dt.date:
    """The (UTC) calendar day of a timestamp: the day a registration was recorded."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).date()


def counts_from(valid_from: str, recorded_on: str) -> str:
    """The day a registration starts to count without an approval (ISO dates compare)."""
    return max(valid_from, recorded_on)


def check_backdate_reason(reason: str | None) -> str:
    """The reason for an earlier date, or RecordError naming the field (checked before
    anything is written, so a junk reason loses nothing)."""
    problem = reason_problem(reason)
    if problem:
        raise RecordError("backdate_reason", problem)
    return " ".join((reason or "").split())


class TrustedDates:
    """The two approval kinds and the requests that file them."""

    def __init__(self, ctx: Ctx, approvals: ApprovalsService | None) -> None:
        self.ctx = ctx
        self.approvals = approvals

    def kinds(self) -> list[Kind]:
        """Backdating one registration; the historical dates of one import batch. Both are
        asked and approved by population officers (the service keeps them two people)."""
        write = Perm.POPULATION_WRITE.value
        review = Perm.POPULATION_REVIEW.value
        return [
            Kind(KIND_BACKDATE, "a registration dated before the day it was recorded",
                 write, review, self._apply_backdate, on_close=self._close_backdate,
                 pending_ttl_s=PENDING_TTL_S),
            Kind(KIND_IMPORT_DATES, "the historical dates of an import batch",
                 write, review, self._apply_batch, on_close=self._close_batch,
                 pending_ttl_s=PENDING_TTL_S),
        ]  # fmt: skip

    def _service(self) -> ApprovalsService:
        if self.approvals is None:
            raise Forbidden("an earlier date needs the approvals service (a second officer)")
        return self.approvals

    # ---- one registration -----------------------------------------------------------------

    def request_backdate(
        self, actor: Actor, person_id: int, reason: str, valid_from: str,
        insert: Any, purpose: str | None,
    ) -> int:  # fmt: skip
        """File the backdating request and insert the registration in one transaction;
        returns the registration id."""
        made: dict[str, int] = {}

        def prepare(db: sqlite_utils.Database) -> dict[str, Any]:
            rid = int(insert(db, "pending"))
            made["rid"] = rid
            return {"registration_id": rid, "valid_from": valid_from}

        req = self._service().request(
            actor, KIND_BACKDATE, subject_type="person", subject_id=person_id, reason=reason,
            prepare=prepare, purpose=purpose,
        )  # fmt: skip

        def link(db: sqlite_utils.Database) -> None:
            db.execute("update pop_registrations set backdate_approval_id = ? where id = ?",
                       [req["id"], made["rid"]])  # fmt: skip

        self.ctx.db.write(link)
        return made["rid"]

    def _apply_backdate(self, db: sqlite_utils.Database, req: dict[str, Any]) -> dict[str, Any]:
        rid = int(json.loads(req["scope"])["registration_id"])
        db.execute(
            "update pop_registrations set counts_from = valid_from, backdate_state = 'approved', "
            "backdate_approval_id = ? where id = ?",
            [req["id"], rid],
        )
        Ctx.entry(db, req["decided_by"] or "system", "registration_backdate_approved", "person",
                  int(req["subject_id"]), None,
                  {"registration": rid, "approval": req["id"],
                   "requested_by": req["requested_by"]})  # fmt: skip
        return {"registration_id": rid}

    @staticmethod
    def _close_backdate(db: sqlite_utils.Database, req: dict[str, Any]) -> None:
        rid = int(json.loads(req["scope"])["registration_id"])
        state = db.execute("select state from approval_requests where id = ?",
                           [req["id"]]).fetchone()[0]  # fmt: skip
        db.execute("update pop_registrations set backdate_state = ? where id = ?", [state, rid])

    # ---- an import batch ------------------------------------------------------------------

    def request_batch(
        self, actor: Actor, job_id: int, reason: str, purpose: str | None = None
    ) -> dict[str, Any]:
        """Ask a second officer to approve the historical dates of an import batch."""
        jobs = self.ctx.db.query("select * from pop_import_jobs where id = ?", [job_id])
        if not jobs:
            raise NotFound(f"no import job {job_id}")
        job = jobs[0]
        if job["status"] != "done":
            raise Conflict(f"import {job_id} is {job['status']}: approve a finished batch")
        if job["dates_state"] in ("pending", "approved"):
            raise Conflict(f"the dates of import {job_id} are already {job['dates_state']}")

        def prepare(db: sqlite_utils.Database) -> dict[str, Any]:
            db.execute("update pop_import_jobs set dates_state = 'pending', "
                       "dates_requested_by = ? where id = ?", [username(actor), job_id])  # fmt: skip
            return {"file_sha256": job["file_key"], "file_name": job["file_name"],
                    "rows": job["imported"], "historical_rows": job["historical_rows"]}  # fmt: skip

        req = self._service().request(actor, KIND_IMPORT_DATES, subject_type="import_job",
                                      subject_id=job_id, reason=reason, prepare=prepare,
                                      purpose=purpose)  # fmt: skip
        self.ctx.db.execute_write("update pop_import_jobs set dates_approval_id = ? where id = ?",
                                  [req["id"], job_id])  # fmt: skip
        return self.batch(job_id)

    def _apply_batch(self, db: sqlite_utils.Database, req: dict[str, Any]) -> dict[str, Any]:
        job_id = int(req["subject_id"])
        now = self.ctx.now()
        db.execute(
            "update pop_import_jobs set dates_state = 'approved', dates_approved_by = ?, "
            "dates_approved_at = ?, dates_approval_id = ? where id = ?",
            [req["decided_by"], now, req["id"], job_id],
        )
        cur = db.execute(
            "update pop_registrations set counts_from = valid_from "
            "where import_job_id = ? and valid_from < counts_from",
            [job_id],
        )
        Ctx.entry(db, req["decided_by"] or "system", "import_dates_approved", "import_job",
                  job_id, None, {"approval": req["id"], "requested_by": req["requested_by"],
                                 "registrations": cur.rowcount})  # fmt: skip
        return {"import_job": job_id, "registrations": cur.rowcount}

    @staticmethod
    def _close_batch(db: sqlite_utils.Database, req: dict[str, Any]) -> None:
        state = db.execute("select state from approval_requests where id = ?",
                           [req["id"]]).fetchone()[0]  # fmt: skip
        db.execute("update pop_import_jobs set dates_state = ? where id = ?",
                   [state, int(req["subject_id"])])  # fmt: skip

    def batch(self, job_id: int) -> dict[str, Any]:
        """An import batch's provenance: file hash, who ran it, the dates' approval."""
        rows = self.ctx.db.query(
            "select id, file_key as file_sha256, file_name, actor, status, imported, rejected, "
            "existing, historical_rows, started_at, finished_at, dates_state, dates_approval_id, "
            "dates_requested_by, dates_approved_by, dates_approved_at "
            "from pop_import_jobs where id = ?",
            [job_id],
        )
        if not rows:
            raise NotFound(f"no import job {job_id}")
        return rows[0]
