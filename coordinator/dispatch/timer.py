"""A deadline timer: one thread, a heap of (deadline, key), a callback per expired key.

Started lazily on the first deadline (a coordinator that never dispatches runs no thread);
callbacks run on the timer thread and re-check their own state (an ack may have arrived).
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class DeadlineTimer:
    """Call ``callback(key)`` once ``clock()`` passes each scheduled deadline."""

    def __init__(
        self, clock: Callable[[], float], callback: Callable[[str], Any], name: str
    ) -> None:
        self.clock = clock
        self.callback = callback
        self.name = name
        self._heap: list[tuple[float, str]] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def schedule(self, deadline: float, key: str) -> None:
        """Call back for ``key`` at ``deadline`` (clock seconds); ignored after close."""
        with self._cv:
            if self._closed:
                return
            heapq.heappush(self._heap, (deadline, key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (not self._heap or self._heap[0][0] > self.clock()):
                    wait = self._heap[0][0] - self.clock() if self._heap else None
                    self._cv.wait(timeout=wait)
                if self._closed:
                    return
                _, key = heapq.heappop(self._heap)
            try:
                self.callback(key)
            except Exception:  # noqa: BLE001 - one failure must not stop the timer
                log.exception("%s: callback failed for %s", self.name, key)

    def close(self) -> None:
        """Stop the thread (pending deadlines are dropped)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
