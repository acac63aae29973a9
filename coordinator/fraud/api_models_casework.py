"""Response models of the fraud desk's casework, company profile and statistics routes."""

from __future__ import annotations

from typing import Any

from ..http.answers import Answer
from .api_models import CompanyRef, LinkEvidence, RiskReason


class CaseListItem(Answer):
    """A case as the list shows it."""

    id: int
    title: str
    status: str
    priority: str
    assignee: str | None
    opened_by: str
    ts: float
    updated_ts: float | None
    outcome: str | None
    losses_avoided_cents: int
    alert_id: int | None
    companies: list[CompanyRef]
    open_tasks: int
    tips: int


class CasePage(Answer):
    """One page of cases and the total for the filters."""

    total: int
    limit: int
    offset: int
    items: list[CaseListItem]


class CaseCompany(Answer):
    """A company of a case, with its check state."""

    id: int
    display_name: str
    checked_ts: float | None
    profiled_ts: float | None
    added_by: str
    ts: float


class TipFile(Answer):
    """A file kept with a tip (metadata; the content is downloaded, audited)."""

    id: int
    tip_id: int
    name: str
    mime: str
    size: int
    sha256: str
    uploaded_by: str
    ts: float


class CaseTip(Answer):
    """A tip inside its case, with its files."""

    id: int
    reporter: str
    merchant_id: str | None
    company_id: int | None
    identifiers: Any
    text: str | None
    attachments: list[dict[str, Any]]
    files: list[TipFile]
    status: str
    ts: float


class CaseTask(Answer):
    """A task of a case."""

    id: int
    case_id: int
    title: str
    assignee: str | None
    due_date: str | None
    done_ts: float | None
    done_by: str | None
    created_by: str
    ts: float


class CaseNote(Answer):
    """A note on a case."""

    id: int
    case_id: int
    author: str
    text: str
    ts: float


class CaseAlert(Answer):
    """The alert a case was opened from."""

    id: int
    cluster_id: int
    level: str
    score: float
    reasons: list[RiskReason]
    status: str
    ts: float


class CaseWarning(Answer):
    """A warning drafted within a case."""

    id: int
    company_id: int
    headline: str
    state: str
    severity: str


class CaseDetail(Answer):
    """A case with everything it holds."""

    id: int
    title: str
    description: str | None
    status: str
    priority: str
    assignee: str | None
    opened_by: str
    ts: float
    updated_ts: float | None
    alert_id: int | None
    tip_id: int | None
    outcome: str | None
    outcome_note: str | None
    losses_avoided_cents: int
    closed_ts: float | None
    closed_by: str | None
    companies: list[CaseCompany]
    tips: list[CaseTip]
    tasks: list[CaseTask]
    notes: list[CaseNote]
    alert: CaseAlert | None
    warnings: list[CaseWarning]


class MyTip(Answer):
    """A tip the caller sent, with its files."""

    id: int
    company_id: int | None
    text: str | None
    status: str
    ts: float
    files: list[TipFile]


class CompanyListItem(Answer):
    """A company in the investigators' list."""

    id: int
    display_name: str
    founded: str | None
    cluster_id: int
    checked_ts: float | None
    profiled_ts: float | None
    uscc: str | None
    legal_rep: str | None
    reg_status: str | None
    state: str


class CompanyPage(Answer):
    """One page of companies and the total for the filters."""

    total: int
    limit: int
    offset: int
    items: list[CompanyListItem]


class NetworkMember(Answer):
    """A company of the alias cluster."""

    id: int
    display_name: str
    founded: str | None
    checked_ts: float | None
    profiled_ts: float | None
    uscc: str | None
    legal_rep: str | None
    reg_status: str | None
    warned: bool
    state: str


class NetworkLink(Answer):
    """A link between two companies and its evidence."""

    id: int
    a: int
    b: int
    score: float
    evidence: LinkEvidence
    proposed: str
    decision: str | None
    active: bool


class AliasNetwork(Answer):
    """A company, its vests and aliases, and the evidence linking them."""

    company_id: int
    cluster_id: int
    members: list[NetworkMember]
    links: list[NetworkLink]
    candidates: list[CompanyRef]


class PlatformStats(Answer):
    """The platform's figures, computed from the records."""

    filings: int
    companies_checked: int
    companies_profiled: int
    frauds_found_early: int
    losses_avoided_cents: int
    losses_avoided_yuan: float
    open_cases: int
    new_tips: int
