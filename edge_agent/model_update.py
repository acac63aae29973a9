"""Models from the centre: download, verify, swap atomically (the board's side).

The centre converts and pins the models once and serves the finished files; a board
never runs npm, node or the converter. When the enrolment bundle or the centre's config
names a model (:class:`protocol.ModelRef`), the board downloads it with a request signed
by its own key (the key its MQTT certificate is for), checks the size and SHA-256 while
writing it next to the store, and only then renames it into place and records it as the
active model of its kind. A failed or mismatching download leaves the running model and
the store as they were; the reason goes into the board's ``state``.

Layout of the store folder: the model files (named ``<sha256[:12]>-<name>`` so a new
build never overwrites the file a running detector came from) and ``active.json``
(``{kind: {"name", "file", "sha256", "size"}}``). The previous file of a kind is kept, one
back, so the agent still starts if the new file is damaged on disk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol import ModelRef, model_request_message

from .models import sha256_file

ACTIVE = "active.json"
_OURS = re.compile(r"^[0-9a-f]{12}-[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Headers of a signed model request (the centre checks them against the board's enrolment).
H_DEVICE, H_TIME, H_CERT, H_PROOF = "X-CW-Device", "X-CW-Time", "X-CW-Cert", "X-CW-Proof"


class ModelUpdateError(RuntimeError):
    """A model could not be downloaded, failed its checks, or the store is unwritable."""


@dataclass(frozen=True)
class BoardSigner:
    """Signs model requests with the board's key; the certificate goes along."""

    device_id: str
    cert: Path
    key: Path

    def headers(self, name: str, now: float | None = None) -> dict[str, str]:
        """The authentication headers for downloading ``name``."""
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
        except ImportError:
            raise ModelUpdateError(
                "signing needs the cryptography package (reinstall citywatch[edge])"
            ) from None

        try:
            key = serialization.load_pem_private_key(self.key.read_bytes(), password=None)
            cert_pem = self.cert.read_bytes()
        except (OSError, ValueError) as exc:
            raise ModelUpdateError(f"cannot read the board's key/certificate: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ModelUpdateError("the board's key is not an EC key")
        t = int(now if now is not None else time.time())
        proof = key.sign(model_request_message(self.device_id, name, t), ec.ECDSA(hashes.SHA256()))
        return {
            H_DEVICE: self.device_id,
            H_TIME: str(t),
            H_CERT: base64.b64encode(cert_pem).decode(),
            H_PROOF: base64.b64encode(proof).decode(),
        }


def file_name(ref: ModelRef) -> str:
    """The store's file name of a model (unique per content)."""
    return f"{ref.sha256[:12]}-{ref.name}"


def read_active(store: Path) -> dict[str, dict[str, Any]]:
    """The store's ``active.json`` (empty when missing or unreadable)."""
    try:
        data = json.loads((store / ACTIVE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def active_model(store: Path, kind: str) -> tuple[Path, str] | None:
    """The active model file of ``kind`` and its SHA-256, if present and intact."""
    entry = read_active(store).get(kind)
    if not isinstance(entry, dict):
        return None
    path = store / str(entry.get("file", ""))
    if not path.is_file() or path.parent != store:
        return None
    if sha256_file(path) != entry.get("sha256"):
        return None  # damaged on disk: the caller falls back to its configured model
    return path, str(entry["sha256"])


def _ssl_context(url: str, ca: Path | None) -> ssl.SSLContext | None:
    if not url.startswith("https:"):
        return None
    return ssl.create_default_context(cafile=str(ca) if ca else None)


def download(
    ref: ModelRef,
    centre_url: str,
    signer: BoardSigner,
    part: Path,
    *,
    ca: Path | None = None,
    timeout: float = 60.0,
) -> None:
    """Stream ``ref`` into ``part``, checking its size and SHA-256 (ModelUpdateError if not)."""
    url = centre_url.rstrip("/") + ref.url
    req = urllib.request.Request(url, headers=signer.headers(ref.name))
    h = hashlib.sha256()
    got = 0
    try:
        with (
            urllib.request.urlopen(req, timeout=timeout, context=_ssl_context(url, ca)) as resp,
            open(part, "wb") as out,
        ):
            while chunk := resp.read(1 << 20):
                got += len(chunk)
                if got > ref.size:
                    raise ModelUpdateError(f"{ref.name}: the centre sent more than {ref.size} B")
                h.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace")
        raise ModelUpdateError(f"{ref.name}: the centre answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise ModelUpdateError(f"{ref.name}: download from {url} failed: {exc}") from None
    if got != ref.size or h.hexdigest() != ref.sha256:
        raise ModelUpdateError(
            f"{ref.name}: checksum mismatch (got {got} B sha256 {h.hexdigest()}, "
            f"expected {ref.size} B {ref.sha256})"
        )


def install(
    ref: ModelRef,
    store: Path,
    centre_url: str,
    signer: BoardSigner,
    *,
    ca: Path | None = None,
    timeout: float = 60.0,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Make ``ref`` the active model of its kind in ``store``; returns its path.

    Nothing changes unless the download verifies; the old file stays as the fallback.
    """
    say = log or (lambda _m: None)
    current = active_model(store, ref.kind)
    if current is not None and current[1] == ref.sha256:
        return current[0]
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelUpdateError(f"cannot create the model store {store}: {exc}") from None
    target = store / file_name(ref)
    part = store / f".{target.name}.part"
    try:
        download(ref, centre_url, signer, part, ca=ca, timeout=timeout)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    _set_active(store, ref, target)
    say(f"model {ref.name} ({ref.kind}, {ref.size} B, sha256 ok) installed as {target.name}")
    return target


def _set_active(store: Path, ref: ModelRef, target: Path) -> None:
    """Record ``target`` as the active model of its kind; keep one previous file."""
    active = read_active(store)
    before = active.get(ref.kind) if isinstance(active.get(ref.kind), dict) else None
    if before is not None:
        before = {k: v for k, v in before.items() if k != "previous"}
    active[ref.kind] = {
        "name": ref.name,
        "file": target.name,
        "sha256": ref.sha256,
        "size": ref.size,
        "previous": before,
    }
    _write_active(store, active)
    keep = {ACTIVE}
    for entry in active.values():
        if isinstance(entry, dict):
            keep.add(str(entry.get("file")))
            if isinstance(entry.get("previous"), dict):
                keep.add(str(entry["previous"].get("file")))
    for p in store.iterdir():
        # Only our own model files (never anything else someone keeps in the folder).
        if p.is_file() and _OURS.match(p.name) and p.name not in keep:
            p.unlink(missing_ok=True)  # older than one back


def _write_active(store: Path, active: dict[str, Any]) -> None:
    tmp = store / f".{ACTIVE}.part"
    tmp.write_text(json.dumps(active, indent=2))
    os.replace(tmp, store / ACTIVE)


def revert(store: Path, kind: str) -> bool:
    """Make the previous model of ``kind`` active again (the new one did not load)."""
    active = read_active(store)
    entry = active.get(kind)
    before = entry.get("previous") if isinstance(entry, dict) else None
    if isinstance(before, dict):
        active[kind] = before
    else:
        active.pop(kind, None)  # nothing before it: the configured model again
    _write_active(store, active)
    return isinstance(before, dict)
