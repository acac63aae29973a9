"""Persons and residence registrations: validation, lifecycle, reads with audit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from ..errors import Conflict, Forbidden, NotFound
from .common import Access, Actor, Ctx, insert_row, list_view, update_row, username, zone_clause
from .dates import TrustedDates, check_backdate_reason, counts_from, day_of
from .duplicates import record_candidates
from .ids import (
    MAX_ADDRESS,
    MAX_SHORT,
    PROVINCES,
    IdType,
    RecordError,
    clean_country,
    clean_hukou_place,
    clean_name,
    clean_phone,
    clean_text,
    clean_zone,
    document_country,
    hukou_status,
    mask_id,
    parse_date,
    prc_birth_date,
    prc_sex,
    validate_id,
)
from .names import address_text, index_text, latin_name, match_key
from .schema import count_inserted

PERSON_FIELDS = ("name", "name_latin", "id_type", "id_number", "dob", "sex", "nationality",
                 "origin", "phone", "zone", "hukou_place")  # fmt: skip

#: Registration lifecycle: which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"registered", "archived"}),
    "registered": frozenset({"moved_out", "expired"}),
    "moved_out": frozenset({"archived"}),
    "expired": frozenset({"archived", "registered"}),
    "archived": frozenset(),
}
OPEN_REG = ("draft", "registered")
REG_KINDS = ("rented", "own", "employer", "other")


def validate_person(data: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a person's fields; raise RecordError naming the first bad field."""
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise RecordError(sorted(unknown)[0], "is not a person field (no such data is kept)")
    name = clean_name(data.get("name"))
    kind, number = validate_id(data.get("id_type") or "", data.get("id_number") or "")
    dob_raw = data.get("dob")
    sex = (data.get("sex") or "").strip().upper() or None
    if sex is not None and sex not in ("F", "M", "X"):
        raise RecordError("sex", "must be F, M or X")
    if kind is IdType.PRC_ID:
        born = prc_birth_date(number)
        assert born is not None
        dob = parse_date("dob", dob_raw, allow_future=False) if dob_raw else born
        if dob != born:
            raise RecordError("dob", f"{dob} differs from the birth date in the ID number")
        if sex is not None and sex != prc_sex(number):
            raise RecordError("sex", "differs from the sex encoded in the ID number")
        sex = sex or prc_sex(number)
        nationality = clean_country("nationality", data.get("nationality") or "CN")
        if nationality != "CN":
            raise RecordError("nationality", "a PRC resident ID belongs to a CN national")
        origin = clean_text("origin", data.get("origin"), MAX_SHORT, required=False)
        origin = origin or PROVINCES[number[:2]]
        # the place the ID was first issued stands for the hukou place until one is given
        hukou_place = clean_hukou_place(data.get("hukou_place")) or clean_hukou_place(number[:6])
    else:
        if not dob_raw:
            raise RecordError("dob", "is required")
        dob = parse_date("dob", dob_raw, allow_future=False)
        nationality = clean_country("nationality", data.get("nationality"))
        origin = clean_text("origin", data.get("origin"), MAX_SHORT, required=False) or nationality
        hukou_place = clean_hukou_place(data.get("hukou_place")) if nationality == "CN" else None
        if data.get("hukou_place") and nationality != "CN":
            raise RecordError("hukou_place", "only a Chinese national has a hukou place")
    given_latin = clean_text("name_latin", data.get("name_latin"), 100, required=False)
    return {
        "name": name,
        "name_latin": latin_name(name, given_latin),
        "id_type": kind.value,
        "id_number": number,
        "dob": dob.isoformat(),
        "sex": sex or "X",
        "nationality": nationality,
        "origin": origin,
        "phone": clean_phone(data.get("phone")),
        "zone": clean_zone(data.get("zone")),
        "hukou_place": hukou_place,
        "hukou": hukou_status(hukou_place, kind.value, nationality),
    }


