"""Pure decoding of the general detectors' raw outputs into person/vehicle detections.

Every function takes and returns plain arrays (no runtime, no camera): NanoDet's
distribution boxes, CenterNet's heatmap peaks, MediaPipe's SSD anchors and box decoding,
the COCO/Open Images → protocol class map, per-class thresholds and per-label NMS. Boxes
are ``(x1, y1, x2, y2)``; inside the model they are in input pixels, once mapped back
through the letterbox they are normalised to the frame (0..1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .postprocess import Letterbox, nms, unletterbox

PERSON, VEHICLE = "person", "vehicle"
# COCO-80 index → (protocol label, subtype). Every other COCO class is dropped: NanoDet
# also fires on litter and stones as other classes, and the rules only use these.
COCO_CLASSES: dict[int, tuple[str, str | None]] = {
    0: (PERSON, None),
    1: (VEHICLE, "bicycle"),
    2: (VEHICLE, "car"),
    3: (VEHICLE, "motorcycle"),
    5: (VEHICLE, "bus"),
    7: (VEHICLE, "truck"),
}
# The MediaPipe SSD's Open Images label map (index 0 is background): it has no bus, truck
# or motorcycle; its generic "Vehicle" keeps no subtype.
OID_CLASSES: dict[int, tuple[str, str | None]] = {
    4: (PERSON, None),
    1: (VEHICLE, "bicycle"),
    23: (VEHICLE, "car"),
    18: (VEHICLE, None),
}
# Default per-class score thresholds. Vehicle scores sit near 0.5 on real street frames
# while people score higher, so one global threshold of 0.5 would lose the vehicles.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "person": 0.45,
    "bicycle": 0.35,
    "car": 0.35,
    "motorcycle": 0.35,
    "bus": 0.35,
    "truck": 0.35,
}
CLASS_NAMES = tuple(DEFAULT_THRESHOLDS)


@dataclass(frozen=True)
class Candidate:
    """A decoded box before NMS: input-pixel box, score, protocol label and subtype."""

    box: tuple[float, float, float, float]
    score: float
    label: str
    subtype: str | None


def as_box(b: np.ndarray | Sequence[float]) -> tuple[float, float, float, float]:
    """Four numbers as a plain box tuple."""
    x1, y1, x2, y2 = (float(v) for v in b)
    return (x1, y1, x2, y2)


def class_name(label: str, subtype: str | None) -> str:
    """The threshold key of a mapped class: the subtype for vehicles, else the label."""
    return subtype or label


def class_thresholds(
    class_map: Mapping[int, tuple[str, str | None]],
    thresholds: Mapping[str, float],
    default: float,
) -> dict[int, float]:
    """Threshold per model class index (a class absent from ``thresholds`` uses ``default``)."""
    return {i: float(thresholds.get(class_name(*m), default)) for i, m in class_map.items()}


def select(
    scores: np.ndarray, class_map: Mapping[int, tuple[str, str | None]], thr: Mapping[int, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells, classes and scores of every (cell, mapped class) at or above its threshold."""
    scores = np.asarray(scores, dtype=np.float32)
    cells, classes, vals = [], [], []
    for c in sorted(class_map):
        if c >= scores.shape[1]:
            continue
        hit = np.nonzero(scores[:, c] >= thr[c])[0]
        cells.append(hit)
        classes.append(np.full(hit.shape, c))
        vals.append(scores[hit, c])
    if not cells:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, np.float32)
    return np.concatenate(cells), np.concatenate(classes), np.concatenate(vals)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def nanodet_boxes(reg: np.ndarray, cells: np.ndarray, stride: int, grid_w: int) -> np.ndarray:
    """NanoDet's distribution boxes for ``cells`` of one stride, in input pixels.

    ``reg`` is ``(N, 4 * bins)``: for left, top, right, bottom a distribution over bins
    0..bins-1; the distance is its expectation times the stride, from the cell centre
    ``((x + 0.5) * stride, (y + 0.5) * stride)`` with cells numbered row by row.
    """
    reg = np.asarray(reg, dtype=np.float32)[cells]
    bins = reg.shape[1] // 4
    dist = softmax(reg.reshape(-1, 4, bins), axis=2) @ np.arange(bins, dtype=np.float32)
    dist = dist * stride
    cx = (cells % grid_w + 0.5) * stride
    cy = (cells // grid_w + 0.5) * stride
    return np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], axis=1)


def decode_nanodet(
    levels: Sequence[tuple[np.ndarray, np.ndarray, int]],
    input_size: int,
    class_map: Mapping[int, tuple[str, str | None]],
    thr: Mapping[int, float],
) -> list[Candidate]:
    """Candidates from NanoDet levels ``(scores (N, 80), reg (N, 44), stride)``."""
    out: list[Candidate] = []
    for scores, reg, stride in levels:
        cells, classes, vals = select(scores, class_map, thr)
        if cells.size == 0:
            continue
        boxes = nanodet_boxes(reg, cells, stride, int(np.ceil(input_size / stride)))
        out.extend(_candidates(boxes, classes, vals, class_map))
    return out


