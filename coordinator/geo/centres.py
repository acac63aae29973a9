"""Monitoring centres as places people work: who belongs to which centre, who is city-wide,
what each caller may see (their :class:`Scope`), and each centre's shift log.

Scoping rule (documented in docs/operators-dashboard.md):
- command-centre staff (operator, dispatcher, supervisor roles) see and act on the
  incidents and cameras of the centres they are members of;
- a member flagged *city-wide* (the city's supervisors and the city command room) sees all;
- admins are city-wide; other roles (technicians maintaining cameras city-wide) are not
  scoped by centre, only by their permissions;
- staff with no membership see **nothing** (a safe default: a new account works no queue
  until someone assigns it to a centre);
- while the city has no centre areas loaded there is nothing to scope by: everyone sees all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from ..errors import Forbidden, Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..identity.permissions import Role
from ..platform.db import Database

#: Roles whose view is limited to their centres' work.
STAFF_ROLES = frozenset({Role.OPERATOR, Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR})
ShiftKind = Literal["sign_on", "sign_off", "note"]
SHIFT_LOG_MAX = 500


@dataclass(frozen=True)
class Scope:
    """The centres a caller's view covers; ``city_wide`` covers every centre and none."""

    city_wide: bool
    centres: frozenset[str] = frozenset()

    def allows(self, centre_id: str | None) -> bool:
        """True when work of this centre (None: outside every centre) is in view."""
        return self.city_wide or (centre_id is not None and centre_id in self.centres)

    def sql(self, column: str = "centre_id") -> tuple[str, list[Any]]:
        """A WHERE fragment and its parameters limiting rows to this scope."""
        if self.city_wide:
            return "1 = 1", []
        if not self.centres:
            return "1 = 0", []
        marks = ",".join("?" for _ in self.centres)
        return f"{column} in ({marks})", sorted(self.centres)


CITY_WIDE = Scope(True)


