"""CenterNet-MobileNetV3 512 (COCO-80), converted to ONNX, on onnxruntime.

An independent second general detector (different architecture and training), used as
an annotation source for the evaluation set rather than as a board default. Input
1x512x512x3 RGB 0..255, letterboxed; outputs a sigmoid heatmap (1,128,128,80) and box
sides (1,128,128,4) in input pixels. Decoding is :func:`edge_agent.decode.decode_centernet`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..decode import COCO_CLASSES, class_thresholds, decode_centernet, finish
from ..postprocess import letterbox_params
from ..tracker import Detection
from . import ModelError
from .litert import check_frame, letterbox_image, model_version
from .ort import load_session, output_names_by_shape

NUM_CLASSES = 80
DOWNSAMPLE = 4


class CenterNetDetector:
    """Person and vehicle detector on CenterNet (labels ``person`` / ``vehicle``)."""

    name = "centernet"

    def __init__(
        self,
        model: Path,
        *,
        threads: int = 2,
        providers: Sequence[str] = ("cpu",),
        thresholds: Mapping[str, float] | None = None,
        min_score: float = 0.5,
        iou_threshold: float = 0.5,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Load the model; ModelError if its inputs/outputs are not CenterNet's."""
        self.session = load_session(model, threads=threads, providers=providers, log=log)
        self.model_version = model_version(model)
        self.last_inference_ms = 0.0
        self.iou_threshold = iou_threshold
        self.thr = class_thresholds(COCO_CLASSES, thresholds or {}, min_score)
        inp = self.session.get_inputs()
        if len(inp) != 1 or len(inp[0].shape) != 4 or inp[0].shape[3] != 3:
            raise ModelError(f"{model}: expected one 1xHxWx3 input (CenterNet)")
        self._in = inp[0].name
        self.size = int(inp[0].shape[1])
        g = self.size // DOWNSAMPLE
        shapes = output_names_by_shape(self.session)
        heat, wh = shapes.get((1, g, g, NUM_CLASSES), []), shapes.get((1, g, g, 4), [])
        if len(heat) != 1 or len(wh) != 1:
            raise ModelError(
                f"{model}: no (1, {g}, {g}, {NUM_CLASSES}) heatmap and (1, {g}, {g}, 4) "
                f"sizes; outputs are {sorted(shapes)}"
            )
        self._heat, self._wh = heat[0], wh[0]

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """Letterboxed RGB 0..255 NHWC input tensor."""
        return letterbox_image(rgb, self.size, self.size).astype(np.float32)[None]

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Run the model on one frame; boxes are normalised to the frame."""
        rgb = check_frame(rgb)
        h, w = rgb.shape[:2]
        x = self.preprocess(rgb)
        t0 = time.perf_counter()
        heat, wh = self.session.run([self._heat, self._wh], {self._in: x})
        self.last_inference_ms = (time.perf_counter() - t0) * 1000
        cands = decode_centernet(heat[0], wh[0], DOWNSAMPLE, COCO_CLASSES, self.thr)
        lb = letterbox_params(w, h, self.size, self.size)
        return [
            Detection(c.label, c.score, c.box, c.subtype)
            for c in finish(cands, lb, self.size, self.iou_threshold)
        ]

    def providers(self) -> list[Any]:
        """The onnxruntime providers that really loaded."""
        return list(self.session.get_providers())
