"""Detectors: one small interface, one module per model family / accelerator.

``build_detector(cfg)`` picks the backend; LiteRT (and the Coral delegate) are imported
lazily so this package imports on any machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ..tracker import Detection


class ModelError(RuntimeError):
    """A model file is missing, corrupt, or does not have the inputs/outputs we expect."""


class Detector(Protocol):
    """Turns one RGB frame (H, W, 3 uint8) into detections with normalised boxes."""

    name: str
    model_version: str
    last_inference_ms: float

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Detections in this frame, best first."""
        ...


def build_detector(
    kind: str,
    model: Path,
    *,
    threads: int = 2,
    edgetpu: bool = False,
    min_score: float = 0.5,
    iou_threshold: float = 0.3,
    labels: Path | None = None,
) -> Detector:
    """Create the configured detector, raising ModelError with a clear reason."""
    from .litert import load_interpreter

    interp = load_interpreter(model, threads=threads, edgetpu=edgetpu)
    if kind == "pose":
        from .pose import PoseDetector

        return PoseDetector(interp, model, min_score=min_score, iou_threshold=iou_threshold)
    if kind == "ssd":
        from .ssd import SsdDetector, read_labels

        return SsdDetector(
            interp, model, labels=read_labels(labels) if labels else {}, min_score=min_score
        )
    raise ModelError(f"unknown detector kind {kind!r} (expected 'pose' or 'ssd')")
