"""The hall's routes: the counter's cases, documents, decisions, alerts, statistics, and
the applicants' public status enquiry by receipt number."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from ..http.client import client_address
from ..http.deps import HallDep, SettingsDep, require, require_purpose
from ..identity.auth import Principal
from .api_models import (
    Enquiry,
    HallAlert,
    HallCase,
    HallCaseIn,
    HallCaseItem,
    HallCatalogue,
    HallDecisionIn,
    HallFindIn,
    HallRevealIn,
    HallStats,
    HallStepIn,
    PassportReveal,
)
from .cases import RECEIPT_RE
from .permissions import Perm

router = APIRouter(prefix="/api/hall", tags=["hall"])
Reader = Annotated[Principal, Depends(require(Perm.HALL_READ))]
Writer = Annotated[Principal, Depends(require(Perm.HALL_WRITE))]
Decider = Annotated[Principal, Depends(require(Perm.HALL_DECIDE))]
Statistician = Annotated[Principal, Depends(require(Perm.HALL_STATS))]
Purpose = Annotated[str, Depends(require_purpose)]
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: A document's cap on the wire (the file store checks its own cap and the type).
MAX_DOCUMENT = 10 * 1024 * 1024


@router.get("/catalogue", response_model=HallCatalogue)
def catalogue(hall: HallDep, _p: Reader) -> dict[str, Any]:
    """The services, their counters, time limits and required documents."""
    return hall.catalogue.model_dump(mode="json", exclude={"note", "holidays"})


@router.post("/cases", response_model=HallCase, status_code=201)
def apply(body: HallCaseIn, hall: HallDep, p: Writer, purpose: Purpose) -> dict[str, Any]:
    """Take an application at the counter; the answer carries the receipt number."""
    row = hall.apply(p, body.model_dump(), purpose)
    return hall.get(p, row["id"], purpose)


@router.get("/queue/{counter}", response_model=list[HallCaseItem])
def queue(
    counter: Annotated[str, Path(max_length=8)], hall: HallDep, p: Reader, purpose: Purpose
) -> list[dict[str, Any]]:
    """A counter's open cases by deadline, then those waiting to be collected."""
    return hall.queue(p, counter, purpose)


@router.post("/cases/find", response_model=list[HallCaseItem])
def find(body: HallFindIn, hall: HallDep, p: Reader, purpose: Purpose) -> list[dict[str, Any]]:
    """Cases of one passport (audited)."""
    return hall.find(p, body.nationality, body.passport_number, purpose)


@router.get("/cases/{case_id}", response_model=HallCase)
def get_case(case_id: CaseId, hall: HallDep, p: Reader, purpose: Purpose) -> dict[str, Any]:
    """One case with its documents and history (audited)."""
    return hall.get(p, case_id, purpose)


@router.post("/cases/{case_id}/reveal", response_model=PassportReveal)
def reveal(case_id: CaseId, body: HallRevealIn, hall: HallDep, p: Writer) -> dict[str, Any]:
    """The full passport number (audited with the reason)."""
    return {"passport_number": hall.reveal_passport(p, case_id, body.reason)}


@router.put("/cases/{case_id}/documents/{doc}", response_model=HallCase)
def add_document(
    case_id: CaseId,
    doc: Annotated[str, Path(max_length=40)],
    hall: HallDep,
    p: Writer,
    purpose: Purpose,
    request: Request,
    body: Annotated[bytes, Body(media_type="application/octet-stream", max_length=MAX_DOCUMENT)],
    filename: Annotated[str, Query(max_length=200)] = "document",
) -> dict[str, Any]:
    """Keep a supporting document (PDF, JPEG or PNG, checked by content) encrypted."""
    declared = request.headers.get("content-type")
    if declared and declared.split(";")[0].strip() in ("application/octet-stream", ""):
        declared = None
    hall.add_document(p, case_id, doc, body, filename, declared)
    return hall.get(p, case_id, purpose)


@router.get("/cases/{case_id}/documents/{file_id}", response_class=Response)
def read_document(
    case_id: CaseId,
    file_id: Annotated[str, Path(max_length=32)],
    hall: HallDep,
    p: Reader,
    purpose: Purpose,
) -> Response:
    """A document's content (each read audited with its purpose)."""
    meta, data = hall.read_document(p, case_id, file_id, purpose)
    return Response(
        content=data,
        media_type=meta.content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/cases/{case_id}/step", response_model=HallCase)
def step(
    case_id: CaseId, body: HallStepIn, hall: HallDep, p: Writer, purpose: Purpose
) -> dict[str, Any]:
    """Documents checked, under review, collected, or withdrawn (with a reason)."""
    hall.step(p, case_id, body.status, body.note, purpose)
    return hall.get(p, case_id, purpose)


@router.post("/cases/{case_id}/decision", response_model=HallCase)
def decide(
    case_id: CaseId, body: HallDecisionIn, hall: HallDep, p: Decider, purpose: Purpose
) -> dict[str, Any]:
    """Approve or refuse, with the reason (and the new validity end for an approval)."""
    hall.decide(p, case_id, body.approve, body.reason, body.granted_until, purpose)
    return hall.get(p, case_id, purpose)


@router.get("/alerts", response_model=list[HallAlert])
def alerts(hall: HallDep, p: Reader, purpose: Purpose) -> list[dict[str, Any]]:
    """Decisions due within a day and overdue ones, not yet acknowledged."""
    return hall.alerts(p, purpose)


@router.post("/alerts/{alert_id}/ack", status_code=204)
def acknowledge(alert_id: CaseId, hall: HallDep, p: Writer) -> None:
    """Mark an alert seen."""
    hall.acknowledge(p, alert_id)


@router.get("/stats", response_model=HallStats)
def stats(
    hall: HallDep, _p: Statistician,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:  # fmt: skip
    """Cases by nationality and service; counts under five suppressed."""
    return hall.stats(year)


@router.get("/public/status/{receipt}", response_model=Enquiry)
def enquiry(
    receipt: Annotated[str, Path(max_length=24)],
    hall: HallDep,
    settings: SettingsDep,
    request: Request,
) -> dict[str, Any]:
    """An application's status by its receipt number (no login; limited per address)."""
    r = receipt.strip().upper()
    address = client_address(request, settings.trusted_proxies)
    if not re.fullmatch(RECEIPT_RE, r):
        r = "HL-INVALID"  # counted as a miss, like any unknown receipt
    return hall.enquiry(r, address)
