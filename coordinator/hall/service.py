"""The hall service: a case's steps (documents, review, decision, collection), deadline
alerts, the public status enquiry and statistics, over :class:`HallCases`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from ..errors import Conflict, Invalid, NotFound, TooManyAttempts
from ..platform.text import one_line as _text
from .cases import DOCUMENT_RETENTION_DAYS, DUE_SOON_S, MIN_CELL, Actor, HallCases
from .lifecycle import CLOSED, OPEN, Status, allowed
from .suppress import hidden_cells, hidden_totals

DAY = 86400.0
#: Public status enquiries per client address within the window, and unknown receipts.
ENQUIRY_WINDOW_S = 900.0
ENQUIRY_MAX = 30
ENQUIRY_MAX_MISSES = 5
#: Decisions that grant a document need its validity end date.
GRANTING = frozenset(
    {"visa_extension", "residence_permit_first", "residence_permit_renewal",
     "residence_permit_change", "visa_replacement", "permit_replacement", "stay_permit",
     "exit_permit"}
)  # fmt: skip


class HallService(HallCases):
    """Cases of the foreigners' service hall, from application to collection."""

    # documents ----------------------------------------------------------------------------
    def add_document(
        self, actor: Actor, case_id: int, doc: str, data: bytes, filename: str,
        declared_type: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Keep one supporting document of a case in the encrypted file store."""
        row = self._row(case_id)
        if row["status"] in CLOSED:
            raise Conflict(f"case {case_id} is {row['status']}: no more documents")
        if doc not in {d.code for d in self.catalogue.documents}:
            raise Invalid(f"doc: unknown document kind {doc[:40]!r}")
        now = self.clock()
        meta = self.files.put(
            data, owner_kind="hall_case", owner_id=case_id, filename=filename, actor=actor,
            retain_until=now + DOCUMENT_RETENTION_DAYS * DAY, declared_type=declared_type,
        )  # fmt: skip

        def write(w: sqlite_utils.Database) -> None:
            w.execute(
                "insert into hall_case_documents (case_id, doc, file_id, at, actor) "
                "values (?, ?, ?, ?, ?)",
                [case_id, doc, meta.id, now, actor if isinstance(actor, str) else actor.username],
            )
            w.execute("update hall_cases set updated_at = ? where id = ?", [now, case_id])

        self.db.write(write)
        return self.decorate(self._row(case_id), now)

    def read_document(
        self, actor: Actor, case_id: int, file_id: str, purpose: str
    ) -> tuple[Any, bytes]:
        """A document of a case (the file store audits the read with its purpose)."""
        linked = self.db.query(
            "select 1 from hall_case_documents where case_id = ? and file_id = ?",
            [case_id, file_id],
        )
        if not linked:
            raise NotFound("no such document in this case")
        return self.files.read(file_id, actor=actor, purpose=purpose, owner_kind="hall_case",
                               owner_id=case_id)  # fmt: skip

    # steps --------------------------------------------------------------------------------
    def step(
        self, actor: Actor, case_id: int, to: str, note: str | None, purpose: str
    ) -> dict[str, Any]:
        """Move a case: documents checked (all required documents present), under review,
        collected, or withdrawn (with the applicant's reason)."""
        if to not in (Status.DOCUMENTS_CHECKED, Status.UNDER_REVIEW, Status.COLLECTED,
                      Status.WITHDRAWN):  # fmt: skip
            raise Invalid(f"status: {to[:20]!r} is reached by a decision, or is not a step")
        note = _text("note", note, 1000, required=to == Status.WITHDRAWN)
        row = self.decorate(self._row(case_id))
        if not allowed(row["status"], to):
            raise Conflict(f"case {case_id} is {row['status']}: it cannot become {to}")
        if to == Status.DOCUMENTS_CHECKED and row["documents_missing"]:
            raise Conflict("documents missing: " + ", ".join(row["documents_missing"]))
        return self._move(actor, row, Status(to), note, purpose, {})

    def decide(
        self, actor: Actor, case_id: int, approve: bool, reason: str,
        granted_until: str | None, purpose: str,
    ) -> dict[str, Any]:  # fmt: skip
        """Approve (the document waits to be collected) or refuse, always with a reason.
        A refusal may also come at the counter, before the documents are checked."""
        reason_t = _text("reason", reason, 2000) or ""
        row = self._row(case_id)
        to = Status.DECIDED if approve else Status.REJECTED
        if not allowed(row["status"], to):
            raise Conflict(f"case {case_id} is {row['status']}: it cannot be {to}")
        extra: dict[str, Any] = {"decision": "approved" if approve else "refused",
                                 "decision_reason": reason_t}  # fmt: skip
        if approve and row["service"] in GRANTING:
            if not granted_until:
                raise Invalid("granted_until: an approval states the new validity end date")
            try:
                until = dt.date.fromisoformat(granted_until)
            except ValueError:
                raise Invalid("granted_until: a date YYYY-MM-DD") from None
            today = dt.datetime.fromtimestamp(self.clock(), dt.UTC).date()
            if until <= today:
                raise Invalid("granted_until: must be after today")
            extra["granted_until"] = until.isoformat()
        return self._move(actor, row, to, reason_t, purpose, extra)

    def _move(
        self, actor: Actor, row: dict[str, Any], to: Status, note: str | None, purpose: str,
        extra: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        now = self.clock()
        stamp = {Status.DOCUMENTS_CHECKED: "checked_at", Status.UNDER_REVIEW: "review_at",
                 Status.DECIDED: "decided_at", Status.REJECTED: "decided_at"}  # fmt: skip
        values = {**extra, "status": to.value, "updated_at": now}
        if to in stamp:
            values[stamp[to]] = now
        if to in CLOSED:
            values["closed_at"] = now
        case_id, frm = row["id"], row["status"]

        def write(w: sqlite_utils.Database) -> None:
            cols = list(values)
            cur = w.execute(
                f"update hall_cases set {', '.join(c + ' = ?' for c in cols)} "
                "where id = ? and status = ?",
                [*(values[c] for c in cols), case_id, frm],
            )
            if cur.rowcount != 1:
                raise Conflict(f"case {case_id} changed meanwhile: reload it")
            self._event(w, case_id, actor, frm, to, note, now)
            if to not in OPEN:
                w.execute("update hall_alerts set acknowledged_at = ?, acknowledged_by = ? "
                          "where case_id = ? and acknowledged_at is null",
                          [now, "system:decided", case_id])  # fmt: skip
            self._audit(w, actor, f"hall_{to.value}", case_id, purpose,
                        {"from": frm, **({"decision": extra["decision"]} if extra else {})})  # fmt: skip

        self.db.write(write)
        if to in CLOSED:
            keep = now + DOCUMENT_RETENTION_DAYS * DAY
            for d in self.db.query("select file_id from hall_case_documents where case_id = ?",
                                   [case_id]):  # fmt: skip
                try:
                    self.files.set_expiry(d["file_id"], keep)
                except NotFound:
                    continue  # already purged or erased
        return self.decorate(self._row(case_id), now)

    # deadlines ----------------------------------------------------------------------------
    def sweep(self, now: float | None = None) -> dict[str, int]:
        """Raise alerts for open cases due within a day and for overdue ones (each once);
        the scheduler runs it every few minutes."""
        now = self.clock() if now is None else now
        open_ = [s.value for s in OPEN]
        marks = ", ".join("?" * len(open_))

        def write(w: sqlite_utils.Database) -> dict[str, int]:
            done = {}
            for kind, cond, params in (
                ("overdue", "due_at < ?", [now]),
                ("due_soon", "due_at >= ? and due_at < ?", [now, now + DUE_SOON_S]),
            ):
                cur = w.execute(
                    "insert into hall_alerts (case_id, kind, at) select id, ?, ? from hall_cases "
                    f"where status in ({marks}) and {cond} "
                    "on conflict (case_id, kind) do nothing",
                    [kind, now, *open_, *params],
                )
                done[kind] = cur.rowcount
            return done

        return self.db.write(write)

    def alerts(self, actor: Actor, purpose: str) -> list[dict[str, Any]]:
        """Unacknowledged deadline alerts, overdue first (audited: they name applicants)."""
        rows = self.db.query(
            "select a.id, a.case_id, a.kind, a.at, c.receipt, c.service, c.counter, c.status, "
            "c.applicant_name, c.nationality, c.due_at from hall_alerts a join hall_cases c "
            "on c.id = a.case_id where a.acknowledged_at is null "
            "order by a.kind = 'due_soon', c.due_at limit 500"
        )
        if rows:
            self.audit.record(actor, "hall_alerts", "hall_case", None, purpose,
                              {"ids": sorted({r["case_id"] for r in rows})})  # fmt: skip
        return rows

    def acknowledge(self, actor: Actor, alert_id: int) -> None:
        """Mark an alert seen (the case stays overdue until decided)."""
        n = self.db.execute_write(
            "update hall_alerts set acknowledged_at = ?, acknowledged_by = ? "
            "where id = ? and acknowledged_at is null",
            [self.clock(), actor if isinstance(actor, str) else actor.username, alert_id],
        )
        if n == 0:
            raise NotFound(f"no open alert {alert_id}")

    # public status enquiry ----------------------------------------------------------------
    def enquiry(self, receipt: str, address: str) -> dict[str, Any]:
        """A case's status by its receipt number, for the applicant (no personal data);
        limited per client address, and tighter for unknown receipts."""
        now = self.clock()
        key = f"a|{address}"
        receipt = receipt.strip().upper()

        def reserve(w: sqlite_utils.Database) -> None:
            r = w.execute("select window_start, hits, misses from hall_enquiry_throttle "
                          "where key = ?", [key]).fetchone()  # fmt: skip
            if r is None or now - r[0] > ENQUIRY_WINDOW_S:
                w.execute(
                    "insert into hall_enquiry_throttle (key, window_start, hits, misses) "
                    "values (?, ?, 1, 0) on conflict (key) do update set "
                    "window_start = excluded.window_start, hits = 1, misses = 0",
                    [key, now],
                )
                return
            if r[1] >= ENQUIRY_MAX or r[2] >= ENQUIRY_MAX_MISSES:
                raise TooManyAttempts(
                    "too many status enquiries from this address: try again later",
                    retry_after_s=max(1.0, r[0] + ENQUIRY_WINDOW_S - now),
                )
            w.execute("update hall_enquiry_throttle set hits = hits + 1 where key = ?", [key])

        self.db.write(reserve)
        rows = self.db.query(
            "select receipt, service, status, applied_at, due_at, decided_at, closed_at, "
            "decision from hall_cases where receipt = ?",
            [receipt],
        )
        if not rows:
            self.db.execute_write(
                "update hall_enquiry_throttle set misses = misses + 1 where key = ?", [key]
            )
            raise NotFound("no application with this receipt number")
        r = rows[0]
        return {**r, "ready_for_collection": r["status"] == Status.DECIDED,
                "overdue": r["status"] in OPEN and r["due_at"] < now}  # fmt: skip

    def purge_enquiries(self) -> int:
        """Drop throttle windows that have ended."""
        return self.db.execute_write(
            "delete from hall_enquiry_throttle where window_start < ?",
            [self.clock() - ENQUIRY_WINDOW_S],
        )

    # statistics ---------------------------------------------------------------------------
    def stats(self, year: int | None = None) -> dict[str, Any]:
        """Cases by nationality and service (applied in ``year``, or all), with small
        counts suppressed (None) so that none can be worked out from the totals."""
        where, params = "", []
        if year is not None:
            start = dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp()
            end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC).timestamp()
            where, params = "where applied_at >= ? and applied_at < ?", [start, end]
        rows = self.db.query(
            f"select nationality, service, count(*) n from hall_cases {where} "
            "group by nationality, service order by nationality, service",
            params,
        )
        counts = {(r["nationality"], r["service"]): r["n"] for r in rows}
        hide = hidden_cells(counts, MIN_CELL)
        by_service: dict[str, int] = {}
        by_nat: dict[str, int] = {}
        for (nat, svc), n in counts.items():
            by_service[svc] = by_service.get(svc, 0) + n
            by_nat[nat] = by_nat.get(nat, 0) + n
        hide_s, hide_n = hidden_totals(by_service, MIN_CELL), hidden_totals(by_nat, MIN_CELL)
        total = sum(by_service.values())
        return {
            "year": year,
            "total": total if total >= MIN_CELL else None,
            "cells": [
                {"nationality": k[0], "service": k[1], "count": None if k in hide else n}
                for k, n in counts.items()
            ],
            "by_service": {k: None if k in hide_s else v for k, v in by_service.items()},
            "by_nationality": {k: None if k in hide_n else v for k, v in by_nat.items()},
            "min_cell": MIN_CELL,
        }
