"""Investigators' cases as work: a list with filters and paging, one case with everything it
holds (companies, tips and their attachments, the alert, tasks, notes, warnings), tasks with
an assignee and a due date, notes, status, and the outcome with the losses it avoided.

Reads name the companies and tips' reporters (personal data), so each list and each case
read writes an audit entry with the caller's purpose; every change is audited in its own
write transaction, with the case's ``updated_ts`` moved on.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Conflict, Invalid, NotFound
from . import companies as co

if TYPE_CHECKING:
    from ..identity.audit import AuditService
    from ..identity.auth import Principal
    from ..platform.db import Database

MAX_PAGE = 200
MAX_LOSSES_YUAN = Decimal("10000000000")  # ¥10 bn, as for a filing: above it is a typo


class CaseStatus(StrEnum):
    """Where a case stands (closed only with an outcome)."""

    OPEN = "open"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


class Outcome(StrEnum):
    """How a case ended. ``fraud_prevented`` is a fraud found early: merchants warned
    before they shipped, the losses avoided counted."""

    FRAUD_PREVENTED = "fraud_prevented"
    FRAUD_CONFIRMED = "fraud_confirmed"
    REFERRED = "referred"
    NO_FRAUD = "no_fraud"
    INCONCLUSIVE = "inconclusive"


class Priority(StrEnum):
    """How urgent a case is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseEdit(BaseModel):
    """Changes to a case (title, description, priority, assignee, open ↔ investigating)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=3, max_length=200)
    description: str | None = Field(None, max_length=4000)
    priority: Priority | None = None
    assignee: str | None = Field(None, max_length=64, description="'' unassigns")
    status: CaseStatus | None = None


class TaskIn(BaseModel):
    """A task on a case."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=3, max_length=300)
    assignee: str | None = Field(None, max_length=64)
    due_date: dt.date | None = None


class TaskEdit(BaseModel):
    """Changes to a task: assign, move the due date, mark done or not done."""

    model_config = ConfigDict(extra="forbid")
    assignee: str | None = Field(None, max_length=64, description="'' unassigns")
    due_date: dt.date | None = None
    done: bool | None = None


class NoteIn(BaseModel):
    """A note on a case."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class OutcomeIn(BaseModel):
    """The outcome that closes a case, with the losses it avoided (yuan)."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    losses_avoided_yuan: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    note: str = Field(min_length=3, max_length=4000, description="What was found and done")


class LinkIn(BaseModel):
    """A company or a tip to add to a case."""

    model_config = ConfigDict(extra="forbid")
    company_id: int | None = None
    tip_id: int | None = None


class CaseFilter(BaseModel):
    """The case list's filters and page."""

    model_config = ConfigDict(extra="forbid")
    status: CaseStatus | None = None
    assignee: str | None = Field(None, max_length=64)
    company_id: int | None = None
    outcome: Outcome | None = None
    q: str | None = Field(None, max_length=100, description="Words of the title")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=10_000_000)


def _where(f: CaseFilter) -> tuple[str, list[Any]]:
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if f.status is not None:
        where.append("c.status = ?")
        params.append(f.status.value)
    if f.assignee:
        where.append("c.assignee = ?")
        params.append(f.assignee)
    if f.outcome is not None:
        where.append("c.outcome = ?")
        params.append(f.outcome.value)
    if f.company_id is not None:
        where.append("c.id IN (SELECT case_id FROM fraud_case_companies WHERE company_id = ?)")
        params.append(f.company_id)
    if f.q:
        where.append("c.title LIKE ? ESCAPE '\\'")
        esc = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{esc}%")
    return " AND ".join(where), params