class DocumentExists(Conflict):
    """The document (type, issuing country, number) belongs to a person already on record:
    the counter opens that person instead of creating a second one."""

    def __init__(self, person_id: int, zone: str, visible: bool) -> None:
        super().__init__(
            f"this document is already registered to person {person_id}: open that record"
            + ("" if visible else f" (zone {zone}, outside your jurisdiction: request access)")
        )
        self.person_id = person_id
        self.zone = zone
        self.visible = visible

    @property
    def detail(self) -> Any:
        """The sentence, the field, and which record to open (by id only)."""
        return {
            "message": str(self), "field": "id_number", "existing_person_id": self.person_id,
            "zone": self.zone, "in_jurisdiction": self.visible,
        }  # fmt: skip


def existing_document(
    db: sqlite_utils.Database, row: dict[str, Any], exclude: int | None = None
) -> tuple[int, str] | None:
    """(id, zone) of the active person holding the same document as ``row`` (same keyed hash
    of type and number, same issuing country), or None."""
    if row.get("id_hash") is None:
        return None
    want = document_country(row["id_type"], row.get("nationality"))
    for pid, zone, id_type, nat in db.execute(
        "select id, zone, id_type, nationality from pop_persons where id_hash = ? "
        "and status = 'active' and id != ? order by id limit 50",
        [row["id_hash"], exclude or 0],
    ).fetchall():
        if id_type == row["id_type"] and document_country(id_type, nat) == want:
            return int(pid), str(zone)
    return None


def person_row(ctx: Ctx, p: dict[str, Any], now: float) -> dict[str, Any]:
    """The stored row of a validated person: ID number encrypted, hashed and masked."""
    row = {k: v for k, v in p.items() if k != "id_number"}
    row.update(
        match_key=match_key(p["name"], p["name_latin"]),
        id_enc=ctx.keyring.encrypt(p["id_type"], p["id_number"]),
        id_hash=ctx.keyring.lookup_hash(p["id_type"], p["id_number"]),
        id_masked=mask_id(p["id_number"]),
        status="active",
        created_at=now,
        updated_at=now,
    )
    return row


def insert_person(db: sqlite_utils.Database, row: dict[str, Any], fts: str | None = None) -> int:
    """Insert a person row and its search entry (inside the caller's transaction).

    ``fts`` is the precomputed index text: a bulk import computes it before the writer.
    """
    pid = insert_row(db, "pop_persons", row)
    count_inserted(db, [row])
    # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
    db.conn.execute(
        "insert into pop_name_fts(rowid, text) values (?, ?)",
        [pid, fts or index_text(row["name"], row["name_latin"])],
    )
    return pid