class CentreService:
    """Membership, scope and shift log of the monitoring centres."""

    def __init__(self, db: Database, centre_ids: Callable[[], list[str]]) -> None:
        self.db = db
        self._centre_ids = centre_ids

    # membership -----------------------------------------------------------------------
    def membership(self, username: str) -> dict[str, Any]:
        """A user's centres and city-wide flag."""
        rows = self.db.query(
            "select centre_id from centre_members where username = ? order by centre_id",
            [username],
        )
        wide = self.db.query("select 1 from centre_city_wide where username = ?", [username])
        return {
            "username": username,
            "centres": [r["centre_id"] for r in rows],
            "city_wide": bool(wide),
        }

    def memberships(self) -> list[dict[str, Any]]:
        """Every user with a membership or the city-wide flag."""
        names = {r["username"] for r in self.db.query("select username from centre_members")}
        names |= {r["username"] for r in self.db.query("select username from centre_city_wide")}
        return [self.membership(n) for n in sorted(names)]

    def set_membership(
        self, username: str, centres: Iterable[str], city_wide: bool, actor: str
    ) -> dict[str, Any]:
        """Replace a user's centres and city-wide flag (NotFound for an unknown user,
        Invalid for an unknown centre)."""
        if not self.db.query("select 1 from users where username = ?", [username]):
            raise NotFound(f"no user {username!r}")
        wanted = sorted(set(centres))
        known = set(self._centre_ids())
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise Invalid(f"not a monitoring centre of this city: {', '.join(unknown[:10])}")
        now = time.time()

        def write(db: sqlite_utils.Database) -> None:
            db.execute("delete from centre_members where username = ?", [username])
            db.execute("delete from centre_city_wide where username = ?", [username])
            for c in wanted:
                db.table("centre_members").insert(
                    {"username": username, "centre_id": c, "added_at": now, "added_by": actor}
                )
            if city_wide:
                db.table("centre_city_wide").insert(
                    {"username": username, "added_at": now, "added_by": actor}
                )
            # Who may see which centres' work is an access decision: audited.
            AuditService.append(
                db,
                AuditService.entry(
                    actor, "centre_membership_set", "user", username,
                    detail={"centres": wanted, "city_wide": city_wide},
                ),
            )  # fmt: skip

        self.db.write(write)
        return self.membership(username)

    # scope ----------------------------------------------------------------------------
    def scope_of(self, who: Principal) -> Scope:
        """What this caller sees (the module's rule)."""
        if Role.CAMERA_OWNER in who.roles and Role.ADMIN not in who.roles:
            return Scope(False)  # an owner sees no centre's work (only its own cameras)
        if Role.ADMIN in who.roles or not (who.roles & STAFF_ROLES):
            return CITY_WIDE
        if not self._centre_ids():
            return CITY_WIDE  # no centres loaded: nothing to scope by
        m = self.membership(who.username)
        if m["city_wide"]:
            return CITY_WIDE
        return Scope(False, frozenset(m["centres"]))

    def check(self, who: Principal, centre_id: str | None, what: str) -> None:
        """NotFound (as for a missing one, so nothing leaks) unless ``what`` is in scope."""
        if not self.scope_of(who).allows(centre_id):
            raise NotFound(f"no {what}")

    def centres(self, who: Principal) -> list[dict[str, Any]]:
        """Every centre, with whether it is in the caller's scope and who is on duty."""
        scope = self.scope_of(who)
        names = {
            r["id"]: r["name"]
            for r in self.db.query("select id, name from geo_areas where kind = 'centre'")
        }
        counts = {
            (r["centre"], r["kind"]): r["n"]
            for r in self.db.query(
                "select centre, kind, count(*) n from geo_areas group by centre, kind"
            )
        }
        duty = self.on_duty()
        return [
            {
                "id": c,
                "name": names.get(c, c),
                "stations": counts.get((c, "station"), 0),
                "patrol_zones": counts.get((c, "patrol"), 0),
                "in_scope": scope.allows(c),
                "on_duty": duty.get(c, []),
            }
            for c in self._centre_ids()
        ]

    # shift log ------------------------------------------------------------------------
    def log_shift(
        self, who: Principal, centre_id: str, kind: ShiftKind, text: str | None
    ) -> dict[str, Any]:
        """Sign on, sign off or add a note to a centre's shift log (members only)."""
        if centre_id not in self._centre_ids():
            raise NotFound(f"no centre {centre_id!r}")
        if not self.scope_of(who).allows(centre_id):
            raise Forbidden(f"you are not a member of centre {centre_id}")
        if kind == "note" and not (text and text.strip()):
            raise Invalid("a shift note needs text")
        on = self._on_duty_at(centre_id).get(who.username)
        if kind == "sign_on" and on:
            raise Invalid(f"{who.username} is already signed on at {centre_id}")
        if kind == "sign_off" and not on:
            raise Invalid(f"{who.username} is not signed on at {centre_id}")
        row = {"centre_id": centre_id, "ts": time.time(), "username": who.username, "kind": kind,
               "text": (text or "").strip() or None}  # fmt: skip
        row["id"] = self.db.write(lambda db: db.table("centre_shift_log").insert(row).last_pk)
        return row

    def shift_log(self, who: Principal, centre_id: str, limit: int = 100) -> dict[str, Any]:
        """A centre's shift log, newest first, and who is on duty now (members only)."""
        if centre_id not in self._centre_ids():
            raise NotFound(f"no centre {centre_id!r}")
        self.check(who, centre_id, f"centre {centre_id!r}")
        rows = self.db.query(
            "select * from centre_shift_log where centre_id = ? order by ts desc, id desc limit ?",
            [centre_id, min(limit, SHIFT_LOG_MAX)],
        )
        return {
            "centre_id": centre_id,
            "on_duty": sorted(self._on_duty_at(centre_id)),
            "entries": rows,
        }

    def on_duty(self) -> dict[str, list[str]]:
        """Centre → usernames signed on now."""
        out: dict[str, list[str]] = {}
        for r in self._last_moves(None):
            if r["kind"] == "sign_on":
                out.setdefault(r["centre_id"], []).append(r["username"])
        return {c: sorted(v) for c, v in out.items()}

    def _on_duty_at(self, centre_id: str) -> dict[str, float]:
        return {
            r["username"]: r["ts"] for r in self._last_moves(centre_id) if r["kind"] == "sign_on"
        }

    def _last_moves(self, centre_id: str | None) -> list[dict[str, Any]]:
        """Each (centre, user)'s last sign-on or sign-off."""
        where = "kind in ('sign_on', 'sign_off')" + (" and centre_id = ?" if centre_id else "")
        return self.db.query(
            f"select l.centre_id, l.username, l.kind, l.ts from centre_shift_log l join ("
            f"select centre_id c, username u, max(id) m from centre_shift_log where {where} "
            "group by centre_id, username) last on l.id = last.m",
            [centre_id] if centre_id else [],
        )
