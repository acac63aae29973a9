"""HTTP routes of the fraud desk's casework: cases, tasks, notes, tips' files, company
profiles and the alias network, the platform's figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from fastapi.responses import Response

from ..http.answers import Created
from ..http.deps import FraudDep, header_text, require, require_purpose
from ..identity.auth import Principal
from .api_models import Company, Done, FraudWarning
from .api_models_casework import (
    AliasNetwork,
    CaseDetail,
    CasePage,
    CompanyPage,
    MyTip,
    PlatformStats,
    TipFile,
)
from .cases import (
    CaseEdit,
    CaseFilter,
    CaseStatus,
    LinkIn,
    NoteIn,
    Outcome,
    OutcomeIn,
    TaskEdit,
    TaskIn,
)
from .permissions import Perm
from .profiles import CheckState, ProfileIn

router = APIRouter(prefix="/api/fraud", tags=["fraud"])

Svc = FraudDep
Purpose = Annotated[str, Depends(require_purpose)]
Checker = Annotated[Principal, Depends(require(Perm.COMPANY_CHECK))]
Reader = Annotated[Principal, Depends(require(Perm.FRAUD_READ))]
Writer = Annotated[Principal, Depends(require(Perm.FRAUD_WRITE))]
Id = Annotated[int, Path(ge=1, le=2**62)]


# cases ------------------------------------------------------------------------------------
@router.get("/cases", response_model=CasePage)
def cases(
    p: Reader, purpose: Purpose, svc: Svc,
    status: CaseStatus | None = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    company_id: Annotated[int | None, Query(ge=1)] = None,
    outcome: Outcome | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:  # fmt: skip
    """Cases, open first and newest first, filtered and a page at a time (audited)."""
    f = CaseFilter(status=status, assignee=assignee, company_id=company_id, outcome=outcome,
                   q=q, limit=limit, offset=offset)  # fmt: skip
    return svc.cases.list(p, purpose, f)


@router.get("/cases/{case_id}", response_model=CaseDetail)
def case(case_id: Id, p: Reader, purpose: Purpose, svc: Svc) -> dict[str, Any]:
    """A case with its companies, tips and their files, alert, tasks, notes (audited)."""
    return svc.cases.get(p, case_id, purpose)


@router.patch("/cases/{case_id}", response_model=Done)
def edit_case(case_id: Id, body: CaseEdit, p: Writer, svc: Svc) -> dict[str, bool]:
    """Change a case's title, description, priority, assignee or status."""
    svc.cases.edit(p, case_id, body)
    return {"ok": True}


@router.post("/cases/{case_id}/tasks", response_model=Created, status_code=201)
def add_task(case_id: Id, body: TaskIn, p: Writer, svc: Svc) -> dict[str, int]:
    """Add a task to a case."""
    return {"id": svc.cases.add_task(p, case_id, body)}


@router.patch("/cases/{case_id}/tasks/{task_id}", response_model=Done)
def edit_task(case_id: Id, task_id: Id, body: TaskEdit, p: Writer, svc: Svc) -> dict[str, bool]:
    """Assign a task, move its due date, or mark it done."""
    svc.cases.edit_task(p, case_id, task_id, body)
    return {"ok": True}


@router.post("/cases/{case_id}/notes", response_model=Created, status_code=201)
def add_note(case_id: Id, body: NoteIn, p: Writer, svc: Svc) -> dict[str, int]:
    """Add a note to a case."""
    return {"id": svc.cases.add_note(p, case_id, body)}


@router.post("/cases/{case_id}/links", response_model=Done)
def link(case_id: Id, body: LinkIn, p: Writer, svc: Svc) -> dict[str, bool]:
    """Add a company or a tip to a case."""
    svc.cases.link(p, case_id, body)
    return {"ok": True}


@router.post("/cases/{case_id}/outcome", response_model=Done)
def outcome(case_id: Id, body: OutcomeIn, p: Writer, svc: Svc) -> dict[str, bool]:
    """Close a case with its outcome and the losses it avoided."""
    svc.cases.record_outcome(p, case_id, body)
    return {"ok": True}


@router.post("/cases/{case_id}/reopen", response_model=Done)
def reopen(case_id: Id, body: NoteIn, p: Writer, svc: Svc) -> dict[str, bool]:
    """Reopen a closed case, saying why."""
    svc.cases.reopen(p, case_id, body)
    return {"ok": True}


# tips' files ------------------------------------------------------------------------------
@router.get("/tips/mine", response_model=list[MyTip])
def my_tips(p: Checker, svc: Svc) -> list[dict[str, Any]]:
    """The tips you sent, with their files."""
    return svc.attachments.my_tips(p)


@router.post("/attachments", response_model=TipFile, status_code=201)
def attach(
    p: Checker, svc: Svc,
    tip_id: Annotated[int, Query(ge=1)],
    name: Annotated[str, Query(min_length=1, max_length=200)],
    body: Annotated[bytes, Body(media_type="application/octet-stream")] = b"",
    content_type: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:  # fmt: skip
    """Keep a file (PDF, JPEG, PNG; up to 10 MB) with a tip, encrypted (body: the file)."""
    # The dashboard percent-encodes header values (image%2Fpng): read as typed.
    declared = header_text(content_type)
    if declared in (None, "application/octet-stream"):
        declared = None
    return svc.attachments.add(p, tip_id, name, declared, body)


@router.get("/attachments/{attachment_id}")
def download(attachment_id: Id, p: Reader, purpose: Purpose, svc: Svc) -> Response:
    """A tip's file (audited with the purpose)."""
    a, data = svc.attachments.download(p, attachment_id, purpose)
    safe = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in a["name"])
    return Response(data, media_type=a["mime"], headers={
        "Content-Disposition": f'attachment; filename="{safe}"',
        "Cache-Control": "no-store",
    })  # fmt: skip


# companies --------------------------------------------------------------------------------
@router.get("/companies", response_model=CompanyPage)
def companies(
    p: Reader, purpose: Purpose, svc: Svc,
    q: Annotated[str | None, Query(max_length=100)] = None,
    state: CheckState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:  # fmt: skip
    """Companies by name and check state, a page at a time (audited)."""
    return svc.profiles.search(p, purpose, q, state, limit, offset)


@router.put("/companies/{cid}/profile", response_model=Company)
def save_profile(cid: Id, body: ProfileIn, p: Writer, purpose: Purpose, svc: Svc) -> dict:
    """Enter or correct a company's registry profile (it becomes profiled)."""
    svc.save_profile(p, cid, body)
    return svc.company(p, cid, purpose)


@router.post("/companies/{cid}/checked", response_model=Done)
def mark_checked(cid: Id, p: Writer, svc: Svc) -> dict[str, bool]:
    """Mark a company checked."""
    svc.profiles.check(p, cid)
    return {"ok": True}


@router.get("/companies/{cid}/network", response_model=AliasNetwork)
def network(cid: Id, p: Reader, purpose: Purpose, svc: Svc) -> dict[str, Any]:
    """A company, its vests and aliases, and the evidence linking them (audited)."""
    return svc.profiles.network(p, cid, purpose)


@router.get("/stats", response_model=PlatformStats)
def stats(p: Reader, svc: Svc) -> dict[str, Any]:
    """Filings, companies checked and profiled, frauds found early, losses avoided."""
    return svc.stats()


@router.post("/warnings/{wid}/request-approval", response_model=FraudWarning)
def request_approval(wid: Id, p: Writer, svc: Svc) -> dict[str, Any]:
    """Ask a second investigator again (after the request expired or was refused)."""
    svc.desk.request_approval(p, wid)
    return svc.desk.warning(wid)
