"""Snapshots on demand: the centre asks a camera for the JPEG of an event frame.

Never continuous video (DESIGN.md): an operator asks for one frame of one incident, the
request goes to the board that saw it (``snapshot/req``, QoS 1), the board answers from its
small ring buffer on ``snapshot``; the image is kept for ``snapshot_retention_hours`` and
every view of it is audited (a frame may show people).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from protocol import (
    Channel,
    ParsedTopic,
    ProtocolError,
    SnapshotRequest,
    Topics,
    decode,
    encode,
    uuid7,
)

from ..errors import Conflict, NotFound
from ..identity.audit import AuditService
from ..platform.bus import Publisher
from ..platform.db import Database

MAX_IMAGE_BYTES = 1_000_000


class SnapshotError(Conflict, ValueError):
    """A snapshot cannot be requested now; the message says why."""


class SnapshotNotFound(NotFound, SnapshotError):
    """No such snapshot, or none with an image."""


class SnapshotService:
    """Requests snapshots over MQTT and stores the boards' answers."""

    def __init__(self, db: Database, audit: AuditService, topics: Topics) -> None:
        self.db = db
        self.audit = audit
        self.topics = topics
        self.publisher: Publisher | None = None
        self.rejected = 0

    def request(self, incident_id: str, actor: str) -> dict[str, Any]:
        """Ask the board that saw the incident's latest event for that frame."""
        if self.publisher is None:
            raise SnapshotError("the centre is not connected to the broker")
        rows = self.db.query(
            "select id, dev from events where incident_id = ? order by ts desc limit 1",
            [incident_id],
        )
        if not rows:
            raise SnapshotError(f"incident {incident_id} has no event to take a frame from")
        ev = rows[0]
        req = uuid7()
        now = time.time()
        self.db.write(
            lambda d: d.table("snapshots").insert(
                {
                    "req": req,
                    "incident_id": incident_id,
                    "device_id": ev["dev"],
                    "event_id": ev["id"],
                    "requested_by": actor,
                    "created_at": now,
                    "status": "pending",
                }
            )
        )
        msg = SnapshotRequest(req=req, ts=int(now * 1000), event=ev["id"])
        self.publisher.publish(
            self.topics.device(ev["dev"], Channel.SNAPSHOT_REQ), encode(msg), qos=1
        )
        return {"req": req, "device_id": ev["dev"], "event_id": ev["id"], "status": "pending"}

    def handle(self, topic: ParsedTopic, payload: bytes) -> None:
        """MQTT handler for ``snapshot``: store the answer if it matches a request of ours."""
        try:
            msg = decode(Channel.SNAPSHOT, payload)
        except ProtocolError:
            self.rejected += 1
            return
        rows = self.db.query("select device_id, status from snapshots where req = ?", [msg.req])
        # Only the board we asked may answer, and only once.
        if not rows or rows[0]["device_id"] != topic.ident or rows[0]["status"] != "pending":
            self.rejected += 1
            return
        fields: dict[str, Any] = {"answered_at": time.time()}
        if msg.ok and msg.data:
            try:
                data = base64.b64decode(msg.data, validate=True)
            except (binascii.Error, ValueError):
                data = b""
            if not data.startswith(b"\xff\xd8") or len(data) > MAX_IMAGE_BYTES:
                fields.update(status="error", error="the board sent something that is not a JPEG")
            else:
                fields.update(
                    status="ok", mime=msg.mime, width=msg.width, height=msg.height, data=data
                )
        else:
            fields.update(status="error", error=msg.error or "the board has no such frame")
        self.db.write(lambda d: d.table("snapshots").update(msg.req, fields))

    def status(self, req: str) -> dict[str, Any]:
        """The request's state, without the image."""
        rows = self.db.query(
            "select req, incident_id, device_id, event_id, requested_by, created_at, answered_at,"
            " status, mime, width, height, error from snapshots where req = ?",
            [req],
        )
        if not rows:
            raise SnapshotNotFound(f"no snapshot {req} (never requested, or expired)")
        return rows[0]

    def image(self, req: str, actor: Any) -> tuple[bytes, str]:
        """The JPEG bytes; the view is audited before it is returned."""
        rows = self.db.query(
            "select incident_id, status, mime, data from snapshots where req = ?", [req]
        )
        if not rows or rows[0]["status"] != "ok":
            raise SnapshotNotFound(f"snapshot {req} has no image")
        self.audit.record(
            actor, "view_snapshot", "snapshot", req, detail={"incident": rows[0]["incident_id"]}
        )
        return rows[0]["data"], rows[0]["mime"] or "image/jpeg"


def expire_snapshots(db: Database, cutoff: float) -> int:
    """Delete rows of a ``snapshots`` table created before ``cutoff`` (if the table exists)."""
    if "created_at" not in db.columns("snapshots"):
        return 0
    return db.execute_write("delete from snapshots where created_at < ?", [cutoff])
