"""Detectors on real photographs and on our own tiny SSD models; every bad model input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from edge_agent.detectors import ModelError, build_detector
from edge_agent.detectors.ssd import match_outputs, split_pair

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = FIXTURES / "tiny_ssd_labels.txt"


def rgb(name: str) -> np.ndarray:
    img = getattr(data, name)()
    return np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img[:, :, :3]


@pytest.fixture(scope="module")
def pose(pose_model: Path):
    # 0.6 is the shipped default (DetectorSection.min_score); the retina photograph scores
    # 0.58, the lowest real person (cameraman) 0.62 — see docs/edge-agent.md.
    return build_detector("pose", pose_model, threads=1, min_score=0.6)


@pytest.mark.parametrize("photo", ["astronaut", "camera"])
def test_finds_the_person_in_real_photographs(pose, photo: str) -> None:
    dets = pose.detect(rgb(photo))
    assert len(dets) == 1, dets
    d = dets[0]
    assert d.label == "person" and d.score >= 0.6
    # the person is in the left/centre of both photographs and fills most of the height
    x1, y1, x2, y2 = d.box
    assert x1 < 0.3 and y2 - y1 > 0.6


@pytest.mark.parametrize(
    "photo",
    [
        "coffee",
        "chelsea",
        "rocket",
        "brick",
        "hubble_deep_field",
        "immunohistochemistry",
        "coins",
        "clock",
        "moon",
        "page",
        "colorwheel",
        "retina",
        "cell",
    ],
)
def test_finds_nothing_in_photographs_without_people(pose, photo: str) -> None:
    assert pose.detect(rgb(photo)) == []


def test_synthetic_scene_people_are_found_where_the_ground_truth_says(pose) -> None:
    from edge_agent.postprocess import iou_matrix
    from edge_agent.sources.synthetic import SyntheticScene

    scene = SyntheticScene(320, 240, fps=2, people=2, loop=False)
    scene.open()
    hits = total = 0
    while (f := scene.read()) is not None:
        if len(f.truth) != 1:
            continue
        total += 1
        dets = pose.detect(f.rgb)
        if dets and iou_matrix(np.array(f.truth), np.array([d.box for d in dets])).max() > 0.3:
            hits += 1
    assert total >= 8 and hits / total >= 0.8, (hits, total)


@pytest.mark.parametrize("variant", ["tiny_ssd_tf1", "tiny_ssd_tf2"])
@pytest.mark.parametrize(
    ("colour", "label", "score"), [((0, 230, 0), "person", 0.8), ((0, 0, 204), "car", 0.6)]
)
def test_ssd_outputs_are_matched_by_shape_and_name_not_position(variant, colour, label, score):
    # Each pixel of the model's 2x2 input is one anchor (a quadrant); its green/blue value
    # is the class-1/class-2 score after (x/127.5 - 1): a uniform colour lights all four.
    det = build_detector("ssd", FIXTURES / f"{variant}.tflite", labels=LABELS, min_score=0.5)
    img = np.zeros((40, 40, 3), dtype=np.uint8)
    img[:, :] = colour
    dets = det.detect(img)
    assert [(d.label, round(d.score, 2)) for d in dets] == [(label, score)] * 4
    assert sorted(d.box for d in dets) == [
        pytest.approx(b)
        for b in [(0, 0, 0.5, 0.5), (0, 0.5, 0.5, 1), (0.5, 0, 1, 0.5), (0.5, 0.5, 1, 1)]
    ]
    assert det.detect(np.zeros((40, 40, 3), dtype=np.uint8)) == []


def test_match_outputs_with_names_that_do_not_tell() -> None:
    outs = [
        {"index": 7, "name": "out:0", "shape": [1, 10]},
        {"index": 3, "name": "out:1", "shape": [1, 10, 4]},
        {"index": 9, "name": "out:2", "shape": [1]},
        {"index": 1, "name": "out:3", "shape": [1, 10]},
    ]
    roles = match_outputs(outs)
    assert roles["boxes"] == 3 and roles["count"] == 9 and roles["pair"] == (7, 1)
    assert roles["classes"] is None
    assert split_pair(np.array([0.9, 0.7]), np.array([2.0, 0.0]), 2) == (1, 0)
    assert split_pair(np.array([1.0, 0.0]), np.array([1.0, 1.0]), 2) is None


def test_match_outputs_by_name() -> None:
    outs = [
        {"index": 0, "name": "detection_scores", "shape": [1, 5]},
        {"index": 1, "name": "detection_boxes", "shape": [1, 5, 4]},
        {"index": 2, "name": "num_detections", "shape": [1]},
        {"index": 3, "name": "detection_classes", "shape": [1, 5]},
    ]
    roles = match_outputs(outs)
    assert (roles["classes"], roles["scores"]) == (3, 0)


def test_missing_model_file_says_how_to_fix(tmp_path: Path) -> None:
    # Tried: a model path that does not exist.
    with pytest.raises(ModelError, match="models fetch"):
        build_detector("pose", tmp_path / "nope.tflite")


@pytest.mark.parametrize(
    "content",
    [b"", b"hello world, not a model", b"\x1c\x00\x00\x00TFL3" + b"\xff" * 64],
    ids=["empty", "text", "corrupt-flatbuffer"],
)
def test_corrupt_model_file_is_refused(tmp_path: Path, content: bytes) -> None:
    # Tried: empty, non-model and truncated/corrupt flatbuffer files.
    p = tmp_path / "bad.tflite"
    p.write_bytes(content)
    with pytest.raises(ModelError, match="bad.tflite"):
        build_detector("pose", p)


def test_model_with_unexpected_outputs_is_refused() -> None:
    # Tried: an SSD post-process model where the pose model (regressors + scores) is expected.
    with pytest.raises(ModelError, match="unexpected outputs"):
        build_detector("pose", FIXTURES / "tiny_ssd_tf1.tflite")


def test_pose_model_as_ssd_is_refused(pose_model: Path) -> None:
    # Tried: the pose model (2 raw outputs) configured as an SSD post-process model.
    with pytest.raises(ModelError, match="4 detection post-process outputs"):
        build_detector("ssd", pose_model)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((4, 4, 3), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        "not an image",
        np.zeros((64, 64, 5), np.uint8),
    ],
    ids=["tiny", "float", "string", "five-channels"],
)
def test_unreadable_frame_is_a_clear_value_error(pose, frame) -> None:
    # Tried: frames a broken camera driver could hand us.
    with pytest.raises(ValueError, match="frame"):
        pose.detect(frame)
