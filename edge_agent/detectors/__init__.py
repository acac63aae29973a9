"""Detectors: one small interface, one module per model family / accelerator.

``build_detector(kind, …)`` picks the backend: ``nanodet`` (default, onnxruntime),
``centernet`` (onnxruntime), ``ssd_oid`` (MediaPipe SSD on LiteRT, the light model),
``pose`` (the old close-range person model) and ``ssd`` (any SSD with the detection
post-process op, e.g. an EdgeTPU-compiled one). Runtimes (LiteRT, the Coral delegate,
onnxruntime) are imported lazily so this package imports on any machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..tracker import Detection

if TYPE_CHECKING:
    from ..config import AgentConfig


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


KINDS = ("nanodet", "centernet", "ssd_oid", "pose", "ssd")
DEFAULT_KIND = "nanodet"


def build_detector(
    kind: str,
    model: Path,
    *,
    threads: int = 2,
    edgetpu: bool = False,
    min_score: float = 0.5,
    iou_threshold: float | None = None,
    labels: Path | None = None,
    thresholds: Mapping[str, float] | None = None,
    providers: Sequence[str] = ("cpu",),
    log: Callable[[str], None] | None = None,
) -> Detector:
    """Create the configured detector, raising ModelError with a clear reason.

    ``thresholds`` are per class (person, car, truck …) for the general detectors;
    ``providers`` are onnxruntime's (tensorrt, cuda, cpu) for the ONNX backends;
    ``iou_threshold`` None means each backend's own NMS default.
    """
    iou = iou_threshold if iou_threshold is not None else (0.3 if kind == "pose" else 0.5)
    if kind == "nanodet":
        from .nanodet import NanoDetDetector

        return NanoDetDetector(
            model,
            threads=threads,
            providers=providers,
            thresholds=thresholds,
            min_score=min_score,
            iou_threshold=iou,
            log=log,
        )
    if kind == "centernet":
        from .centernet import CenterNetDetector

        return CenterNetDetector(
            model,
            threads=threads,
            providers=providers,
            thresholds=thresholds,
            min_score=min_score,
            iou_threshold=iou,
            log=log,
        )
    if kind not in KINDS:
        raise ModelError(f"unknown detector kind {kind!r} (expected one of {', '.join(KINDS)})")
    from .litert import load_interpreter

    interp = load_interpreter(model, threads=threads, edgetpu=edgetpu, log=log)
    if kind == "ssd_oid":
        from .ssd_oid import SsdOidDetector

        return SsdOidDetector(
            interp, model, thresholds=thresholds, min_score=min_score, iou_threshold=iou
        )
    if kind == "pose":
        from .pose import PoseDetector

        return PoseDetector(interp, model, min_score=min_score, iou_threshold=iou)
    from .ssd import SsdDetector, read_labels

    return SsdDetector(
        interp, model, labels=read_labels(labels) if labels else {}, min_score=min_score
    )


def detector_from_config(cfg: AgentConfig, log: Callable[[str], None] | None = None) -> Detector:
    """The detector an agent config names (its model, threads, thresholds, providers)."""
    d = cfg.detector
    return build_detector(
        d.kind,
        cfg.model_path(),
        threads=d.threads,
        edgetpu=d.edgetpu,
        min_score=d.min_score,
        iou_threshold=d.iou_threshold,
        labels=d.labels,
        thresholds=d.class_thresholds(),
        providers=d.providers,
        log=log,
    )
