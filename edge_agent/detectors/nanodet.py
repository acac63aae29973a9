"""The default detector: NanoDet-g 416 (COCO-80), converted to ONNX, on onnxruntime.

Input 1x3x416x416 BGR, normalised per channel, letterboxed; outputs per stride 8/16/32
class scores (sigmoid already applied) and 4x11-bin box distributions. Decoding is the
pure :func:`edge_agent.decode.decode_nanodet`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..decode import COCO_CLASSES, class_thresholds, decode_nanodet, finish
from ..postprocess import letterbox_params
from ..tracker import Detection
from . import ModelError
from .litert import check_frame, letterbox_image, model_version
from .ort import load_session, output_names_by_shape

STRIDES = (8, 16, 32)
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
NUM_CLASSES = 80
REG_CHANNELS = 44  # 4 sides x 11 distribution bins


class NanoDetDetector:
    """Person and vehicle detector on NanoDet-g (labels ``person`` / ``vehicle``)."""

    name = "nanodet"

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
        """Load the model; ModelError if its inputs/outputs are not NanoDet's."""
        self.session = load_session(model, threads=threads, providers=providers, log=log)
        self.model_version = model_version(model)
        self.last_inference_ms = 0.0
        self.iou_threshold = iou_threshold
        self.thr = class_thresholds(COCO_CLASSES, thresholds or {}, min_score)
        inp = self.session.get_inputs()
        if len(inp) != 1 or len(inp[0].shape) != 4 or inp[0].shape[1] != 3:
            raise ModelError(f"{model}: expected one 1x3xHxW input (NanoDet)")
        self._in = inp[0].name
        self.size = int(inp[0].shape[2])
        self._levels = self._match_outputs(model)

    def _match_outputs(self, model: Path) -> list[tuple[str, str, int]]:
        shapes = output_names_by_shape(self.session)
        levels = []
        for s in STRIDES:
            n = int(np.ceil(self.size / s)) ** 2
            cls, reg = shapes.get((1, n, NUM_CLASSES), []), shapes.get((1, n, REG_CHANNELS), [])
            if len(cls) != 1 or len(reg) != 1:
                raise ModelError(
                    f"{model}: no (1, {n}, {NUM_CLASSES}) scores and (1, {n}, {REG_CHANNELS}) "
                    f"boxes for stride {s}; outputs are {sorted(shapes)}"
                )
            levels.append((cls[0], reg[0], s))
        return levels

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """Letterboxed, BGR, normalised, NCHW input tensor."""
        x = letterbox_image(rgb, self.size, self.size)[:, :, ::-1].astype(np.float32)
        return ((x - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None].copy()

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Run the model on one frame; boxes are normalised to the frame."""
        rgb = check_frame(rgb)
        h, w = rgb.shape[:2]
        x = self.preprocess(rgb)
        t0 = time.perf_counter()
        names = [n for c, r, _ in self._levels for n in (c, r)]
        outs = dict(zip(names, self.session.run(names, {self._in: x}), strict=True))
        self.last_inference_ms = (time.perf_counter() - t0) * 1000
        levels = [(outs[c][0], outs[r][0], s) for c, r, s in self._levels]
        cands = decode_nanodet(levels, self.size, COCO_CLASSES, self.thr)
        lb = letterbox_params(w, h, self.size, self.size)
        return [
            Detection(c.label, c.score, c.box, c.subtype)
            for c in finish(cands, lb, self.size, self.iou_threshold)
        ]

    def providers(self) -> list[Any]:
        """The onnxruntime providers that really loaded."""
        return list(self.session.get_providers())
