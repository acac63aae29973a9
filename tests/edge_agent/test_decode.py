"""Pure decoding of NanoDet, CenterNet and the MediaPipe SSD, tested with literal numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.decode import (
    COCO_CLASSES,
    DEFAULT_THRESHOLDS,
    OID_CLASSES,
    Candidate,
    SsdAnchorOptions,
    centernet_peaks,
    class_thresholds,
    decode_centernet,
    decode_nanodet,
    decode_ssd_boxes,
    finish,
    nanodet_boxes,
    select,
    ssd_anchors,
)
from edge_agent.postprocess import letterbox_params

THR = class_thresholds(COCO_CLASSES, {"person": 0.5, "car": 0.3}, 0.9)


def test_class_map_keeps_people_and_vehicles_only() -> None:
    assert COCO_CLASSES[0] == ("person", None)
    assert {COCO_CLASSES[i] for i in (1, 2, 3, 5, 7)} == {
        ("vehicle", s) for s in ("bicycle", "car", "motorcycle", "bus", "truck")
    }
    assert 4 not in COCO_CLASSES and 6 not in COCO_CLASSES  # airplane, train dropped
    assert OID_CLASSES[4] == ("person", None) and OID_CLASSES[18] == ("vehicle", None)
    assert set(DEFAULT_THRESHOLDS) == {"person", "bicycle", "car", "motorcycle", "bus", "truck"}


def test_thresholds_are_per_class_with_a_fallback() -> None:
    assert THR[0] == 0.5 and THR[2] == 0.3 and THR[7] == 0.9  # truck not given: fallback


def test_select_applies_each_class_threshold_and_drops_unmapped_classes() -> None:
    scores = np.zeros((3, 80), np.float32)
    scores[0, 0] = 0.49  # person below 0.5
    scores[1, 0] = 0.7  # person
    scores[1, 2] = 0.35  # car above 0.3
    scores[2, 16] = 0.99  # dog: not a class we report
    cells, classes, vals = select(scores, COCO_CLASSES, THR)
    assert sorted(zip(cells.tolist(), classes.tolist(), strict=True)) == [(1, 0), (1, 2)]
    assert sorted(vals.tolist()) == pytest.approx([0.35, 0.7])


def one_hot_bins(sides: list[int], bins: int = 11) -> np.ndarray:
    row = np.full((4, bins), -50.0, np.float32)
    for i, k in enumerate(sides):
        row[i, k] = 50.0
    return row.reshape(-1)


def test_nanodet_distances_are_bin_expectations_times_stride_from_the_cell_centre() -> None:
    reg = np.zeros((16, 44), np.float32)
    reg[5] = one_hot_bins([2, 1, 3, 0])  # cell 5 on a 4-wide grid: x=1, y=1
    boxes = nanodet_boxes(reg, np.array([5]), stride=8, grid_w=4)
    # centre (1.5*8, 1.5*8) = (12, 12); left 16, top 8, right 24, bottom 0
    np.testing.assert_allclose(boxes, [[-4, 4, 36, 12]], atol=1e-3)
    reg[6] = 0.0  # uniform over 11 bins: expectation 5
    np.testing.assert_allclose(
        nanodet_boxes(reg, np.array([6]), 8, 4), [[20 - 40, 12 - 40, 20 + 40, 12 + 40]], atol=1e-3
    )


def test_decode_nanodet_reads_every_level_with_its_own_grid() -> None:
    s8 = np.zeros((4, 80), np.float32)
    s16 = np.zeros((1, 80), np.float32)
    s16[0, 7] = 0.95  # truck on the 1x1 grid of stride 16 (input 16 px)
    r8, r16 = np.zeros((4, 44), np.float32), np.zeros((1, 44), np.float32)
    r16[0] = one_hot_bins([0, 0, 0, 0])
    out = decode_nanodet([(s8, r8, 8), (s16, r16, 16)], 16, COCO_CLASSES, THR)
    assert out == [Candidate((8.0, 8.0, 8.0, 8.0), pytest.approx(0.95), "vehicle", "truck")]


def test_centernet_peak_is_the_3x3_maximum_at_or_above_threshold() -> None:
    heat = np.zeros((5, 5, 80), np.float32)
    heat[2, 3, 2] = 0.6  # car peak
    heat[2, 2, 2] = 0.5  # its neighbour: not a peak
    heat[0, 0, 0] = 0.45  # person below 0.5
    heat[4, 0, 0] = 0.8  # person peak in a corner (edges are padded, not wrapped)
    ys, xs, cls, vals = centernet_peaks(heat, COCO_CLASSES, THR)
    assert sorted(zip(ys.tolist(), xs.tolist(), cls.tolist(), strict=True)) == [
        (2, 3, 2),
        (4, 0, 0),
    ]
    wh = np.zeros((5, 5, 4), np.float32)
    wh[2, 3] = [4, 8, 12, 16]
    cands = decode_centernet(heat, wh, 4, COCO_CLASSES, THR)
    car = [c for c in cands if c.subtype == "car"][0]
    assert car.box == (12 - 4, 8 - 8, 12 + 12, 8 + 16)


def test_ssd_anchors_follow_mediapipe() -> None:
    a = ssd_anchors()
    assert a.shape == (1917, 4)
    c = 0.5 / 19
    r2 = math.sqrt(2)
    np.testing.assert_allclose(
        a[:3], [[c, c, 0.1, 0.1], [c, c, 0.2 * r2, 0.2 / r2], [c, c, 0.2 / r2, 0.2 * r2]], rtol=1e-5
    )
    # second layer: 10x10 grid, scale 0.35, six boxes per cell (5 ratios + interpolated)
    first = a[19 * 19 * 3]
    np.testing.assert_allclose(first, [0.05, 0.05, 0.35, 0.35], rtol=1e-5)
    interp = a[19 * 19 * 3 + 5]
    s = math.sqrt(0.35 * 0.5)
    np.testing.assert_allclose(interp, [0.05, 0.05, s, s], rtol=1e-5)
    # last layer: one cell, interpolated with 1.0
    np.testing.assert_allclose(a[-1], [0.5, 0.5, math.sqrt(0.95), math.sqrt(0.95)], rtol=1e-5)
    assert ssd_anchors(SsdAnchorOptions(reduce_boxes_in_lowest_layer=False)).shape == (3000, 4)


def test_ssd_box_decoding() -> None:
    anchors = np.array([[0.5, 0.5, 0.2, 0.4]], np.float32)
    np.testing.assert_allclose(
        decode_ssd_boxes(np.zeros((1, 4)), anchors), [[0.4, 0.3, 0.6, 0.7]], atol=1e-6
    )
    # yc +10 → +1 anchor height; log(2)*5 on h → twice the height
    raw = np.array([[10.0, 0.0, 5 * math.log(2), 0.0]])
    np.testing.assert_allclose(decode_ssd_boxes(raw, anchors), [[0.4, 0.5, 0.6, 1.3]], atol=1e-5)


def test_finish_merges_subtypes_of_one_vehicle_and_maps_back_through_the_letterbox() -> None:
    # A 200x100 frame in a 100x100 input: the image fills rows 25..75.
    lb = letterbox_params(200, 100, 100, 100)
    cands = [
        Candidate((10, 25, 50, 75), 0.5, "vehicle", "car"),
        Candidate((11, 26, 50, 75), 0.6, "vehicle", "truck"),  # same van, better score
        Candidate((10, 25, 50, 75), 0.7, "person", None),  # a person there is not a vehicle
        Candidate((60, 30, 70, 40), 0.4, "vehicle", "bicycle"),
    ]
    out = finish(cands, lb, 100, 0.5)
    assert [(c.label, c.subtype) for c in out] == [
        ("person", None),
        ("vehicle", "truck"),
        ("vehicle", "bicycle"),
    ]
    assert out[0].box == pytest.approx((0.1, 0.0, 0.5, 1.0))
    assert out[2].box == pytest.approx((0.6, 0.1, 0.7, 0.3))


def test_finish_drops_boxes_entirely_in_the_padding() -> None:
    lb = letterbox_params(200, 100, 100, 100)
    assert finish([Candidate((10, 0, 20, 20), 0.9, "person", None)], lb, 100, 0.5) == []
