"""The board's model download: the size and SHA-256 decide; a mismatch changes nothing.

A real HTTP server (stdlib, in a thread) stands in for a centre that sends the wrong bytes;
the board's real key signs the request and the server records what it received.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge_agent.model_update import (
    BoardSigner,
    ModelUpdateError,
    active_model,
    install,
    read_active,
)
from protocol import ModelRef

GOOD = b"model-bytes-" * 1000
BAD = b"tampered-bytes" * 800


@pytest.fixture
def signer(tmp_path: Path) -> BoardSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "device.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "device.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return BoardSigner("cam-9", tmp_path / "device.crt", tmp_path / "device.key")


@pytest.fixture
def centre() -> Iterator[tuple[str, dict[str, bytes], list[dict[str, str]]]]:
    """An HTTP server serving ``files`` by path and recording request headers."""
    files: dict[str, bytes] = {}
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body if body is not None else b"no such model")

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, name="fake-centre", daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", files, seen
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def _ref(data: bytes, name: str = "m.onnx") -> ModelRef:
    return ModelRef(
        name=name,
        kind="nanodet",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        url=f"/api/enrolment/models/{name}",
    )


def test_a_verified_download_becomes_active_and_a_mismatch_changes_nothing(
    tmp_path: Path, signer: BoardSigner, centre
) -> None:
    url, files, seen = centre
    store = tmp_path / "models"
    files["/api/enrolment/models/m.onnx"] = GOOD
    first = install(_ref(GOOD), store, url, signer)
    assert first.read_bytes() == GOOD and active_model(store, "nanodet") == (
        first,
        _ref(GOOD).sha256,
    )
    assert seen[0]["x-cw-device"] == "cam-9" and seen[0]["x-cw-proof"]
    before = json.dumps(read_active(store), sort_keys=True)
    # The centre names a new model but the bytes on the wire are not it.
    files["/api/enrolment/models/n.onnx"] = BAD
    with pytest.raises(ModelUpdateError, match="checksum mismatch"):
        install(_ref(GOOD + b"v2", "n.onnx"), store, url, signer)
    assert json.dumps(read_active(store), sort_keys=True) == before
    assert sorted(p.name for p in store.iterdir()) == ["active.json", first.name]  # no part left
    # Too many bytes stop the download early; a 404 says what the centre answered.
    files["/api/enrolment/models/big.onnx"] = GOOD * 3
    with pytest.raises(ModelUpdateError, match="more than"):
        install(_ref(GOOD + b"x", "big.onnx"), store, url, signer)
    with pytest.raises(ModelUpdateError, match="answered 404"):
        install(_ref(GOOD + b"y", "gone.onnx"), store, url, signer)
    assert active_model(store, "nanodet") == (first, _ref(GOOD).sha256)


def test_a_damaged_active_file_is_not_used(tmp_path: Path, signer: BoardSigner, centre) -> None:
    url, files, _ = centre
    files["/api/enrolment/models/m.onnx"] = GOOD
    path = install(_ref(GOOD), tmp_path, url, signer)
    path.write_bytes(GOOD[:-1] + b"!")
    assert active_model(tmp_path, "nanodet") is None  # the agent falls back to its config
    again = install(_ref(GOOD), tmp_path, url, signer)  # and the next config repairs it
    assert active_model(tmp_path, "nanodet") == (again, _ref(GOOD).sha256)


def test_a_model_that_does_not_load_is_taken_back_and_one_previous_file_is_kept(
    tmp_path: Path, signer: BoardSigner, centre
) -> None:
    from edge_agent.model_update import revert

    url, files, _ = centre
    store = tmp_path / "models"
    refs = []
    for i in range(3):
        data = GOOD + bytes([i])
        files[f"/api/enrolment/models/m{i}.onnx"] = data
        refs.append(_ref(data, f"m{i}.onnx"))
        install(refs[-1], store, url, signer)
    # Three installs: the active file and the one before it stay, the oldest is gone.
    names = sorted(p.name for p in store.iterdir() if p.name != "active.json")
    assert names == sorted(f"{r.sha256[:12]}-{r.name}" for r in refs[1:])
    assert revert(store, "nanodet")  # m2 did not load: m1 is active again
    assert active_model(store, "nanodet")[1] == refs[1].sha256
    assert not revert(store, "nanodet")  # m1 had no previous recorded any more
    assert active_model(store, "nanodet") is None  # the configured model is used
