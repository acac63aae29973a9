"""Local planar projection: a city is small enough for an equirectangular projection.

Within 50 km of the reference latitude the error is far below a GPS fix's, and metres
make lengths, snapping radii and polygon areas plain arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


class Projection:
    """Degrees <-> local metres around a reference latitude."""

    def __init__(self, ref_lat: float) -> None:
        self.ref_lat = ref_lat
        self.kx = EARTH_RADIUS_M * math.cos(math.radians(ref_lat)) * math.pi / 180.0
        self.ky = EARTH_RADIUS_M * math.pi / 180.0

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        """Project one point to metres (x east, y north)."""
        return lon * self.kx, lat * self.ky

    def xy_array(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Project arrays of points to an (n, 2) array of metres."""
        return np.column_stack((np.asarray(lon) * self.kx, np.asarray(lat) * self.ky))

    def latlon(self, x: float, y: float) -> tuple[float, float]:
        """Back from metres to (lat, lon)."""
        return y / self.ky, x / self.kx


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (the straight line dispatch systems usually sort by)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
