"""HTTP routes of the fraud early-warning domain (merchants, investigators, public feed)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.answers import Created
from ..http.deps import FraudDep, SettingsDep, require, require_purpose
from ..identity.auth import Principal
from . import cap
from .api_models import (
    CheckOut,
    Company,
    CompanyLink,
    Done,
    FalsePositiveOut,
    Filing,
    FilingCreated,
    FraudAlert,
    FraudWarning,
    LinkDecisionOut,
    LinkForReview,
    MerchantAccount,
    MerchantCreated,
    OverdueAnswer,
    SweepOut,
    Tip,
)
from .filings import CompanyIn, FilingIn, PaymentIn, TipIn
from .permissions import Perm
from .service import MerchantIn
from .warning_desk import WarningEdit, WarningIn
from .workflow import CaseIn

router = APIRouter(prefix="/api/fraud", tags=["fraud"])


Svc = FraudDep
Purpose = Annotated[str, Depends(require_purpose)]
Merchant = Annotated[Principal, Depends(require(Perm.MERCHANT_FILE))]
Checker = Annotated[Principal, Depends(require(Perm.COMPANY_CHECK))]
Reader = Annotated[Principal, Depends(require(Perm.FRAUD_READ))]
Writer = Annotated[Principal, Depends(require(Perm.FRAUD_WRITE))]
Approver = Annotated[Principal, Depends(require(Perm.FRAUD_APPROVE))]


class ConfirmIn(BaseModel):
    """The merchant's answer to "is this filing really unpaid?"."""

    model_config = ConfigDict(extra="forbid")
    still_unpaid: bool


class FalsePositiveIn(BaseModel):
    """An identifier that must never link companies (shared agent, market hotline)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["phone", "email", "domain", "address", "contact", "bank", "reg_code"]
    value: str = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=3, max_length=500)


class IdentifiersIn(BaseModel):
    """Extra identifiers for a company."""

    model_config = ConfigDict(extra="forbid")
    identifiers: list[tuple[str, str]] = Field(min_length=1, max_length=50)


class LinkDecisionIn(BaseModel):
    """An investigator's decision on a link."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["confirm", "reject", "undo"]
    note: str | None = Field(None, max_length=1000)


# merchants --------------------------------------------------------------------------------
@router.post("/filings", response_model=FilingCreated, status_code=201)
def file_trade(body: FilingIn, p: Merchant, svc: Svc) -> dict[str, Any]:
    """File a trade against a known company or a new one (registered and linked)."""
    return svc.file(p, body)


@router.get("/filings", response_model=list[Filing])
def my_filings(p: Merchant, svc: Svc, needs_confirmation: bool = False) -> list[dict]:
    """The caller's own filings; ``needs_confirmation`` = overdue ones awaiting an answer."""
    return svc.my_filings(p, needs_confirmation)


@router.get("/filings/{fid}", response_model=Filing)
def my_filing(fid: int, p: Merchant, svc: Svc) -> dict[str, Any]:
    """One of the caller's filings (404 for another merchant's)."""
    return svc.my_filing(p, fid)


@router.post("/filings/{fid}/payments", response_model=Filing)
def add_payment(fid: int, body: PaymentIn, p: Merchant, svc: Svc) -> dict[str, Any]:
    """Record a payment received."""
    return svc.pay(p, fid, body)


@router.post("/filings/{fid}/confirm-overdue", response_model=OverdueAnswer)
def confirm_overdue(fid: int, body: ConfirmIn, p: Merchant, svc: Svc) -> dict[str, str]:
    """Confirm (still unpaid) or dispute an overdue flag."""
    return {"status": svc.confirm_overdue(p, fid, body.still_unpaid)}


@router.post("/tips", response_model=Created, status_code=201)
def add_tip(body: TipIn, p: Checker, svc: Svc) -> dict[str, int]:
    """Report suspected fraud (attachments' metadata only)."""
    return {"id": svc.workflow.add_tip(p, body)}


@router.get("/check", response_model=CheckOut)
def check(q: str, p: Checker, svc: Svc) -> dict[str, Any]:
    """Merchants' check before dealing: risk and active warnings, aliases included."""
    return svc.assessment.check(p, q)


# investigators ----------------------------------------------------------------------------
@router.post("/merchants", response_model=MerchantCreated, status_code=201)
def create_merchant(body: MerchantIn, p: Writer, svc: Svc) -> dict[str, str]:
    """Open a merchant account."""
    return {"id": svc.create_merchant(p, body)}


@router.get("/merchants/{mid}", response_model=MerchantAccount)
def merchant(mid: str, p: Reader, purpose: Purpose, svc: Svc) -> dict[str, Any]:
    """A merchant account and contact (audited)."""
    return svc.merchant(p, mid, purpose)


@router.post("/companies", response_model=Created, status_code=201)
def register_company(body: CompanyIn, p: Writer, svc: Svc) -> dict[str, int]:
    """Register a company with every identifier known."""
    return {"id": svc.register_company(p, body)}


@router.post("/companies/{cid}/identifiers", response_model=Done)
def add_identifiers(cid: int, body: IdentifiersIn, p: Writer, svc: Svc) -> dict[str, bool]:
    """Add identifiers to a company (it is relinked)."""
    svc.add_identifiers(p, cid, [(kind, value) for kind, value in body.identifiers])
    return {"ok": True}


