"""Synthetic scene: real photographs of people composited over a real background.

The photographs are the ones scikit-image ships (``astronaut`` and ``camera``, the
cameraman); the background is its ``rocket`` launch-site photo. People walk across the
view on known paths, so every frame carries its ground-truth boxes and the *real*
detector runs in tests, benchmarks and the demo without any video file or dataset.
scikit-image is imported lazily: boards never need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Frame, SourceError

# Crops (rows, cols) of the shipped photographs that contain the person.
SPRITES = {"astronaut": ((0, 512), (40, 470)), "camera": ((0, 512), (60, 380))}


def _load_photos() -> tuple[np.ndarray, list[np.ndarray]]:
    try:
        from skimage import data
    except ImportError:
        raise SourceError(
            "the synthetic source needs scikit-image (pip install 'citywatch[dev]')"
        ) from None
    bg = data.rocket()
    people = []
    for name, ((r0, r1), (c0, c1)) in SPRITES.items():
        img = getattr(data, name)()
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        people.append(img[r0:r1, c0:c1, :3])
    return bg, people


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    from ..detectors.litert import resize_rgb

    return resize_rgb(np.ascontiguousarray(img), w, h)


@dataclass(frozen=True)
class Walker:
    """One person's path: enters at ``t0``, crosses in ``duration`` seconds."""

    sprite: int
    t0: float
    duration: float
    left_to_right: bool
    height: float  # fraction of frame height
    top: float  # fraction of frame height


class SyntheticScene:
    """A looping scene of ``people`` walkers; each frame knows its ground truth."""

    name = "synthetic"

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 10.0,
        people: int = 2,
        seed: int = 1,
        loop: bool = True,
        walk_s: float = 6.0,
        gap_s: float = 2.0,
    ) -> None:
        """Scene geometry; photos are loaded on :meth:`open`."""
        self.width, self.height, self.fps = width, height, fps
        self.loop = loop
        rng = np.random.default_rng(seed)
        self.walkers = [
            Walker(
                sprite=i % len(SPRITES),
                t0=i * (walk_s + gap_s),
                duration=walk_s * float(rng.uniform(0.9, 1.1)),
                left_to_right=bool(i % 2 == 0),
                height=float(rng.uniform(0.75, 0.9)),
                top=float(rng.uniform(0.05, 0.1)),
            )
            for i in range(people)
        ]
        self.period = max([w.t0 + w.duration for w in self.walkers] + [walk_s]) + gap_s
        self._bg: np.ndarray | None = None
        self._sprites: list[np.ndarray] = []
        self._i = 0

    def open(self) -> None:
        """Load and scale the photographs."""
        bg, people = _load_photos()
        self._bg = _resize(bg, self.width, self.height)
        self._sprites = []
        for img in people:
            self._sprites.append(img)
        self._i = 0

    def _sprite(self, idx: int, h_frac: float) -> np.ndarray:
        img = self._sprites[idx]
        h = max(8, round(self.height * h_frac))
        w = max(8, round(img.shape[1] * h / img.shape[0]))
        return _resize(img, w, h)

    def truth_at(self, t: float) -> list[tuple[int, tuple[int, int, int, int]]]:
        """Walkers visible at scene time ``t``: (walker index, pixel box x1,y1,x2,y2)."""
        out = []
        for k, wk in enumerate(self.walkers):
            u = (t - wk.t0) / wk.duration
            if not 0.0 <= u <= 1.0:
                continue
            img = self._sprites[wk.sprite]
            h = max(8, round(self.height * wk.height))
            w = max(8, round(img.shape[1] * h / img.shape[0]))
            # Walk from fully outside on one side to fully outside on the other, but
            # report only frames where most of the person is in view.
            x = -w + u * (self.width + w) if wk.left_to_right else self.width - u * (self.width + w)
            x1 = round(x)
            y1 = round(self.height * wk.top)
            out.append((k, (x1, y1, x1 + w, y1 + h)))
        return out

    def render(self, t: float) -> Frame:
        """The frame at scene time ``t`` (pure given the photographs)."""
        if self._bg is None:
            raise SourceError("synthetic scene read before open()")
        frame = self._bg.copy()
        truth = []
        for k, (x1, y1, x2, y2) in self.truth_at(t):
            spr = self._sprite(self.walkers[k].sprite, self.walkers[k].height)
            cx1, cx2 = max(0, x1), min(self.width, x2)
            cy1, cy2 = max(0, y1), min(self.height, y2)
            if cx2 - cx1 < 2 or cy2 - cy1 < 2:
                continue
            frame[cy1:cy2, cx1:cx2] = spr[cy1 - y1 : cy2 - y1, cx1 - x1 : cx2 - x1]
            if (cx2 - cx1) >= 0.6 * (x2 - x1):
                truth.append(
                    (cx1 / self.width, cy1 / self.height, cx2 / self.width, cy2 / self.height)
                )
        return Frame(frame, t, self._i, truth)

    def read(self) -> Frame | None:
        """Next frame at the scene's fps; None after one pass unless looping."""
        t = self._i / self.fps
        if t >= self.period and not self.loop:
            return None
        frame = self.render(t % self.period)
        frame.t = t
        self._i += 1
        return frame

    def close(self) -> None:
        """Nothing to release."""
        self._bg = None
