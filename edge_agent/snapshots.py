"""A small in-memory ring of JPEG snapshots of event frames, sent only on request."""

from __future__ import annotations

import base64
import io
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from protocol.messages import SnapshotRequest, SnapshotResponse

#: Blanks what the camera's owner must never send (privacy masks) in a frame, before it is
#: encoded. The agent passes the config's privacy masks (``masks.FrameMasks.privacy``).
Redact = Callable[[np.ndarray], np.ndarray]


def no_redaction(rgb: np.ndarray) -> np.ndarray:
    """The frame unchanged (no privacy masks configured)."""
    return rgb


def encode_jpeg(rgb: np.ndarray, quality: int = 70, max_width: int = 640) -> tuple[bytes, int, int]:
    """JPEG bytes of an RGB frame (downscaled to ``max_width``), with its width and height."""
    from PIL import Image

    im = Image.fromarray(rgb)
    if im.width > max_width:
        im = im.resize((max_width, round(im.height * max_width / im.width)))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue(), im.width, im.height


class SnapshotRing:
    """JPEGs of the last ``size`` frames that produced events, keyed by event id.

    Every event phase (start, update, end) keeps its frame, so the centre can ask for the
    frame of any recent event of an incident, not only the first. Events raised on the
    same frame share one JPEG: it is encoded once, and the ring's bound counts frames, so
    the memory held is at most ``size`` JPEGs however many events a busy frame raises.
    """

    def __init__(
        self,
        size: int = 32,
        quality: int = 70,
        max_width: int = 640,
        redact: Redact = no_redaction,
    ) -> None:
        """Empty ring; ``redact`` burns the privacy masks into every frame kept."""
        self.size, self.quality, self.max_width = size, quality, max_width
        self.redact = redact
        self._frames: OrderedDict[int, tuple[bytes, int, int]] = OrderedDict()
        self._events: OrderedDict[str, int] = OrderedDict()
        self._next = 0
        self._lock = threading.Lock()

    def put(self, event_id: str, rgb: np.ndarray) -> None:
        """Keep a JPEG of ``rgb`` for ``event_id``."""
        self.put_frame([event_id], rgb)

    def put_frame(self, event_ids: list[str], rgb: np.ndarray) -> None:
        """Keep one JPEG of ``rgb`` for every event raised on that frame."""
        if self.size <= 0 or not event_ids:
            return
        # Masks are burned in before encoding: what is never kept can never be sent.
        item = encode_jpeg(self.redact(rgb), self.quality, self.max_width)
        with self._lock:
            key = self._next
            self._next += 1
            self._frames[key] = item
            for eid in event_ids:
                self._events[eid] = key
            while len(self._frames) > self.size:
                self._frames.popitem(last=False)
            # Events whose frame was evicted are the oldest ones: drop them from the front.
            while self._events:
                eid, k = next(iter(self._events.items()))
                if k in self._frames:
                    break
                self._events.popitem(last=False)

    def get(self, event_id: str | None) -> tuple[bytes, int, int] | None:
        """The snapshot of ``event_id`` (None = the latest), or None if evicted/unknown."""
        with self._lock:
            if event_id is None:
                return next(reversed(self._frames.values()), None)
            key = self._events.get(event_id)
            return None if key is None else self._frames.get(key)

    def __len__(self) -> int:
        """Frames held."""
        return len(self._frames)


def answer(
    ring: SnapshotRing,
    req: SnapshotRequest,
    current: Callable[[], np.ndarray | None] = lambda: None,
) -> SnapshotResponse:
    """The board's answer to a snapshot request: the event's JPEG as kept, or the current
    view (``req.live``: the newest frame from ``current``, privacy masks burned in), or why
    not."""
    now = int(time.time() * 1000)
    if req.live:
        rgb = current()
        if rgb is None:
            return SnapshotResponse(
                req=req.req, ts=now, ok=False, error="no frame from the camera yet"
            )
        snap: tuple[bytes, int, int] | None = encode_jpeg(
            ring.redact(rgb), ring.quality, ring.max_width
        )
    else:
        snap = ring.get(req.event)
    if snap is None:
        return SnapshotResponse(
            req=req.req, ts=now, event=req.event, ok=False, error="snapshot not kept"
        )
    jpeg, w, h = snap
    return SnapshotResponse(
        req=req.req,
        ts=now,
        event=req.event,
        width=w,
        height=h,
        data=base64.b64encode(jpeg).decode(),
    )
