"""Fan-out of committed changes to every open live stream (notifier threads → asyncio).

The composition root subscribes one hub to the incident and fleet changes at start; each
browser's stream (``coordinator/http/stream.py``) subscribes a queue on its own event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

QUEUE_MAX = 1000  # a client this far behind is dropped; it reconnects and re-reads
#: A stream's filter over a message's tags (the centres it concerns): True to deliver.
Accept = Callable[[frozenset[str]], bool]


class StreamHub:
    """Fans committed changes out to every connected stream (thread → asyncio)."""

    def __init__(self) -> None:
        self._subs: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]]] = {}
        self._accept: dict[int, Accept] = {}
        self._lock = threading.Lock()
        self._next = 0

    def subscribe(self, accept: Accept | None = None) -> tuple[int, asyncio.Queue[str | None]]:
        """Register the calling event loop's stream; ``accept(tags)`` filters what a
        tagged message reaches it (untagged messages reach every stream)."""
        q: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_MAX)
        with self._lock:
            self._next += 1
            self._subs[self._next] = (asyncio.get_running_loop(), q)
            if accept is not None:
                self._accept[self._next] = accept
            return self._next, q

    @property
    def streams(self) -> int:
        """How many streams are open."""
        with self._lock:
            return len(self._subs)

    def unsubscribe(self, sid: int) -> None:
        """Forget a stream."""
        with self._lock:
            self._subs.pop(sid, None)
            self._accept.pop(sid, None)

    def publish(self, kind: str, data: dict[str, Any], tags: frozenset[str] | None = None) -> None:
        """Send one SSE message to every stream whose filter accepts ``tags`` (called from
        notifier threads); serialised once for all of them."""
        msg = f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"
        self._each(lambda q: _offer(q, msg), tags)

    def end_all(self) -> int:
        """End every open stream, as a stream that falls too far behind is ended: the
        dashboards reconnect and resync their state. Returns how many were ended."""
        return self._each(lambda q: q.put_nowait(None))

    def _each(
        self, fn: Callable[[asyncio.Queue[str | None]], None], tags: frozenset[str] | None = None
    ) -> int:
        """Run ``fn(queue)`` on each (accepting) stream's own event loop; returns how many."""
        with self._lock:
            subs = [
                (sid, sub)
                for sid, sub in self._subs.items()
                if tags is None or (acc := self._accept.get(sid)) is None or acc(tags)
            ]
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
