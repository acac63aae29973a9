"""Detection metrics on literal boxes: IoU, matching with ignore regions, PR, AP, threshold."""

from __future__ import annotations

import math

import pytest

from bench.metrics import (
    Scored,
    at_threshold,
    average_precision,
    choose_threshold,
    iou,
    match_frame,
    pair_iou,
    pr_curve,
)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 15, 10), 50 / 150),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),  # touching edges share no area
        ((0, 0, 10, 10), (2, 2, 4, 4), 4 / 100),
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),
    ],
)
def test_iou(a, b, want):
    assert iou(a, b) == pytest.approx(want)


def test_match_takes_each_truth_once_best_score_first():
    gts = [(0, 0, 10, 10)]
    dets = [(0.6, (0, 0, 10, 10)), (0.9, (1, 0, 11, 10))]
    got = match_frame(dets, gts)
    assert got == [Scored(0.9, True), Scored(0.6, False)]  # the duplicate is a false alarm


def test_match_prefers_best_overlapping_free_truth():
    gts = [(0, 0, 10, 10), (4, 0, 14, 10)]
    got = match_frame([(0.9, (4, 0, 14, 10)), (0.8, (0, 0, 10, 10))], gts)
    assert got == [Scored(0.9, True), Scored(0.8, True)]


def test_match_below_iou_threshold_is_a_miss():
    assert match_frame([(0.9, (0, 0, 10, 10))], [(6, 0, 16, 10)]) == [Scored(0.9, False)]


def test_detection_on_an_ignore_box_is_dropped():
    got = match_frame([(0.9, (50, 50, 60, 60)), (0.4, (0, 0, 5, 5))], [], ignore=[(50, 50, 60, 61)])
    assert got == [Scored(0.4, False)]


def test_pr_curve_and_ap_of_a_perfect_detector():
    scored = [Scored(0.9, True), Scored(0.8, True)]
    assert pr_curve(scored, 2) == [(0.9, 1.0, 0.5), (0.8, 1.0, 1.0)]
    assert average_precision(scored, 2) == pytest.approx(1.0)


def test_ap_interpolates_precision_from_the_right():
    # hit, miss, hit over 3 truths: P = 1, 0.5, 0.667 at R = 1/3, 1/3, 2/3
    scored = [Scored(0.9, True), Scored(0.8, False), Scored(0.7, True)]
    assert average_precision(scored, 3) == pytest.approx(1 / 3 * 1.0 + 1 / 3 * 2 / 3)


def test_ap_edge_cases():
    assert average_precision([], 4) == 0.0
    assert math.isnan(average_precision([Scored(0.5, False)], 0))


def test_precision_recall_at_a_threshold():
    scored = [Scored(0.9, True), Scored(0.6, False), Scored(0.4, True)]
    assert at_threshold(scored, 4, 0.5) == (0.5, 0.25)
    assert at_threshold(scored, 4, 0.95) == (1.0, 0.0)


def test_threshold_is_best_recall_at_the_precision_floor():
    scored = [Scored(0.9, True), Scored(0.8, True), Scored(0.7, False), Scored(0.6, True)]
    # P >= 0.75 holds down to 0.6 (3 of 4), recall is then 3/3
    assert choose_threshold(scored, 3, min_precision=0.75) == 0.6
    assert choose_threshold(scored, 3, min_precision=0.9) == 0.8


def test_of_equal_recall_the_most_precise_threshold_is_chosen():
    # Recall 2/2 holds from 0.8 down to 0.5; below 0.8 only false detections are added.
    scored = [Scored(0.9, True), Scored(0.8, True), Scored(0.6, False), Scored(0.5, False)]
    assert choose_threshold(scored, 2, min_precision=0.5) == 0.8


def test_threshold_falls_back_to_best_f1():
    scored = [Scored(0.9, False), Scored(0.8, True), Scored(0.7, True)]
    assert choose_threshold(scored, 2, min_precision=0.99) == 0.7


def test_pair_iou_pairs_best_first_and_leaves_strangers_out():
    a = [(0, 0, 10, 10), (100, 100, 110, 110)]
    b = [(0, 0, 10, 12), (50, 50, 60, 60)]
    assert pair_iou(a, b) == [pytest.approx(100 / 120)]
