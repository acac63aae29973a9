"""Chunked, resumable uploads of import files, and imports running in the background.

A browser sends a large CSV in chunks (each at most ``CHUNK_MAX`` bytes, at the offset the
centre reports), so no request body is large and a dropped connection resumes where the
centre's copy ends. The assembled file lives in ``data_dir/imports`` (folder 0700, file
0600) only until its import is done or the upload is deleted or abandoned (``expire``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import Conflict, Forbidden, Invalid, NotFound
from .common import Actor, username
from .importer import Importer

CHUNK_MAX = 8 << 20
ABANDONED_S = 24 * 3600.0
_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadTooLarge(Invalid):
    """The declared size exceeds the configured cap (use the command line)."""


class Uploads:
    """Upload sessions on disk, and the background imports started from them."""

    def __init__(self, folder: Path, importer: Importer, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.importer = importer
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._threads: dict[int, threading.Thread] = {}

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not _ID.match(upload_id):
            raise NotFound(f"no upload {upload_id[:40]}")
        return self.folder / f"{upload_id}.part", self.folder / f"{upload_id}.json"

    def _meta(self, actor: Actor, upload_id: str) -> dict[str, Any]:
        part, meta = self._paths(upload_id)
        if not meta.exists():
            raise NotFound(f"no upload {upload_id}")
        m = json.loads(meta.read_text(encoding="utf-8"))
        if m["actor"] != username(actor):
            raise Forbidden("only the officer who started an upload continues it")
        return m

    def create(self, actor: Actor, size: int, file_name: str) -> dict[str, Any]:
        """Open an upload of ``size`` bytes (refused above the cap)."""
        if size > self.max_bytes:
            raise UploadTooLarge(f"the file is {size} bytes; uploads take at most "
                                 f"{self.max_bytes}: import it with the command line")  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)
        upload_id = secrets.token_hex(16)
        part, meta = self._paths(upload_id)
        os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        fd = os.open(meta, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"actor": username(actor), "size": size, "name": file_name[:200],
                       "created": time.time()}, f)  # fmt: skip
        return self.state(actor, upload_id)

    def state(self, actor: Actor, upload_id: str) -> dict[str, Any]:
        """How many bytes the centre holds."""
        m = self._meta(actor, upload_id)
        got = self._paths(upload_id)[0].stat().st_size
        return {"upload_id": upload_id, "received": got, "size": m["size"],
                "complete": got == m["size"]}  # fmt: skip

    def append(self, actor: Actor, upload_id: str, offset: int, data: bytes) -> dict[str, Any]:
        """Append one chunk at ``offset`` (which must be the bytes received so far)."""
        if len(data) > CHUNK_MAX:
            raise Invalid(f"a chunk is at most {CHUNK_MAX} bytes")
        m = self._meta(actor, upload_id)
        part = self._paths(upload_id)[0]
        with self._lock:
            got = part.stat().st_size
            if offset != got:
                raise Conflict(f"the centre holds {got} bytes: send from offset {got}")
            if got + len(data) > m["size"]:
                raise Invalid(f"the upload was declared as {m['size']} bytes")
            with part.open("ab") as f:
                f.write(data)
        return self.state(actor, upload_id)

    def delete(self, actor: Actor, upload_id: str) -> None:
        """Discard an upload."""
        self._meta(actor, upload_id)
        for p in self._paths(upload_id):
            p.unlink(missing_ok=True)

    def start_import(
        self, actor: Actor, upload_id: str, *, encoding: str, purpose: str | None
    ) -> dict[str, Any]:
        """Start importing a complete upload in the background; returns its progress."""
        st = self.state(actor, upload_id)
        if not st["complete"]:
            raise Conflict(f"the upload holds {st['received']} of {st['size']} bytes")
        part = self._paths(upload_id)[0]
        job_id = self.importer.open_job(actor, part)
        with self._lock:
            running = self._threads.get(job_id)
            if running is not None and running.is_alive():
                return self.importer.status(job_id)
            t = threading.Thread(target=self._run, args=(actor, upload_id, encoding, purpose),
                                 name=f"import-{job_id}", daemon=True)  # fmt: skip
            self._threads[job_id] = t
        t.start()
        return self.importer.status(job_id)

    def _run(self, actor: Actor, upload_id: str, encoding: str, purpose: str | None) -> None:
        part = self._paths(upload_id)[0]
        try:
            out = self.importer.run(actor, part, encoding=encoding, purpose=purpose)
        except Exception:  # noqa: BLE001 - the job row keeps its progress; the file stays
            return
        if out["status"] == "done":
            self.delete(actor, upload_id)

    def expire(self, now: float | None = None) -> int:
        """Remove uploads untouched for a day (the scheduler runs it)."""
        now = time.time() if now is None else now
        n = 0
        for meta in self.folder.glob("*.json") if self.folder.is_dir() else []:
            part = meta.with_suffix(".part")
            last = max(meta.stat().st_mtime, part.stat().st_mtime if part.exists() else 0)
            if now - last > ABANDONED_S:
                part.unlink(missing_ok=True)
                meta.unlink(missing_ok=True)
                n += 1
        return n

    def close(self) -> None:
        """Stop the background imports at their next chunk and wait for them."""
        self.importer.cancel_all()
        for t in list(self._threads.values()):
            t.join(timeout=60)
