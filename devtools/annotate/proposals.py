"""Box proposals for a static camera from background subtraction (no detector involved).

The background is the per-pixel median of the whole clip (people keep moving, so the
median is the empty scene); a frame's foreground is where it differs from that, cleaned
by morphology; each connected component large enough to be a person gives one box.
Proposals are a starting point for the hand review, never ground truth on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BgParams:
    """Foreground thresholds, tuned on the clip by eye on the contact sheets."""

    diff: int = 28
    open_px: int = 3
    close_px: int = 9
    min_area: int = 120


def median_background(frames: list[np.ndarray], step: int = 5) -> np.ndarray:
    """Per-pixel median over every ``step``-th frame (uint8, same shape as a frame)."""
    stack = np.stack(frames[::step])
    return np.median(stack, axis=0).astype(np.uint8)


def foreground(rgb: np.ndarray, bg: np.ndarray, p: BgParams = BgParams()) -> np.ndarray:
    """Binary foreground mask (uint8 0/255) of one frame against the background."""
    import cv2

    diff = np.abs(rgb.astype(np.int16) - bg.astype(np.int16)).max(axis=2)
    mask = (diff > p.diff).astype(np.uint8) * 255
    k_open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (p.open_px, p.open_px))
    k_close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (p.close_px, p.close_px))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, k_open)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, k_close)


def boxes_from_mask(mask: np.ndarray, min_area: int) -> list[list[int]]:
    """One x1,y1,x2,y2 pixel box per connected component of at least ``min_area`` pixels."""
    import cv2

    n, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= min_area:
            out.append([x, y, x + w, y + h])
    return sorted(out)


def snap(mask: np.ndarray, box: Sequence[float], margin: int = 3) -> list[int] | None:
    """The tight box of the foreground inside ``box`` (grown by ``margin``), or None."""
    h, w = mask.shape
    x1 = max(0, int(box[0]) - margin)
    y1 = max(0, int(box[1]) - margin)
    x2 = min(w, int(round(box[2])) + margin)
    y2 = min(h, int(round(box[3])) + margin)
    ys, xs = np.nonzero(mask[y1:y2, x1:x2])
    if len(xs) < 20:
        return None
    return [x1 + int(xs.min()), y1 + int(ys.min()), x1 + int(xs.max()) + 1, y1 + int(ys.max()) + 1]


def without_thin_horizontals(mask: np.ndarray, height: int = 9) -> np.ndarray:
    """The mask less structures thinner than ``height`` rows (the fluttering tape).

    An opening with a vertical line keeps people (tall) and drops the barrier tape that
    waves in the wind and joins the people walking past it into one wide blob.
    """
    import cv2

    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((height, 1), np.uint8))