def unindex_person(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Remove a person's search entry (contentless FTS needs the indexed text back)."""
    # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
    db.execute(
        "insert into pop_name_fts(pop_name_fts, rowid, text) values ('delete', ?, ?)",
        [row["id"], index_text(row["name"], row["name_latin"])],
    )


def refresh_closed(db: sqlite_utils.Database, person_id: int, now: float) -> None:
    """Set closed_at when nothing is open for the person any more (retention clock)."""
    open_ = db.execute(
        "select (select count(*) from pop_registrations where person_id = ?1 and status in "
        "('draft','registered')) + (select count(*) from pop_visitors where person_id = ?1 "
        "and departed_at is null) + (select count(*) from pop_houses where landlord_id = ?1 "
        "and status = 'registered')",
        [person_id],
    ).fetchone()[0]
    if open_:
        db.execute("update pop_persons set closed_at = null where id = ?", [person_id])
    else:
        db.execute(
            "update pop_persons set closed_at = coalesce(closed_at, ?) where id = ?",
            [now, person_id],
        )


class Records:
    """Persons and their residence registrations."""

    def __init__(self, ctx: Ctx, access: Access, dates: TrustedDates | None = None) -> None:
        self.ctx = ctx
        self.access = access
        self.dates = dates or TrustedDates(ctx, access.approvals)

    # persons ---------------------------------------------------------------------------
    def create_person(
        self, actor: Actor, data: dict[str, Any], purpose: str | None
    ) -> dict[str, Any]:
        """Validate and store a person; duplicate candidates go to the review queue."""
        p = validate_person(data)
        self.access.check_zone(actor, p["zone"], "person")
        row = person_row(self.ctx, p, self.ctx.now())

        def write(db: sqlite_utils.Database) -> tuple[int, list[dict[str, Any]]]:
            # checked in the writer's transaction: two counters cannot both create the person
            self._refuse_existing(db, actor, row, None)
            pid = insert_person(db, row)
            cands = record_candidates(db, pid, row, self.ctx.now())
            Ctx.entry(db, actor, "create", "person", pid, purpose,
                      {"duplicate_candidates": [c["other_id"] for c in cands]})  # fmt: skip
            return pid, cands

        try:
            pid, cands = self.ctx.db.write(write)
        except DocumentExists as exc:
            self.ctx.read(actor, "document_exists", "person", [exc.person_id], purpose,
                          {"in_jurisdiction": exc.visible})  # fmt: skip
            raise
        return {"person": self._detail(pid), "duplicates": cands}

    def _refuse_existing(
        self, db: sqlite_utils.Database, actor: Actor, row: dict[str, Any], exclude: int | None
    ) -> None:
        found = existing_document(db, row, exclude)
        if found is None:
            return
        pid, zone = found
        allowed = self.access.zones(actor)
        visible = allowed is None or zone in allowed
        if not visible:
            visible = any(g["person_id"] == pid for g in self.access.active_grants(actor))
        raise DocumentExists(pid, zone, visible)

    def _row(self, person_id: int) -> dict[str, Any]:
        rows = self.ctx.db.query("select * from pop_persons where id = ?", [person_id])
        if not rows:
            raise NotFound(f"no person {person_id}")
        return rows[0]

    def _detail(self, person_id: int, reveal: bool = False) -> dict[str, Any]:
        row = self._row(person_id)
        out = list_view(row)
        out.update(phone=row["phone"], merged_into=row["merged_into"], closed_at=row["closed_at"])
        if reveal and row["id_enc"] is not None:
            out["id_number"] = self.ctx.keyring.decrypt(row["id_type"], row["id_enc"])
        q = self.ctx.db.query
        out["registrations"] = q(
            "select * from pop_registrations where person_id = ? order by id", [person_id]
        )
        out["visits"] = q("select * from pop_visitors where person_id = ? order by id", [person_id])
        out["permits"] = q("select * from pop_permits where person_id = ? order by id", [person_id])
        out["requests"] = q(
            "select id, category, status, created_at from pop_requests where person_id = ?",
            [person_id],
        )
        out["houses"] = q(
            "select id, address, zone, status from pop_houses where landlord_id = ?", [person_id]
        )
        for v in out["visits"]:
            v["flags"] = json.loads(v["flags"])
        return out

    def get_person(
        self, actor: Actor, person_id: int, purpose: str | None, *, reveal: bool = False
    ) -> dict[str, Any]:
        """One person in full (the ID number only with ``reveal``); audited."""
        row = self._row(person_id)
        self.access.check_person(actor, row)
        self.ctx.read(actor, "reveal_id" if reveal else "read", "person", [person_id], purpose)
        return self._detail(person_id, reveal)

    def update_person(
        self, actor: Actor, person_id: int, changes: dict[str, Any], purpose: str | None
    ) -> dict[str, Any]:
        """Correct a person's fields; the whole record is re-validated."""
        old = self._row(person_id)
        self.access.check_person(actor, old)
        if old["status"] != "active":
            raise Conflict(f"person {person_id} is {old['status']} and cannot be edited")
        current = {k: old[k] for k in PERSON_FIELDS if k not in ("id_number", "name_latin")}
        current["id_number"] = self.ctx.keyring.decrypt(old["id_type"], old["id_enc"])
        if "name" in changes and "name_latin" not in changes:
            current.pop("name_latin", None)
        else:
            current["name_latin"] = old["name_latin"]
        current.update({k: v for k, v in changes.items() if v is not None})
        p = validate_person(current)
        self.access.check_zone(actor, p["zone"], "person")
        row = person_row(self.ctx, p, self.ctx.now())
        row.pop("created_at")
        row.pop("status")

        def write(db: sqlite_utils.Database) -> None:
            self._refuse_existing(db, actor, row, person_id)
            unindex_person(db, old)
            update_row(db, "pop_persons", person_id, row)
            # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
            db.execute(
                "insert into pop_name_fts(rowid, text) values (?, ?)",
                [person_id, index_text(row["name"], row["name_latin"])],
            )
            Ctx.entry(db, actor, "update", "person", person_id, purpose,
                      {"fields": sorted(k for k in changes if changes[k] is not None)})  # fmt: skip

        self.ctx.db.write(write)
        return self._detail(person_id)

    def lookup_id(
        self, actor: Actor, id_type: str, id_number: str, purpose: str | None
    ) -> dict[str, Any]:
        """Exact search by ID-document number (keyed hash); results within jurisdiction.

        Matches outside it are listed by id and zone only, so the officer can break the
        glass for that one person with a reason.
        """
        kind, number = validate_id(id_type, id_number)
        h = self.ctx.keyring.lookup_hash(kind.value, number)
        rows = self.ctx.db.query("select * from pop_persons where id_hash = ?", [h])
        zones = self.access.zones(actor)
        visible, outside = [], []
        for r in rows:
            try:
                self.access.check_person(actor, r, audit=False)  # in lookup_id's entry
            except Forbidden:
                outside.append({"id": r["id"], "zone": r["zone"]})
            else:
                visible.append(list_view(r))
        self.ctx.read(actor, "lookup_id", "person", [r["id"] for r in visible], purpose,
                      {"outside_jurisdiction": outside, "zones": sorted(zones or [])})  # fmt: skip
        return {"results": visible, "outside_jurisdiction": outside}

    # registrations ---------------------------------------------------------------------
    def _place(self, data: dict[str, Any]) -> tuple[str, Any, str, Any]:
        """(kind, house id, address, zone) of a new registration, checked."""
        kind = data.get("kind") or "rented"
        if kind not in REG_KINDS:
            raise RecordError("kind", f"must be one of {', '.join(REG_KINDS)}")
        house_id = data.get("house_id")
        address = clean_text("address", data.get("address"), MAX_ADDRESS, required=False)
        zone = data.get("zone")
        if kind == "rented":
            if house_id is None:
                raise RecordError("house_id", "a rented registration names the rented house")
            houses = self.ctx.db.query("select * from pop_houses where id = ?", [house_id])
            if not houses or houses[0]["status"] != "registered":
                raise RecordError(
                    "house_id",
                    f"house {house_id} is not a registered rented house: the landlord must "
                    "register the letting first",
                )
            address = address or houses[0]["address"]
            zone = zone or houses[0]["zone"]
        elif house_id is not None:
            raise RecordError("house_id", "only rented registrations name a rented house")
        if not address:
            raise RecordError("address", "is required")
        return kind, house_id, address, zone

    def register(self, actor: Actor, data: dict[str, Any], purpose: str | None) -> dict[str, Any]:
        """Create a residence registration (draft or registered) for a person."""
        person = self._row(int(data.get("person_id") or 0))
        if person["status"] != "active":
            raise Conflict(f"person {person['id']} is {person['status']}")
        status = data.get("status") or "draft"
        if status not in OPEN_REG:
            raise RecordError("status", "a new registration is draft or registered")
        kind, house_id, address, zone = self._place(data)
        zone = clean_zone(zone)
        now = self.ctx.now()
        recorded = day_of(now)
        valid_from = parse_date("valid_from", data.get("valid_from") or recorded)
        valid_to = data.get("valid_to")
        if valid_to:
            vt = parse_date("valid_to", valid_to)
            if vt < valid_from:
                raise RecordError("valid_to", "is before valid_from")
            valid_to = vt.isoformat()
        reason = data.get("backdate_reason")
        backdated = valid_from < recorded
        if reason and not backdated:
            raise RecordError("backdate_reason", "only a date before today needs a reason")
        if backdated and reason:
            reason = check_backdate_reason(reason)
        self.access.check_zone(actor, zone, "registration")
        row = dict(person_id=person["id"], kind=kind, house_id=house_id, address=address,
                   zone=zone, valid_from=valid_from.isoformat(), valid_to=valid_to or None,
                   status=status, created_at=now, updated_at=now,
                   recorded_on=recorded.isoformat(),
                   counts_from=counts_from(valid_from.isoformat(), recorded.isoformat()),
                   backdate_state=None)  # fmt: skip

        def write(db: sqlite_utils.Database, backdate: str | None = None) -> int:
            return self._insert_registration(db, actor, row, purpose, backdate)

        if backdated and reason:
            rid = self.dates.request_backdate(actor, person["id"], reason, row["valid_from"],
                                              write, purpose)  # fmt: skip
            return self.get_registration(actor, rid, purpose, audit=False)
        return self.get_registration(actor, self.ctx.db.write(write), purpose, audit=False)

    def move(
        self, actor: Actor, person_id: int, data: dict[str, Any], purpose: str | None
    ) -> dict[str, Any]:
        """A change of address in one write transaction: the person's current (registered)
        registrations end as moved out on the move date and the new one opens, registered.

        The new place is checked like any registration (a rented house must be a registered
        letting) and must lie in the officer's zones, as must the one left. The move date
        (``valid_from``, today unless given) cannot lie in the future nor before the current
        registration began; like every registration the new one counts towards a permit from
        the day it was recorded. Either everything is written or nothing is.
        """
        person = self._row(person_id)
        self.access.check_person(actor, person)
        if person["status"] != "active":
            raise Conflict(f"person {person_id} is {person['status']}")
        current = self.ctx.db.query(
            "select * from pop_registrations where person_id = ? and status = 'registered' "
            "order by id", [person_id])  # fmt: skip
        if not current:
            raise Conflict(f"person {person_id} has no current registration to move from: "
                           "register a residence instead")  # fmt: skip
        for old in current:
            self.access.check_zone(actor, old["zone"], "registration")
        kind, house_id, address, zone = self._place(data)
        zone = clean_zone(zone)
        self.access.check_zone(actor, zone, "registration")
        if house_id is not None and any(o["house_id"] == house_id for o in current):
            raise RecordError("house_id", f"the person already lives in house {house_id}")
        now = self.ctx.now()
        recorded = day_of(now)
        day, valid_to = _move_dates(data, recorded, current)
        note = clean_text("note", data.get("note"), 1000, required=False)
        row = dict(person_id=person_id, kind=kind, house_id=house_id, address=address,
                   zone=zone, valid_from=day, valid_to=valid_to, status="registered",
                   created_at=now, updated_at=now, recorded_on=recorded.isoformat(),
                   counts_from=counts_from(day, recorded.isoformat()), backdate_state=None)  # fmt: skip

        def write(db: sqlite_utils.Database) -> int:
            ids = [o["id"] for o in current]
            now_open = [r[0] for r in db.execute(
                "select id from pop_registrations where person_id = ? and status = 'registered' "
                "order by id", [person_id])]  # fmt: skip
            if now_open != ids:
                raise Conflict("the person's registrations changed meanwhile; reload and retry")
            if house_id is not None:
                st = db.execute("select status from pop_houses where id = ?", [house_id]).fetchone()
                if not st or st[0] != "registered":
                    raise RecordError("house_id", f"house {house_id} is no longer a registered "
                                      "rented house")  # fmt: skip
            rid = self._insert_registration(
                db, actor, row, purpose, None, "move",
                {"moved_out": ids, "note": note},
            )  # fmt: skip
            for old in current:
                end = min(old["valid_to"] or day, day)
                db.execute(
                    "update pop_registrations set status = 'moved_out', valid_to = ?, "
                    "updated_at = ? where id = ?",
                    [end, now, old["id"]],
                )
                insert_row(db, "pop_reg_history", dict(
                    registration_id=old["id"], ts=now, actor=username(actor),
                    from_status="registered", to_status="moved_out",
                    note=f"moved to registration {rid}" + (f": {note}" if note else "")))  # fmt: skip
            return rid

        rid = self.ctx.db.write(write)
        return {
            "registration": self.get_registration(actor, rid, purpose, audit=False),
            "moved_out": [o["id"] for o in current],
        }

    def _insert_registration(
        self, db: sqlite_utils.Database, actor: Actor, row: dict[str, Any], purpose: str | None,
        backdate: str | None, action: str = "register", more: dict[str, Any] | None = None,
    ) -> int:  # fmt: skip
        """Insert a registration, its search entry and first history step, and audit it
        (inside the caller's transaction)."""
        now, status, pid = row["created_at"], row["status"], row["person_id"]
        rid = insert_row(db, "pop_registrations", {**row, "backdate_state": backdate})
        count_inserted(db, registration_statuses=[status])
        # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
        db.execute("insert into pop_address_fts(rowid, text) values (?, ?)",
                   [rid, address_text(row["address"])])  # fmt: skip
        insert_row(db, "pop_reg_history", dict(registration_id=rid, ts=now, actor=username(actor),
                                          from_status=None, to_status=status, note=None))  # fmt: skip
        if status == "registered":
            db.execute("update pop_persons set zone = ?, updated_at = ? where id = ?",
                       [row["zone"], now, pid])  # fmt: skip
        refresh_closed(db, pid, now)
        Ctx.entry(db, actor, action, "person", pid, purpose,
                  {"registration": rid, "status": status, "valid_from": row["valid_from"],
                   "counts_from": row["counts_from"], "backdate": backdate, **(more or {})})  # fmt: skip
        return rid

    def list_registrations(
        self, actor: Actor, purpose: str | None, *, status: str | None = None,
        zone: str | None = None, limit: int = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Registrations in the officer's zones (e.g. drafts awaiting confirmation), newest first."""
        zc, params = zone_clause(self.access.zones(actor), "r.zone")
        if status:
            if status not in TRANSITIONS:
                raise RecordError("status", f"unknown status {status[:20]!r}")
            zc += " and r.status = ?"
            params.append(status)
        if zone:
            zc += " and r.zone = ?"
            params.append(zone)
        rows = self.ctx.db.query(
            "select r.*, p.name, p.name_latin, p.id_masked from pop_registrations r "
            f"join pop_persons p on p.id = r.person_id where {zc} order by r.id desc limit ?",
            [*params, max(1, min(limit, 1000))],
        )
        self.ctx.read(actor, "list_registrations", "person",
                      sorted({r["person_id"] for r in rows}), purpose)  # fmt: skip
        return rows

    def get_registration(
        self, actor: Actor, reg_id: int, purpose: str | None, *, audit: bool = True
    ) -> dict[str, Any]:
        """A registration with its status history; audited as a read of the person."""
        rows = self.ctx.db.query("select * from pop_registrations where id = ?", [reg_id])
        if not rows:
            raise NotFound(f"no registration {reg_id}")
        reg = rows[0]
        self.access.check_zone(actor, reg["zone"], "registration")
        if audit:
            self.ctx.read(actor, "read", "person", [reg["person_id"]], purpose,
                          {"registration": reg_id})  # fmt: skip
        reg["history"] = self.ctx.db.query(
            "select ts, actor, from_status, to_status, note from pop_reg_history "
            "where registration_id = ? order by id",
            [reg_id],
        )
        return reg

    def transition(
        self, actor: Actor, reg_id: int, to: str, note: str | None, purpose: str | None
    ) -> dict[str, Any]:
        """Move a registration along its lifecycle (draft → registered → moved out …)."""
        rows = self.ctx.db.query("select * from pop_registrations where id = ?", [reg_id])
        if not rows:
            raise NotFound(f"no registration {reg_id}")
        reg = rows[0]
        self.access.check_zone(actor, reg["zone"], "registration")
        if to not in TRANSITIONS:
            raise RecordError("status", f"unknown status {str(to)[:20]!r}")
        if to not in TRANSITIONS[reg["status"]]:
            raise Conflict(f"a {reg['status']} registration cannot become {to}")
        note = clean_text("note", note, 1000, required=False)
        now = self.ctx.now()
        today = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()

        def write(db: sqlite_utils.Database) -> None:
            cur = db.execute("select status from pop_registrations where id = ?", [reg_id])
            if cur.fetchone()[0] != reg["status"]:
                raise Conflict("the registration changed meanwhile; reload and retry")
            valid_to = reg["valid_to"]
            if to in ("moved_out", "expired") and not valid_to:
                valid_to = today
            if to == "registered":
                valid_to = None
                db.execute("update pop_persons set zone = ?, updated_at = ? where id = ?",
                           [reg["zone"], now, reg["person_id"]])  # fmt: skip
            db.execute(
                "update pop_registrations set status = ?, valid_to = ?, updated_at = ? where id = ?",
                [to, valid_to, now, reg_id],
            )
            insert_row(db, "pop_reg_history", dict(registration_id=reg_id, ts=now,
                                              actor=username(actor), from_status=reg["status"],
                                              to_status=to, note=note))  # fmt: skip
            refresh_closed(db, reg["person_id"], now)
            Ctx.entry(db, actor, "registration_" + to, "person", reg["person_id"], purpose,
                      {"registration": reg_id})  # fmt: skip

        self.ctx.db.write(write)
        return self.get_registration(actor, reg_id, purpose, audit=False)

    def expire_due(self, today: dt.date | None = None) -> int:
        """Registered registrations past their valid_to become expired (a daily job)."""
        day = (today or dt.date.today()).isoformat()
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> int:
            ids = [r[0] for r in db.execute(
                "select id from pop_registrations where status = 'registered' "
                "and valid_to is not null and valid_to < ?", [day])]  # fmt: skip
            for rid in ids:
                db.execute("update pop_registrations set status = 'expired', updated_at = ? "
                           "where id = ?", [now, rid])  # fmt: skip
                insert_row(db, "pop_reg_history", dict(registration_id=rid, ts=now, actor="system",
                                                  from_status="registered", to_status="expired",
                                                  note="valid_to passed"))  # fmt: skip
                pid = db.execute("select person_id from pop_registrations where id = ?",
                                 [rid]).fetchone()[0]  # fmt: skip
                refresh_closed(db, pid, now)
            return len(ids)

        return self.ctx.db.write(write)


def _move_dates(
    data: dict[str, Any], recorded: Any, current: list[dict[str, Any]]
) -> tuple[str, str | None]:
    """(move day, new registration's end or None): the move has happened (not after the
    server's day) and not before any current registration began; an end, if given, is not
    before the move."""
    moved_on = parse_date("valid_from", data.get("valid_from") or recorded, allow_future=False)
    if moved_on > recorded:  # parse_date's "future" is the local day; the server's is UTC
        raise RecordError("valid_from", "a move is recorded once it has happened")
    for old in current:
        if old["valid_from"] and moved_on.isoformat() < old["valid_from"]:
            raise RecordError("valid_from", f"is before the current registration began "
                              f"({old['valid_from']})")  # fmt: skip
    valid_to = data.get("valid_to")
    if valid_to:
        vt = parse_date("valid_to", valid_to)
        if vt < moved_on:
            raise RecordError("valid_to", "is before valid_from")
        valid_to = vt.isoformat()
    return moved_on.isoformat(), valid_to or None
