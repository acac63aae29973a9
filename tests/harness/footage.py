"""Real footage that registry packages ship, for detector tests.

``vtest.avi`` comes with Debian's ``opencv-doc`` package (people walking on a campus road,
filmed from a first floor, 768x576, 10 fps); ``make system-deps`` installs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

STREET_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def street_frames(indices: Sequence[int]) -> list[np.ndarray]:
    """The clip's frames at ``indices``, as RGB; fails saying how to install the clip."""
    import cv2

    assert STREET_CLIP.is_file(), f"{STREET_CLIP} missing: run `make system-deps` (opencv-doc)"
    cap = cv2.VideoCapture(str(STREET_CLIP))
    frames = []
    try:
        for i in indices:
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, bgr = cap.read()
            assert ok, f"frame {i} of {STREET_CLIP}"
            frames.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    finally:
        cap.release()
    return frames
