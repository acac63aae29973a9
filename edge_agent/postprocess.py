"""Detection post-processing as pure numpy: SSD anchors, box decoding, NMS, box scaling.

Nothing here knows about LiteRT, cameras or MQTT: every function takes and returns plain
arrays, so each is tested with literal numbers (tests/edge_agent/test_postprocess.py).
Boxes are ``(x1, y1, x2, y2)`` normalised to 0..1 unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorSpec:
    """Parameters of an SSD anchor grid (the MediaPipe/BlazeFace flavour of SSD).

    ``fixed_anchor_size`` makes every anchor 1x1 (the regressor predicts absolute sizes),
    which is what the pose detector was trained with.
    """

    input_h: int
    input_w: int
    strides: tuple[int, ...]
    num_layers: int
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) / 2
    return min_scale + (max_scale - min_scale) * index / (count - 1)


def generate_anchors(spec: AnchorSpec) -> np.ndarray:
    """Anchor centres and sizes as an ``(N, 4)`` float32 array of ``(cx, cy, w, h)``.

    Consecutive layers with the same stride share one grid (their anchors are emitted
    together per cell), as the SSD anchor convention the models were trained with does.
    """
    out: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < spec.num_layers:
        sizes: list[tuple[float, float]] = []  # (w, h) per anchor in each cell
        last = layer
        while last < spec.num_layers and spec.strides[last] == spec.strides[layer]:
            scale = _scale(spec.min_scale, spec.max_scale, last, len(spec.strides))
            for ratio in spec.aspect_ratios:
                r = float(np.sqrt(ratio))
                sizes.append((scale * r, scale / r))
            if spec.interpolated_scale_aspect_ratio > 0:
                nxt = (
                    1.0
                    if last == len(spec.strides) - 1
                    else _scale(spec.min_scale, spec.max_scale, last + 1, len(spec.strides))
                )
                s = float(np.sqrt(scale * nxt))
                r = float(np.sqrt(spec.interpolated_scale_aspect_ratio))
                sizes.append((s * r, s / r))
            last += 1
        stride = spec.strides[layer]
        fh = int(np.ceil(spec.input_h / stride))
        fw = int(np.ceil(spec.input_w / stride))
        for y in range(fh):
            for x in range(fw):
                cx = (x + spec.anchor_offset_x) / fw
                cy = (y + spec.anchor_offset_y) / fh
                for w, h in sizes:
                    out.append((cx, cy, 1.0, 1.0) if spec.fixed_anchor_size else (cx, cy, w, h))
        layer = last
    return np.asarray(out, dtype=np.float32).reshape(-1, 4)


def decode_boxes(
    raw: np.ndarray,
    anchors: np.ndarray,
    scale: tuple[float, float, float, float],
    num_keypoints: int = 0,
    reverse_xy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode SSD regressor output into boxes and keypoints (both normalised 0..1).

    ``raw`` is ``(N, 4 + 2*K)``: centre offsets and sizes relative to the anchor, then K
    keypoint offsets; ``scale`` is (x, y, w, h) divisors (the model's input size). With
    ``reverse_xy`` the raw order is x-first (MediaPipe models), else y-first (TF SSD).
    Returns ``boxes (N, 4)`` as x1,y1,x2,y2 and ``keypoints (N, K, 2)`` as x,y.
    """
    raw = np.asarray(raw, dtype=np.float32)
    anchors = np.asarray(anchors, dtype=np.float32)
    if raw.ndim != 2 or raw.shape[0] != anchors.shape[0] or raw.shape[1] < 4 + 2 * num_keypoints:
        raise ValueError(
            f"regressors of shape {raw.shape} do not fit {anchors.shape[0]} anchors "
            f"with {num_keypoints} keypoints"
        )
    sx, sy, sw, sh = scale
    a_cx, a_cy, a_w, a_h = anchors[:, 0], anchors[:, 1], anchors[:, 2], anchors[:, 3]
    if reverse_xy:
        dx, dy, dw, dh = raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3]
    else:
        dy, dx, dh, dw = raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3]
    cx = dx / sx * a_w + a_cx
    cy = dy / sy * a_h + a_cy
    w = dw / sw * a_w
    h = dh / sh * a_h
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kps = raw[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2)
    if not reverse_xy:
        kps = kps[:, :, ::-1]
    kx = kps[:, :, 0] / sx * a_w[:, None] + a_cx[:, None]
    ky = kps[:, :, 1] / sy * a_h[:, None] + a_cy[:, None]
    return boxes, np.stack([kx, ky], axis=2)


