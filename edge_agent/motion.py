"""Motion gate: downscaled grey frame differencing against a running-average background.

Cheap enough to run on every frame of a Pi: a 160-pixel-wide grey image, one subtraction,
one threshold. Only frames with motion go to the detector; while tracks exist but nothing
moves, the detector still re-checks them every ``recheck_s`` so still people stay tracked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Where the gate must not look, at the downscaled size (height, width); None = nowhere.
IgnoreFn = Callable[[int, int], "np.ndarray | None"]


def to_small_grey(rgb: np.ndarray, width: int) -> np.ndarray:
    """Integer-stride downscale to about ``width`` pixels wide, as float32 grey."""
    step = max(1, rgb.shape[1] // width)
    small = rgb[::step, ::step]
    # Integer luma weights (x/256) avoid float work on the full-size frame.
    grey = (
        small[:, :, 0].astype(np.uint16) * 77
        + small[:, :, 1].astype(np.uint16) * 150
        + small[:, :, 2].astype(np.uint16) * 29
    ) >> 8
    return grey.astype(np.float32)


@dataclass
class GateResult:
    """One frame's gate decision: the share of moving pixels and the moving region."""

    motion: float
    box: tuple[float, float, float, float] | None
    detect: bool


class MotionGate:
    """Decides per frame whether the detector should run."""

    def __init__(
        self,
        width: int = 160,
        pixel_threshold: int = 18,
        min_area: float = 0.002,
        alpha: float = 0.08,
        recheck_s: float = 1.0,
        enabled: bool = True,
    ) -> None:
        """A gate with no background yet (the first frame always goes to the detector)."""
        self.width = width
        self.pixel_threshold = pixel_threshold
        self.min_area = min_area
        self.alpha = alpha
        self.recheck_s = recheck_s
        self.enabled = enabled
        self._bg: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._last_detect_t = float("-inf")

    def check(
        self, rgb: np.ndarray, t: float, have_tracks: bool, ignore: IgnoreFn | None = None
    ) -> GateResult:
        """Gate one frame at time ``t`` (seconds); changes where ``ignore`` says never count."""
        grey = to_small_grey(rgb, self.width)
        if self._bg is None or self._bg.shape != grey.shape:
            self._bg = grey.copy()
            self._prev = grey
            self._last_detect_t = t
            return GateResult(1.0, (0.0, 0.0, 1.0, 1.0), True)
        # A pixel moves when it differs from the running background *and* from the
        # previous frame: the second test drops the "ghost" a person leaves in the
        # background after walking away, which would otherwise wake the detector for
        # seconds of empty scene.
        moving = (np.abs(grey - self._bg) > self.pixel_threshold) & (
            np.abs(grey - self._prev) > self.pixel_threshold / 2
        )
        masked = None if ignore is None else ignore(*moving.shape)
        if masked is not None:
            moving &= ~masked
        share = float(moving.mean())
        self._bg += self.alpha * (grey - self._bg)
        self._prev = grey
        box = None
        if share >= self.min_area:
            ys, xs = np.nonzero(moving)
            h, w = moving.shape
            box = (xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h)
        detect = not self.enabled or box is not None
        if not detect and have_tracks and t - self._last_detect_t >= self.recheck_s:
            detect = True
        if detect:
            self._last_detect_t = t
        return GateResult(share, box, detect)
