"""Pure post-processing, tested with literal numbers."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.postprocess import (
    AnchorSpec,
    decode_boxes,
    generate_anchors,
    iou_matrix,
    letterbox_params,
    nms,
    sigmoid_scores,
    unletterbox,
    weighted_nms,
)


def test_pose_anchor_grid_has_the_models_2254_anchors() -> None:
    spec = AnchorSpec(224, 224, (8, 16, 32, 32, 32), num_layers=5)
    a = generate_anchors(spec)
    # 28x28 cells x 2 + 14x14 x 2 + 7x7 x 6 (three stride-32 layers share one grid)
    assert a.shape == (28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6, 4) == (2254, 4)
    assert a[0].tolist() == pytest.approx([0.5 / 28, 0.5 / 28, 1.0, 1.0])
    assert a[1].tolist() == pytest.approx([0.5 / 28, 0.5 / 28, 1.0, 1.0])
    assert a[-1].tolist() == pytest.approx([6.5 / 7, 6.5 / 7, 1.0, 1.0])


def test_anchor_sizes_when_not_fixed() -> None:
    spec = AnchorSpec(
        4, 4, (4,), num_layers=1, min_scale=0.2, max_scale=0.8, fixed_anchor_size=False
    )
    a = generate_anchors(spec)
    # one cell; scale = mean of min/max for a single layer, then the interpolated one
    assert a.shape == (2, 4)
    assert a[0].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert a[1, 2] == pytest.approx(np.sqrt(0.5 * 1.0))


def test_decode_boxes_and_keypoints_literal() -> None:
    anchors = np.array([[0.5, 0.5, 1.0, 1.0]], dtype=np.float32)
    raw = np.array([[22.4, -11.2, 44.8, 22.4, 0.0, 0.0, 22.4, 22.4]], dtype=np.float32)
    boxes, kps = decode_boxes(raw, anchors, (224, 224, 224, 224), num_keypoints=2)
    # centre (0.6, 0.45), size 0.2 x 0.1
    assert boxes[0].tolist() == pytest.approx([0.5, 0.4, 0.7, 0.5], abs=1e-6)
    assert kps[0].ravel().tolist() == pytest.approx([0.5, 0.5, 0.6, 0.6], abs=1e-6)


def test_decode_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        decode_boxes(np.zeros((3, 4)), np.zeros((2, 4)), (1, 1, 1, 1))


def test_sigmoid_survives_hostile_logits() -> None:
    s = sigmoid_scores(np.array([-1e30, 0.0, 1e30]))
    assert s.tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)


def test_iou_literal() -> None:
    m = iou_matrix(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [5, 5, 6, 6], [0, 0, 2, 2]]))
    assert m[0].tolist() == pytest.approx([1 / 7, 0.0, 1.0])


def test_regular_nms_keeps_best_of_each_cluster() -> None:
    boxes = np.array([[0, 0, 1, 1], [0.05, 0, 1.05, 1], [2, 2, 3, 3]], dtype=np.float32)
    assert nms(boxes, np.array([0.6, 0.9, 0.5]), 0.5) == [1, 2]


def test_weighted_nms_averages_by_score() -> None:
    boxes = np.array([[0, 0, 1, 1], [0.2, 0, 1.2, 1], [5, 5, 6, 6]], dtype=np.float32)
    out, scores, _ = weighted_nms(boxes, np.array([0.75, 0.25, 0.9]), 0.3)
    assert scores.tolist() == pytest.approx([0.9, 0.75])
    assert out[0].tolist() == pytest.approx([5, 5, 6, 6])
    assert out[1].tolist() == pytest.approx([0.05, 0, 1.05, 1])


def test_letterbox_round_trip() -> None:
    lb = letterbox_params(400, 200, 224, 224)  # wide image: padding top and bottom
    assert (lb.pad_x, lb.pad_y, lb.scale_x, lb.scale_y) == pytest.approx((0, 0.25, 1, 0.5))
    back = unletterbox(np.array([[0.0, 0.25, 0.5, 0.75]]), lb)
    assert back[0].tolist() == pytest.approx([0, 0, 0.5, 1])
    with pytest.raises(ValueError):
        letterbox_params(0, 10, 224, 224)
