"""Building models from npm tarballs: every checksum is checked, the output is pinned.

The real packages are packed and converted by the session fixtures (``models fetch`` /
``models build``); here small tarballs made in the test exercise each failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from modelkit import build as build_mod
from modelkit.build import NPM_MODELS, BuildError, NpmModel, build
from tests.harness.tfjs_models import node, write_model


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tarball(tmp: Path, files: dict[str, bytes]) -> Path:
    path = tmp / "pkg-1.0.0.tgz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[NpmModel, Path]:
    """A tarball holding a one-op graph model, and the spec that pins it."""
    src = tmp_path / "src"
    src.mkdir()
    m = write_model(src, [node("y", "Sigmoid", "x")], {}, (1, 4, 4, 3), ["y"])
    files = {
        "package/m/model.json": m.read_bytes(),
        "package/m/group1-shard1of1.bin": (src / "group1-shard1of1.bin").read_bytes(),
        "package/README.md": b"not needed",
    }
    tgz = make_tarball(tmp_path, files)
    spec = NpmModel(
        name="tiny.onnx",
        kind="tiny",
        package="pkg",
        version="1.0.0",
        tarball_sha256=sha(tgz.read_bytes()),
        members={k: sha(v) for k, v in files.items() if k.startswith("package/m/")},
        sha256="",
        license="test",
        tfjs_json="package/m/model.json",
    )
    made = build_mod.make_model(spec, build_mod.extract_members(tgz, spec.members, tmp_path / "x"))
    return dataclasses.replace(spec, sha256=sha(made)), tgz


def test_build_writes_the_pinned_model_once(tiny, tmp_path: Path) -> None:
    spec, tgz = tiny
    said: list[str] = []
    out = build(spec, tmp_path / "cache", tarball=tgz, log=said.append)
    assert sha(out.read_bytes()) == spec.sha256
    before = out.stat().st_mtime_ns
    build(spec, tmp_path / "cache", tarball=tgz, log=said.append)
    assert out.stat().st_mtime_ns == before and "already" in said[-1]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["tiny.onnx"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: dataclasses.replace(s, tarball_sha256="0" * 64), "pkg-1.0.0.tgz: checksum"),
        (
            lambda s: dataclasses.replace(
                s, members={**s.members, "package/m/model.json": "0" * 64}
            ),
            "model.json: checksum",
        ),
        (
            lambda s: dataclasses.replace(
                s, members={**s.members, "package/m/extra.bin": "0" * 64}
            ),
            "not in pkg-1.0.0.tgz",
        ),
        (lambda s: dataclasses.replace(s, sha256="0" * 64), "tiny.onnx: checksum"),
    ],
    ids=["tarball", "member", "missing-member", "converted"],
)
def test_every_checksum_is_checked(tiny, tmp_path: Path, change, message) -> None:
    spec, tgz = tiny
    with pytest.raises(BuildError, match=message):
        build(change(spec), tmp_path / "cache", tarball=tgz)
    assert not (tmp_path / "cache" / "tiny.onnx").exists()


def test_a_byte_range_model_is_cut_from_its_packed_asset(tmp_path: Path) -> None:
    blob = b"labels\n" + bytes(range(256)) * 4
    tgz = make_tarball(tmp_path, {"package/assets.data": blob})
    spec = NpmModel(
        name="cut.tflite",
        kind="cut",
        package="pkg",
        version="1.0.0",
        tarball_sha256=sha(tgz.read_bytes()),
        members={"package/assets.data": sha(blob)},
        sha256=sha(blob[7:107]),
        license="test",
        byte_range=(7, 107),
    )
    assert build(spec, tmp_path / "c", tarball=tgz).read_bytes() == blob[7:107]


def test_without_npm_the_build_says_so(tiny, tmp_path: Path, monkeypatch) -> None:
    spec, _ = tiny
    monkeypatch.setattr(build_mod.shutil, "which", lambda _name: None)
    with pytest.raises(BuildError, match="npm is not installed"):
        build(spec, tmp_path / "cache")


def test_the_pinned_catalogue_names_every_general_detector() -> None:
    assert set(NPM_MODELS) == {"nanodet", "centernet", "ssd_oid"}
    for m in NPM_MODELS.values():
        assert len(m.tarball_sha256) == 64 and len(m.sha256) == 64
        assert all(len(v) == 64 for v in m.members.values())


def test_real_models_match_their_pins(default_model: Path, ssd_oid_model: Path) -> None:
    # built by the real `edge-agent models fetch` (npm pack, extract, convert)
    assert sha(default_model.read_bytes()) == NPM_MODELS["nanodet"].sha256
    assert sha(ssd_oid_model.read_bytes()) == NPM_MODELS["ssd_oid"].sha256
    assert np.frombuffer(ssd_oid_model.read_bytes()[4:8], np.uint8).tobytes() == b"TFL3"
