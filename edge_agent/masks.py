"""Privacy, motion and object masks from the centre's config — pure functions over arrays.

* privacy: the pixels are blanked (black) in the frame before the motion gate, the
  detector and any snapshot JPEG, so a snapshot can never show them (burned in);
* motion: the gate ignores changes there (a tree in the wind, a flashing sign);
* object: a detection whose foot point (bottom-centre of its box) falls inside is dropped.

Polygons are normalised (0..1, origin top-left); a pixel belongs to a polygon when its
centre is inside it or closer than half a pixel to its edge: privacy errs towards blanking,
and a sliver thinner than a pixel is still covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from protocol.messages import Masks

from .rules import point_in_polygon
from .tracker import Detection

Polygon = Sequence[tuple[float, float]]


def rasterize(polygons: Sequence[Polygon], height: int, width: int) -> np.ndarray:
    """Boolean ``height×width`` image: True where a pixel lies in any of ``polygons``."""
    out = np.zeros((height, width), dtype=bool)
    if not polygons:
        return out
    # Pixel centres in normalised coordinates.
    xs = (np.arange(width, dtype=np.float64) + 0.5) / width
    ys = (np.arange(height, dtype=np.float64) + 0.5) / height
    px, py = np.meshgrid(xs, ys)
    for poly in polygons:
        out |= _inside(px, py, [(float(x), float(y)) for x, y in poly], 0.5 / max(height, width))
    return out


def _inside(
    px: np.ndarray, py: np.ndarray, poly: list[tuple[float, float]], eps: float
) -> np.ndarray:
    """Even-odd test for every pixel centre; closer than ``eps`` to an edge counts as inside."""
    inside = np.zeros(px.shape, dtype=bool)
    near = np.zeros(px.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if y1 != y2:
            crosses = (y1 > py) != (y2 > py)
            xi = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (px < xi)
        # Distance to the edge segment, so thin slivers along an edge are covered too.
        dx, dy = x2 - x1, y2 - y1
        length2 = dx * dx + dy * dy
        t = np.zeros(px.shape) if length2 == 0 else ((px - x1) * dx + (py - y1) * dy) / length2
        t = np.clip(t, 0.0, 1.0)
        near |= (px - (x1 + t * dx)) ** 2 + (py - (y1 + t * dy)) ** 2 < eps * eps
    return inside | near


def blank(rgb: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """A copy of ``rgb`` with the ``mask`` pixels set to black (``rgb`` itself untouched)."""
    if mask is None or not mask.any():
        return rgb
    out = rgb.copy()
    out[mask] = 0
    return out


def drop_masked(detections: list[Detection], polygons: Sequence[Polygon]) -> list[Detection]:
    """The detections whose foot point lies outside every object mask."""
    if not polygons:
        return detections
    keep = []
    for d in detections:
        x1, _, x2, y2 = d.box
        foot = ((x1 + x2) / 2, min(1.0, max(0.0, y2)))
        if not any(point_in_polygon(*foot, [(p[0], p[1]) for p in poly]) for poly in polygons):
            keep.append(d)
    return keep


@dataclass
class FrameMasks:
    """The masks of one config, rasterised once per frame size and reused every frame."""

    masks: Masks = field(default_factory=Masks)
    _cache: dict[tuple[str, int, int], np.ndarray] = field(default_factory=dict)

    def _raster(self, kind: str, height: int, width: int) -> np.ndarray | None:
        polys = [m.points for m in getattr(self.masks, kind)]
        if not polys:
            return None
        key = (kind, height, width)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[1:] == (height, width)}
            self._cache[key] = rasterize(polys, height, width)
        return self._cache[key]

    def privacy(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` with the privacy masks blanked (the same array when there are none)."""
        return blank(rgb, self._raster("privacy", rgb.shape[0], rgb.shape[1]))

    def motion(self, height: int, width: int) -> np.ndarray | None:
        """Where the motion gate must not look, at ``height×width`` (None: everywhere)."""
        return self._raster("motion", height, width)

    def objects(self, detections: list[Detection]) -> list[Detection]:
        """Detections outside the object masks."""
        return drop_masked(detections, [m.points for m in self.masks.object])
