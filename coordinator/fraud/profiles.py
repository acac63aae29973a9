"""Companies' registry profiles (as the national enterprise credit register shows them), their
checked → profiled state, the investigators' company list and the alias network of one
company (its vests, and the evidence linking them).

A company is *checked* once the platform has looked at it: a merchant filed a trade with it
(it was linked and scored on arrival) or an investigator marked it checked. It is *profiled*
once an investigator has entered its registry record. The unified social credit code and
the old business licence number are validated with their check characters, and the code
joins the company's identifiers, so a vest registered under it is linked.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import Invalid, NotFound
from . import companies as co

if TYPE_CHECKING:
    from ..identity.audit import AuditService
    from ..identity.auth import Principal
    from ..platform.db import Database

#: GB 32100-2015: the unified social credit code's 31 characters (no I, O, S, V, Z).
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MAX_MEMBERS = 200
MAX_LINKS = 1000


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character of a unified social credit code."""
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why a unified social credit code is malformed (None when it is valid)."""
    if len(code) != 18:
        return f"a unified social credit code has 18 characters, not {len(code)}"
    bad = sorted({ch for ch in code if ch not in USCC_CHARS})
    if bad:
        return f"a unified social credit code never contains {''.join(bad)}"
    if uscc_check_char(code[:17]) != code[17]:
        return "the unified social credit code's check character does not match (a typo?)"
    return None


def licence_check_digit(first14: str) -> str:
    """The check digit of a 15-digit business licence number (ISO 7064 MOD 11,10)."""
    p = 10
    for ch in first14:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


class RegStatus(StrEnum):
    """The registry's status of a company (登记状态)."""

    IN_BUSINESS = "in_business"  # 存续 / 在业
    SUSPENDED = "suspended"  # 停业
    REVOKED = "revoked"  # 吊销
    CANCELLED = "cancelled"  # 注销
    MOVED_OUT = "moved_out"  # 迁出


class CheckState(StrEnum):
    """How far the platform has looked at a company."""

    UNCHECKED = "unchecked"
    CHECKED = "checked"
    PROFILED = "profiled"


