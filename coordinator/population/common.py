"""Shared plumbing of the population services: context, jurisdiction, audit.

Jurisdiction: an officer sees persons, registrations and requests of the zones on their
account (``Principal.zones``); an entry there may also name a police-station area or a
monitoring centre of the city's one area hierarchy, which stands for every patrol zone in
it (``Ctx.areas``, given by the composition root from geo). Outside them, access needs a
*break-the-glass* grant, which an officer never gives themselves: it is requested with a
reason, for one person or one zone, and approved by a data-access approver (the approvals
service) for at most an hour; or, for one person only, taken as an *emergency grant* of 15
minutes that an approver reviews afterwards. Every step is audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlite_utils

from ..approvals.permissions import Perm as ApprovalsPerm
from ..approvals.service import ApprovalsService, Kind
from ..errors import Forbidden, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal, actor_name
from ..platform.db import Database
from .crypto import Keyring
from .ids import RecordError, mask_id

GLASS_TTL_S = 3600.0
EMERGENCY_TTL_S = 900.0
KIND_GLASS = "break-glass"


Actor = Principal | str


class Areas(Protocol):
    """What population reads of the area hierarchy (``geo.areas.Hierarchy``)."""

    def zones_under(self, area_ids: Iterable[str]) -> set[str]:
        """The patrol zones in these areas."""
        ...

    def roll_up(self, counts: dict[str, int], level: str) -> dict[str, int]:
        """Per-zone counts summed to centres or stations."""
        ...


@dataclass
class Ctx:
    """What every population service needs."""

    db: Database
    keyring: Keyring
    audit: AuditService
    clock: Callable[[], float] = field(default=time.time)
    #: The current area hierarchy (None before zones are loaded); set by the composition root.
    areas: Callable[[], Areas | None] = field(default=lambda: None)

    def now(self) -> float:
        """Current time (injectable for tests of expiry and SLAs)."""
        return self.clock()

    def read(self, actor: Actor, action: str, subject: str, ids: Iterable[Any], purpose: str | None,
             detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Audit a read of personal data *before* it is returned (one entry per call)."""
        ids = list(ids)
        d = dict(detail or {})
        if len(ids) != 1:
            d["ids"] = ids
        self.audit.record(actor, action, subject, ids[0] if len(ids) == 1 else None, purpose, d)

    @staticmethod
    def entry(db: sqlite_utils.Database, actor: Actor, action: str, subject: str,
              subject_id: Any, purpose: str | None, detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Insert an audit row inside the caller's write transaction."""
        AuditService.append(
            db, AuditService.entry(actor, action, subject, subject_id, purpose, detail)
        )


def insert_row(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> int:
    """Plain INSERT returning the new id (sqlite-utils' insert re-reads the table schema on
    every call, which dominated a bulk import)."""
    cols = list(row)
    cur = db.conn.execute(
        f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )
    return int(cur.lastrowid or 0)


def update_row(db: sqlite_utils.Database, table: str, row_id: int, values: dict[str, Any]) -> None:
    """Plain UPDATE of one row by id."""
    cols = list(values)
    db.conn.execute(
        f"update {table} set {', '.join(c + ' = ?' for c in cols)} where id = ?",
        [*(values[c] for c in cols), row_id],
    )


def username(actor: Actor) -> str:
    """The actor's name for history rows."""
    return actor_name(actor)


class Access:
    """Zone checks, and break-the-glass grants through the approvals service."""

    def __init__(self, ctx: Ctx, approvals: ApprovalsService | None = None) -> None:
        self.ctx = ctx
        self.approvals = approvals

    def kinds(self) -> list[Kind]:
        """The approval kind population files (registered by the composition root)."""
        return [
            Kind(KIND_GLASS, "break-the-glass access to population records",
                 "population:read", ApprovalsPerm.ACCESS_APPROVE, self._apply_glass,
                 max_duration_s=GLASS_TTL_S, pending_ttl_s=4 * 3600.0,
                 emergency_duration_s=EMERGENCY_TTL_S)
        ]  # fmt: skip

    def _grants(self, actor: Actor) -> list[dict[str, Any]]:
        return self.ctx.db.query(
            "select * from pop_glass_grants where username = ? and expires_at > ?",
            [username(actor), self.ctx.now()],
        )

    def zones(self, actor: Actor) -> set[str] | None:
        """Zones the actor may see now (None = all, for system jobs and the CLI)."""
        if not isinstance(actor, Principal):
            return None
        mine = set(actor.zones)
        areas = self.ctx.areas()
        if areas is not None:
            mine |= areas.zones_under(mine)  # a station or centre stands for its zones
        return mine | {g["zone"] for g in self._grants(actor) if g["zone"]}

    def _denied(self, actor: Actor, what: str, subject_id: Any, zone: str) -> None:
        """Audit a refused access: who tried to reach what, outside which jurisdiction
        (denied reads are evidence too: a pattern of them is what an auditor looks for)."""
        self.ctx.audit.record(actor, "denied", what, subject_id, None,
                              {"zone": zone, "reason": "outside jurisdiction"})  # fmt: skip

    def check_zone(self, actor: Actor, zone: str, what: str = "record") -> None:
        """Raise Forbidden (audited) unless ``zone`` is within the actor's jurisdiction (or
        a grant)."""
        allowed = self.zones(actor)
        if allowed is not None and zone not in allowed:
            self._denied(actor, what.replace(" ", "_"), None, zone)
            raise Forbidden(
                f"this {what} is in zone {zone}, outside your jurisdiction: "
                "request break-the-glass access with a reason"
            )

    def check_person(self, actor: Actor, person: dict[str, Any], *, audit: bool = True) -> None:
        """Raise Forbidden unless the person's zone is allowed or a person grant exists
        (the refusal audited, unless the caller audits it in its own entry)."""
        allowed = self.zones(actor)
        if allowed is None or person["zone"] in allowed:
            return
        if any(g["person_id"] == person["id"] for g in self._grants(actor)):
            return
        if audit:
            self._denied(actor, "person", person["id"], person["zone"])
        raise Forbidden(
            f"person {person['id']} is registered in zone {person['zone']}, outside your "
            "jurisdiction: request break-the-glass access with a reason"
        )

    def request(
        self, actor: Principal, reason: str, *, person_id: int | None = None,
        zone: str | None = None, minutes: int = 60, purpose: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Ask a data-access approver for up to an hour's access to one person or one zone."""
        if (person_id is None) == (zone is None):
            raise RecordError("scope", "give exactly one of person_id or zone")
        return self._approvals().request(
            actor, KIND_GLASS, subject_type="person" if person_id else "zone",
            subject_id=person_id or zone, reason=reason,
            scope={"person_id": person_id, "zone": zone}, duration_s=minutes * 60.0,
            prepare=self._person_exists(person_id), purpose=purpose,
        )  # fmt: skip

    def emergency(
        self, actor: Principal, reason: str, person_id: int, purpose: str | None = None
    ) -> dict[str, Any]:
        """Fifteen minutes' access to one person at once, queued for an approver's review."""
        return self._approvals().emergency(
            actor, KIND_GLASS, subject_type="person", subject_id=person_id, reason=reason,
            scope={"person_id": person_id, "zone": None}, purpose=purpose,
            prepare=self._person_exists(person_id),
        )  # fmt: skip

    def _approvals(self) -> ApprovalsService:
        if self.approvals is None:
            raise Forbidden("break-the-glass access needs the approvals service")
        return self.approvals

    @staticmethod
    def _person_exists(person_id: int | None) -> Callable[[sqlite_utils.Database], None]:
        def check(db: sqlite_utils.Database) -> None:
            if (
                person_id is not None
                and not db.execute("select 1 from pop_persons where id = ?", [person_id]).fetchone()
            ):
                raise NotFound(f"no person {person_id}")

        return check

    def _apply_glass(self, db: sqlite_utils.Database, req: dict[str, Any]) -> dict[str, Any]:
        """The approved (or emergency) request becomes a grant from now, for its duration."""
        import json

        scope = json.loads(req["scope"])
        now = self.ctx.now()
        row = {
            "username": req["beneficiary"], "person_id": scope.get("person_id"),
            "zone": scope.get("zone"), "reason": req["reason"], "granted_at": now,
            "expires_at": now + float(req["duration_s"] or GLASS_TTL_S),
            "approval_id": req["id"], "emergency": int(bool(req["emergency"])),
        }  # fmt: skip
        gid = insert_row(db, "pop_glass_grants", row)
        return {"grant_id": gid, "expires_at": row["expires_at"]}

    def active_grants(self, actor: Actor) -> list[dict[str, Any]]:
        """The actor's unexpired grants."""
        return self._grants(actor)


def zone_clause(zones: set[str] | None, column: str = "zone") -> tuple[str, list[Any]]:
    """SQL fragment restricting ``column`` to ``zones`` ('1' when unrestricted)."""
    if zones is None:
        return "1", []
    if not zones:
        return "0", []
    return f"{column} in ({','.join('?' * len(zones))})", sorted(zones)


LIST_FIELDS = (
    "id", "name", "name_latin", "id_type", "id_masked", "dob", "sex", "nationality",
    "origin", "zone", "status", "hukou", "hukou_place",
)  # fmt: skip


def list_view(row: dict[str, Any]) -> dict[str, Any]:
    """The fields a list shows: never the ID number (masked) nor the phone."""
    out = {k: row.get(k) for k in LIST_FIELDS}
    if out["id_masked"] is None and row.get("id_number"):
        out["id_masked"] = mask_id(row["id_number"])
    return out
