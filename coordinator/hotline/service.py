"""The hotline service: a call log, callbacks with due times, SLAs per category,
satisfaction follow-up and the monthly report.

The caller's number is personal data: it is stored encrypted (the population data key),
found by keyed hash, masked in every list, and revealed only for one call with a reason
that goes into the audit log. Every read of calls (they hold callers' names and what they
asked) is audited with its purpose.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Conflict, Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..identity.auth import actor_name as _name
from ..platform.db import Database
from ..platform.text import one_line as _text
from ..population.crypto import Keyring
from ..population.ids import mask_id

Actor = Principal | str
CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
#: A satisfaction follow-up call is due this long after a call is resolved.
FOLLOWUP_AFTER_S = 2 * 86400.0
LIST_LIMIT = 200
CALL_COLUMNS = (
    "id, received_at, caller_masked, caller_name, category, summary, person_id, request_id, "
    "agent, status, due_at, resolved_at, resolution, satisfaction, satisfaction_at, "
    "followup_due_at, updated_at"
)


class Category(BaseModel):
    """A kind of call the bureau serves, and how soon it is answered."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z_]{2,40}$")
    sla_hours: float = Field(gt=0, le=720)
    name: dict[str, str]


class HotlineCatalogue(BaseModel):
    """The migrants' service catalogue of the hotline."""

    model_config = ConfigDict(extra="forbid")
    version: int
    note: str = ""
    categories: list[Category] = Field(min_length=1)

    def category(self, code: str) -> Category | None:
        """A category by its code."""
        return next((c for c in self.categories if c.code == code), None)


def load_catalogue(path: Path | None = None) -> HotlineCatalogue:
    """Read and validate the catalogue file (the shipped one by default)."""
    return HotlineCatalogue.model_validate_json((path or CATALOGUE_FILE).read_text("utf-8"))


def clean_number(value: str) -> str:
    """A phone number as digits (a leading + kept); refuses what cannot be one."""
    s = re.sub(r"[\s\-().]", "", str(value or ""))
    if not re.fullmatch(r"\+?\d{5,15}", s):
        raise Invalid("caller_number: 5-15 digits, optionally with a leading +")
    return s


