"""Hardware sources: OpenCV capture (V4L2/USB index, RTSP URL, file) and picamera2.

Both libraries are imported only when such a source is opened: picamera2 exists only on
Raspberry Pi OS, and OpenCV is not needed by a board that uses the Pi camera.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from . import Frame, SourceError


def open_cv_capture(uri: str) -> Any:
    """An opened ``cv2.VideoCapture`` for a device index, URL or file; SourceError if not."""
    try:
        import cv2
    except ImportError:
        raise SourceError("OpenCV sources need opencv-python-headless") from None
    target: int | str = int(uri) if uri.isdigit() else uri
    cap = cv2.VideoCapture(target)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"cannot open {uri!r} (camera unplugged, wrong URL or unreadable file)")
    return cap


class OpenCvSource:
    """V4L2/USB camera (``uri`` = index), RTSP/HTTP stream (URL) or a video file."""

    name = "opencv"

    def __init__(self, uri: str, width: int = 640, height: int = 480) -> None:
        """Capture from ``uri`` at about ``width`` x ``height``."""
        self.uri, self.width, self.height = uri, width, height
        self._cap: Any = None
        self._i = 0
        self._t0 = time.monotonic()

    def open(self) -> None:
        """Open the device or stream."""
        self._cap = open_cv_capture(self.uri)
        if self.uri.isdigit():
            self._cap.set(3, self.width)  # CAP_PROP_FRAME_WIDTH
            self._cap.set(4, self.height)  # CAP_PROP_FRAME_HEIGHT

    def read(self) -> Frame | None:
        """Next frame; a failed grab (unplug, RTSP drop) raises SourceError."""
        if self._cap is None:
            raise SourceError("capture not open")
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise SourceError(f"no frame from {self.uri!r} (device gone or stream dropped)")
        frame = Frame(np.ascontiguousarray(bgr[:, :, ::-1]), time.monotonic() - self._t0, self._i)
        self._i += 1
        return frame

    def close(self) -> None:
        """Release the capture."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class PiCameraSource:
    """Raspberry Pi camera through picamera2 (RGB888 preview stream)."""

    name = "picamera2"

    def __init__(self, width: int = 640, height: int = 480, fps: float = 10.0) -> None:
        """Configure ``width`` x ``height`` at ``fps``."""
        self.width, self.height, self.fps = width, height, fps
        self._cam: Any = None
        self._i = 0
        self._t0 = time.monotonic()

    def open(self) -> None:
        """Start the camera."""
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise SourceError("picamera2 is not installed (Raspberry Pi OS only)") from None
        try:
            cam = Picamera2()
            cfg = cam.create_video_configuration(
                main={"size": (self.width, self.height), "format": "RGB888"},
                controls={"FrameRate": self.fps},
            )
            cam.configure(cfg)
            cam.start()
        except Exception as exc:  # noqa: BLE001 - libcamera raises many types
            raise SourceError(f"Pi camera unavailable: {exc}") from None
        self._cam = cam

    def read(self) -> Frame | None:
        """Capture one frame."""
        try:
            arr = self._cam.capture_array("main")
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"Pi camera capture failed: {exc}") from None
        # picamera2's "RGB888" is BGR byte order in memory.
        frame = Frame(np.ascontiguousarray(arr[:, :, 2::-1]), time.monotonic() - self._t0, self._i)
        self._i += 1
        return frame

    def close(self) -> None:
        """Stop the camera."""
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            finally:
                self._cam = None
