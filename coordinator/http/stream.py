"""Live stream of incident changes and camera-down alerts (Server-Sent Events).

Browsers' ``EventSource`` cannot send headers, and a bearer token in a URL ends up in
logs, so the dashboard first asks for a single-use ticket (``POST
/api/incidents-stream/tickets``, with its header) and opens the stream with ``?ticket=``
(``identity/tickets.py``); other clients may send ``Authorization: Bearer`` instead. The
permission is checked inside the route rather than with ``require()`` because a stream
never ends on its own: the role-matrix walker would wait on it forever;
``tests/coordinator/incidents/test_incidents.py`` streams it. A stream ends after ``max_s``
seconds; the dashboard then reconnects with a new ticket. The hub it reads
(``platform/hub.py``) is subscribed to the incident and fleet changes by the composition
root at start, so a change is fanned out whether or not a browser has connected yet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from ..identity.auth import AuthError, Principal
from ..incidents.permissions import Perm
from .deps import StreamHubDep, TicketsDep, bearer_token, get_principal, require

router = APIRouter(prefix="/api", tags=["incidents"])


class StreamTicket(BaseModel):
    """A single-use ticket that opens the live stream once (``?ticket=``)."""

    ticket: str
    expires_at: float


def _may_stream(who: Principal) -> Principal:
    if not who.can(Perm.INCIDENTS_READ):
        raise HTTPException(
            403, f"roles {', '.join(who.role_names)} lack permission incidents:read"
        )
    return who


@router.post("/incidents-stream/tickets", response_model=StreamTicket)
def stream_ticket(
    request: Request,
    tickets: TicketsDep,
    who: Annotated[Principal, Depends(require(Perm.INCIDENTS_READ))],
) -> StreamTicket:
    """A ticket for ``GET /api/incidents-stream?ticket=…``: one use, a minute, this session."""
    t = tickets.mint(bearer_token(request), who)
    return StreamTicket(ticket=t.ticket, expires_at=t.expires_at)


def stream_principal(
    request: Request,
    tickets: TicketsDep,
    ticket: Annotated[
        str | None, Query(max_length=100, description="From POST /api/incidents-stream/tickets")
    ] = None,
) -> Principal:
    """The caller of the stream: a single-use ticket, else the bearer header."""
    if ticket is None:
        return get_principal(request, _bearer_creds(request))
    try:
        return tickets.redeem(ticket)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


def _bearer_creds(request: Request) -> HTTPAuthorizationCredentials | None:
    token = bearer_token(request)
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None


@router.get("/incidents-stream")
async def incident_stream(
    hub: StreamHubDep,
    who: Annotated[Principal, Depends(stream_principal)],
    max_s: Annotated[float, Query(gt=0, le=3600)] = 600,
    heartbeat_s: Annotated[float, Query(gt=0, le=60)] = 15,
) -> StreamingResponse:
    """SSE: ``event: incident`` for every create/update/transition, ``event: device_alert``."""
    _may_stream(who)
    sid, q = hub.subscribe()

    async def gen() -> AsyncIterator[str]:
        end = time.monotonic() + max_s
        try:
            yield ": connected\n\n"
            while (left := end - time.monotonic()) > 0:
                try:
                    msg = await asyncio.wait_for(q.get(), timeout=min(heartbeat_s, left))
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if msg is None:
                    return  # fell behind: let the client reconnect and re-read
                yield msg
        finally:
            hub.unsubscribe(sid)

    return StreamingResponse(
        gen(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
