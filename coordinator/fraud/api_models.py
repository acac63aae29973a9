"""Response models of the fraud routes (what investigators' and merchants' screens read)."""

from __future__ import annotations

from typing import Any

from ..http.answers import Answer


class RiskReason(Answer):
    """One scored factor of a risk assessment."""

    factor: str
    points: float
    detail: str


class Risk(Answer):
    """A company cluster's risk: score, level and the reasons behind it."""

    score: float
    level: str
    reasons: list[RiskReason]


class CompanyRef(Answer):
    """A company by id and name."""

    id: int
    display_name: str


class FraudAlert(Answer):
    """An alert on an alias cluster whose risk reached the alert level."""

    id: int
    cluster_id: int
    level: str
    score: float
    reasons: list[RiskReason]
    status: str
    ts: float
    companies: list[CompanyRef]


class SharedIdentifier(Answer):
    """An identifier two companies share (normalised value) and its weight as evidence."""

    kind: str
    value: str
    weight: float


class LinkEvidence(Answer):
    """Why two companies may be one: shared identifiers and name likeness."""

    shared: list[SharedIdentifier] = []
    name_similarity: float | None = None
    name_score: float | None = None
    score: float | None = None


class LinkForReview(Answer):
    """A proposed alias link awaiting an investigator's decision."""

    id: int
    a: int
    b: int
    a_name: str
    b_name: str
    score: float
    evidence: LinkEvidence
    proposed: str
    decision: str | None
    decided_by: str | None
    decided_ts: float | None
    created_ts: float


class LinkDecisionOut(Answer):
    """A link after a decision, and the clusters it re-formed."""

    id: int
    decision: str | None
    clusters: list[int]
    a: int
    b: int


class FraudWarning(Answer):
    """A warning in any state of its workflow (draft → approved → published → cancelled)."""

    id: int
    company_id: int
    case_id: int | None
    headline: str
    description: str
    instruction: str | None
    severity: str
    state: str
    drafted_by: str
    approved_by: str | None
    version: int
    created_ts: float
    published_ts: float | None
    updated_ts: float
    cancelled_ts: float | None
    msg_type: str
    pending: str | None = None
    pending_by: str | None = None
    pending_ts: float | None = None


class CheckWarning(Answer):
    """A published warning on the company or on one of its aliases."""

    id: int
    headline: str
    severity: str
    company_id: int
    company: str
    published_ts: float | None
    via_alias: bool


class CheckMatch(Answer):
    """A company the merchant's query identifies."""

    company_id: int
    name: str
    aliases: list[str]
    risk: Risk
    warnings: list[CheckWarning]


class CheckOut(Answer):
    """The merchants' check: how the query was read and what it matched."""

    query: str
    interpreted_as: list[str]
    matches: list[CheckMatch]
    note: str | None = None


class Filing(Answer):
    """A merchant's trade filing against a company, with its payment state."""

    id: int
    merchant_id: str
    company_id: int
    goods: str | None
    quantity: int | float | None
    amount_cents: int
    currency: str
    amount_cny_cents: int
    paid_cents: int
    due_date: str
    documents: str | None
    status: str
    needs_confirmation: int
    filed_ts: float
    overdue_ts: float | None
    confirmed_ts: float | None


class Identifier(Answer):
    """One identifier of a company, as entered and normalised."""

    kind: str
    raw: str
    norm: str


class CompanyProfile(Answer):
    """A company's registry record as an investigator entered it."""

    company_id: int
    uscc: str | None
    licence_no: str | None
    legal_rep: str | None
    registered_address: str | None
    registered_capital_cents: int | None
    founding_date: str | None
    business_scope: str | None
    reg_status: str | None
    source: str | None
    updated_by: str
    updated_ts: float


class Company(Answer):
    """A company: identifiers, aliases, its cluster's and its own risk, registry profile."""

    id: int
    display_name: str
    founded: str | None
    cluster_id: int
    created_ts: float
    created_by: str | None
    identifiers: list[Identifier]
    aliases: list[CompanyRef]
    risk: Risk
    company_risk: Risk
    state: str = "unchecked"
    profile: CompanyProfile | None = None
    checked_ts: float | None = None
    profiled_ts: float | None = None


class LinkHistoryStep(Answer):
    """One decision on a link."""

    action: str
    before: str | None
    after: str | None
    actor: str
    ts: float


class CompanyLink(Answer):
    """A link touching a company, with its evidence and decision history."""

    id: int
    a: int
    b: int
    score: float
    evidence: LinkEvidence
    proposed: str
    decision: str | None
    decided_by: str | None
    decided_ts: float | None
    created_ts: float
    active: bool
    history: list[LinkHistoryStep]


class MerchantCreated(Answer):
    """The id of the merchant account opened."""

    id: str


class FilingCreated(Answer):
    """The filing recorded and the company it was filed against (registered if new)."""

    id: int
    company_id: int


class OverdueAnswer(Answer):
    """The filing's state after the merchant's answer."""

    status: str


class SweepOut(Answer):
    """Companies whose filings the sweep flagged overdue."""

    companies: list[int]


class Done(Answer):
    """The change was made."""

    ok: bool


class Tip(Answer):
    """A report of suspected fraud (attachments' metadata only)."""

    id: int
    reporter: str
    merchant_id: str | None
    company_id: int | None
    identifiers: Any
    text: str | None
    attachments: list[dict[str, Any]]
    status: str
    ts: float


class MerchantAccount(Answer):
    """A merchant account and its contact."""

    id: str
    name: str
    market: str | None
    booth: str | None
    contact_name: str | None
    contact_phone: str | None
    created_ts: float


class FalsePositiveOut(Answer):
    """A shared identifier listed so it never links companies, and how many were relinked."""

    kind: str
    norm: str
    relinked: int
