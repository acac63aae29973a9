"""Live stream of incident changes and camera-down alerts (Server-Sent Events).

Browsers' ``EventSource`` cannot send headers, so the token may come as ``?access_token=``
(accepted by ``deps.get_principal``). The permission is checked inside the route rather
than with ``require()`` because a stream never ends on its own: the role-matrix walker
would wait on it forever; ``tests/coordinator/incidents/test_incidents.py`` streams it.
A stream ends after ``max_s`` seconds; EventSource reconnects by itself.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse

from ..identity.auth import Perm, Principal
from ..services import Services
from .deps import ServicesDep, get_principal

router = APIRouter(prefix="/api", tags=["incidents"])
QUEUE_MAX = 1000  # a client this far behind is dropped; it reconnects and re-reads


class StreamHub:
    """Fans committed changes out to every connected stream (thread → asyncio)."""

    def __init__(self) -> None:
        self._subs: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]]] = {}
        self._lock = threading.Lock()
        self._next = 0

    def subscribe(self) -> tuple[int, asyncio.Queue[str | None]]:
        """Register the calling event loop's stream."""
        q: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_MAX)
        with self._lock:
            self._next += 1
            self._subs[self._next] = (asyncio.get_running_loop(), q)
            return self._next, q

    def unsubscribe(self, sid: int) -> None:
        """Forget a stream."""
        with self._lock:
            self._subs.pop(sid, None)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Send one SSE message to every stream (called from notifier threads)."""
        msg = f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"
        self._each(lambda q: _offer(q, msg))

    def end_all(self) -> int:
        """End every open stream, as a stream that falls too far behind is ended: the
        dashboards reconnect and resync their state. Returns how many were ended."""
        return self._each(lambda q: q.put_nowait(None))

    def _each(self, fn: Callable[[asyncio.Queue[str | None]], None]) -> int:
        """Run ``fn(queue)`` on each stream's own event loop; returns how many streams."""
        with self._lock:
            subs = list(self._subs.items())
        for sid, (loop, q) in subs:
            try:
                loop.call_soon_threadsafe(fn, q)
            except RuntimeError:  # its loop is closed
                self.unsubscribe(sid)
        return len(subs)


def _offer(q: asyncio.Queue[str | None], msg: str) -> None:
    try:
        q.put_nowait(msg)
    except asyncio.QueueFull:
        # Too far behind: drop what is queued and tell the stream to end.
        while not q.empty():
            q.get_nowait()
        q.put_nowait(None)


_HUB_LOCK = threading.Lock()


def hub_for(services: Services) -> StreamHub:
    """The services' hub, created (and wired to the change callbacks) on first use."""
    with _HUB_LOCK:
        return _hub(services)


def _hub(services: Services) -> StreamHub:
    hub = services.extra.get("stream_hub")
    if hub is None:
        hub = StreamHub()
        services.extra["stream_hub"] = hub
        services.extra["incidents"].on_change(
            lambda inc, change: hub.publish("incident", {"change": change, "incident": inc})
        )
        services.extra["fleet"].on_alert(lambda alert: hub.publish("device_alert", alert))
    return hub


@router.get("/incidents-stream")
async def incident_stream(
    services: ServicesDep,
    who: Annotated[Principal, Depends(get_principal)],
    max_s: Annotated[float, Query(gt=0, le=3600)] = 600,
    heartbeat_s: Annotated[float, Query(gt=0, le=60)] = 15,
) -> StreamingResponse:
    """SSE: ``event: incident`` for every create/update/transition, ``event: device_alert``."""
    if not who.can(Perm.INCIDENTS_READ):
        raise HTTPException(
            403, f"roles {', '.join(who.role_names)} lack permission incidents:read"
        )
    hub = hub_for(services)
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
        gen(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
