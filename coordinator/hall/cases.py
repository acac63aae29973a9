"""The hall's cases: application, documents, review, decision, collection; the counters'
queues, deadlines and their alerts; statistics.

Every read of a case (it holds a foreigner's name and passport) is audited with its purpose
before it is returned; the passport number is encrypted at rest, looked up by keyed hash
and masked everywhere but in the audited reveal of one case.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import sqlite_utils

from ..errors import Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..identity.auth import actor_name as _name
from ..platform.db import Database
from ..platform.filestore import FileStore
from ..platform.text import one_line as _text
from ..population.crypto import Keyring
from ..population.ids import clean_country, mask_id, normalise_id
from . import catalogue as cat
from .lifecycle import OPEN, Status

Actor = Principal | str
#: Receipt numbers: 16 symbols of a 32-letter alphabet without look-alikes (80 random bits).
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_RE = r"^HL-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$"
#: An alert that a decision is due within this long (before it is overdue).
DUE_SOON_S = 24 * 3600.0
#: Documents of a case are kept this long after it closes, then purged.
DOCUMENT_RETENTION_DAYS = 730
#: Cells of the statistics under this count are suppressed.
MIN_CELL = 5
QUEUE_LIMIT = 500
CASE_COLUMNS = (
    "id, receipt, service, counter, status, applicant_name, name_latin, nationality, "
    "passport_masked, person_id, visit_id, requested_until, note, applied_at, due_at, "
    "checked_at, review_at, decided_at, closed_at, decision, decision_reason, granted_until, "
    "clerk, updated_at"
)


def new_receipt() -> str:
    """An unguessable receipt number, e.g. ``HL-7K3M-9QXP-2V4R-8T6W``."""
    s = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(16))
    return "HL-" + "-".join(s[i : i + 4] for i in range(0, 16, 4))


class HallCases:
    """Cases of the foreigners' service hall: application and reads."""

    def __init__(
        self,
        db: Database,
        audit: AuditService,
        keyring: Keyring,
        files: FileStore,
        catalogue: cat.Catalogue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.audit = audit
        self.keyring = keyring
        self.files = files
        self.catalogue = catalogue
        self.clock = clock
        self._holidays = frozenset(catalogue.holidays)

    # helpers ------------------------------------------------------------------------------
    def _service(self, code: str) -> cat.Service:
        s = self.catalogue.service(code)
        if s is None:
            codes = ", ".join(x.code for x in self.catalogue.services)
            raise Invalid(f"service: unknown service {code[:40]!r}; one of {codes}")
        return s

    def _row(self, case_id: int) -> dict[str, Any]:
        rows = self.db.query(f"select {CASE_COLUMNS} from hall_cases where id = ?", [case_id])
        if not rows:
            raise NotFound(f"no hall case {case_id}")
        return rows[0]

    def _event(self, w: sqlite_utils.Database, case_id: int, actor: Actor, frm: str | None,
               to: str, note: str | None, at: float) -> None:  # fmt: skip
        w.execute(
            "insert into hall_case_events (case_id, at, actor, from_status, to_status, note) "
            "values (?, ?, ?, ?, ?, ?)",
            [case_id, at, _name(actor), frm, to, note],
        )

    def _audit(self, w: sqlite_utils.Database, actor: Actor, action: str, case_id: Any,
               purpose: str | None, detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.audit.append(w, self.audit.entry(actor, action, "hall_case", case_id, purpose, detail))

    def kept_documents(self, case_ids: list[int]) -> dict[int, set[str]]:
        """The document kinds each case holds (one query for a whole list)."""
        out: dict[int, set[str]] = {i: set() for i in case_ids}
        for i in range(0, len(case_ids), 500):
            ids = case_ids[i : i + 500]
            for r in self.db.query(
                "select distinct case_id, doc from hall_case_documents where case_id in "
                f"({', '.join('?' * len(ids))})",
                ids,
            ):
                out[r["case_id"]].add(r["doc"])
        return out

    def decorate(
        self, row: dict[str, Any], now: float | None = None, have: set[str] | None = None
    ) -> dict[str, Any]:
        """A case row with its deadline state and the documents it still needs."""
        now = self.clock() if now is None else now
        svc = self.catalogue.service(row["service"])
        row = dict(row)
        row["overdue"] = row["status"] in OPEN and row["due_at"] < now
        row["due_in_s"] = row["due_at"] - now if row["status"] in OPEN else None
        if have is None:
            have = self.kept_documents([row["id"]])[row["id"]]
        row["documents_required"] = list(svc.documents) if svc else []
        row["documents_missing"] = [d for d in row["documents_required"] if d not in have]
        return row

    # application --------------------------------------------------------------------------
    def apply(self, actor: Actor, data: dict[str, Any], purpose: str) -> dict[str, Any]:
        """Open a case at the counter; returns it with its receipt number."""
        svc = self._service(str(data.get("service") or ""))
        name = _text("applicant_name", data.get("applicant_name"), 100)
        latin = _text("name_latin", data.get("name_latin"), 100, required=False)
        nat = clean_country("nationality", data.get("nationality"))
        if nat == "CN":
            raise Invalid("nationality: the hall serves foreign nationals")
        number = normalise_id("passport", str(data.get("passport_number") or ""))
        if not (5 <= len(number) <= 20 and number.isalnum() and any(c.isdigit() for c in number)):
            raise Invalid("passport_number: 5-20 letters and digits, at least one digit")
        until = data.get("requested_until")
        if until:
            try:
                until = dt.date.fromisoformat(str(until)).isoformat()
            except ValueError:
                raise Invalid("requested_until: a date YYYY-MM-DD") from None
        note = _text("note", data.get("note"), 1000, required=False)
        person_id, visit_id = self._links(svc, data, nat)
        now = self.clock()
        row = {
            "receipt": new_receipt(), "service": svc.code, "counter": svc.counter,
            "status": Status.APPLIED.value, "applicant_name": name, "name_latin": latin,
            "nationality": nat, "passport_enc": self.keyring.encrypt("passport", number),
            "passport_hash": self.keyring.lookup_hash("hall_passport", f"{nat}:{number}"),
            "passport_masked": mask_id(number), "person_id": person_id, "visit_id": visit_id,
            "requested_until": until, "note": note, "applied_at": now,
            "due_at": cat.due_at(now, svc.days, self._holidays), "clerk": _name(actor),
            "updated_at": now,
        }  # fmt: skip

        def write(w: sqlite_utils.Database) -> int:
            cols = list(row)
            cur = w.conn.execute(
                f"insert into hall_cases ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
                [row[c] for c in cols],
            )
            cid = int(cur.lastrowid or 0)
            self._event(w, cid, actor, None, Status.APPLIED, None, now)
            self._audit(w, actor, "hall_apply", cid, purpose, {"service": svc.code})
            return cid

        return self.decorate(self._row(self.db.write(write)), now)

    def _links(
        self, svc: cat.Service, data: dict[str, Any], nat: str
    ) -> tuple[int | None, int | None]:
        """The population person and accommodation registration a case links to (checked)."""
        person_id = data.get("person_id")
        visit_id = data.get("visit_id")
        if person_id is not None:
            p = self.db.query("select nationality from pop_persons where id = ?", [person_id])
            if not p:
                raise Invalid(f"person_id: no person {person_id}")
            if p[0]["nationality"] != nat:
                raise Invalid("person_id: the person's nationality differs from the applicant's")
        if visit_id is not None:
            v = self.db.query("select person_id from pop_visitors where id = ?", [visit_id])
            if not v:
                raise Invalid(f"visit_id: no accommodation registration {visit_id}")
            if person_id is not None and v[0]["person_id"] != person_id:
                raise Invalid("visit_id: the accommodation registration is another person's")
            person_id = v[0]["person_id"]
        return person_id, visit_id

    # reads --------------------------------------------------------------------------------
    def get(self, actor: Actor, case_id: int, purpose: str) -> dict[str, Any]:
        """One case with its documents, history and linked stay (audited)."""
        row = self.decorate(self._row(case_id))
        row["documents"] = [
            {"doc": d["doc"], "file_id": d["file_id"], "at": d["at"], "actor": d["actor"],
             "filename": m.filename, "content_type": m.content_type, "size": m.size,
             "sha256": m.sha256}
            for d in self.db.query("select * from hall_case_documents where case_id = ? "
                                   "order by at", [case_id])
            if (m := self.files.meta(d["file_id"])).purged_at is None
        ]  # fmt: skip
        row["events"] = self.db.query(
            "select at, actor, from_status, to_status, note from hall_case_events "
            "where case_id = ? order by id",
            [case_id],
        )
        row["stay"] = None
        if row["visit_id"] is not None:
            v = self.db.query(
                "select id, arrived_at, reported_at, late, flags, address from pop_visitors "
                "where id = ?",
                [row["visit_id"]],
            )
            if v:
                row["stay"] = {
                    **v[0],
                    "late": bool(v[0]["late"]),
                    "flags": json.loads(v[0]["flags"]),
                }
        self.audit.record(actor, "hall_read", "hall_case", case_id, purpose)
        return row

    def reveal_passport(self, actor: Actor, case_id: int, reason: str) -> str:
        """The full passport number of one case (audited with its reason)."""
        reason = _text("reason", reason, 500) or ""
        rows = self.db.query("select passport_enc from hall_cases where id = ?", [case_id])
        if not rows:
            raise NotFound(f"no hall case {case_id}")
        number = self.keyring.decrypt("passport", rows[0]["passport_enc"])
        self.audit.record(actor, "hall_reveal_passport", "hall_case", case_id, reason)
        return number

    def queue(self, actor: Actor, counter: str, purpose: str) -> list[dict[str, Any]]:
        """A counter's work: open cases by deadline (overdue first), then those waiting to
        be collected (one audit entry for the list)."""
        if counter not in self.catalogue.counter_codes():
            raise Invalid(f"counter: unknown counter {counter[:8]!r}")
        now = self.clock()
        live = [s.value for s in (*OPEN, Status.DECIDED)]
        rows = self.db.query(
            f"select {CASE_COLUMNS} from hall_cases where counter = ? and status in "
            f"({', '.join('?' * len(live))}) order by status = 'decided', due_at, id limit ?",
            [counter, *live, QUEUE_LIMIT],
        )
        kept = self.kept_documents([r["id"] for r in rows])
        out = [self.decorate(r, now, kept[r["id"]]) for r in rows]
        if out:
            self.audit.record(actor, "hall_queue", "hall_case", None, purpose,
                              {"counter": counter, "ids": [r["id"] for r in out]})  # fmt: skip
        return out

    def find(
        self, actor: Actor, nationality: str, passport: str, purpose: str
    ) -> list[dict[str, Any]]:
        """Cases of one passport (by keyed hash), newest first (audited)."""
        nat = clean_country("nationality", nationality)
        h = self.keyring.lookup_hash("hall_passport", f"{nat}:{normalise_id('passport', passport)}")
        rows = self.db.query(
            f"select {CASE_COLUMNS} from hall_cases where passport_hash = ? order by id desc "
            "limit 100",
            [h],
        )
        self.audit.record(actor, "hall_find", "hall_case", None, purpose,
                          {"ids": [r["id"] for r in rows]})  # fmt: skip
        return [self.decorate(r) for r in rows]
