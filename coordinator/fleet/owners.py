"""Owner organisations, their sharing agreements, and their owners' accounts.

Every camera references one owner organisation (``devices.org_id``); the ``owner_org`` and
``owner_type`` labels a device still carries are kept equal to its organisation's name and
kind for older callers and boards. An organisation has one sharing agreement
(:mod:`coordinator.fleet.agreements`), a camera may carry its own that replaces it. Every
change of an organisation or an agreement is audited in the same transaction.

The terms are read on the ingest path (each event is stamped with what its owner let the
centre receive when it was recorded), so they are cached: this process's own changes
apply at once, another process's within :data:`REFRESH_S`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlite_utils

from ..errors import Conflict, Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..platform.db import Database
from .agreements import Agreement, Level, OrgKind, default_for, level_at, owner_type_of, why_not
from .service import FleetService, ensure_org

#: How old the cached agreements may get before they are read again (other processes' edits).
REFRESH_S = 5.0
ORG_FIELDS = ("name", "kind", "contact", "area")
TERMS = ("level", "hours_from", "hours_to", "retention_days", "valid_from", "valid_to",
         "agreed_by", "note")  # fmt: skip


class OwnerService:
    """Owner organisations, agreements and the terms in force for each camera."""

    def __init__(self, db: Database, fleet: FleetService, *, utc_offset_h: float = 8.0) -> None:
        self.db = db
        self.fleet = fleet
        self.utc_offset_h = utc_offset_h
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._kinds: dict[int, str] = {}
        self._orgs: dict[int, Agreement] = {}
        self._devs: dict[str, Agreement] = {}

    # the terms in force ----------------------------------------------------------------
    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._loaded_at < REFRESH_S:
            return
        kinds = {r["id"]: r["kind"] for r in self.db.query("select id, kind from owner_orgs")}
        orgs: dict[int, Agreement] = {}
        devs: dict[str, Agreement] = {}
        for r in self.db.query("select * from sharing_agreements"):
            if r["device_id"]:
                devs[r["device_id"]] = Agreement.from_row(r)
            else:
                orgs[r["org_id"]] = Agreement.from_row(r)
        with self._lock:
            self._kinds, self._orgs, self._devs, self._loaded_at = kinds, orgs, devs, now

    def refresh(self) -> None:
        """Read the agreements again now (after a bulk load)."""
        self._refresh(force=True)

    def agreement(self, device_id: str) -> tuple[Agreement, str]:
        """The agreement governing a camera and where it comes from (camera, organisation,
        default)."""
        self._refresh()
        own = self._devs.get(device_id)
        if own is not None:
            return own, "camera"
        loc = self.fleet.location(device_id) or {}
        org = loc.get("org_id")
        terms = self._orgs.get(org) if org is not None else None
        if terms is not None:
            return terms, "organisation"
        return default_for(self._kinds.get(org) if org is not None else loc.get("owner_type")), (
            "default"
        )

    def level(self, device_id: str, ts: float) -> Level:
        """What the camera's owner lets the centre receive at ``ts`` (the ingest stamp)."""
        return level_at(self.agreement(device_id)[0], ts, self.utc_offset_h)

    def refusal(self, device_id: str, wanted: Level, ts: float | None = None) -> str | None:
        """Why ``wanted`` may not be taken from the camera now, or None."""
        terms, _ = self.agreement(device_id)
        return why_not(device_id, terms, time.time() if ts is None else ts, self.utc_offset_h,
                       wanted)  # fmt: skip

    def denied(
        self, actor: Principal | str, device_id: str, wanted: Level, reason: str, **detail: Any
    ) -> None:
        """Record a refusal in the audit log (action ``denied``)."""
        entry = AuditService.entry(
            actor, "denied", "device", device_id,
            detail={"wanted": wanted.value, "reason": reason, **detail},
        )  # fmt: skip
        self.db.write(lambda d: AuditService.append(d, entry))

    # organisations ---------------------------------------------------------------------
    def orgs(self, kind: str | None = None, q: str | None = None) -> list[dict[str, Any]]:
        """Organisations with their camera count and the agreement they recorded."""
        where, args = ["1 = 1"], []
        if kind:
            where.append("o.kind = ?")
            args.append(kind)
        if q:
            where.append("o.name like ?")
            args.append(f"%{q}%")
        rows = self.db.query(
            "select o.*, (select count(*) from devices d where d.org_id = o.id) cameras "
            f"from owner_orgs o where {' and '.join(where)} order by o.name",
            args,
        )
        terms = {
            r["org_id"]: r
            for r in self.db.query("select * from sharing_agreements where device_id is null")
        }
        for r in rows:
            r["agreement"] = _terms(terms.get(r["id"]), r["kind"])
        return rows

    def org(self, org_id: int) -> dict[str, Any]:
        """One organisation with its agreement and its cameras' own agreements."""
        rows = self.db.query(
            "select o.*, (select count(*) from devices d where d.org_id = o.id) cameras "
            "from owner_orgs o where o.id = ?",
            [org_id],
        )
        if not rows:
            raise NotFound(f"no owner organisation {org_id}")
        org = rows[0]
        own = self.db.query(
            "select * from sharing_agreements where org_id = ? and device_id is null", [org_id]
        )
        org["agreement"] = _terms(own[0] if own else None, org["kind"])
        org["camera_agreements"] = [
            {**_terms(r, org["kind"]), "device_id": r["device_id"]}
            for r in self.db.query(
                "select * from sharing_agreements where org_id = ? and device_id is not null "
                "order by device_id",
                [org_id],
            )
        ]
        return org

    def create_org(self, fields: dict[str, Any], actor: Principal | str) -> dict[str, Any]:
        """A new organisation (Conflict when the name is taken)."""
        now = time.time()
        entry = AuditService.entry(actor, "owner_org_create", "owner_org", fields["name"],
                                   detail=fields)  # fmt: skip

        def write(d: sqlite_utils.Database) -> int:
            if d.execute("select 1 from owner_orgs where name = ?", [fields["name"]]).fetchone():
                raise Conflict(f"an owner organisation is already called {fields['name']!r}")
            cur = d.execute(
                "insert into owner_orgs (name, kind, contact, area, created_at, updated_at) "
                "values (?, ?, ?, ?, ?, ?)",
                [fields["name"], fields["kind"], fields.get("contact"), fields.get("area"),
                 now, now],
            )  # fmt: skip
            AuditService.append(d, entry)
            return int(cur.lastrowid or 0)

        org_id = self.db.write(write)
        self._refresh(force=True)
        return self.org(org_id)

    def update_org(
        self, org_id: int, fields: dict[str, Any], actor: Principal | str
    ) -> dict[str, Any]:
        """Change an organisation's name, kind, contact or area; its cameras' labels follow."""
        before = self.org(org_id)
        changes = {k: v for k, v in fields.items() if k in ORG_FIELDS and v != before[k]}
        if not changes:
            return before
        entry = AuditService.entry(
            actor, "owner_org_update", "owner_org", org_id,
            detail={k: {"from": before[k], "to": v} for k, v in changes.items()},
        )  # fmt: skip

        def write(d: sqlite_utils.Database) -> None:
            name = changes.get("name")
            if (
                name
                and d.execute(
                    "select 1 from owner_orgs where name = ? and id != ?", [name, org_id]
                ).fetchone()
            ):
                raise Conflict(f"an owner organisation is already called {name!r}")
            sets = ", ".join(f"{k} = ?" for k in changes)
            d.execute(f"update owner_orgs set {sets}, updated_at = ? where id = ?",
                      [*changes.values(), time.time(), org_id])  # fmt: skip
            d.execute(
                "update devices set owner_org = ?, owner_type = ? where org_id = ?",
                [changes.get("name", before["name"]),
                 owner_type_of(changes.get("kind", before["kind"])), org_id],
            )  # fmt: skip
            AuditService.append(d, entry)

        self.db.write(write)
        self.fleet.reload_cache()
        self._refresh(force=True)
        return self.org(org_id)

    # agreements ------------------------------------------------------------------------
    def set_agreement(
        self,
        org_id: int,
        terms: dict[str, Any] | None,
        actor: Principal | str,
        device_id: str | None = None,
    ) -> dict[str, Any]:
        """Record (``terms``) or remove (None) the organisation's agreement, or one
        camera's own (``device_id``); audited with what it was before."""
        org = self.org(org_id)
        if device_id is not None:
            loc = self.fleet.location(device_id)
            if loc is None or loc.get("org_id") != org_id:
                raise NotFound(f"no camera {device_id!r} of owner organisation {org_id}")
        if terms is not None:
            _check(terms)
        key = f"dev:{device_id}" if device_id else f"org:{org_id}"
        old = self.db.query("select * from sharing_agreements where key = ?", [key])
        entry = AuditService.entry(
            actor, "sharing_agreement", "device" if device_id else "owner_org",
            device_id or org_id,
            detail={"org": org_id, "from": _plain(old[0]) if old else None, "to": terms},
        )  # fmt: skip
        name = actor.username if isinstance(actor, Principal) else actor

        def write(d: sqlite_utils.Database) -> None:
            d.execute("delete from sharing_agreements where key = ?", [key])
            if terms is not None:
                row = {"key": key, "org_id": org_id, "device_id": device_id,
                       **{k: terms.get(k) for k in TERMS},
                       "updated_at": time.time(), "updated_by": name}  # fmt: skip
                d.table("sharing_agreements").insert(row)
            AuditService.append(d, entry)

        self.db.write(write)
        self._refresh(force=True)
        if device_id is None:
            return self.org(org_id)["agreement"]
        return {**_terms(terms and {**terms, "key": key}, org["kind"]), "device_id": device_id}

    # owners' accounts ------------------------------------------------------------------
    def bind_account(self, username: str, org_id: int) -> None:
        """Make ``username`` an account of organisation ``org_id``."""
        self.org(org_id)
        self.db.execute_write(
            "insert into owner_accounts (username, org_id) values (?, ?) "
            "on conflict(username) do update set org_id = excluded.org_id",
            [username, org_id],
        )

    def org_of(self, username: str) -> int | None:
        """The organisation an owner account belongs to."""
        rows = self.db.query("select org_id from owner_accounts where username = ?", [username])
        return rows[0]["org_id"] if rows else None

    def accounts(self, org_id: int) -> list[str]:
        """The owner accounts of an organisation."""
        rows = self.db.query(
            "select username from owner_accounts where org_id = ? order by username", [org_id]
        )
        return [r["username"] for r in rows]

    # what an owner sees ----------------------------------------------------------------
    def own_cameras(self, org_id: int, limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        """The organisation's cameras with their health (nothing of anyone else's)."""
        keep = ("id", "zone", "lat", "lon", "health_status", "status_at", "last_health_at",
                "firmware", "health")  # fmt: skip
        rows = self.fleet.search(org_id=org_id, limit=limit, offset=offset)
        return [{k: r.get(k) for k in keep} for r in rows]

    def own_incidents(self, org_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """Incidents the organisation's cameras raised, newest first, with which of its
        cameras saw each (other owners' cameras are not named)."""
        rows = self.db.query(
            "select i.id, i.kind, i.status, i.created_at, i.last_ts, i.zone, "
            "group_concat(distinct e.dev) cams from events e "
            "join devices d on d.id = e.dev join incidents i on i.id = e.incident_id "
            "where d.org_id = ? group by i.id order by i.created_at desc limit ?",
            [org_id, limit],
        )
        for r in rows:
            r["cameras"] = sorted((r.pop("cams") or "").split(","))
        return rows

    # statistics ------------------------------------------------------------------------
    def incidents_raised(self, since: float, org_id: int | None = None) -> dict[int, int]:
        """Incidents opened since ``since`` with an event of the organisation's cameras,
        per organisation."""
        sql = (
            "select d.org_id org, count(distinct e.incident_id) n from events e "
            "join devices d on d.id = e.dev join incidents i on i.id = e.incident_id "
            "where i.created_at >= ? and e.t >= ?"
        )
        args: list[Any] = [since, since - 3600]
        if org_id is not None:
            sql += " and d.org_id = ?"
            args.append(org_id)
        return {r["org"]: r["n"] for r in self.db.query(sql + " group by d.org_id", args)}

    def stats(self, org_id: int | None = None) -> list[dict[str, Any]]:
        """Per organisation: cameras, their health counts, incidents raised in 24 h / 7 d."""
        now = time.time()
        health = self.fleet.summary("org_id")["groups"]
        day, week = (
            self.incidents_raised(now - 86400, org_id),
            self.incidents_raised(now - 7 * 86400, org_id),
        )
        out = []
        for o in self.orgs() if org_id is None else [self.org(org_id)]:
            h = health.get(str(o["id"]), {})
            out.append({
                "org_id": o["id"], "name": o["name"], "kind": o["kind"], "cameras": o["cameras"],
                **{k: h.get(k, 0) for k in ("online", "stale", "offline", "unknown", "revoked")},
                "incidents_24h": day.get(o["id"], 0), "incidents_7d": week.get(o["id"], 0),
            })  # fmt: skip
        return out

    # retention -------------------------------------------------------------------------
    def expire_frames(self, now: float | None = None) -> int:
        """Job: delete stored frames past their camera's agreed retention, and frames of
        cameras whose agreement no longer shares frames at all; returns how many."""
        now = time.time() if now is None else now
        self._refresh(force=True)
        rows = self.db.query(
            "select req, device_id, created_at, event_id from snapshots where data is not null"
        )
        gone = []
        for r in rows:
            terms, _ = self.agreement(r["device_id"])
            wanted = Level.SNAPSHOTS if r["event_id"] else Level.LIVE
            keep_s = (terms.retention_days or 0) * 86400
            if not terms.level.allows(wanted) or (keep_s and r["created_at"] < now - keep_s):
                gone.append(r["req"])
        if gone:
            self.db.write(
                lambda d: d.conn.executemany(
                    "delete from snapshots where req = ?", [[g] for g in gone]
                )
            )
        return len(gone)


def _check(terms: dict[str, Any]) -> None:
    problems = []
    for k in ("hours_from", "hours_to"):
        v = terms.get(k)
        if v is not None and not 0 <= v <= 24:
            problems.append(f"{k} must be an hour from 0 to 24")
    if (terms.get("hours_from") is None) != (terms.get("hours_to") is None):
        problems.append("hours_from and hours_to go together")
    vf, vt = terms.get("valid_from"), terms.get("valid_to")
    if vf is not None and vt is not None and vt <= vf:
        problems.append("valid_to must come after valid_from")
    if problems:
        raise Invalid("; ".join(problems))


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in TERMS}


def _terms(row: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """An agreement as the API shows it (``source`` says whether one was recorded)."""
    if row is None:
        d = default_for(kind)
        return {"source": "default", **{k: None for k in TERMS}, "level": d.level.value}
    return {"source": "recorded", **_plain(row), "updated_at": row.get("updated_at"),
            "updated_by": row.get("updated_by")}  # fmt: skip


__all__ = ["OrgKind", "OwnerService", "ensure_org"]
