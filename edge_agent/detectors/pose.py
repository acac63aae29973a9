"""The default person detector: MediaPipe's ``pose_detection.tflite`` (BlazePose detector).

The model outputs raw SSD regressors (N x 12: a box and 4 keypoints per anchor) and N
score logits; decoding and NMS are the pure functions in :mod:`edge_agent.postprocess`.
Its box is the head; the person box is built from keypoints 0 (mid-hip) and 1 (a point
whose distance from the hip is the radius of a circle around the whole body).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..postprocess import (
    AnchorSpec,
    decode_boxes,
    generate_anchors,
    letterbox_params,
    sigmoid_scores,
    unletterbox,
    unletterbox_points,
    weighted_nms,
)
from ..tracker import Detection
from . import ModelError
from .litert import check_frame, letterbox_image, model_version

NUM_KEYPOINTS = 4
# The anchor grid the pose detector was trained with: 224x224 input, strides 8/16/32x3.
POSE_STRIDES = (8, 16, 32, 32, 32)
# Person boxes are narrower than the body circle: a standing adult is ~0.4x as wide as
# tall; 0.55 leaves room for arms and a bag so the tracker's IoU stays stable.
WIDTH_OF_CIRCLE = 0.55


def person_boxes(
    face_boxes: np.ndarray, keypoints: np.ndarray, width_ratio: float = WIDTH_OF_CIRCLE
) -> np.ndarray:
    """Person boxes from the body circle (kp0 centre, |kp1-kp0| radius) joined with the head.

    All inputs are in one coordinate frame; returns ``(N, 4)`` x1,y1,x2,y2.
    """
    kp = np.asarray(keypoints, dtype=np.float32).reshape(-1, NUM_KEYPOINTS, 2)
    fb = np.asarray(face_boxes, dtype=np.float32).reshape(-1, 4)
    cx, cy = kp[:, 0, 0], kp[:, 0, 1]
    r = np.hypot(kp[:, 1, 0] - cx, kp[:, 1, 1] - cy)
    half_w = r * width_ratio
    x1 = np.minimum(cx - half_w, fb[:, 0])
    x2 = np.maximum(cx + half_w, fb[:, 2])
    y1 = np.minimum(cy - r, fb[:, 1])
    y2 = cy + r
    return np.stack([x1, y1, x2, y2], axis=1)


class PoseDetector:
    """Person detector on the BlazePose detection model (label ``person``)."""

    name = "pose"

    def __init__(
        self, interp: Any, model: Path, *, min_score: float = 0.5, iou_threshold: float = 0.3
    ) -> None:
        """Wrap a loaded interpreter; raise ModelError if its tensors are not the pose model's."""
        self.interp = interp
        self.min_score = min_score
        self.iou_threshold = iou_threshold
        self.model_version = model_version(model)
        self.last_inference_ms = 0.0
        inputs = interp.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4 or inputs[0]["shape"][3] != 3:
            raise ModelError(f"{model}: expected one (1, H, W, 3) image input, got {inputs}")
        self._in = inputs[0]
        self.in_h, self.in_w = int(self._in["shape"][1]), int(self._in["shape"][2])
        self.anchors = generate_anchors(
            AnchorSpec(self.in_h, self.in_w, POSE_STRIDES, num_layers=len(POSE_STRIDES))
        )
        self._reg, self._score = self._match_outputs(interp.get_output_details(), model)

    def _match_outputs(self, outputs: list[dict[str, Any]], model: Path) -> tuple[int, int]:
        """Find the regressor and score tensors by shape (never by position)."""
        n = self.anchors.shape[0]
        reg = [o for o in outputs if tuple(o["shape"]) == (1, n, 4 + 2 * NUM_KEYPOINTS)]
        score = [o for o in outputs if tuple(o["shape"]) == (1, n, 1)]
        if len(reg) != 1 or len(score) != 1:
            shapes = [tuple(int(v) for v in o["shape"]) for o in outputs]
            raise ModelError(
                f"{model}: unexpected outputs {shapes}; the pose detector needs "
                f"(1, {n}, {4 + 2 * NUM_KEYPOINTS}) regressors and (1, {n}, 1) scores"
            )
        return reg[0]["index"], score[0]["index"]

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Run the model on one frame; boxes are normalised to the frame."""
        rgb = check_frame(rgb)
        h, w = rgb.shape[:2]
        lb = letterbox_params(w, h, self.in_w, self.in_h)
        x = letterbox_image(rgb, self.in_w, self.in_h).astype(np.float32)
        x = (x / 127.5 - 1.0)[None]  # the model was trained on [-1, 1] inputs
        t0 = time.perf_counter()
        self.interp.set_tensor(self._in["index"], x)
        self.interp.invoke()
        raw = self.interp.get_tensor(self._reg)[0]
        logits = self.interp.get_tensor(self._score)[0, :, 0]
        self.last_inference_ms = (time.perf_counter() - t0) * 1000
        return decode_pose(
            raw,
            logits,
            self.anchors,
            (self.in_w, self.in_h),
            lb,
            self.min_score,
            self.iou_threshold,
        )


def decode_pose(
    raw: np.ndarray,
    logits: np.ndarray,
    anchors: np.ndarray,
    in_size: tuple[int, int],
    lb: Any,
    min_score: float,
    iou_threshold: float,
) -> list[Detection]:
    """Pure decoding of the pose model's raw outputs into person detections."""
    scores = sigmoid_scores(logits)
    keep = scores >= min_score
    if not keep.any():
        return []
    in_w, in_h = in_size
    boxes, kps = decode_boxes(
        raw[keep], anchors[keep], (in_w, in_h, in_w, in_h), num_keypoints=NUM_KEYPOINTS
    )
    boxes, best, kps_n = weighted_nms(boxes, scores[keep], iou_threshold, keypoints=kps)
    assert kps_n is not None
    faces = unletterbox(boxes, lb)
    points = unletterbox_points(kps_n, lb)
    people = np.clip(person_boxes(faces, points), 0.0, 1.0)
    return [
        Detection("person", float(s), (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
        for b, s in zip(people, best, strict=True)
        if b[2] > b[0] and b[3] > b[1]
    ]
