"""Masks on the board: privacy blanked before detection and snapshots (burned in), motion
masks ignored by the gate, object masks dropping detections — literal inputs."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from PIL import Image

from edge_agent.agent import Pipeline
from edge_agent.config import AgentConfig
from edge_agent.masks import FrameMasks, blank, drop_masked, rasterize
from edge_agent.motion import MotionGate
from edge_agent.snapshots import SnapshotRing
from edge_agent.sources import Frame
from edge_agent.tracker import Detection
from protocol import ConfigV2, Mask, Masks, Zone

LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
BOTTOM_RIGHT = [(0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)]


def test_rasterize_marks_pixel_centres_inside_or_on_the_edge():
    got = rasterize([[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]], 4, 4)
    want = np.array(
        [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
        dtype=bool,
    )
    assert (got == want).all()
    tri = rasterize([[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]], 2, 2)
    assert tri.tolist() == [[True, True], [True, False]]
    assert not rasterize([], 3, 3).any()


def test_blank_copies_and_zeroes_only_the_mask():
    rgb = np.full((2, 3, 3), 200, dtype=np.uint8)
    mask = np.array([[True, False, False], [False, False, True]])
    out = blank(rgb, mask)
    assert out[0, 0].tolist() == [0, 0, 0] and out[1, 2].tolist() == [0, 0, 0]
    assert out[0, 1].tolist() == [200, 200, 200]
    assert rgb[0, 0].tolist() == [200, 200, 200]  # the source frame is untouched
    assert blank(rgb, None) is rgb


@pytest.mark.parametrize(
    ("box", "kept"),
    [
        ((0.6, 0.2, 0.8, 0.7), False),  # foot (0.7, 0.7) inside
        ((0.6, 0.1, 0.8, 0.4), True),  # foot (0.7, 0.4) above the mask
        ((0.1, 0.5, 0.3, 0.9), True),  # left of it
        ((0.4, 0.6, 0.6, 1.0), False),  # foot on the mask's left edge, at the frame bottom
    ],
)
def test_object_masks_drop_detections_by_their_foot_point(box, kept):
    det = Detection("person", 0.9, box)
    assert (drop_masked([det], [BOTTOM_RIGHT]) == [det]) is kept


def _frame(value: int, h: int = 48, w: int = 64) -> np.ndarray:
    return np.full((h, w, 3), value, dtype=np.uint8)


def test_motion_masks_are_ignored_by_the_gate():
    masks = FrameMasks(Masks(motion=[Mask(name="tree", points=LEFT_HALF)]))
    gate = MotionGate(width=64, min_area=0.01)
    still = _frame(40)
    assert gate.check(still, 0.0, False, masks.motion).detect  # first frame
    waving = still.copy()
    waving[:, :20] = 220  # change only inside the masked left half
    res = gate.check(waving, 0.1, False, masks.motion)
    assert not res.detect and res.motion == 0.0
    walking = still.copy()
    walking[10:40, 40:60] = 220  # change in the open right half
    assert gate.check(walking, 0.2, False, masks.motion).detect


def test_privacy_masks_are_burned_into_snapshots():
    masks = FrameMasks(Masks(privacy=[Mask(name="window", points=LEFT_HALF)]))
    ring = SnapshotRing(size=2, quality=95, redact=masks.privacy)
    ring.put_frame(["e1"], _frame(200))
    got = ring.get("e1")
    assert got is not None
    pixels = np.asarray(Image.open(io.BytesIO(got[0])))
    assert pixels[:, :28].max() <= 8  # blanked (JPEG ringing aside)
    assert pixels[:, 36:].min() >= 190


class RecordingDetector:
    """Sees exactly the pixels the pipeline hands the model; finds two people."""

    last_inference_ms = 1.0
    model_version = "recording"

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        self.seen.append(rgb)
        return [
            Detection("person", 0.9, (0.6, 0.3, 0.8, 0.8)),  # foot inside the object mask
            Detection("person", 0.9, (0.1, 0.1, 0.3, 0.4)),
        ]


def test_pipeline_blanks_privacy_before_detection_and_drops_masked_objects():
    cfg = AgentConfig.model_validate(
        {"device_id": "cam-1", "source": {"kind": "synthetic"}, "tracker": {"min_hits": 1}}
    )
    rules = ConfigV2(
        rev=2,
        zones=[Zone(name="all", rule="intrusion", points=[(0, 0), (1, 0), (1, 1), (0, 1)])],
        masks=Masks(
            privacy=[Mask(name="window", points=[(0.0, 0.0), (0.25, 0.0), (0.25, 0.25)])],
            object=[Mask(name="poster", points=BOTTOM_RIGHT)],
        ),
    )
    det = RecordingDetector()
    pipe = Pipeline(cfg, det, rules)  # type: ignore[arg-type]
    drafts = pipe.process(Frame(_frame(180, 40, 40), 0.0, 0), dt.datetime(2026, 1, 1, 12))
    seen = det.seen[0]
    assert seen[0, 0].tolist() == [0, 0, 0] and seen[30, 30].tolist() == [180, 180, 180]
    assert [(d.kind, d.box) for d in drafts] == [("intrusion", (0.1, 0.1, 0.3, 0.4))]


def test_rules_with_masks_in_the_agent_config_are_level_2():
    cfg = AgentConfig.model_validate(
        {
            "device_id": "cam-1",
            "source": {"kind": "synthetic"},
            "rules": {"rev": 3, "masks": {"object": [{"name": "p", "points": BOTTOM_RIGHT}]}},
        }
    )
    got = cfg.rules_config()
    assert isinstance(got, ConfigV2) and got.masks.object[0].name == "p"
