"""FraudService: the fraud early-warning domain behind the API (and the demo, the bench).

Writes run on the database's single writer; personal-data reads (contact people, phones,
bank accounts, merchants' contacts, link evidence) write an audit entry first.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from protocol import Topics

from ..approvals.service import ApprovalsService
from ..errors import Forbidden, Invalid, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..platform.bus import Publisher
from ..platform.db import Database
from . import companies as co
from . import filings as fl
from .assess import Assessment
from .attachments import Attachments, FileStore
from .cases import Casework
from .linking import Key, LinkConfig
from .normalize import IdentifierError, keys_for
from .profiles import ProfileIn, Profiles, mark_checked, state_of
from .risk import RiskConfig, score
from .stats import platform_stats
from .warning_desk import WarningDesk
from .workflow import Workflow


class MerchantIn(BaseModel):
    """A merchant account (market, booth, contact)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    market: str | None = Field(None, max_length=200, description="e.g. International Trade City D2")
    booth: str | None = Field(None, max_length=50)
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=50)


def _actor(p: Principal | str) -> str:
    return p if isinstance(p, str) else p.username


class FraudService:
    """Merchants, filings, companies and linking; risk and the merchants' check
    (``assessment``), warnings (``desk``) and investigators' workflow (``workflow``) are
    its collaborators, built here and sharing its database, audit log and clock."""

    def __init__(
        self,
        db: Database,
        audit: AuditService,
        publisher: Publisher | None = None,
        *,
        topics: Topics | None = None,
        link_cfg: LinkConfig | None = None,
        risk_cfg: RiskConfig | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        approvals: ApprovalsService | None = None,
        files: FileStore | None = None,
    ) -> None:
        self.db = db
        self.audit = audit
        self.topics = topics or Topics()
        self.link_cfg = link_cfg or LinkConfig()
        self.risk_cfg = risk_cfg or RiskConfig()
        self.today = today
        self._fps = self._load_false_positives()
        # The clock and the false positives are read through this service, so a test or a
        # demo that moves the clock, or a new false positive, reaches every collaborator.
        self.assessment = Assessment(
            db, self.risk_cfg, lambda: self.today(), lambda: self.false_positives
        )
        # The second investigator's approval goes through the one approvals service; a
        # service built alone (a tool, a test) gets its own over the same table.
        self.approvals = approvals or ApprovalsService(db, audit)
        self.desk = WarningDesk(db, audit, self.assessment, publisher, self.topics, self.approvals)
        if approvals is None:
            for kind in self.desk.kinds():
                self.approvals.register(kind)
        self.workflow = Workflow(db, audit, self.assessment, self.desk)
        self.cases = Casework(db, audit)
        self.profiles = Profiles(db, audit)
        self.attachments = Attachments(db, audit, files)

    @property
    def false_positives(self) -> frozenset[Key]:
        """Identifiers that never link companies (shared agents, market hotlines)."""
        return self._fps

    def reload_false_positives(self) -> None:
        """Re-read the false-positive list (after a bulk load outside this service)."""
        self._fps = self._load_false_positives()

    # merchants -------------------------------------------------------------------------
    def create_merchant(self, actor: Principal | str, m: MerchantIn) -> str:
        """Create a merchant account."""
        row = {**m.model_dump(), "created_ts": time.time()}

        def tx(db: Any) -> str:
            if db.execute("SELECT 1 FROM fraud_merchants WHERE id = ?", [m.id]).fetchone():
                raise Invalid(f"merchant {m.id} already exists")
            db["fraud_merchants"].insert(row)
            self.audit.append(
                db, self.audit.entry(actor, "fraud.merchant.create", "merchant", m.id)
            )
            return m.id

        return self.db.write(tx)

    def merchant(self, actor: Principal, mid: str, purpose: str) -> dict[str, Any]:
        """A merchant account with its contact (personal data: audited)."""
        rows = self.db.query("SELECT * FROM fraud_merchants WHERE id = ?", [mid])
        if not rows:
            raise NotFound(f"unknown merchant {mid}")
        self.audit.record(actor, "fraud.merchant.read", "merchant", mid, purpose)
        return rows[0]

    def _merchant_of(self, p: Principal) -> str:
        if not p.merchant_id:
            raise Forbidden("your user is not tied to a merchant account")
        if not self.db.query("SELECT 1 FROM fraud_merchants WHERE id = ?", [p.merchant_id]):
            raise NotFound(f"merchant account {p.merchant_id} does not exist yet")
        return p.merchant_id

    # companies -------------------------------------------------------------------------
    def _load_false_positives(self) -> frozenset[Key]:
        return frozenset(
            (r["kind"], r["norm"])
            for r in self.db.query("SELECT kind, norm FROM fraud_false_positives")
        )

    def register_company(self, actor: Principal | str, c: fl.CompanyIn) -> int:
        """Register a company with its identifiers and link it to its aliases."""
        founded = c.founded.isoformat() if c.founded else None
        cid: int = self.db.write(
            lambda db: co.insert_company(
                db,
                c.pairs(),
                founded=founded,
                actor=_actor(actor),
                cfg=self.link_cfg,
                false_positives=self._fps,
            )
        )
        self.assessment.evaluate([cid])  # a new alias of a warned company is an alert at once
        return cid

    def add_identifiers(self, actor: Principal, cid: int, pairs: list[tuple[str, str]]) -> None:
        """Add identifiers to a company (relinks it)."""

        def tx(db: Any) -> None:
            co.add_identifiers(db, cid, pairs, self.link_cfg, self._fps)
            self.audit.append(
                db,
                self.audit.entry(
                    actor,
                    "fraud.company.identifiers",
                    "company",
                    cid,
                    detail={"kinds": [k for k, _ in pairs]},
                ),
            )

        self.db.write(tx)

    def company(self, actor: Principal, cid: int, purpose: str) -> dict[str, Any]:
        """A company with every identifier, its aliases and risk (personal data: audited)."""
        rows = self.db.query("SELECT * FROM fraud_companies WHERE id = ?", [cid])
        if not rows:
            raise NotFound(f"unknown company {cid}")
        self.audit.record(actor, "fraud.company.read", "company", cid, purpose)
        c = rows[0]
        c["identifiers"] = self.db.query(
            "SELECT kind, raw, norm FROM fraud_identifiers WHERE company_id = ? ORDER BY kind, id",
            [cid],
        )
        c["aliases"] = self.db.query(
            "SELECT id, display_name FROM fraud_companies WHERE cluster_id = ? AND id != ?",
            [c["cluster_id"], cid],
        )
        c["state"] = state_of(c)
        c["profile"] = self.profiles.profile(cid)
        c["risk"] = self.assessment.cluster_risk(c["cluster_id"]).as_dict()
        c["company_risk"] = score(
            self.assessment.facts(cid), self.risk_cfg
        ).as_dict()  # this name alone
        return c

    def stats(self) -> dict[str, Any]:
        """The platform's figures, computed from the records."""
        return platform_stats(self.db.read())

    def save_profile(self, actor: Principal, cid: int, p: ProfileIn) -> None:
        """Enter a company's registry profile; its credit code joins its identifiers (a vest
        registered under the same code is linked)."""
        new = self.profiles.save(actor, cid, p)
        known = {
            r["norm"]
            for r in self.db.query(
                "SELECT norm FROM fraud_identifiers WHERE company_id = ? AND kind = 'reg_code'",
                [cid],
            )
        }
        fresh = [(k, v) for k, v in new if v not in known]
        if fresh:
            self.add_identifiers(actor, cid, fresh)
            self.assessment.evaluate([cid])  # it may have joined a warned company's cluster

    def add_false_positive(self, actor: Principal, kind: str, raw: str, reason: str) -> dict:
        """List an identifier that must never link companies, and relink its holders."""
        try:
            keys = keys_for(kind, raw)
        except (IdentifierError, ValueError) as exc:
            raise Invalid(str(exc)) from None
        if not keys:
            raise Invalid(f"{raw!r} is already ignored (free web-mail domain)")
        k, norm = keys[0]

        def tx(db: Any) -> list[int]:
            db["fraud_false_positives"].upsert(
                {
                    "kind": str(k),
                    "norm": norm,
                    "raw": raw,
                    "reason": reason,
                    "added_by": actor.username,
                    "ts": time.time(),
                },
                pk=("kind", "norm"),
            )
            self.audit.append(
                db,
                self.audit.entry(
                    actor,
                    "fraud.false_positive.add",
                    "identifier",
                    f"{k}:{norm}",
                    detail={"reason": reason},
                ),
            )
            fps = self._fps | {(str(k), norm)}
            holders = [
                r[0]
                for r in db.execute(
                    "SELECT company_id FROM fraud_identifiers WHERE kind = ? AND norm = ?",
                    [str(k), norm],
                ).fetchall()
            ]
            for cid in holders:
                co.link_company(db, cid, self.link_cfg, fps)
            return holders

        holders = self.db.write(tx)
        self._fps = self._load_false_positives()
        return {"kind": str(k), "norm": norm, "relinked": len(holders)}

    # filings ---------------------------------------------------------------------------
    def file(self, p: Principal, f: fl.FilingIn) -> dict[str, Any]:
        """A merchant files a trade; a new company is registered and linked on the way."""
        mid = self._merchant_of(p)
        cny = fl.check_filing(f, self.today())

        def tx(db: Any) -> dict[str, Any]:
            if f.company is not None:
                founded = f.company.founded.isoformat() if f.company.founded else None
                cid = co.insert_company(
                    db,
                    f.company.pairs(),
                    founded=founded,
                    actor=p.username,
                    cfg=self.link_cfg,
                    false_positives=self._fps,
                )
            else:
                cid = int(f.company_id)  # type: ignore[arg-type]
                co.require_company(db, cid)
            fid = fl.insert_filing(db, mid, cid, f, cny)
            mark_checked(db, [cid], p.username)  # linked and scored on arrival
            return {"id": fid, "company_id": cid}

        out = self.db.write(tx)
        # The due date may already be past (a late filing): the sweep marks it at once.
        if f.due_date < self.today():
            self.sweep_overdue()
        elif f.company is not None:
            self.assessment.evaluate(
                [out["company_id"]]
            )  # a new alias of a warned company: alert now
        return out

    def my_filings(self, p: Principal, needs_confirmation: bool = False) -> list[dict]:
        """The caller's own filings (never another merchant's)."""
        mid = self._merchant_of(p)
        sql = "SELECT * FROM fraud_filings WHERE merchant_id = ?"
        if needs_confirmation:
            sql += " AND needs_confirmation = 1"
        return self.db.query(sql + " ORDER BY id", [mid])

    def my_filing(self, p: Principal, fid: int) -> dict[str, Any]:
        """One of the caller's filings (NotFound for another merchant's)."""
        return fl.own_filing(self.db.read(), self._merchant_of(p), fid)

    def pay(self, p: Principal, fid: int, pay: fl.PaymentIn) -> dict[str, Any]:
        """Record a payment on the caller's filing."""
        mid = self._merchant_of(p)
        return self.db.write(lambda db: fl.add_payment(db, mid, fid, pay))

    def confirm_overdue(self, p: Principal, fid: int, unpaid: bool) -> str:
        """The merchant confirms (or disputes) an overdue flag."""
        mid = self._merchant_of(p)
        status = self.db.write(lambda db: fl.confirm_overdue(db, mid, fid, unpaid))
        row = self.db.query("SELECT company_id FROM fraud_filings WHERE id = ?", [fid])[0]
        self.assessment.evaluate([row["company_id"]])
        return status

    def sweep_overdue(self, today: dt.date | None = None) -> list[int]:
        """Flag overdue filings now; re-score the companies concerned and raise alerts."""
        cids = self.db.write(lambda db: fl.sweep_overdue(db, today or self.today()))
        if cids:
            self.assessment.evaluate(cids)
        return cids
