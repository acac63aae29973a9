"""Deliver change notifications after commit, in order, off the writer thread.

Callbacks (the live stream, patrol dispatch) may themselves write to the database; run on
the writer thread they would deadlock it, so they run here, one at a time, in commit order.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Notifier:
    """One thread calling queued callbacks in order; a failing callback is logged, not fatal."""

    def __init__(self, name: str) -> None:
        self._q: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"notify:{name}", daemon=True)
        self._thread.start()

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)``."""
        self._q.put((fn, args))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued callback has run (tests, shutdown)."""
        done = threading.Event()
        self._q.put((done.set, ()))
        return done.wait(timeout)

    def close(self) -> None:
        """Run what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - a subscriber's bug must not stop the others
                log.exception("change callback %r failed", fn)
