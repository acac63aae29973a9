"""Residence permits: eligible after 6 months of continuous registered residence;
issued for a year, renewed while the holder is still registered, reminders before expiry."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import sqlite_utils

from ..errors import Conflict, NotFound
from .common import Access, Actor, Ctx, insert_row, zone_clause

ELIGIBLE_AFTER_MONTHS = 6
VALID_MONTHS = 12
RENEW_WINDOW_DAYS = 30
MAX_GAP_DAYS = 1  # a move between two addresses on consecutive days is still continuous
#: A foreign national's residence permit is not this (migrants') permit: it is applied for at
#: the foreigners' service hall, as a case with its own documents and deadline.
FOREIGNER_REASON = (
    "a foreign national's residence permit is issued by the foreigners' service hall: "
    "open a residence-permit case there"
)


def is_foreigner(person: dict[str, Any]) -> bool:
    """Whether the person holds a foreign nationality (the hall's permits, not these)."""
    nat = person.get("nationality")
    return bool(nat) and nat != "CN"


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus whole months, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def continuous_since(intervals: list[tuple[dt.date, dt.date]], today: dt.date) -> dt.date | None:
    """Start of the unbroken run of intervals that covers ``today`` (None if none does)."""
    runs: list[list[dt.date]] = []
    for start, end in sorted(intervals):
        if runs and (start - runs[-1][1]).days <= MAX_GAP_DAYS:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    for start, end in runs:
        if start <= today <= end:
            return start
    return None


def eligibility(intervals: list[tuple[dt.date, dt.date]], today: dt.date) -> dict[str, Any]:
    """Whether a permit can be issued today, and from when if not yet."""
    since = continuous_since(intervals, today)
    if since is None:
        return {"eligible": False, "reason": "not currently registered", "since": None,
                "eligible_from": None}  # fmt: skip
    start = add_months(since, ELIGIBLE_AFTER_MONTHS)
    ok = start <= today
    return {
        "eligible": ok,
        "since": since.isoformat(),
        "eligible_from": start.isoformat(),
        "reason": None
        if ok
        else f"continuous registered residence since {since}; "
        f"{ELIGIBLE_AFTER_MONTHS} months are needed (from {start})",
    }


class Permits:
    """Issue, renew, list and remind."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.ctx.now(), dt.UTC).date()

    def _person(self, actor: Actor, person_id: int) -> dict[str, Any]:
        rows = self.ctx.db.query("select * from pop_persons where id = ?", [person_id])
        if not rows:
            raise NotFound(f"no person {person_id}")
        self.access.check_person(actor, rows[0])
        return rows[0]

    def _intervals(self, person_id: int) -> list[tuple[dt.date, dt.date]]:
        today = self._today()
        out = []
        for r in self.ctx.db.query(
            "select coalesce(r.counts_from, r.valid_from) as valid_from, r.valid_to, r.status "
            "from pop_registrations r where "
            "r.person_id = ? and (r.status in ('registered','moved_out','expired') or exists "
            "(select 1 from pop_reg_history h where h.registration_id = r.id "
            " and h.to_status = 'registered'))",
            [person_id],
        ):
            # counts_from: the day it was recorded, or an earlier day a second officer approved
            start = dt.date.fromisoformat(r["valid_from"])
            end = dt.date.fromisoformat(r["valid_to"]) if r["valid_to"] else today
            if r["status"] == "registered":
                end = max(end, today) if not r["valid_to"] else end
            if start <= end:
                out.append((start, end))
        return out

    def check(self, actor: Actor, person_id: int, purpose: str | None) -> dict[str, Any]:
        """Eligibility of a person (audited read)."""
        person = self._person(actor, person_id)
        self.ctx.read(actor, "permit_eligibility", "person", [person_id], purpose)
        if is_foreigner(person):
            return {"person_id": person_id, "eligible": False, "since": None,
                    "eligible_from": None, "reason": FOREIGNER_REASON, "channel": "hall"}  # fmt: skip
        return {"person_id": person_id, **eligibility(self._intervals(person_id), self._today())}

    def issue(self, actor: Actor, person_id: int, purpose: str | None) -> dict[str, Any]:
        """Issue a permit when eligible; Conflict with the reason otherwise."""
        person = self._person(actor, person_id)
        if is_foreigner(person):
            raise Conflict(f"not eligible: {FOREIGNER_REASON}")
        today = self._today()
        e = eligibility(self._intervals(person_id), today)
        if not e["eligible"]:
            raise Conflict(f"not eligible: {e['reason']}")
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> int:
            if db.execute("select 1 from pop_permits where person_id = ? and status = 'valid' "
                          "and expires_on >= ?", [person_id, today.isoformat()]).fetchone():  # fmt: skip
                raise Conflict("the person already holds a valid permit: renew it instead")
            seq = db.execute("select coalesce(max(id), 0) + 1 from pop_permits").fetchone()[0]
            pid = insert_row(db, "pop_permits", dict(
                person_id=person_id, number=f"RP{today.year}{seq:08d}",
                issued_on=today.isoformat(),
                expires_on=add_months(today, VALID_MONTHS).isoformat(),
                zone=person["zone"], created_at=now))  # fmt: skip
            Ctx.entry(db, actor, "permit_issue", "person", person_id, purpose, {"permit": pid})
            return pid

        return self.get(actor, self.ctx.db.write(write), purpose, audit=False)

    def get(
        self, actor: Actor, permit_id: int, purpose: str | None, *, audit: bool = True
    ) -> dict[str, Any]:
        """One permit with the holder's name."""
        rows = self.ctx.db.query(
            "select m.*, p.name, p.id_masked from pop_permits m join pop_persons p "
            "on p.id = m.person_id where m.id = ?",
            [permit_id],
        )
        if not rows:
            raise NotFound(f"no permit {permit_id}")
        self.access.check_zone(actor, rows[0]["zone"], "permit")
        if audit:
            self.ctx.read(actor, "read_permit", "person", [rows[0]["person_id"]], purpose)
        return rows[0]

    def renew(self, actor: Actor, permit_id: int, purpose: str | None) -> dict[str, Any]:
        """Extend by a year, from 30 days before expiry on, while still registered."""
        m = self.get(actor, permit_id, purpose, audit=False)
        today = self._today()
        expires = dt.date.fromisoformat(m["expires_on"])
        if m["status"] != "valid":
            raise Conflict(f"permit {permit_id} is {m['status']}")
        if (expires - today).days > RENEW_WINDOW_DAYS:
            raise Conflict(f"renewal opens {RENEW_WINDOW_DAYS} days before expiry ({expires})")
        if continuous_since(self._intervals(m["person_id"]), today) is None:
            raise Conflict("the holder is no longer registered: a permit cannot be renewed")
        new_exp = add_months(max(expires, today), VALID_MONTHS).isoformat()

        def write(db: sqlite_utils.Database) -> None:
            db.execute("update pop_permits set expires_on = ?, renewals = renewals + 1 "
                       "where id = ?", [new_exp, permit_id])  # fmt: skip
            Ctx.entry(db, actor, "permit_renew", "person", m["person_id"], purpose,
                      {"permit": permit_id, "expires_on": new_exp})  # fmt: skip

        self.ctx.db.write(write)
        return self.get(actor, permit_id, purpose, audit=False)

    def expiring(
        self, actor: Actor, purpose: str | None, days: int = RENEW_WINDOW_DAYS
    ) -> list[dict[str, Any]]:
        """Reminders: valid permits in the officer's zones expiring within ``days``."""
        today = self._today()
        zc, params = zone_clause(self.access.zones(actor), "m.zone")
        rows = self.ctx.db.query(
            "select m.id, m.person_id, m.number, m.expires_on, m.zone, p.name, p.phone "
            "from pop_permits m join pop_persons p on p.id = m.person_id "
            f"where m.status = 'valid' and m.expires_on between ? and ? and {zc} "
            "order by m.expires_on limit 1000",
            [today.isoformat(), (today + dt.timedelta(days=days)).isoformat(), *params],
        )
        self.ctx.read(actor, "permit_reminders", "person", [r["person_id"] for r in rows], purpose)
        return rows
