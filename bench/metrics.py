"""Detection metrics as plain functions over plain data: IoU, matching, PR, AP.

Boxes are (x1, y1, x2, y2) in any one unit. Ground truth may carry ``ignore`` boxes
(COCO ``iscrowd``): a detection that matches one is neither a hit nor a false alarm.
Tested with literal inputs in ``tests/bench/test_metrics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Box = tuple[float, float, float, float]


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Scored:
    """One detection after matching: its score and whether it hit a ground-truth box."""

    score: float
    hit: bool


def match_frame(
    dets: Sequence[tuple[float, Sequence[float]]],
    gts: Sequence[Sequence[float]],
    ignore: Sequence[Sequence[float]] = (),
    iou_thr: float = 0.5,
) -> list[Scored]:
    """Match one frame's (score, box) detections to ground truth, best score first.

    Each ground-truth box takes at most one detection (the highest-scoring one that
    overlaps it by ``iou_thr``, choosing the best-overlapping free box); a detection with
    no free box that overlaps an ignore box by ``iou_thr`` is dropped, as in COCO.
    """
    order = sorted(range(len(dets)), key=lambda i: -dets[i][0])
    taken = [False] * len(gts)
    out: list[Scored] = []
    for i in order:
        score, box = dets[i]
        best, best_j = iou_thr, -1
        for j, g in enumerate(gts):
            if taken[j]:
                continue
            v = iou(box, g)
            if v >= best:
                best, best_j = v, j
        if best_j >= 0:
            taken[best_j] = True
            out.append(Scored(score, True))
        elif any(iou(box, g) >= iou_thr for g in ignore):
            continue
        else:
            out.append(Scored(score, False))
    return out


def pr_curve(scored: Sequence[Scored], n_gt: int) -> list[tuple[float, float, float]]:
    """(score threshold, precision, recall) after each detection, best score first."""
    tp = fp = 0
    out = []
    for s in sorted(scored, key=lambda s: -s.score):
        tp += s.hit
        fp += not s.hit
        out.append((s.score, tp / (tp + fp), tp / n_gt if n_gt else 0.0))
    return out


def average_precision(scored: Sequence[Scored], n_gt: int) -> float:
    """AP as the area under the all-point interpolated PR curve (VOC 2010+, COCO-like)."""
    if n_gt == 0:
        return float("nan")
    curve = pr_curve(scored, n_gt)
    if not curve:
        return 0.0
    precisions = [p for _, p, _ in curve]
    recalls = [r for _, _, r in curve]
    # Interpolate: precision at recall r is the best precision at any recall >= r.
    for k in range(len(precisions) - 2, -1, -1):
        precisions[k] = max(precisions[k], precisions[k + 1])
    ap, prev_r = 0.0, 0.0
    for p, r in zip(precisions, recalls, strict=True):
        ap += (r - prev_r) * p
        prev_r = r
    return ap


def at_threshold(scored: Sequence[Scored], n_gt: int, thr: float) -> tuple[float, float]:
    """(precision, recall) keeping detections with score >= ``thr``."""
    kept = [s for s in scored if s.score >= thr]
    tp = sum(s.hit for s in kept)
    precision = tp / len(kept) if kept else 1.0
    recall = tp / n_gt if n_gt else float("nan")
    return precision, recall


def choose_threshold(scored: Sequence[Scored], n_gt: int, min_precision: float = 0.9) -> float:
    """The score threshold with the best recall at precision >= ``min_precision``.

    Of the thresholds that reach that recall, the highest: it keeps the same true
    detections and drops the false ones scored just below them (the most precise point
    of the curve at that recall, not the lowest threshold that still passes the floor).
    When no threshold reaches that precision, the one with the best F1 instead. Chosen
    on one part of the data and applied to another, so the reported figure is honest.
    """
    curve = pr_curve(scored, n_gt)
    if not curve:
        return 1.0
    ok = [(r, t) for t, p, r in curve if p >= min_precision]
    if ok:
        return max(ok)[1]

    def f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    best = max(curve, key=lambda c: (f1(c[1], c[2]), c[0]))
    return best[0]


def pair_iou(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> list[float]:
    """IoU of each matched pair between two annotations of one frame (greedy, best first).

    For agreement between two annotation passes: pairs are formed by descending IoU;
    boxes left without a partner (IoU 0) are counted by the caller from the lengths.
    """
    pairs = sorted(
        ((iou(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)), reverse=True
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for v, i, j in pairs:
        if v <= 0 or i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append(v)
    return out