def sigmoid_scores(logits: np.ndarray, clip: float = 100.0) -> np.ndarray:
    """Sigmoid of raw score logits, clipped first so hostile values cannot overflow."""
    # float64: exp(100) overflows float32, and warnings are errors in this project.
    x = np.clip(np.asarray(logits, dtype=np.float64), -clip, clip)
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection-over-union of boxes ``a (N,4)`` and ``b (M,4)`` → ``(N, M)``."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return out.astype(np.float32)


def nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_out: int = 100
) -> list[int]:
    """Regular (hard) non-max suppression; returns kept indices, best score first."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    order = list(np.argsort(-np.asarray(scores, dtype=np.float32), kind="stable"))
    keep: list[int] = []
    while order and len(keep) < max_out:
        best = int(order.pop(0))
        keep.append(best)
        if not order:
            break
        ious = iou_matrix(boxes[best : best + 1], boxes[order])[0]
        order = [i for i, v in zip(order, ious, strict=True) if v <= iou_threshold]
    return keep


def weighted_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    keypoints: np.ndarray | None = None,
    max_out: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Weighted NMS: each cluster of overlapping boxes is averaged, weighted by score.

    Averaging (instead of keeping only the best box) steadies boxes from frame to frame,
    which the tracker and the line-crossing rule depend on. Returns boxes, the cluster's
    best score, and averaged keypoints (or None).
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    remaining = np.argsort(-scores, kind="stable")
    out_b: list[np.ndarray] = []
    out_s: list[float] = []
    out_k: list[np.ndarray] = []
    while remaining.size and len(out_b) < max_out:
        best = remaining[0]
        ious = iou_matrix(boxes[best : best + 1], boxes[remaining])[0]
        members = remaining[ious > iou_threshold]
        if members.size == 0:  # degenerate (zero-area) best box: keep it alone
            members = remaining[:1]
        w = scores[members]
        total = float(w.sum())
        if total > 0:
            out_b.append((boxes[members] * w[:, None]).sum(axis=0) / total)
            if keypoints is not None:
                out_k.append((keypoints[members] * w[:, None, None]).sum(axis=0) / total)
        else:
            out_b.append(boxes[best])
            if keypoints is not None:
                out_k.append(keypoints[best])
        out_s.append(float(scores[best]))
        remaining = remaining[~np.isin(remaining, members)]
    kb = np.asarray(out_b, dtype=np.float32).reshape(-1, 4)
    ks = np.asarray(out_s, dtype=np.float32)
    kk = None if keypoints is None else np.asarray(out_k, dtype=np.float32)
    return kb, ks, kk


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into the model input: scale and padding, normalised."""

    pad_x: float  # fraction of the model input width that is padding on the left
    pad_y: float
    scale_x: float  # fraction of the model input width the image occupies
    scale_y: float


def letterbox_params(img_w: int, img_h: int, in_w: int, in_h: int) -> Letterbox:
    """Aspect-preserving fit of an ``img_w x img_h`` image into ``in_w x in_h``."""
    if img_w <= 0 or img_h <= 0:
        raise ValueError(f"image size {img_w}x{img_h} is empty")
    s = min(in_w / img_w, in_h / img_h)
    fw, fh = img_w * s / in_w, img_h * s / in_h
    return Letterbox((1 - fw) / 2, (1 - fh) / 2, fw, fh)


def unletterbox(boxes: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Map boxes from model-input coordinates back to the original image, clipped 0..1."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    b[:, [0, 2]] = (b[:, [0, 2]] - lb.pad_x) / lb.scale_x
    b[:, [1, 3]] = (b[:, [1, 3]] - lb.pad_y) / lb.scale_y
    return np.clip(b, 0.0, 1.0)


def unletterbox_points(points: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Map ``(..., 2)`` x,y points from model-input coordinates back to the image."""
    p = np.asarray(points, dtype=np.float32).copy()
    p[..., 0] = (p[..., 0] - lb.pad_x) / lb.scale_x
    p[..., 1] = (p[..., 1] - lb.pad_y) / lb.scale_y
    return p
