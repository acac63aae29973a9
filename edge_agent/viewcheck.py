"""Checking a camera's view: frames from images, image folders and video files, with
their detections as rows and drawn on the frame (``edge-agent detect``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .sources import SourceError
from .sources.replay import IMAGE_SUFFIXES, read_image
from .tracker import Detection

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".ts"}
COLOURS = {"person": (255, 64, 64), "vehicle": (64, 160, 255)}


@dataclass
class Item:
    """One frame to check: where it came from, and the frame or why it is unreadable."""

    source: str
    frame: int | None  # index in a video, None for an image file
    t: float | None  # seconds into a video
    rgb: np.ndarray | None
    error: str | None = None


def is_video(path: Path) -> bool:
    """True for a file whose suffix is a video container we read with OpenCV."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def expand(paths: Sequence[str]) -> list[Path]:
    """Files to check: each image or video as given, each folder's images and videos sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.iterdir()
                    if f.suffix.lower() in IMAGE_SUFFIXES or f.suffix.lower() in VIDEO_SUFFIXES
                )
            )
        else:
            out.append(p)
    return out


def video_frames(path: Path, every: int) -> Iterator[Item]:
    """Every ``every``-th frame of a video file (OpenCV), as RGB."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        yield Item(str(path), None, None, None, f"cannot open video {path}")
        return
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    i = 0
    try:
        while True:
            ok = cap.grab()
            if not ok:
                break
            if i % every == 0:
                ok, bgr = cap.retrieve()
                if ok and bgr is not None:
                    t = round(i / fps, 3) if fps > 0 else None
                    yield Item(str(path), i, t, np.ascontiguousarray(bgr[:, :, ::-1]))
            i += 1
    finally:
        cap.release()
    if i == 0:
        yield Item(str(path), None, None, None, f"no frames in {path}")


def frames(paths: Sequence[str], every: int = 1) -> Iterator[Item]:
    """Frames of every input (images, folders, videos) in order."""
    for p in expand(paths):
        if is_video(p):
            yield from video_frames(p, max(1, every))
            continue
        try:
            yield Item(str(p), None, None, read_image(p))
        except SourceError as exc:
            yield Item(str(p), None, None, None, str(exc))


def rows(dets: Sequence[Detection]) -> list[dict[str, Any]]:
    """Detections as JSON-ready rows (box normalised x1, y1, x2, y2)."""
    out = []
    for d in dets:
        row: dict[str, Any] = {
            "label": d.label,
            "score": round(d.score, 3),
            "box": [round(v, 4) for v in d.box],
        }
        if d.subtype is not None:
            row["subtype"] = d.subtype
        out.append(row)
    return out


def draw(rgb: np.ndarray, dets: Sequence[Detection]) -> Any:
    """A copy of the frame with each detection's box and ``label score`` drawn (PIL image)."""
    from PIL import Image, ImageDraw

    img = Image.fromarray(rgb)
    g = ImageDraw.Draw(img)
    h, w = rgb.shape[:2]
    line = max(2, round(min(w, h) / 240))
    for d in dets:
        x1, y1, x2, y2 = d.box[0] * w, d.box[1] * h, d.box[2] * w, d.box[3] * h
        colour = COLOURS.get(d.label, (255, 255, 0))
        g.rectangle([x1, y1, x2, y2], outline=colour, width=line)
        text = f"{d.subtype or d.label} {d.score:.2f}"
        ty = y1 - 11 if y1 >= 11 else y2 + 1
        g.rectangle([x1, ty, x1 + 6 * len(text) + 2, ty + 10], fill=colour)
        g.text((x1 + 1, ty - 1), text, fill=(0, 0, 0))
    return img


def drawn_name(item: Item) -> str:
    """File name of an annotated frame: the source's stem, plus the frame index for videos."""
    stem = Path(item.source).stem
    return f"{stem}.jpg" if item.frame is None else f"{stem}-f{item.frame:06d}.jpg"
