"""Standard SSD models ending in ``TFLite_Detection_PostProcess`` (Coral, common NVRs).

Their four outputs — boxes (1,N,4), classes (1,N), scores (1,N), count (1) — come in a
different order in TF1 and TF2 exports, so they are matched by shape, name and values,
never by position (:func:`match_outputs`, pure and tested with literal tensor lists).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..tracker import Detection
from . import ModelError
from .litert import check_frame, model_version, resize_rgb


def read_labels(path: Path) -> dict[int, str]:
    """Label file: one name per line (``0 person`` / ``0: person`` forms accepted)."""
    out: dict[int, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"label file {path}: {exc}") from None
    for i, line in enumerate(ln.strip() for ln in lines):
        if not line:
            continue
        m = re.match(r"^(\d+)[\s:]+(.+)$", line)
        idx, name = (int(m.group(1)), m.group(2)) if m else (i, line)
        out[idx] = re.sub(r"[^a-z0-9_]", "_", name.strip().lower())[:24] or "object"
    return out


def match_outputs(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Map the post-process outputs to roles by shape and name.

    Returns ``{"boxes": idx, "count": idx, "pair": (idx_a, idx_b), "classes": idx|None,
    "scores": idx|None}``; when names do not tell classes from scores, both stay None
    and :func:`split_pair` decides from the values.
    """
    if len(outputs) != 4:
        raise ModelError(
            f"expected the 4 detection post-process outputs, got {len(outputs)}: "
            f"{[tuple(int(v) for v in o['shape']) for o in outputs]}"
        )
    shapes = {o["index"]: tuple(int(v) for v in o["shape"]) for o in outputs}
    boxes = [o for o in outputs if len(shapes[o["index"]]) == 3 and shapes[o["index"]][-1] == 4]
    count = [o for o in outputs if int(np.prod(shapes[o["index"]])) == 1]
    rest = [o for o in outputs if o not in boxes and o not in count]
    if len(boxes) != 1 or len(count) != 1 or len(rest) != 2:
        raise ModelError(
            f"unexpected outputs {list(shapes.values())}: need boxes, classes, scores, count"
        )
    n = shapes[boxes[0]["index"]][1]
    for o in rest:
        if shapes[o["index"]] not in ((1, n), (n,)):
            raise ModelError(
                f"output {o['name']} has shape {shapes[o['index']]}, expected (1, {n})"
            )
    roles: dict[str, Any] = {
        "boxes": boxes[0]["index"],
        "count": count[0]["index"],
        "pair": (rest[0]["index"], rest[1]["index"]),
        "classes": None,
        "scores": None,
    }
    names = [o["name"].lower() for o in rest]
    for key, word in (("classes", "class"), ("scores", "score")):
        hit = [o["index"] for o, nm in zip(rest, names, strict=True) if word in nm]
        if len(hit) == 1:
            roles[key] = hit[0]
    if (roles["classes"] is None) != (roles["scores"] is None):
        known = roles["classes"] if roles["classes"] is not None else roles["scores"]
        other = rest[1]["index"] if rest[0]["index"] == known else rest[0]["index"]
        roles["scores" if roles["classes"] is not None else "classes"] = other
    return roles


def split_pair(a: np.ndarray, b: np.ndarray, count: int) -> tuple[int, int] | None:
    """Which of two (N,) tensors holds classes: (classes_pos, scores_pos) or None if unsure.

    Classes are whole numbers; scores lie in [0, 1] and are rarely all whole.
    """
    a, b = np.asarray(a).ravel()[:count], np.asarray(b).ravel()[:count]
    if count == 0:
        return None
    a_int = bool(np.all(np.equal(np.mod(a, 1), 0)))
    b_int = bool(np.all(np.equal(np.mod(b, 1), 0)))
    a_unit = bool(np.all((a >= 0) & (a <= 1)))
    b_unit = bool(np.all((b >= 0) & (b <= 1)))
    if a_int and not b_int and b_unit:
        return 0, 1
    if b_int and not a_int and a_unit:
        return 1, 0
    if a_int and b_int and a_unit != b_unit:  # e.g. scores all exactly 1.0
        return (0, 1) if not a_unit else (1, 0)
    return None


class SsdDetector:
    """Any SSD with the detection post-process outputs plus a label file."""

    name = "ssd"

    def __init__(
        self, interp: Any, model: Path, *, labels: dict[int, str], min_score: float = 0.5
    ) -> None:
        """Match outputs now, so a model with unexpected outputs fails at start-up."""
        self.interp = interp
        self.labels = labels
        self.min_score = min_score
        self.model_version = model_version(model)
        self.last_inference_ms = 0.0
        inputs = interp.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4 or inputs[0]["shape"][3] != 3:
            raise ModelError(f"{model}: expected one (1, H, W, 3) image input")
        self._in = inputs[0]
        self.in_h, self.in_w = int(self._in["shape"][1]), int(self._in["shape"][2])
        try:
            self.roles = match_outputs(interp.get_output_details())
        except ModelError as exc:
            raise ModelError(f"{model}: {exc}") from None
        self._pair_order: tuple[int, int] | None = (
            None if self.roles["classes"] is None else (self.roles["classes"], self.roles["scores"])
        )

    def _input(self, rgb: np.ndarray) -> np.ndarray:
        x = resize_rgb(rgb, self.in_w, self.in_h)
        if self._in["dtype"] == np.uint8:
            return x[None]
        # Float SSDs (MobileNet family) are trained on [-1, 1] inputs.
        return (x.astype(np.float32) / 127.5 - 1.0)[None]

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Run the model; boxes come out as y1,x1,y2,x2 and are returned as x1,y1,x2,y2."""
        rgb = check_frame(rgb)
        t0 = time.perf_counter()
        self.interp.set_tensor(self._in["index"], self._input(rgb))
        self.interp.invoke()
        boxes = self.interp.get_tensor(self.roles["boxes"]).reshape(-1, 4)
        n = int(np.asarray(self.interp.get_tensor(self.roles["count"])).ravel()[0])
        n = max(0, min(n, boxes.shape[0]))
        pa, pb = self.roles["pair"]
        ta, tb = self.interp.get_tensor(pa).ravel(), self.interp.get_tensor(pb).ravel()
        self.last_inference_ms = (time.perf_counter() - t0) * 1000
        if self._pair_order is None:
            split = split_pair(ta, tb, n)
            if split is None:
                return []  # undecidable from these values; the next frame will tell
            self._pair_order = (pa, pb) if split == (0, 1) else (pb, pa)
        classes = ta if self._pair_order[0] == pa else tb
        scores = tb if self._pair_order[0] == pa else ta
        out = []
        for i in range(n):
            s = float(scores[i])
            if s < self.min_score:
                continue
            y1, x1, y2, x2 = (float(np.clip(v, 0.0, 1.0)) for v in boxes[i])
            if x2 <= x1 or y2 <= y1:
                continue
            label = self.labels.get(int(classes[i]), f"class_{int(classes[i])}")
            out.append(Detection(label, s, (x1, y1, x2, y2)))
        return out