#: One page of cases: the page's ids first (a sort of ids only, on indexed filters), then
#: what the list shows of those rows alone — companies' names, open tasks and tips by
#: correlated subqueries on indexed columns. (In one statement SQLite computes the result
#: columns before the sort, for every matching case.)
PAGE_SQL = """
SELECT c.id FROM fraud_cases c WHERE {where}
ORDER BY c.status = 'closed', c.id DESC LIMIT ? OFFSET ?
"""
ROWS_SQL = """
SELECT c.id, c.title, c.status, c.priority, c.assignee, c.opened_by, c.ts, c.updated_ts,
  c.outcome, c.losses_avoided_cents, c.alert_id,
  (SELECT json_group_array(json_object('id', x.id, 'display_name', x.display_name))
     FROM fraud_case_companies cc JOIN fraud_companies x ON x.id = cc.company_id
     WHERE cc.case_id = c.id) AS companies,
  (SELECT count(*) FROM fraud_case_tasks t WHERE t.case_id = c.id AND t.done_ts IS NULL)
     AS open_tasks,
  (SELECT count(*) FROM fraud_tips p WHERE p.case_id = c.id) AS tips
FROM fraud_cases c WHERE c.id IN ({marks}) ORDER BY c.status = 'closed', c.id DESC
"""


