"""A small in-memory ring of JPEG snapshots of event frames, sent only on request."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np


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
    """The last ``size`` event snapshots keyed by event id (oldest evicted)."""

    def __init__(self, size: int = 32, quality: int = 70, max_width: int = 640) -> None:
        """Empty ring."""
        self.size, self.quality, self.max_width = size, quality, max_width
        self._items: OrderedDict[str, tuple[bytes, int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, event_id: str, rgb: np.ndarray) -> None:
        """Keep a JPEG of ``rgb`` for ``event_id``."""
        if self.size <= 0:
            return
        item = encode_jpeg(rgb, self.quality, self.max_width)
        with self._lock:
            self._items[event_id] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, event_id: str | None) -> tuple[bytes, int, int] | None:
        """The snapshot of ``event_id`` (None = the latest), or None if evicted/unknown."""
        with self._lock:
            if event_id is None:
                return next(reversed(self._items.values()), None)
            return self._items.get(event_id)

    def __len__(self) -> int:
        """Snapshots held."""
        return len(self._items)
