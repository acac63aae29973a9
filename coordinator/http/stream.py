"""Live stream of incident changes and camera-down alerts (Server-Sent Events).

Browsers' ``EventSource`` cannot send headers, so the token may come as ``?access_token=``
(accepted by ``deps.get_principal``). The permission is checked inside the route rather
than with ``require()`` because a stream never ends on its own: the role-matrix walker
would wait on it forever; ``tests/coordinator/incidents/test_incidents.py`` streams it.
A stream ends after ``max_s`` seconds; EventSource reconnects by itself. The hub it reads
(``platform/hub.py``) is subscribed to the incident and fleet changes by the composition
root at start, so a change is fanned out whether or not a browser has connected yet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse

from ..identity.auth import Principal
from ..incidents.permissions import Perm
from .deps import ScopeDep, StreamHubDep, get_principal

router = APIRouter(prefix="/api", tags=["incidents"])


@router.get("/incidents-stream")
async def incident_stream(
    hub: StreamHubDep,
    who: Annotated[Principal, Depends(get_principal)],
    scope: ScopeDep,
    max_s: Annotated[float, Query(gt=0, le=3600)] = 600,
    heartbeat_s: Annotated[float, Query(gt=0, le=60)] = 15,
) -> StreamingResponse:
    """SSE: ``event: incident`` for every create/update/transition, ``event: device_alert``,
    of your centres' incidents and cameras (a handover reaches both centres)."""
    if not who.can(Perm.INCIDENTS_READ):
        raise HTTPException(
            403, f"roles {', '.join(who.role_names)} lack permission incidents:read"
        )
    accept = None if scope.city_wide else (lambda tags: any(scope.allows(t) for t in tags))
    sid, q = hub.subscribe(accept)

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
        gen(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
