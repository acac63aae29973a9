"""A SORT-like tracker: constant-velocity Kalman boxes matched to detections by IoU.

Pure: ``Tracker.update(detections, t)`` takes plain :class:`Detection` values and a time
in seconds and returns the live tracks plus the ones that just ended. One person walking
through the view stays one track, so the rules emit one story per person, not per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .postprocess import iou_matrix


@dataclass(frozen=True)
class Detection:
    """One detector output: label, score, a normalised x1,y1,x2,y2 box, and a subtype.

    ``label`` is a protocol label (``person``, ``vehicle``); ``subtype`` refines it where
    the model tells (``car``, ``truck``, ``bus``, ``motorcycle``, ``bicycle``) and is None
    otherwise. Tracks are matched by label only, so a van scored car on one frame and
    truck on the next stays one vehicle.
    """

    label: str
    score: float
    box: tuple[float, float, float, float]
    subtype: str | None = None


def _to_z(box: tuple[float, float, float, float] | np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dtype=np.float64)


@dataclass
class _Kalman:
    """Kalman filter on (cx, cy, w, h, vcx, vcy): positions measured, velocities inferred."""

    x: np.ndarray
    p: np.ndarray

    @classmethod
    def start(cls, box: tuple[float, float, float, float]) -> _Kalman:
        x = np.zeros(6)
        x[:4] = _to_z(box)
        p = np.diag([0.01, 0.01, 0.01, 0.01, 0.1, 0.1])
        return cls(x, p)

    def predict(self, dt: float) -> None:
        f = np.eye(6)
        f[0, 4] = f[1, 5] = dt
        q = np.diag([1e-4, 1e-4, 1e-4, 1e-4, 1e-3, 1e-3]) * max(dt, 1e-3)
        self.x = f @ self.x
        self.p = f @ self.p @ f.T + q

    def correct(self, box: tuple[float, float, float, float]) -> None:
        h = np.zeros((4, 6))
        h[:, :4] = np.eye(4)
        r = np.eye(4) * 2e-4
        y = _to_z(box) - h @ self.x
        s = h @ self.p @ h.T + r
        k = self.p @ h.T @ np.linalg.inv(s)
        self.x = self.x + k @ y
        self.p = (np.eye(6) - k @ h) @ self.p

    def box(self) -> tuple[float, float, float, float]:
        cx, cy, w, h = self.x[:4]
        w, h = max(w, 1e-4), max(h, 1e-4)
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


@dataclass
class Track:
    """A tracked object; ``confirmed`` once seen ``min_hits`` times."""

    id: int
    label: str
    score: float
    box: tuple[float, float, float, float]
    first_t: float
    last_t: float
    hits: int = 1
    confirmed: bool = False
    subtype: str | None = None
    kf: _Kalman | None = field(default=None, repr=False)
    pred: tuple[float, float, float, float] | None = field(default=None, repr=False)
    history: list[tuple[float, float]] = field(default_factory=list, repr=False)

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the box (x, y)."""
        x1, y1, x2, y2 = self.box
        return ((x1 + x2) / 2, (y1 + y2) / 2)

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom-centre of the box: where a person stands, which is what zones are about."""
        x1, _, x2, y2 = self.box
        return ((x1 + x2) / 2, y2)


@dataclass
class TrackerConfig:
    """Matching thresholds (see AgentConfig.tracker for the documented YAML fields)."""

    iou_threshold: float = 0.2
    max_age_s: float = 2.0
    min_hits: int = 2


@dataclass
class TrackUpdate:
    """The result of one update: tracks alive now and tracks that just ended."""

    active: list[Track]
    ended: list[Track]


class Tracker:
    """Greedy-IoU SORT: predict every track, match by IoU (same label), age out the rest."""

    def __init__(self, cfg: TrackerConfig | None = None) -> None:
        """A tracker with no tracks; ids start at 1."""
        self.cfg = cfg or TrackerConfig()
        self.tracks: list[Track] = []
        self._next_id = 1
        self._last_t: float | None = None

    def update(self, detections: list[Detection], t: float) -> TrackUpdate:
        """Advance to time ``t`` (seconds) with this frame's detections."""
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        for tr in self.tracks:
            assert tr.kf is not None
            tr.kf.predict(dt)
            tr.pred = tr.kf.box()
        matched_t, matched_d = self._match(detections)
        for ti, di in zip(matched_t, matched_d, strict=True):
            tr, d = self.tracks[ti], detections[di]
            assert tr.kf is not None
            tr.kf.correct(d.box)
            tr.box = d.box  # report the measured box; the filter is for matching only
            tr.score = d.score
            tr.subtype = d.subtype or tr.subtype
            tr.last_t = t
            tr.hits += 1
            tr.history.append(tr.foot)
            del tr.history[:-64]
            if tr.hits >= self.cfg.min_hits:
                tr.confirmed = True
        used = set(matched_d)
        for i, d in enumerate(detections):
            if i in used:
                continue
            tr = Track(
                self._next_id,
                d.label,
                d.score,
                d.box,
                t,
                t,
                subtype=d.subtype,
                kf=_Kalman.start(d.box),
            )
            tr.history.append(tr.foot)
            tr.confirmed = self.cfg.min_hits <= 1
            self._next_id += 1
            self.tracks.append(tr)
        alive: list[Track] = []
        ended: list[Track] = []
        for tr in self.tracks:
            (ended if t - tr.last_t > self.cfg.max_age_s else alive).append(tr)
        self.tracks = alive
        return TrackUpdate([tr for tr in alive if tr.confirmed], [e for e in ended if e.confirmed])

    def _match(self, detections: list[Detection]) -> tuple[list[int], list[int]]:
        if not self.tracks or not detections:
            return [], []
        ious = iou_matrix(
            np.array([tr.pred or tr.box for tr in self.tracks]),
            np.array([d.box for d in detections]),
        )
        for ti, tr in enumerate(self.tracks):
            for di, d in enumerate(detections):
                if tr.label != d.label:
                    ious[ti, di] = 0.0
        pairs_t: list[int] = []
        pairs_d: list[int] = []
        # Greedy by best IoU: with a handful of objects per frame it equals Hungarian
        # matching in practice and needs no scipy on the board.
        while True:
            ti, di = (int(v) for v in np.unravel_index(int(np.argmax(ious)), ious.shape))
            if ious[ti, di] < self.cfg.iou_threshold:
                break
            pairs_t.append(int(ti))
            pairs_d.append(int(di))
            ious[ti, :] = -1
            ious[:, di] = -1
        return pairs_t, pairs_d

    def flush(self) -> list[Track]:
        """End every confirmed track (the agent is stopping)."""
        ended = [tr for tr in self.tracks if tr.confirmed]
        self.tracks = []
        return ended
