"""Frame sources behind one interface, and a supervisor that reopens failed ones.

Each hardware source lives in its own module and imports its library lazily (picamera2
exists only on a Pi, OpenCV is optional), so this package imports on any machine.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


class SourceError(RuntimeError):
    """The source failed (camera unplugged, stream dropped, unreadable frame)."""


@dataclass
class Frame:
    """One RGB frame; ``t`` is source time in seconds, ``truth`` known boxes (synthetic)."""

    rgb: np.ndarray
    t: float
    index: int
    truth: list[tuple[float, float, float, float]] = field(default_factory=list)


class FrameSource(Protocol):
    """What every source provides; ``read`` returns None at the end of a finite source."""

    name: str

    def open(self) -> None:
        """Acquire the device/stream; raise SourceError if it cannot."""
        ...

    def read(self) -> Frame | None:
        """Next frame, None at the end, SourceError on failure."""
        ...

    def close(self) -> None:
        """Release the device (idempotent)."""
        ...


def build_source(cfg: object) -> FrameSource:
    """The source named by an agent config's ``source`` section."""
    kind = cfg.kind  # type: ignore[attr-defined]
    if kind == "synthetic":
        from .synthetic import SyntheticScene

        return SyntheticScene(
            width=cfg.width,  # type: ignore[attr-defined]
            height=cfg.height,  # type: ignore[attr-defined]
            fps=cfg.fps,  # type: ignore[attr-defined]
            people=cfg.people,  # type: ignore[attr-defined]
            seed=cfg.seed,  # type: ignore[attr-defined]
            loop=cfg.loop,  # type: ignore[attr-defined]
        )
    if kind == "replay":
        from .replay import ReplaySource

        return ReplaySource(cfg.path, fps=cfg.fps, loop=cfg.loop)  # type: ignore[attr-defined]
    if kind == "opencv":
        from .capture import OpenCvSource

        return OpenCvSource(cfg.uri, cfg.width, cfg.height)  # type: ignore[attr-defined]
    if kind == "picamera2":
        from .capture import PiCameraSource

        return PiCameraSource(cfg.width, cfg.height, cfg.fps)  # type: ignore[attr-defined]
    raise SourceError(f"unknown source kind {kind!r}")


class SupervisedSource:
    """Wraps a source: a failure closes it and reopens with exponential backoff.

    The outage is counted for the health message; the agent never crashes on a camera.
    """

    def __init__(
        self,
        source: FrameSource,
        stop: threading.Event,
        min_delay: float = 0.5,
        max_delay: float = 30.0,
        log: object = None,
    ) -> None:
        """Supervise ``source``; ``stop`` interrupts backoff waits."""
        self.source = source
        self.stop = stop
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.outages = 0
        self.ok = False
        self.last_error = ""
        self._opened = False
        self._log = log if callable(log) else (lambda _m: None)

    def read(self) -> Frame | None:
        """Next frame; blocks through outages until a frame arrives, the end, or stop."""
        delay = self.min_delay
        while not self.stop.is_set():
            try:
                if not self._opened:
                    self.source.open()
                    self._opened = True
                frame = self.source.read()
                self.ok = True
                return frame
            except SourceError as exc:
                if self.ok or self.outages == 0 or self.last_error != str(exc):
                    self._log(f"source {self.source.name} failed: {exc}; reopening in {delay:.1f}s")
                if self.ok or not self.outages:
                    self.outages += 1
                self.ok = False
                self.last_error = str(exc)
                self._close()
                self.stop.wait(delay)
                delay = min(self.max_delay, delay * 2)
        return None

    def _close(self) -> None:
        with contextlib.suppress(Exception):  # a broken peer/device may fail to close
            self.source.close()
        self._opened = False

    def close(self) -> None:
        """Release the underlying source."""
        self._close()


class Pacer:
    """Sleeps (interruptibly) so frames are processed at ``fps`` at most."""

    def __init__(self, fps: float, stop: threading.Event) -> None:
        """Pace at ``fps``."""
        self.period = 1.0 / fps
        self.stop = stop
        self._next = time.monotonic()

    def wait(self) -> None:
        """Wait for the next frame slot (skips ahead when we are late)."""
        now = time.monotonic()
        if self._next > now:
            self.stop.wait(self._next - now)
        self._next = max(self._next + self.period, time.monotonic())
