"""The detection evaluation set: the review language on literal boxes, and the committed
annotations rebuilt from the pinned clip, its proposals and the recorded corrections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from devtools.annotate import build, footage
from devtools.annotate.proposals import boxes_from_mask, snap, without_thin_horizontals

DATA = Path(build.DATA)


def test_corrections_delete_set_label_and_add():
    props = {"10": [[0, 0, 10, 20], [50, 0, 60, 20], [100, 0, 110, 20]]}
    corr = {
        "every_frame": {"add": [["vehicle/car", 200, 0, 260, 30]]},
        "frames": {
            10: {
                "delete": [0],
                "set": {1: [51, 1, 61, 21]},
                "label": {2: "ignore"},
                "add": [["person", 300, 0, 310, 20]],
            }
        },
    }
    got = build.apply_corrections(props, corr)[10]
    assert [(a["label"], a["subtype"], a["box"]) for a in got] == [
        ("person", None, [51, 1, 61, 21]),
        ("ignore", None, [100, 0, 110, 20]),
        ("vehicle", "car", [200.0, 0.0, 260.0, 30.0]),
        ("person", None, [300.0, 0.0, 310.0, 20.0]),
    ]


def test_corrections_merge_and_split_fit_parts_to_the_foreground():
    mask = np.zeros((40, 100), np.uint8)
    mask[5:35, 10:20] = 255  # two people side by side in one blob ...
    mask[8:38, 24:34] = 255
    mask[2:6, 60:70] = 255  # ... and one man cut in two by a sign
    mask[20:30, 61:69] = 255
    props = {"0": [[10, 5, 34, 38], [60, 2, 70, 6], [61, 20, 69, 30]]}
    corr = {"frames": {0: {"split": {0: [22]}, "merge": [[1, 2]]}}}
    got = build.apply_corrections(props, corr, lambda f, untaped=False: mask)[0]
    assert [a["box"] for a in got] == [[10, 5, 20, 35], [24, 8, 34, 38], [60, 2, 70, 30]]


@pytest.mark.parametrize(
    ("corr", "message"),
    [
        ({"frames": {10: {"delete": [7]}}}, "no proposal 7"),
        ({"frames": {11: {"delete": [0]}}}, "frames without proposals"),
        ({"frames": {10: {"label": {0: "vehicle/tram"}}}}, "unknown label"),
    ],
)
def test_bad_corrections_are_refused(corr, message):
    with pytest.raises(ValueError, match=message):
        build.apply_corrections({"10": [[0, 0, 10, 20]]}, corr)


def test_mask_helpers_on_literal_masks():
    mask = np.zeros((30, 60), np.uint8)
    mask[5:25, 5:15] = 255
    mask[14:16, 15:50] = 255  # a strip of tape, two rows high
    assert boxes_from_mask(mask, 50) == [[5, 5, 50, 25]]
    assert boxes_from_mask(without_thin_horizontals(mask), 50) == [[5, 5, 15, 25]]
    assert snap(mask, [0, 0, 12, 30], margin=0) == [5, 5, 12, 25]
    assert snap(np.zeros_like(mask), [0, 0, 30, 30]) is None


def test_committed_annotations_meet_the_set_s_bar():
    coco = json.loads((DATA / "vtest.coco.json").read_text())
    persons = [a for a in coco["annotations"] if a["category_id"] == 1 and not a["iscrowd"]]
    assert len(coco["images"]) == 80 and len(persons) >= 300
    second = coco["info"]["double_annotation"]
    assert len(second["frames"]) == 8  # 10% of the annotated frames
    assert second["all"]["mean_iou"] >= 0.8
    lines = yaml.safe_load((DATA / "lines.yaml").read_text())["lines"]
    assert all(spec["crossings"] > 0 for spec in lines.values())


@pytest.fixture(scope="module")
def clip_available() -> None:
    try:
        footage.fetch(footage.VTEST, log=lambda m: None)
    except footage.FootageError as exc:  # pragma: no cover - offline machine
        pytest.skip(f"vtest.avi not available: {exc}")


@pytest.mark.slow
def test_annotations_rebuild_from_proposals_and_corrections(clip_available):
    """The committed proposals and COCO file are what the recorded review produces."""
    committed = json.loads((DATA / "vtest_proposals.json").read_text())
    assert build.make_proposals() == committed
    rebuilt = build.build_coco(write=False)
    assert rebuilt == json.loads((DATA / "vtest.coco.json").read_text())
