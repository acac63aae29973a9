"""LiteRT interpreter loading (CPU threads, optional Coral EdgeTPU delegate) and resizing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import ModelError

TFLITE_MAGIC = b"TFL3"  # flatbuffer file identifier at bytes 4..8 of every .tflite


def _interpreter_class() -> tuple[Any, Any]:
    """(Interpreter, load_delegate) from ai-edge-litert, else from tflite_runtime."""
    try:
        from ai_edge_litert.interpreter import Interpreter, load_delegate

        return Interpreter, load_delegate
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter, load_delegate

        return Interpreter, load_delegate
    except ImportError:
        raise ModelError(
            "no LiteRT runtime: install ai-edge-litert (pip install 'citywatch[edge]')"
        ) from None


EDGETPU_OP = b"edgetpu-custom-op"  # present only in models compiled for the EdgeTPU


def load_interpreter(
    model: Path,
    *,
    threads: int = 2,
    edgetpu: bool = False,
    log: Callable[[str], None] | None = None,
) -> Any:
    """A ready (allocated) interpreter for ``model``, or ModelError saying what is wrong.

    With ``edgetpu`` the Coral delegate is loaded; when its library or the stick is
    missing, a model that was not compiled for the EdgeTPU falls back to the CPU (logged),
    while an EdgeTPU-compiled model cannot run without it (ModelError).
    """
    model = Path(model)
    if not model.is_file():
        raise ModelError(
            f"model file {model} not found: run `edge-agent models fetch` or fix detector.model"
        )
    head = model.read_bytes()[:8]
    if len(head) < 8 or head[4:8] != TFLITE_MAGIC:
        raise ModelError(f"model file {model} is not a TFLite flatbuffer (corrupt or truncated)")
    interpreter_cls, load_delegate = _interpreter_class()
    delegates = []
    if edgetpu:
        try:
            delegates.append(load_delegate("libedgetpu.so.1"))
        except (ValueError, OSError) as exc:
            if EDGETPU_OP in model.read_bytes():
                raise ModelError(f"Coral EdgeTPU delegate could not be loaded: {exc}") from None
            if log is not None:
                log(f"Coral EdgeTPU delegate could not be loaded ({exc}); running on the CPU")
    try:
        interp = interpreter_cls(
            model_path=str(model), num_threads=threads, experimental_delegates=delegates or None
        )
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"model file {model} could not be loaded: {exc}") from None
    return interp


def model_version(model: Path) -> str:
    """Short, stable identity of a model file: name plus the first 12 hex of its SHA-256."""
    digest = hashlib.sha256(Path(model).read_bytes()).hexdigest()[:12]
    return f"{Path(model).stem}@{digest}"


def resize_rgb(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of an RGB uint8 image (Pillow when present, numpy otherwise)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    try:
        from PIL import Image

        return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))
    except ImportError:  # pragma: no cover - pillow is in the edge extra
        ys = np.linspace(0, rgb.shape[0] - 1, height).round().astype(int)
        xs = np.linspace(0, rgb.shape[1] - 1, width).round().astype(int)
        return rgb[ys][:, xs]


def letterbox_image(rgb: np.ndarray, in_w: int, in_h: int) -> np.ndarray:
    """Fit ``rgb`` into ``in_w x in_h`` keeping its aspect ratio, padding with black."""
    h, w = rgb.shape[:2]
    s = min(in_w / w, in_h / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    out = np.zeros((in_h, in_w, 3), dtype=np.uint8)
    x0, y0 = (in_w - nw) // 2, (in_h - nh) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = resize_rgb(rgb, nw, nh)
    return out


def check_frame(rgb: object) -> np.ndarray:
    """Return ``rgb`` as an (H, W, 3) uint8 array or raise ValueError naming the problem."""
    if not isinstance(rgb, np.ndarray):
        raise ValueError(f"frame is {type(rgb).__name__}, not an image array")
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4) or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise ValueError(f"frame of shape {rgb.shape} is not an RGB image")
    if rgb.dtype != np.uint8:
        raise ValueError(f"frame dtype {rgb.dtype} is not uint8")
    return rgb[:, :, :3]
