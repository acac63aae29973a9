"""The light model for Pi 4-class boards: MediaPipe's SSD MobileNetV2 (Open Images) on LiteRT.

It ships with raw SSD outputs (no post-process op): box encodings (1,1917,4) as
(yc, xc, h, w) against MediaPipe's SsdAnchorsCalculator anchors, and class logits
(1,1917,24) with class 0 the background. Input 1x300x300x3 RGB in [-1, 1], letterboxed.
Its label map has Person, Car, Bicycle and a generic Vehicle (no bus/truck/motorcycle).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..decode import (
    OID_CLASSES,
    Candidate,
    SsdAnchorOptions,
    as_box,
    class_thresholds,
    decode_ssd_boxes,
    finish,
    select,
    ssd_anchors,
)
from ..postprocess import letterbox_params, sigmoid_scores
from ..tracker import Detection
from . import ModelError
from .litert import check_frame, letterbox_image, model_version

NUM_CLASSES = 24


class SsdOidDetector:
    """Person and vehicle detector on the MediaPipe SSD (labels ``person`` / ``vehicle``)."""

    name = "ssd_oid"

    def __init__(
        self,
        interp: Any,
        model: Path,
        *,
        thresholds: Mapping[str, float] | None = None,
        min_score: float = 0.5,
        iou_threshold: float = 0.5,
    ) -> None:
        """Wrap a loaded interpreter; ModelError if its tensors are not this SSD's."""
        self.interp = interp
        self.model_version = model_version(model)
        self.last_inference_ms = 0.0
        self.iou_threshold = iou_threshold
        self.thr = class_thresholds(OID_CLASSES, thresholds or {}, min_score)
        inputs = interp.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4 or inputs[0]["shape"][3] != 3:
            raise ModelError(f"{model}: expected one (1, H, W, 3) image input")
        self._in = inputs[0]
        self.size = int(self._in["shape"][1])
        self.anchors = ssd_anchors(SsdAnchorOptions(input_size=self.size))
        n = self.anchors.shape[0]
        outs = interp.get_output_details()
        box = [o for o in outs if tuple(o["shape"]) == (1, n, 4)]
        cls = [o for o in outs if tuple(o["shape"]) == (1, n, NUM_CLASSES)]
        if len(box) != 1 or len(cls) != 1:
            shapes = [tuple(int(v) for v in o["shape"]) for o in outs]
            raise ModelError(
                f"{model}: unexpected outputs {shapes}; need (1, {n}, 4) box encodings and "
                f"(1, {n}, {NUM_CLASSES}) class logits"
            )
        self._box, self._cls = box[0]["index"], cls[0]["index"]

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Run the model on one frame; boxes are normalised to the frame."""
        rgb = check_frame(rgb)
        h, w = rgb.shape[:2]
        x = letterbox_image(rgb, self.size, self.size).astype(np.float32) / 127.5 - 1.0
        t0 = time.perf_counter()
        self.interp.set_tensor(self._in["index"], x[None])
        self.interp.invoke()
        raw = self.interp.get_tensor(self._box)[0]
        logits = self.interp.get_tensor(self._cls)[0]
        self.last_inference_ms = (time.perf_counter() - t0) * 1000
        cells, classes, scores = select(sigmoid_scores(logits), OID_CLASSES, self.thr)
        boxes = decode_ssd_boxes(raw[cells], self.anchors[cells]) * self.size
        cands = [
            Candidate(as_box(b), float(s), *OID_CLASSES[int(c)])
            for b, c, s in zip(boxes, classes, scores, strict=True)
        ]
        lb = letterbox_params(w, h, self.size, self.size)
        return [
            Detection(c.label, c.score, c.box, c.subtype)
            for c in finish(cands, lb, self.size, self.iou_threshold)
        ]
