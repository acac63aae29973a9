"""Simulated boards' health: each online camera publishes a protocol ``Health`` message
every ``interval_s`` (QoS 0, as real boards do), spread evenly over the interval so
24,000 cameras are a steady trickle (800 messages/s at 30 s), never a burst each tick.

The figures move the way a Pi 5 running the pose detector moves: frame rate near its
target, inference time with jitter, CPU and temperature that follow each other, uptime
that grows, an empty spool. Used by the demo city (``devtools/devcity.py``) so the fleet
view shows what a healthy network looks like, and the cameras that really stop talking
stand out.
"""

from __future__ import annotations

import random
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol import Channel, Health, Topics, encode

TICK_S = 0.1  # one slice of the cameras is published every tick


@dataclass
class BoardHealth:
    """Publishes health for ``devices`` through ``publish(topic, payload, qos)``."""

    devices: Sequence[str]
    publish: Callable[[str, bytes, int], Any]
    topics: Topics = field(default_factory=Topics)
    interval_s: float = 30.0
    seed: int = 7
    sent: int = 0
    _started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        # Each board's own phase in the interval: boards boot at different moments.
        self._phase = {d: self._rng.random() * self.interval_s for d in self.devices}
        self._uptime0 = {d: self._rng.randrange(600, 30 * 86400) for d in self.devices}
        self._slots = sorted((p, d) for d, p in self._phase.items())
        self._keys = [p for p, _ in self._slots]

    def message(self, dev: str, now: float) -> Health:
        """One plausible health report of ``dev`` at ``now``."""
        r = self._rng
        cpu = min(1.0, max(0.05, r.gauss(0.45, 0.08)))
        return Health(
            ts=int(now * 1000),
            fps=round(max(0.0, r.gauss(8.0, 0.4)), 2),
            inference_ms=round(max(5.0, r.gauss(42.0, 6.0)), 1),
            motion=round(min(1.0, r.random() * 0.3), 3),
            spool=0,
            drops=0,
            temp_c=round(38.0 + cpu * 40.0 + r.gauss(0, 1.5), 1),
            uptime_s=max(0, int(self._uptime0[dev] + now - self._started)),
            cpu=round(cpu, 3),
        )

    def due(self, t0: float, t1: float) -> list[str]:
        """The boards whose slot in the interval falls in [t0, t1) (wall-clock seconds)."""
        a, b = t0 % self.interval_s, t1 % self.interval_s
        if t1 - t0 >= self.interval_s:
            return list(self.devices)
        lo, hi = bisect_left(self._keys, a), bisect_left(self._keys, b)
        if a <= b:
            return [d for _, d in self._slots[lo:hi]]
        return [d for _, d in self._slots[lo:]] + [d for _, d in self._slots[:hi]]

    def run(self, stop: threading.Event, first_round: bool = True) -> None:
        """Publish until ``stop`` is set. With ``first_round``, every board reports once
        over the first second (a city that just booted), then each in its slot."""
        if first_round:
            for i, dev in enumerate(self.devices):
                self._send(dev, time.time())
                if i % 500 == 499 and stop.wait(0.02):
                    return
        last = time.time()
        while not stop.wait(TICK_S):
            now = time.time()
            for dev in self.due(last, now):
                self._send(dev, now)
            last = now

    def _send(self, dev: str, now: float) -> None:
        self.publish(self.topics.device(dev, Channel.HEALTH), encode(self.message(dev, now)), 0)
        self.sent += 1