@router.get("/companies/{cid}", response_model=Company)
def company(cid: int, p: Reader, purpose: Purpose, svc: Svc) -> dict[str, Any]:
    """A company: identifiers, aliases, risk with reasons (audited)."""
    return svc.company(p, cid, purpose)


@router.get("/companies/{cid}/links", response_model=list[CompanyLink])
def company_links(cid: int, p: Reader, purpose: Purpose, svc: Svc) -> list[dict]:
    """Links of a company with evidence and decision history (audited)."""
    return svc.workflow.links_of(p, cid, purpose)


@router.post("/false-positives", response_model=FalsePositiveOut, status_code=201)
def add_false_positive(body: FalsePositiveIn, p: Writer, svc: Svc) -> dict[str, Any]:
    """List a shared identifier so it never links companies."""
    return svc.add_false_positive(p, body.kind, body.value, body.reason)


@router.get("/links/review", response_model=list[LinkForReview])
def review_queue(p: Reader, purpose: Purpose, svc: Svc) -> list[dict]:
    """Links awaiting review, strongest first, with evidence (audited)."""
    return svc.workflow.review_queue(p, purpose)


@router.post("/links/{lid}/decision", response_model=LinkDecisionOut)
def decide_link(lid: int, body: LinkDecisionIn, p: Writer, svc: Svc) -> dict[str, Any]:
    """Confirm, reject or undo a link."""
    return svc.workflow.decide_link(p, lid, body.action, body.note)


@router.get("/alerts", response_model=list[FraudAlert])
def alerts(p: Reader, svc: Svc, status: str = "open") -> list[dict]:
    """Alert queue."""
    return svc.workflow.alerts(status)


@router.get("/tips", response_model=list[Tip])
def tips(p: Reader, purpose: Purpose, svc: Svc) -> list[dict]:
    """Tip queue (audited)."""
    return svc.workflow.tips(p, purpose)


@router.post("/cases", response_model=Created, status_code=201)
def open_case(body: CaseIn, p: Writer, svc: Svc) -> dict[str, int]:
    """Open a case."""
    return {"id": svc.workflow.open_case(p, body)}


@router.post("/sweep", response_model=SweepOut)
def sweep(p: Writer, svc: Svc) -> dict[str, list[int]]:
    """Run overdue detection now (it also runs on its own schedule)."""
    return {"companies": svc.sweep_overdue()}


@router.get("/warnings", response_model=list[FraudWarning])
def warnings(p: Reader, svc: Svc, state: str | None = None) -> list[dict]:
    """Warnings in any state."""
    return svc.desk.warnings(state)


@router.post("/warnings", response_model=Created, status_code=201)
def draft_warning(body: WarningIn, p: Writer, svc: Svc) -> dict[str, int]:
    """Draft a warning."""
    return {"id": svc.desk.draft_warning(p, body)}


@router.post("/warnings/{wid}/approve", response_model=FraudWarning)
def approve_warning(wid: int, p: Approver, svc: Svc) -> dict[str, Any]:
    """Approve a draft (a second person, not its author)."""
    return svc.desk.approve_warning(p, wid)


@router.post("/warnings/{wid}/publish", response_model=FraudWarning)
def publish_warning(wid: int, p: Writer, svc: Svc) -> dict[str, Any]:
    """Publish an approved warning."""
    return svc.desk.publish_warning(p, wid)


@router.patch("/warnings/{wid}", response_model=FraudWarning)
def update_warning(wid: int, body: WarningEdit, p: Writer, svc: Svc) -> dict[str, Any]:
    """Edit a warning (published: re-sent as CAP Update)."""
    return svc.desk.update_warning(p, wid, body)


@router.post("/warnings/{wid}/cancel", response_model=FraudWarning)
def cancel_warning(wid: int, p: Writer, svc: Svc) -> dict[str, Any]:
    """Cancel a warning (published: CAP Cancel)."""
    return svc.desk.cancel_warning(p, wid)


# public: market displays and anyone ------------------------------------------------------
@router.get("/public/warnings/{wid}.cap.xml")
def cap_xml(wid: int, svc: Svc) -> Response:
    """A published warning as CAP 1.2 XML."""
    return Response(cap.to_xml(svc.desk.cap_alert(wid)), media_type="application/cap+xml")


@router.get("/public/warnings/{wid}.cap.json")
def cap_json(wid: int, svc: Svc) -> Response:
    """A published warning as CAP 1.2 JSON."""
    return Response(cap.to_json(svc.desk.cap_alert(wid)), media_type="application/json")


@router.get("/public/warnings.atom")
def atom(settings: SettingsDep, svc: Svc) -> Response:
    """Atom feed of the published warnings (links from the configured ``public_url``)."""
    # Never the request's Host header: anyone can send one, and a cache could then serve
    # every market display a feed whose links point at the sender's site.
    base = settings.base_url
    board = svc.desk.board()
    items = [
        (a, f"{base}/api/fraud/public/warnings/{a.identifier.split('-')[2]}.cap.xml")
        for a in board.alerts
    ]
    body = cap.atom_feed(items, f"{base}/api/fraud/public/warnings.atom", board.ts / 1000)
    return Response(body, media_type="application/atom+xml")