class Casework:
    """Cases: list, read, tasks, notes, links, status and outcome."""

    def __init__(self, db: Database, audit: AuditService) -> None:
        self.db = db
        self.audit = audit

    # reading ---------------------------------------------------------------------------
    def list(self, actor: Principal, purpose: str, f: CaseFilter) -> dict[str, Any]:
        """A page of cases, open ones first, newest first; the total for the filters."""
        where, params = _where(f)
        ids = [r["id"] for r in self.db.query(PAGE_SQL.format(where=where),
                                              [*params, f.limit, f.offset])]  # fmt: skip
        rows = self.db.query(ROWS_SQL.format(marks=",".join("?" * len(ids))), ids) if ids else []
        total = self.db.query(f"SELECT count(*) n FROM fraud_cases c WHERE {where}", params)
        for r in rows:
            r["companies"] = json.loads(r["companies"] or "[]")
        self.audit.record(actor, "fraud.cases.read", "case", None, purpose,
                          {"cases": [r["id"] for r in rows], "filters": f.model_dump(
                              mode="json", exclude_defaults=True)})  # fmt: skip
        return {"total": total[0]["n"], "limit": f.limit, "offset": f.offset, "items": rows}

    def get(self, actor: Principal, case_id: int, purpose: str) -> dict[str, Any]:
        """One case with its companies, tips (attachments' metadata), alert, tasks, notes
        and warnings (audited: tips name their reporters)."""
        db = self.db.read()
        c = self._case(db, case_id)
        c["companies"] = self.db.query(
            "SELECT x.id, x.display_name, x.checked_ts, x.profiled_ts, cc.added_by, cc.ts "
            "FROM fraud_case_companies cc JOIN fraud_companies x ON x.id = cc.company_id "
            "WHERE cc.case_id = ? ORDER BY cc.ts, x.id",
            [case_id],
        )
        tips = self.db.query("SELECT * FROM fraud_tips WHERE case_id = ? ORDER BY id", [case_id])
        files = self.db.query(
            "SELECT a.id, a.tip_id, a.name, a.mime, a.size, a.sha256, a.uploaded_by, a.ts "
            "FROM fraud_attachments a JOIN fraud_tips p ON p.id = a.tip_id "
            "WHERE p.case_id = ? ORDER BY a.id",
            [case_id],
        )
        for t in tips:
            t["identifiers"] = json.loads(t["identifiers"])
            t["attachments"] = json.loads(t["attachments"])
            t["files"] = [a for a in files if a["tip_id"] == t["id"]]
        c["tips"] = tips
        c["tasks"] = self.db.query(
            "SELECT * FROM fraud_case_tasks WHERE case_id = ? ORDER BY done_ts IS NOT NULL, "
            "due_date IS NULL, due_date, id",
            [case_id],
        )
        c["notes"] = self.db.query(
            "SELECT * FROM fraud_case_notes WHERE case_id = ? ORDER BY id", [case_id]
        )
        c["alert"] = None
        if c["alert_id"] is not None:
            alert = self.db.query("SELECT * FROM fraud_alerts WHERE id = ?", [c["alert_id"]])
            if alert:
                c["alert"] = {**alert[0], "reasons": json.loads(alert[0]["reasons"])}
        c["warnings"] = self.db.query(
            "SELECT id, company_id, headline, state, severity FROM fraud_warnings "
            "WHERE case_id = ? ORDER BY id",
            [case_id],
        )
        self.audit.record(actor, "fraud.case.read", "case", case_id, purpose,
                          {"tips": [t["id"] for t in tips]})  # fmt: skip
        return c

    @staticmethod
    def _case(db: sqlite_utils.Database, case_id: int) -> dict[str, Any]:
        rows = list(db.query("SELECT * FROM fraud_cases WHERE id = ?", [case_id]))
        if not rows:
            raise NotFound(f"unknown case {case_id}")
        return rows[0]

    # changing --------------------------------------------------------------------------
    def _change(
        self, actor: Principal, case_id: int, action: str, fn: Any, *, closed_ok: bool = False
    ) -> dict[str, Any]:
        """Run ``fn(db, case) -> detail`` on an existing case in one transaction, audited."""

        def tx(db: sqlite_utils.Database) -> dict[str, Any]:
            case = self._case(db, case_id)
            if case["status"] == CaseStatus.CLOSED and not closed_ok:
                raise Conflict(f"case {case_id} is closed: reopen it first")
            detail = fn(db, case) or {}
            db.execute("UPDATE fraud_cases SET updated_ts = ? WHERE id = ?", [time.time(), case_id])
            self.audit.append(
                db, self.audit.entry(actor, f"fraud.case.{action}", "case", case_id, None, detail)
            )
            return detail

        return self.db.write(tx)

    def edit(self, actor: Principal, case_id: int, e: CaseEdit) -> dict[str, Any]:
        """Change a case's title, description, priority, assignee or open/investigating."""
        changes = e.model_dump(exclude_none=True, mode="json")
        if not changes:
            raise Invalid("nothing to change")
        if changes.get("status") == CaseStatus.CLOSED:
            raise Invalid("a case closes with its outcome: record the outcome")
        if changes.get("assignee") == "":
            changes["assignee"] = None

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            db.table("fraud_cases").update(case_id, changes)
            return {"fields": sorted(changes), "before": {k: case[k] for k in changes}}

        return self._change(actor, case_id, "edit", fn)

    def add_task(self, actor: Principal, case_id: int, t: TaskIn) -> int:
        """Add a task (its assignee and due date optional)."""

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            tid = db.table("fraud_case_tasks").insert({
                "case_id": case_id, "title": t.title, "assignee": t.assignee or None,
                "due_date": t.due_date.isoformat() if t.due_date else None,
                "created_by": actor.username, "ts": time.time(),
            }).last_pk  # fmt: skip
            return {"task": tid, "assignee": t.assignee}

        return int(self._change(actor, case_id, "task_add", fn)["task"])

    def edit_task(self, actor: Principal, case_id: int, task_id: int, e: TaskEdit) -> None:
        """Assign a task, move its due date, mark it done (or not done)."""
        if e.assignee is None and e.due_date is None and e.done is None:
            raise Invalid("nothing to change")

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            rows = list(db.query("SELECT * FROM fraud_case_tasks WHERE id = ? AND case_id = ?",
                                 [task_id, case_id]))  # fmt: skip
            if not rows:
                raise NotFound(f"case {case_id} has no task {task_id}")
            sets: dict[str, Any] = {}
            if e.assignee is not None:
                sets["assignee"] = e.assignee or None
            if e.due_date is not None:
                sets["due_date"] = e.due_date.isoformat()
            if e.done is not None:
                sets["done_ts"] = time.time() if e.done else None
                sets["done_by"] = actor.username if e.done else None
            db.table("fraud_case_tasks").update(task_id, sets)
            return {"task": task_id, "fields": sorted(sets), "done": e.done}

        self._change(actor, case_id, "task_edit", fn)

    def add_note(self, actor: Principal, case_id: int, n: NoteIn) -> int:
        """Add a note (notes are kept; a correction is a new note)."""

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            nid = (
                db.table("fraud_case_notes")
                .insert(
                    {
                        "case_id": case_id,
                        "author": actor.username,
                        "text": n.text,
                        "ts": time.time(),
                    }
                )
                .last_pk
            )
            return {"note": nid}

        return int(self._change(actor, case_id, "note", fn)["note"])

    def link(self, actor: Principal, case_id: int, body: LinkIn) -> dict[str, Any]:
        """Add a company or a tip (a tip belongs to one case, and leaves the tip queue)."""
        if (body.company_id is None) == (body.tip_id is None):
            raise Invalid("give exactly one of company_id or tip_id")

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            if body.company_id is not None:
                add_companies(db, case_id, [body.company_id], actor.username)
                return {"company": body.company_id}
            attach_tip(db, case_id, int(body.tip_id or 0))
            return {"tip": body.tip_id}

        return self._change(actor, case_id, "link", fn)

    def record_outcome(self, actor: Principal, case_id: int, o: OutcomeIn) -> dict[str, Any]:
        """Close a case with its outcome (refused while tasks are open)."""
        if o.losses_avoided_yuan > 0 and o.outcome not in (Outcome.FRAUD_PREVENTED,
                                                           Outcome.REFERRED):  # fmt: skip
            raise Invalid("losses are avoided only when a fraud was prevented or referred")
        if o.losses_avoided_yuan > MAX_LOSSES_YUAN:
            raise Invalid(f"losses avoided above ¥{MAX_LOSSES_YUAN:,} are a typo")
        cents = int(o.losses_avoided_yuan * 100)

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            open_tasks = db.execute(
                "SELECT count(*) FROM fraud_case_tasks WHERE case_id = ? AND done_ts IS NULL",
                [case_id],
            ).fetchone()[0]
            if open_tasks:
                raise Conflict(f"case {case_id} has {open_tasks} open tasks: finish them first")
            db.table("fraud_cases").update(case_id, {
                "status": CaseStatus.CLOSED.value, "outcome": o.outcome.value,
                "outcome_note": o.note, "losses_avoided_cents": cents,
                "closed_ts": time.time(), "closed_by": actor.username,
            })  # fmt: skip
            return {"outcome": o.outcome.value, "losses_avoided_cents": cents}

        return self._change(actor, case_id, "outcome", fn)

    def reopen(self, actor: Principal, case_id: int, n: NoteIn) -> dict[str, Any]:
        """Reopen a closed case (its outcome withdrawn from the figures; the reason kept)."""

        def fn(db: sqlite_utils.Database, case: dict[str, Any]) -> dict[str, Any]:
            if case["status"] != CaseStatus.CLOSED:
                raise Conflict(f"case {case_id} is not closed")
            db.table("fraud_cases").update(case_id, {
                "status": CaseStatus.INVESTIGATING.value, "outcome": None, "outcome_note": None,
                "losses_avoided_cents": 0, "closed_ts": None, "closed_by": None,
            })  # fmt: skip
            db.table("fraud_case_notes").insert(
                {"case_id": case_id, "author": actor.username, "text": n.text, "ts": time.time()}
            )
            return {"before": {"outcome": case["outcome"],
                               "losses_avoided_cents": case["losses_avoided_cents"]}}  # fmt: skip

        return self._change(actor, case_id, "reopen", fn, closed_ok=True)


