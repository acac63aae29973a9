"""Contact sheets: frames with numbered boxes and a pixel grid, for review by eye."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

COLOURS = {
    "proposal": (0, 255, 255),
    "person": (0, 255, 0),
    "vehicle": (255, 0, 255),
    "ignore": (160, 160, 160),
}


def grid(
    bgr: np.ndarray, every: int = 50, offset: tuple[int, int] = (0, 0), unit: float = 1.0
) -> None:
    """Faint grid lines every ``every`` pixels, labelled in frame pixels (in place).

    ``offset`` is where the image starts and ``unit`` the frame pixels per image pixel
    (0.5 for an image enlarged twice), so the labels always read in frame pixels.
    """
    import cv2

    h, w = bgr.shape[:2]
    ox, oy = offset
    for x in range(every - ox % every, w, every):
        gx = x + ox
        bgr[:, x] = (
            bgr[:, x].astype(np.int16) * 4 // 5 + (60 if gx % (2 * every) == 0 else 30)
        ).astype(np.uint8)
        if gx % (4 * every) == 0:
            label = str(int(gx * unit))
            cv2.putText(bgr, label, (x + 2, 12), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 255))
    for y in range(every - oy % every, h, every):
        gy = y + oy
        bgr[y, :] = (
            bgr[y, :].astype(np.int16) * 4 // 5 + (60 if gy % (2 * every) == 0 else 30)
        ).astype(np.uint8)
        if gy % (4 * every) == 0:
            label = str(int(gy * unit))
            cv2.putText(bgr, label, (2, y - 2), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 255))


def draw(
    rgb: np.ndarray,
    boxes: Sequence[tuple[str, Sequence[float], str]],
    title: str,
    scale: float = 1.0,
    with_grid: bool = True,
) -> np.ndarray:
    """A BGR image of the frame with (kind, box, text) drawn; kind picks the colour."""
    import cv2

    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if scale != 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if with_grid:
        grid(bgr, every=int(25 * scale) if scale >= 1 else 25)
    for kind, box, text in boxes:
        c = COLOURS.get(kind, (0, 255, 255))
        x1, y1, x2, y2 = (int(round(v * scale)) for v in box)
        cv2.rectangle(bgr, (x1, y1), (x2, y2), c, 1)
        if text:
            # Large, outlined numbers: the sheets are read after being scaled down.
            org = (x1, max(18, y1 - 3))
            font = cv2.FONT_HERSHEY_SIMPLEX
            cv2.putText(bgr, text, org, font, 0.7, (0, 0, 0), 4)
            cv2.putText(bgr, text, org, font, 0.7, c, 2)
    cv2.putText(bgr, title, (8, bgr.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 255), 2)
    return bgr


def sheet(tiles: list[np.ndarray], cols: int, path: Path) -> None:
    """Write tiles (same size) as a PNG grid of ``cols`` columns."""
    import cv2

    h, w = tiles[0].shape[:2]
    rows = (len(tiles) + cols - 1) // cols
    out = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * h : (r + 1) * h, c * w : (c + 1) * w] = t
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), out)