def centernet_peaks(
    heat: np.ndarray, class_map: Mapping[int, tuple[str, str | None]], thr: Mapping[int, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Peaks of a ``(H, W, C)`` heatmap: rows, cols, classes, scores.

    A peak is a cell at or above its class threshold that equals the maximum of its 3x3
    neighbourhood (the CenterNet replacement for NMS).
    """
    heat = np.asarray(heat, dtype=np.float32)
    h, w = heat.shape[:2]
    rows, cols, classes, vals = [], [], [], []
    for c in sorted(class_map):
        if c >= heat.shape[2]:
            continue
        plane = heat[:, :, c]
        ys, xs = np.nonzero(plane >= thr[c])
        if ys.size == 0:
            continue
        padded = np.pad(plane, 1, constant_values=-np.inf)
        local = np.max([padded[ys + dy, xs + dx] for dy in range(3) for dx in range(3)], axis=0)
        peak = plane[ys, xs] == local
        ys, xs = ys[peak], xs[peak]
        rows.append(ys)
        cols.append(xs)
        classes.append(np.full(ys.shape, c))
        vals.append(plane[ys, xs])
    if not rows:
        z = np.zeros(0, int)
        return z, z, z, np.zeros(0, np.float32)
    return (
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(classes),
        np.concatenate(vals),
    )


def decode_centernet(
    heat: np.ndarray,
    wh: np.ndarray,
    down: int,
    class_map: Mapping[int, tuple[str, str | None]],
    thr: Mapping[int, float],
) -> list[Candidate]:
    """Candidates from CenterNet's heatmap ``(H, W, C)`` and ``wh (H, W, 4)`` (l, t, r, b px)."""
    ys, xs, classes, vals = centernet_peaks(heat, class_map, thr)
    if ys.size == 0:
        return []
    ltrb = np.asarray(wh, dtype=np.float32)[ys, xs]
    cx, cy = xs * down, ys * down
    boxes = np.stack([cx - ltrb[:, 0], cy - ltrb[:, 1], cx + ltrb[:, 2], cy + ltrb[:, 3]], axis=1)
    return _candidates(boxes, classes, vals, class_map)


@dataclass(frozen=True)
class SsdAnchorOptions:
    """MediaPipe SsdAnchorsCalculator options (defaults: SSD MobileNetV2 at 300x300)."""

    input_size: int = 300
    num_layers: int = 6
    min_scale: float = 0.2
    max_scale: float = 0.95
    strides: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.3333)
    interpolated_scale_aspect_ratio: float = 1.0
    reduce_boxes_in_lowest_layer: bool = True
    offset: float = 0.5


def ssd_anchors(o: SsdAnchorOptions = SsdAnchorOptions()) -> np.ndarray:
    """Anchors ``(N, 4)`` as normalised ``(cx, cy, w, h)``, in MediaPipe's order.

    Per layer the scale runs linearly from min to max; the lowest layer (when reduced)
    has three boxes (0.1 at ratio 1, the layer scale at 2 and 0.5); other layers one box
    per aspect ratio plus one at the geometric mean with the next scale.
    """

    def scale(i: int) -> float:
        return o.min_scale + (o.max_scale - o.min_scale) * i / (len(o.strides) - 1)

    out: list[tuple[float, float, float, float]] = []
    for layer in range(o.num_layers):
        sizes: list[tuple[float, float]] = []
        if layer == 0 and o.reduce_boxes_in_lowest_layer:
            pairs = [(0.1, 1.0), (scale(layer), 2.0), (scale(layer), 0.5)]
        else:
            pairs = [(scale(layer), r) for r in o.aspect_ratios]
            if o.interpolated_scale_aspect_ratio > 0:
                nxt = 1.0 if layer == len(o.strides) - 1 else scale(layer + 1)
                pairs.append(
                    (float(np.sqrt(scale(layer) * nxt)), o.interpolated_scale_aspect_ratio)
                )
        for s, r in pairs:
            sizes.append((s * float(np.sqrt(r)), s / float(np.sqrt(r))))
        n = int(np.ceil(o.input_size / o.strides[layer]))
        for y in range(n):
            for x in range(n):
                for w, h in sizes:
                    out.append(((x + o.offset) / n, (y + o.offset) / n, w, h))
    return np.asarray(out, dtype=np.float32)


def decode_ssd_boxes(
    raw: np.ndarray, anchors: np.ndarray, scales: tuple[float, float, float, float] = (10, 10, 5, 5)
) -> np.ndarray:
    """TF SSD box encodings ``(N, 4)`` as (yc, xc, h, w) → normalised x1, y1, x2, y2."""
    raw = np.asarray(raw, dtype=np.float32)
    a = np.asarray(anchors, dtype=np.float32)
    ys, xs, hs, ws = scales
    cy = raw[:, 0] / ys * a[:, 3] + a[:, 1]
    cx = raw[:, 1] / xs * a[:, 2] + a[:, 0]
    h = np.exp(np.clip(raw[:, 2] / hs, -10, 10)) * a[:, 3]
    w = np.exp(np.clip(raw[:, 3] / ws, -10, 10)) * a[:, 2]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _candidates(
    boxes: np.ndarray,
    classes: np.ndarray,
    scores: np.ndarray,
    class_map: Mapping[int, tuple[str, str | None]],
) -> list[Candidate]:
    out = []
    for b, c, s in zip(boxes, classes, scores, strict=True):
        label, subtype = class_map[int(c)]
        out.append(Candidate(as_box(b), float(s), label, subtype))
    return out


def finish(
    cands: Sequence[Candidate], lb: Letterbox, input_size: float, iou_threshold: float
) -> list[Candidate]:
    """NMS per protocol label, then boxes back to normalised frame coordinates, best first.

    NMS runs per label (not per COCO class) so a van scored as both car and truck stays
    one vehicle, with the better-scored subtype.
    """
    kept: list[Candidate] = []
    for label in sorted({c.label for c in cands}):
        group = [c for c in cands if c.label == label]
        boxes = np.asarray([c.box for c in group], dtype=np.float32) / input_size
        for i in nms(boxes, np.asarray([c.score for c in group]), iou_threshold):
            b = unletterbox(boxes[i : i + 1], lb)[0]
            if b[2] > b[0] and b[3] > b[1]:
                kept.append(Candidate(as_box(b), group[i].score, label, group[i].subtype))
    return sorted(kept, key=lambda c: -c.score)