def add_companies(db: sqlite_utils.Database, case_id: int, cids: list[int], actor: str) -> None:
    """Link companies to a case (each must exist; linking twice is harmless)."""
    for cid in cids:
        co.require_company(db, cid)
        db.execute(
            "INSERT INTO fraud_case_companies (case_id, company_id, added_by, ts) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [case_id, cid, actor, time.time()],
        )
    ids = [r[0] for r in db.execute(
        "SELECT company_id FROM fraud_case_companies WHERE case_id = ? ORDER BY ts, company_id",
        [case_id])]  # fmt: skip
    db.execute("UPDATE fraud_cases SET company_ids = ? WHERE id = ?", [json.dumps(ids), case_id])


def attach_tip(db: sqlite_utils.Database, case_id: int, tip_id: int) -> None:
    """Move a tip into a case: it leaves the queue and stays readable in the case."""
    row = db.execute("SELECT case_id FROM fraud_tips WHERE id = ?", [tip_id]).fetchone()
    if row is None:
        raise NotFound(f"unknown tip {tip_id}")
    if row[0] is not None and row[0] != case_id:
        raise Conflict(f"tip {tip_id} is already in case {row[0]}")
    db.execute("UPDATE fraud_tips SET status = 'case', case_id = ? WHERE id = ?", [case_id, tip_id])
    company = db.execute("SELECT company_id FROM fraud_tips WHERE id = ?", [tip_id]).fetchone()[0]
    if company is not None:
        add_companies(db, case_id, [company], "tip")