class ProfileIn(BaseModel):
    """A company's registry record (the credit code or the licence number at least)."""

    model_config = ConfigDict(extra="forbid")
    uscc: str | None = Field(None, description="Unified social credit code (18 characters)")
    licence_no: str | None = Field(None, description="Business licence number (15 digits)")
    legal_rep: str = Field(min_length=1, max_length=100, description="Legal representative")
    registered_address: str = Field(min_length=3, max_length=300)
    registered_capital_yuan: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    founding_date: dt.date
    business_scope: str = Field("", max_length=2000)
    reg_status: RegStatus = RegStatus.IN_BUSINESS
    source: str = Field("", max_length=200, description="Where the record was read")

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip().upper()
        if problem := uscc_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("licence_no")
    @classmethod
    def _licence(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if len(v) != 15 or not v.isdigit():
            raise ValueError("a business licence number has 15 digits")
        if licence_check_digit(v[:14]) != v[14]:
            raise ValueError("the business licence number's check digit does not match")
        return v


def state_of(row: dict[str, Any]) -> str:
    """A company row's check state."""
    if row.get("profiled_ts") is not None:
        return CheckState.PROFILED.value
    return CheckState.CHECKED.value if row.get("checked_ts") is not None else "unchecked"


def mark_checked(db: sqlite_utils.Database, cids: list[int], by: str) -> None:
    """Mark companies checked (those already checked keep their first check)."""
    for cid in cids:
        db.execute(
            "UPDATE fraud_companies SET checked_ts = ?, checked_by = ? "
            "WHERE id = ? AND checked_ts IS NULL",
            [time.time(), by, cid],
        )


class Profiles:
    """Registry profiles, the check state, the company list and the alias network."""

    def __init__(self, db: Database, audit: AuditService) -> None:
        self.db = db
        self.audit = audit

    def profile(self, cid: int) -> dict[str, Any] | None:
        """A company's registry profile, if entered."""
        rows = self.db.query("SELECT * FROM fraud_company_profiles WHERE company_id = ?", [cid])
        return rows[0] if rows else None

    def save(self, actor: Principal, cid: int, p: ProfileIn) -> list[tuple[str, str]]:
        """Enter or correct a company's registry profile (it becomes profiled and checked);
        returns the identifiers the caller adds to the company (its credit code)."""
        if p.uscc is None and p.licence_no is None:
            raise Invalid("give the unified social credit code or the business licence number")
        if p.founding_date > dt.date.today():
            raise Invalid("the founding date is in the future")
        row = {
            "company_id": cid, "uscc": p.uscc, "licence_no": p.licence_no,
            "legal_rep": p.legal_rep.strip(), "registered_address": p.registered_address.strip(),
            "registered_capital_cents": int(p.registered_capital_yuan * 100),
            "founding_date": p.founding_date.isoformat(), "business_scope": p.business_scope,
            "reg_status": p.reg_status.value, "source": p.source,
            "updated_by": actor.username, "updated_ts": time.time(),
        }  # fmt: skip

        def tx(db: sqlite_utils.Database) -> None:
            co.require_company(db, cid)
            before = db.execute(
                "SELECT 1 FROM fraud_company_profiles WHERE company_id = ?", [cid]
            ).fetchone()
            db.table("fraud_company_profiles").upsert(row, pk="company_id")
            mark_checked(db, [cid], actor.username)
            db.execute(
                "UPDATE fraud_companies SET profiled_ts = coalesce(profiled_ts, ?), "
                "profiled_by = coalesce(profiled_by, ?), founded = coalesce(founded, ?) "
                "WHERE id = ?",
                [row["updated_ts"], actor.username, row["founding_date"], cid],
            )
            self.audit.append(db, self.audit.entry(
                actor, "fraud.company.profile", "company", cid, None,
                {"corrected": before is not None, "reg_status": row["reg_status"]}))  # fmt: skip

        self.db.write(tx)
        return [("reg_code", p.uscc)] if p.uscc else []

    def check(self, actor: Principal, cid: int) -> None:
        """An investigator marks a company checked."""

        def tx(db: sqlite_utils.Database) -> None:
            co.require_company(db, cid)
            mark_checked(db, [cid], actor.username)
            self.audit.append(db, self.audit.entry(actor, "fraud.company.checked", "company", cid))

        self.db.write(tx)

    def search(
        self, actor: Principal, purpose: str, q: str | None, state: CheckState | None,
        limit: int, offset: int,
    ) -> dict[str, Any]:  # fmt: skip
        """Companies by name (words of it) and check state, a page at a time (audited)."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if q:
            esc = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("c.display_name LIKE ? ESCAPE '\\'")
            params.append(f"%{esc}%")
        if state is CheckState.PROFILED:
            where.append("c.profiled_ts IS NOT NULL")
        elif state is CheckState.CHECKED:
            where.append("c.checked_ts IS NOT NULL AND c.profiled_ts IS NULL")
        elif state is CheckState.UNCHECKED:
            where.append("c.checked_ts IS NULL")
        sql = " AND ".join(where)
        rows = self.db.query(
            "SELECT c.id, c.display_name, c.founded, c.cluster_id, c.checked_ts, c.profiled_ts, "
            "p.uscc, p.legal_rep, p.reg_status FROM fraud_companies c "
            "LEFT JOIN fraud_company_profiles p ON p.company_id = c.id "
            f"WHERE {sql} ORDER BY c.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        total = self.db.query(f"SELECT count(*) n FROM fraud_companies c WHERE {sql}", params)
        for r in rows:
            r["state"] = state_of(r)
        self.audit.record(actor, "fraud.companies.read", "company", None, purpose,
                          {"companies": [r["id"] for r in rows], "q": q})  # fmt: skip
        return {"total": total[0]["n"], "limit": limit, "offset": offset, "items": rows}

    def network(self, actor: Principal, cid: int, purpose: str) -> dict[str, Any]:
        """A company, its aliases (the cluster) and every link touching them, with the
        evidence; companies linked but held apart (rejected, in review) as candidates."""
        rows = self.db.query("SELECT * FROM fraud_companies WHERE id = ?", [cid])
        if not rows:
            raise NotFound(f"unknown company {cid}")
        members = self.db.query(
            "SELECT c.id, c.display_name, c.founded, c.checked_ts, c.profiled_ts, p.uscc, "
            "p.legal_rep, p.reg_status, EXISTS(SELECT 1 FROM fraud_warnings w "
            "WHERE w.company_id = c.id AND w.state = 'published') AS warned "
            "FROM fraud_companies c LEFT JOIN fraud_company_profiles p ON p.company_id = c.id "
            "WHERE c.cluster_id = ? ORDER BY c.id LIMIT ?",
            [rows[0]["cluster_id"], MAX_MEMBERS],
        )
        ids = [m["id"] for m in members]
        marks = ",".join("?" * len(ids))
        links = self.db.query(
            f"SELECT id, a, b, score, evidence, proposed, decision FROM fraud_links "
            f"WHERE a IN ({marks}) OR b IN ({marks}) ORDER BY score DESC LIMIT ?",
            [*ids, *ids, MAX_LINKS],
        )
        inside = set(ids)
        outside = sorted({x for lk in links for x in (lk["a"], lk["b"])} - inside)
        for lk in links:
            lk["evidence"] = json.loads(lk["evidence"])
            lk["active"] = lk["decision"] == "confirmed" or (
                lk["decision"] is None and lk["proposed"] == "auto"
            )
        for m in members:
            m["state"] = state_of(m)
            m["warned"] = bool(m["warned"])
        marks = ",".join("?" * len(outside))
        candidates = self.db.query(
            f"SELECT id, display_name FROM fraud_companies WHERE id IN ({marks}) ORDER BY id",
            outside,
        ) if outside else []  # fmt: skip
        self.audit.record(actor, "fraud.company.network_read", "company", cid, purpose,
                          {"members": len(members), "links": len(links)})  # fmt: skip
        return {"company_id": cid, "cluster_id": rows[0]["cluster_id"], "members": members,
                "links": links, "candidates": candidates}  # fmt: skip
