"""Replay source: an image folder or a video file at a given fps, optionally looping."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Frame, SourceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".webp"}


def read_image(path: Path) -> np.ndarray:
    """Read an image file as RGB uint8, or raise SourceError saying why it is unreadable."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - pillow is in the edge extra
        raise SourceError("reading images needs pillow (pip install 'citywatch[edge]')") from None
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise SourceError(f"unreadable frame {path}: {exc}") from None


class ReplaySource:
    """Frames from a folder of images (sorted by name) or a video file (via OpenCV)."""

    name = "replay"

    def __init__(self, path: Path, fps: float = 10.0, loop: bool = True) -> None:
        """Replay ``path`` with frame times spaced at ``fps``."""
        self.path = Path(path)
        self.fps = fps
        self.loop = loop
        self._files: list[Path] = []
        self._cap: object = None
        self._i = 0
        self._pos = 0

    def open(self) -> None:
        """List the folder or open the video."""
        if self.path.is_dir():
            self._files = sorted(
                p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not self._files:
                raise SourceError(f"no images in {self.path}")
        elif self.path.is_file():
            from .capture import open_cv_capture

            self._cap = open_cv_capture(str(self.path))
        else:
            raise SourceError(f"replay path {self.path} does not exist")

    def read(self) -> Frame | None:
        """Next frame; a bad image raises SourceError (the supervisor skips past it)."""
        if self._cap is not None:
            ok, bgr = self._cap.read()  # type: ignore[attr-defined]
            if not ok:
                if not self.loop:
                    return None
                self._cap.set(1, 0)  # type: ignore[attr-defined]  # CAP_PROP_POS_FRAMES
                ok, bgr = self._cap.read()  # type: ignore[attr-defined]
                if not ok:
                    raise SourceError(f"video {self.path} yields no frames")
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        else:
            if self._pos >= len(self._files):
                if not self.loop:
                    return None
                self._pos = 0
            path = self._files[self._pos]
            self._pos += 1  # advance first so an unreadable file is skipped on reopen
            rgb = read_image(path)
        frame = Frame(rgb, self._i / self.fps, self._i)
        self._i += 1
        return frame

    def close(self) -> None:
        """Release the video (the folder position is kept so a reopen continues)."""
        if self._cap is not None:
            self._cap.release()  # type: ignore[attr-defined]
            self._cap = None