def month_bounds(month: str) -> tuple[float, float]:
    """UNIX seconds of the first instant of ``YYYY-MM`` and of the next month (UTC+8)."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise Invalid("month: YYYY-MM")
    y, m = int(month[:4]), int(month[5:])
    if not 1 <= m <= 12:
        raise Invalid("month: YYYY-MM")
    tz = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime(y, m, 1, tzinfo=tz)
    days = calendar.monthrange(y, m)[1]
    return start.timestamp(), (start + dt.timedelta(days=days)).timestamp()


class HotlineService:
    """Calls to the bureau's service line and what follows them."""

    def __init__(
        self, db: Database, audit: AuditService, keyring: Keyring,
        catalogue: HotlineCatalogue, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.db = db
        self.audit = audit
        self.keyring = keyring
        self.catalogue = catalogue
        self.clock = clock

    def _row(self, call_id: int) -> dict[str, Any]:
        rows = self.db.query(f"select {CALL_COLUMNS} from hotline_calls where id = ?", [call_id])
        if not rows:
            raise NotFound(f"no hotline call {call_id}")
        return self._decorate(rows[0])

    def _decorate(self, r: dict[str, Any], now: float | None = None) -> dict[str, Any]:
        now = self.clock() if now is None else now
        r = dict(r)
        r["overdue"] = r["status"] == "open" and r["due_at"] < now
        r["followup_due"] = (
            r["status"] == "resolved" and r["satisfaction"] is None
            and r["followup_due_at"] is not None and r["followup_due_at"] <= now
        )  # fmt: skip
        return r

    def log_call(self, actor: Actor, data: dict[str, Any], purpose: str) -> dict[str, Any]:
        """Record a call; its callback deadline comes from its category's SLA."""
        code = str(data.get("category") or "")
        cat = self.catalogue.category(code)
        if cat is None:
            raise Invalid(f"category: unknown {code[:40]!r}")
        summary = _text("summary", data.get("summary"), 4000)
        name = _text("caller_name", data.get("caller_name"), 100, required=False)
        number = data.get("caller_number")
        enc = h = masked = None
        if number:
            n = clean_number(number)
            enc, h, masked = (
                self.keyring.encrypt("phone", n),
                self.keyring.lookup_hash("phone", n),
                mask_id(n),
            )
        for field, table in (("person_id", "pop_persons"), ("request_id", "pop_requests")):
            v = data.get(field)
            if v is not None and not self.db.query(f"select 1 from {table} where id = ?", [v]):
                raise Invalid(f"{field}: no record {v}")
        received = data.get("received_at") or self.clock()
        if received > self.clock() + 300:
            raise Invalid("received_at: is in the future")
        now = self.clock()
        row = {"received_at": received, "caller_enc": enc, "caller_hash": h,
               "caller_masked": masked, "caller_name": name, "category": code,
               "summary": summary, "person_id": data.get("person_id"),
               "request_id": data.get("request_id"), "agent": _name(actor), "status": "open",
               "due_at": received + cat.sla_hours * 3600, "updated_at": now}  # fmt: skip

        def write(w: sqlite_utils.Database) -> int:
            cols = list(row)
            cur = w.execute(
                f"insert into hotline_calls ({', '.join(cols)}) values "
                f"({', '.join('?' * len(cols))})",
                [row[c] for c in cols],
            )
            cid = int(cur.lastrowid or 0)
            self.audit.append(w, self.audit.entry(actor, "hotline_call", "hotline_call", cid,
                                                  purpose, {"category": code}))  # fmt: skip
            return cid

        return self._row(self.db.write(write))

    def calls(
        self, actor: Actor, purpose: str, *, status: str | None = None,
        caller_number: str | None = None, limit: int = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Calls, newest first (numbers masked); by status or by the caller's number."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if status == "overdue":
            where.append("status = 'open' and due_at < ?")
            params.append(self.clock())
        elif status:
            where.append("status = ?")
            params.append(status)
        if caller_number:
            where.append("caller_hash = ?")
            params.append(self.keyring.lookup_hash("phone", clean_number(caller_number)))
        rows = self.db.query(
            f"select {CALL_COLUMNS} from hotline_calls where {' and '.join(where)} "
            "order by received_at desc, id desc limit ?",
            [*params, max(1, min(limit, LIST_LIMIT))],
        )
        now = self.clock()
        out = [self._decorate(r, now) for r in rows]
        if out:
            self.audit.record(actor, "hotline_list", "hotline_call", None, purpose,
                              {"ids": [r["id"] for r in out]})  # fmt: skip
        return out

    def get(self, actor: Actor, call_id: int, purpose: str) -> dict[str, Any]:
        """One call with its callbacks (audited)."""
        r = self._row(call_id)
        r["callbacks"] = self.db.query(
            "select id, due_at, created_at, created_by, done_at, done_by, outcome "
            "from hotline_callbacks where call_id = ? order by id",
            [call_id],
        )
        self.audit.record(actor, "hotline_read", "hotline_call", call_id, purpose)
        return r

    def reveal(self, actor: Actor, call_id: int, reason: str) -> str:
        """The caller's full number, to call back (audited with the reason)."""
        reason_t = _text("reason", reason, 500) or ""
        rows = self.db.query("select caller_enc from hotline_calls where id = ?", [call_id])
        if not rows:
            raise NotFound(f"no hotline call {call_id}")
        if rows[0]["caller_enc"] is None:
            raise NotFound("the caller left no number")
        number = self.keyring.decrypt("phone", rows[0]["caller_enc"])
        self.audit.record(actor, "hotline_reveal_number", "hotline_call", call_id, reason_t)
        return number

    def schedule_callback(self, actor: Actor, call_id: int, due_at: float | None) -> dict[str, Any]:
        """Promise the caller a call back by ``due_at`` (default: the category's SLA)."""
        call = self._row(call_id)
        if call["status"] not in ("open",):
            raise Conflict(f"call {call_id} is {call['status']}")
        now = self.clock()
        due = due_at if due_at is not None else call["due_at"]
        if due <= now:
            raise Invalid("due_at: must be in the future")

        def write(w: sqlite_utils.Database) -> None:
            w.execute(
                "insert into hotline_callbacks (call_id, due_at, created_at, created_by) "
                "values (?, ?, ?, ?)",
                [call_id, due, now, _name(actor)],
            )
            w.execute("update hotline_calls set updated_at = ? where id = ?", [now, call_id])

        self.db.write(write)
        return self.get(actor, call_id, "callback scheduled")

    def complete_callback(self, actor: Actor, callback_id: int, outcome: str) -> dict[str, Any]:
        """Record that a promised call back was made, and what came of it."""
        outcome_t = _text("outcome", outcome, 2000)
        rows = self.db.query("select call_id, done_at from hotline_callbacks where id = ?",
                             [callback_id])  # fmt: skip
        if not rows:
            raise NotFound(f"no callback {callback_id}")
        if rows[0]["done_at"] is not None:
            raise Conflict(f"callback {callback_id} was already made")
        self.db.execute_write(
            "update hotline_callbacks set done_at = ?, done_by = ?, outcome = ? where id = ?",
            [self.clock(), _name(actor), outcome_t, callback_id],
        )
        return self.get(actor, rows[0]["call_id"], "callback made")

    def resolve(self, actor: Actor, call_id: int, resolution: str) -> dict[str, Any]:
        """Close the matter; a satisfaction follow-up becomes due two days later."""
        res = _text("resolution", resolution, 4000)
        call = self._row(call_id)
        if call["status"] != "open":
            raise Conflict(f"call {call_id} is {call['status']}")
        now = self.clock()
        self.db.execute_write(
            "update hotline_calls set status = 'resolved', resolved_at = ?, resolution = ?, "
            "followup_due_at = ?, updated_at = ? where id = ? and status = 'open'",
            [now, res, now + FOLLOWUP_AFTER_S, now, call_id],
        )
        return self.get(actor, call_id, "call resolved")

    def satisfaction(self, actor: Actor, call_id: int, score: int) -> dict[str, Any]:
        """The caller's rating (1-5) from the follow-up call; closes the call."""
        if not 1 <= score <= 5:
            raise Invalid("score: 1 to 5")
        call = self._row(call_id)
        if call["status"] != "resolved":
            raise Conflict(f"call {call_id} is {call['status']}: resolve it first")
        now = self.clock()
        self.db.execute_write(
            "update hotline_calls set status = 'closed', satisfaction = ?, satisfaction_at = ?, "
            "updated_at = ? where id = ?",
            [score, now, now, call_id],
        )
        return self.get(actor, call_id, "satisfaction follow-up")

    def callbacks_due(self, actor: Actor, purpose: str) -> list[dict[str, Any]]:
        """Promised callbacks not yet made, earliest first (numbers masked; audited)."""
        rows = self.db.query(
            "select b.id, b.call_id, b.due_at, c.caller_masked, c.caller_name, c.category "
            "from hotline_callbacks b join hotline_calls c on c.id = b.call_id "
            "where b.done_at is null order by b.due_at limit ?",
            [LIST_LIMIT],
        )
        now = self.clock()
        for r in rows:
            r["overdue"] = r["due_at"] < now
        if rows:
            self.audit.record(actor, "hotline_callbacks", "hotline_call", None, purpose,
                              {"ids": [r["call_id"] for r in rows]})  # fmt: skip
        return rows

    def report(self, month: str) -> dict[str, Any]:
        """The month's figures by category: calls, answered within the SLA, overdue,
        callbacks made on time, satisfaction (counts only; no personal data)."""
        start, end = month_bounds(month)
        now = self.clock()
        rows = self.db.query(
            "select category, count(*) calls, "
            "sum(case when resolved_at is not null and resolved_at <= due_at then 1 else 0 end) "
            "  within_sla, "
            "sum(case when status = 'open' and due_at < ? then 1 else 0 end) overdue, "
            "sum(case when resolved_at is not null then 1 else 0 end) resolved, "
            "count(satisfaction) rated, avg(satisfaction) satisfaction "
            "from hotline_calls where received_at >= ? and received_at < ? "
            "group by category order by category",
            [now, start, end],
        )
        cb = self.db.query(
            "select count(*) n, sum(case when b.done_at is not null and b.done_at <= b.due_at "
            "then 1 else 0 end) on_time from hotline_callbacks b join hotline_calls c "
            "on c.id = b.call_id where c.received_at >= ? and c.received_at < ?",
            [start, end],
        )[0]
        total = sum(r["calls"] for r in rows)
        rated = sum(r["rated"] for r in rows)
        sat = sum((r["satisfaction"] or 0) * r["rated"] for r in rows)
        return {
            "month": month,
            "calls": total,
            "within_sla": sum(r["within_sla"] for r in rows),
            "overdue": sum(r["overdue"] for r in rows),
            "callbacks": cb["n"],
            "callbacks_on_time": cb["on_time"] or 0,
            "rated": rated,
            "satisfaction": round(sat / rated, 2) if rated else None,
            "by_category": [
                {**r, "satisfaction": round(r["satisfaction"], 2) if r["satisfaction"] else None}
                for r in rows
            ],
        }

    def catalogue_json(self) -> dict[str, Any]:
        """The catalogue as the API gives it."""
        return json.loads(self.catalogue.model_dump_json(exclude={"note"}))
