"""The one scheduler for periodic work (purges, expiries, staleness checks, CRL refresh,
the fraud overdue sweep, population retention).

Domains own their jobs' functions (the raw-event purge lives in ``ingest``, snapshot
expiry in ``fleet``); the composition root registers them here with :meth:`Jobs.every`.
It runs inside ``coordinator run``, or alone as ``coordinator jobs`` (then start the API
with ``coordinator run --no-jobs``) so the periodic work can live in its own process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Jobs:
    """One background thread running periodic jobs; each job's failure is logged, not fatal."""

    def __init__(self) -> None:
        self._jobs: list[tuple[str, float, Callable[[], Any]]] = []
        self._first: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs: dict[str, int] = {}
        #: Called with a job's name after each run (the ``coordinator jobs`` command prints it).
        self.on_run: Callable[[str], object] | None = None

    def every(
        self,
        name: str,
        interval_s: float,
        fn: Callable[[], Any],
        *,
        first_after_s: float | None = None,
    ) -> None:
        """Run ``fn`` every ``interval_s`` seconds; the first run comes ``first_after_s``
        after :meth:`start` (default: one interval; 0 = at start)."""
        if any(n == name for n, _i, _f in self._jobs):
            raise ValueError(f"job {name!r} is already registered")
        self._jobs.append((name, interval_s, fn))
        self._first[name] = interval_s if first_after_s is None else first_after_s

    @property
    def names(self) -> list[str]:
        """The registered jobs' names, in registration order."""
        return [name for name, _i, _fn in self._jobs]

    def run(self, name: str) -> None:
        """Run one job now (commands, tests)."""
        for n, _i, fn in self._jobs:
            if n == name:
                self._run(n, fn)
                return
        raise KeyError(f"no job {name!r}")

    def run_all(self) -> None:
        """Run every job once now (CLI, tests)."""
        for name, _i, fn in self._jobs:
            self._run(name, fn)

    def start(self) -> Jobs:
        """Start the scheduler thread."""
        now = time.monotonic()
        for name, _interval, _fn in self._jobs:
            self._next[name] = now + self._first[name]
        self._thread = threading.Thread(target=self._loop, name="coordinator-jobs", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the scheduler."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self, name: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a failing job is retried at its next interval
            log.exception("job %s failed", name)
        self.runs[name] = self.runs.get(name, 0) + 1
        if self.on_run is not None:
            self.on_run(name)

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            now = time.monotonic()
            for name, interval, fn in self._jobs:
                if now >= self._next[name]:
                    self._run(name, fn)
                    self._next[name] = time.monotonic() + interval
