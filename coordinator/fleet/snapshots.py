"""Snapshots on demand: the centre asks cameras for the JPEGs of an incident's event frames.

Never continuous video (DESIGN.md): an operator asks for the frames of one incident; one
request per event goes to the board that saw it (``snapshot/req``, QoS 1), only where the
camera's sharing terms allow it (:mod:`coordinator.fleet.sharing`). The board answers from
its ring of recent event frames on ``snapshot``. An unanswered request is sent again with
the same id (a late first answer still counts) and marked ``timeout`` after its last try.
An answer is kept only if the board we asked sends it once, for the event we asked about,
and it is a JPEG of bounded size. The image is stored unaltered — the event's box goes to
the dashboard as metadata — kept for ``snapshot_retention_hours``, and every view is
audited with its purpose (a frame may show people).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
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

from ..errors import Conflict, Forbidden, NotFound
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..platform.bus import Publisher
from ..platform.db import Database
from .agreements import Level
from .owners import OwnerService
from .sharing import effective_sharing, refusal

MAX_IMAGE_BYTES = 1_000_000
JPEG_SOI = b"\xff\xd8\xff"

_META = (
    "req, incident_id, device_id, event_id, requested_by, purpose, created_at, sent_at,"
    " answered_at, attempts, status, mime, width, height, bytes, sha256, error"
)


class SnapshotError(Conflict, ValueError):
    """A snapshot cannot be requested now; the message says why."""


class SnapshotNotFound(NotFound, SnapshotError):
    """No such snapshot, or none with an image."""


class SharingRefused(Forbidden, SnapshotError):
    """Every camera of the request refuses to share frames on these terms."""


class AgreementRefused(SharingRefused):
    """The camera owners' sharing agreements forbid it (the answer carries this ``code``,
    so the dashboard says it in the reader's language)."""

    code = "sharing_agreement"


def check_jpeg(data: bytes) -> str | None:
    """Why ``data`` is not an acceptable JPEG answer, or None."""
    if not data.startswith(JPEG_SOI):
        return "the board sent something that is not a JPEG"
    if len(data) > MAX_IMAGE_BYTES:
        return f"the board sent {len(data)} bytes, more than {MAX_IMAGE_BYTES}"
    return None


def spread(items: list[Any], n: int) -> list[Any]:
    """At most ``n`` of ``items``, evenly spread, always keeping the first and the last."""
    if len(items) <= n:
        return list(items)
    if n == 1:
        return [items[-1]]
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


class SnapshotService:
    """Requests snapshots over MQTT, retries them, and stores the boards' checked answers."""

    def __init__(
        self,
        db: Database,
        audit: AuditService,
        topics: Topics,
        *,
        timeout_s: float = 5.0,
        attempts: int = 4,
        max_frames: int = 24,
    ) -> None:
        self.db = db
        self.audit = audit
        self.topics = topics
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.max_frames = max_frames
        self.publisher: Publisher | None = None
        #: Whether the publisher can send now (the composition root passes the link's state).
        self.can_send: Callable[[], bool] = lambda: True
        self.rejected = 0
        #: The owners' sharing agreements (set by the composition root): checked on every
        #: request, answer and view; None checks only the per-camera evidence terms.
        self.owners: OwnerService | None = None

    def _agreed(self, device_id: str, wanted: Level, stamped: str | None = None) -> str | None:
        """Why the camera's owner agreement refuses ``wanted`` now (or, for an event's
        frame, refused it when the event was recorded), or None."""
        if self.owners is None:
            return None
        now = self.owners.refusal(device_id, wanted)
        if now is None and stamped is not None and not Level(stamped).allows(wanted):
            return (
                f"camera {device_id}: its owner's agreement did not share frames when the "
                "event was recorded"
            )
        return now

    # requests ---------------------------------------------------------------------------
    def request(
        self, incident_id: str, actor: Principal | str, purpose: str | None = None
    ) -> dict[str, Any]:
        """Ask for the frame of the incident's latest event (the one-frame request)."""
        rows = self._events(incident_id)
        if not rows:
            raise SnapshotError(f"incident {incident_id} has no event to take a frame from")
        out = self._ask(incident_id, rows[-1:], actor, purpose)
        if not out["requested"]:
            first = out["refused"][0]
            raise (AgreementRefused if first["agreement"] else SharingRefused)(first["reason"])
        first = out["requested"][0]
        return {k: first[k] for k in ("req", "device_id", "event_id", "status")}

    def request_incident(
        self,
        incident_id: str,
        actor: Principal | str,
        purpose: str | None = None,
        event_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Ask every camera of the incident for its events' frames, where its terms allow.

        Events whose frame is already stored or on its way are not asked again; at most
        ``max_frames`` are asked for, spread over the incident's time span. ``event_ids``
        narrows the request to some of the incident's events.
        """
        rows = self._events(incident_id)
        if event_ids is not None:
            wanted = set(event_ids)
            rows = [r for r in rows if r["id"] in wanted]
        if not rows:
            raise SnapshotError(f"incident {incident_id} has no such event to take a frame from")
        have = {
            r["event_id"]
            for r in self.db.query(
                # By event, not by incident: frames follow their events through merges.
                "select event_id from snapshots where status in ('pending', 'ok') and "
                "event_id in (select id from events where incident_id = ?)",
                [incident_id],
            )
        }
        todo = spread([r for r in rows if r["id"] not in have], self.max_frames)
        out = self._ask(incident_id, todo, actor, purpose)
        out["already"] = len(have)
        if not out["requested"] and out["refused"] and not have:
            why = "; ".join(sorted({r["reason"] for r in out["refused"]}))
            by_agreement = all(r["agreement"] for r in out["refused"])
            raise (AgreementRefused if by_agreement else SharingRefused)(why)
        return out

    def request_view(
        self, device_id: str, actor: Principal | str, purpose: str | None = None
    ) -> dict[str, Any]:
        """Ask a camera for its current view (a fresh frame, not an event's), where its
        sharing terms allow; the request is audited. For drawing the camera's rules."""
        if self.publisher is None:
            raise SnapshotError("the centre is not connected to the broker")
        cams = self.db.query(
            "select owner_type, evidence_sharing from devices where id = ?", [device_id]
        )
        if not cams:
            raise SnapshotNotFound(f"no camera {device_id!r}")
        purpose = (purpose or "").strip() or None
        denied = self._agreed(device_id, Level.LIVE)
        if denied is not None and self.owners is not None:
            self.owners.denied(actor, device_id, Level.LIVE, denied, purpose=purpose)
            raise AgreementRefused(denied)
        why = refusal(device_id, cams[0]["owner_type"], cams[0]["evidence_sharing"], purpose)
        if why is not None:
            raise SharingRefused(why)
        now = time.time()
        row = {
            "req": uuid7(),
            "incident_id": None,
            "device_id": device_id,
            "event_id": None,  # no event: the board sends what its camera sees now
            "requested_by": actor.username if isinstance(actor, Principal) else actor,
            "purpose": purpose,
            "created_at": now,
            "sent_at": now,
            "attempts": 1,
            "status": "pending",
        }
        entry = AuditService.entry(
            actor, "request_view", "device", device_id, purpose=purpose, detail={"req": row["req"]}
        )

        def write(d: Any) -> None:
            d.table("snapshots").insert(row)
            AuditService.append(d, entry)

        self.db.write(write)
        self._send(row)
        return {k: row[k] for k in ("req", "device_id", "event_id", "status")}

    def _events(self, incident_id: str) -> list[dict[str, Any]]:
        return self.db.query(
            "select e.id, e.dev, e.share, d.owner_type, d.evidence_sharing from events e "
            "left join devices d on d.id = e.dev where e.incident_id = ? order by e.t, e.seq",
            [incident_id],
        )

    def _ask(
        self,
        incident_id: str,
        events: list[dict[str, Any]],
        actor: Principal | str,
        purpose: str | None,
    ) -> dict[str, Any]:
        if self.publisher is None:
            raise SnapshotError("the centre is not connected to the broker")
        purpose = (purpose or "").strip() or None
        name = actor.username if isinstance(actor, Principal) else actor
        now = time.time()
        rows: list[dict[str, Any]] = []
        refused: dict[str, dict[str, Any]] = {}
        denied: dict[str, str] = {}
        for ev in events:
            why = self._agreed(ev["dev"], Level.SNAPSHOTS, ev.get("share"))
            if why is not None:
                denied[ev["dev"]] = why
            else:
                why = refusal(ev["dev"], ev["owner_type"], ev["evidence_sharing"], purpose)
            if why is not None:
                terms = effective_sharing(ev["owner_type"], ev["evidence_sharing"])
                refused[ev["dev"]] = {"device_id": ev["dev"], "sharing": terms, "reason": why,
                                      "agreement": ev["dev"] in denied}  # fmt: skip
                continue
            rows.append(
                {
                    "req": uuid7(),
                    "incident_id": incident_id,
                    "device_id": ev["dev"],
                    "event_id": ev["id"],
                    "requested_by": name,
                    "purpose": purpose,
                    "created_at": now,
                    "sent_at": now,
                    "attempts": 1,
                    "status": "pending",
                }
            )
        entry = AuditService.entry(
            actor,
            "request_snapshots",
            "incident",
            incident_id,
            purpose=purpose,
            detail={"frames": len(rows), "refused": sorted(refused)},
        )

        refusals = [
            AuditService.entry(actor, "denied", "incident", incident_id, purpose=purpose,
                               detail={"wanted": "snapshots", "device": dev, "reason": why})
            for dev, why in sorted(denied.items())
        ]  # fmt: skip

        def write(d: Any) -> None:
            if rows:
                d.table("snapshots").insert_all(rows)
            AuditService.append(d, entry)
            for r in refusals:
                AuditService.append(d, r)

        self.db.write(write)
        for r in rows:
            self._send(r)
        return {
            "incident_id": incident_id,
            "requested": [
                {k: r[k] for k in ("req", "device_id", "event_id", "status")} for r in rows
            ],
            "refused": list(refused.values()),
        }

    def _send(self, row: dict[str, Any]) -> None:
        assert self.publisher is not None
        event = row["event_id"]  # none: the camera's current view
        msg = SnapshotRequest(
            req=row["req"], ts=int(time.time() * 1000), event=event, live=event is None
        )
        self.publisher.publish(
            self.topics.device(row["device_id"], Channel.SNAPSHOT_REQ), encode(msg), qos=1
        )

    def retry_due(self, now: float | None = None) -> int:
        """Job: send unanswered requests again, or mark them timed out after the last try.

        Only a process whose link is up sends again (``can_send``); a separate jobs process
        (``coordinator jobs``) has none, so there a request is sent once and marked timed
        out when all its tries would have been spent.
        """
        now = time.time() if now is None else now
        sending = self.publisher is not None and self.can_send()
        due = self.db.query(
            "select req, device_id, event_id, attempts, created_at from snapshots "
            "where status = 'pending' and sent_at < ?",
            [now - self.timeout_s],
        )
        last_chance = now - self.timeout_s * self.attempts
        again = [r for r in due if sending and (r["attempts"] or 1) < self.attempts]
        dead = [
            r["req"]
            for r in due
            if (r["attempts"] or 1) >= self.attempts or r["created_at"] < last_chance
        ]
        if not again and not dead:
            return 0

        def write(d: Any) -> None:
            for r in again:
                d.execute(
                    "update snapshots set attempts = ?, sent_at = ? where req = ? "
                    "and status = 'pending'",
                    [(r["attempts"] or 1) + 1, now, r["req"]],
                )
            for req in dead:
                d.execute(
                    "update snapshots set status = 'timeout', answered_at = ?, error = ? "
                    "where req = ? and status = 'pending'",
                    [now, f"no answer after {self.attempts} tries (board offline?)", req],
                )

        self.db.write(write)
        for r in again:
            self._send(r)
        return len(again) + len(dead)

    # answers ----------------------------------------------------------------------------
    def handle(self, topic: ParsedTopic, payload: bytes) -> None:
        """MQTT handler for ``snapshot``: store the answer if it matches a request of ours."""
        try:
            msg = decode(Channel.SNAPSHOT, payload)
        except ProtocolError:
            self.rejected += 1
            return
        rows = self.db.query(
            "select device_id, event_id, status from snapshots where req = ?", [msg.req]
        )
        # Only the board we asked may answer, only once, and only about the event we asked.
        if (
            not rows
            or rows[0]["device_id"] != topic.ident
            or rows[0]["status"] != "pending"
            or (msg.event is not None and msg.event != rows[0]["event_id"])
        ):
            self.rejected += 1
            return
        fields: dict[str, Any] = {"answered_at": time.time()}
        wanted = Level.SNAPSHOTS if rows[0]["event_id"] else Level.LIVE
        denied = self._agreed(rows[0]["device_id"], wanted)
        if denied is not None:
            # The agreement changed while the board answered: the image is not kept.
            fields.update(status="denied", error=denied)
        elif msg.ok and msg.data:
            try:
                data = base64.b64decode(msg.data, validate=True)
            except (binascii.Error, ValueError):
                data = b""
            bad = check_jpeg(data)
            if bad:
                fields.update(status="error", error=bad)
            else:
                fields.update(
                    status="ok",
                    mime=msg.mime,
                    width=msg.width,
                    height=msg.height,
                    data=data,
                    bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
        else:
            fields.update(status="error", error=msg.error or "the board has no such frame")

        def write(d: Any) -> None:
            # Guarded by status: a duplicate answer racing the first changes nothing.
            sets = ", ".join(f"{k} = ?" for k in fields)
            d.execute(
                f"update snapshots set {sets} where req = ? and status = 'pending'",
                [*fields.values(), msg.req],
            )

        self.db.write(write)

    # reads ------------------------------------------------------------------------------
    def status(self, req: str) -> dict[str, Any]:
        """The request's state, without the image."""
        rows = self.db.query(f"select {_META} from snapshots where req = ?", [req])
        if not rows:
            raise SnapshotNotFound(f"no snapshot {req} (never requested, or expired)")
        return rows[0]

    def frames(self, incident_id: str) -> list[dict[str, Any]]:
        """The incident's requested frames (no image bytes), with each event's box."""
        rows = self.db.query(
            f"select {', '.join('s.' + c.strip() for c in _META.split(','))},"
            " e.box, e.label, e.kind, e.phase, e.t from snapshots s"
            " left join events e on e.id = s.event_id"
            # Frames follow their events through merges and splits.
            " where s.incident_id = ? or e.incident_id = ? order by e.t, s.created_at",
            [incident_id, incident_id],
        )
        for r in rows:
            box = json.loads(r.pop("box")) if r.get("box") else None
            r["boxes"] = (
                [{"event_id": r["event_id"], "label": r["label"], "kind": r["kind"], "box": box}]
                if box
                else []
            )
        return rows

    def image(
        self, req: str, actor: Principal | str, purpose: str | None = None
    ) -> tuple[bytes, str]:
        """The JPEG bytes, unaltered; the view is audited (with its purpose) before return."""
        rows = self.db.query(
            "select incident_id, device_id, event_id, status, mime, data, purpose, sha256 "
            "from snapshots where req = ?",
            [req],
        )
        if not rows or rows[0]["status"] != "ok":
            raise SnapshotNotFound(f"snapshot {req} has no image")
        r = rows[0]
        if self.owners is not None:
            wanted = Level.SNAPSHOTS if r["event_id"] else Level.LIVE
            terms, _ = self.owners.agreement(r["device_id"])
            if not terms.level.allows(wanted):
                why = (f"camera {r['device_id']}: its owner's agreement no longer shares "
                       f"{'frames' if r['event_id'] else 'live view'}")  # fmt: skip
                self.owners.denied(actor, r["device_id"], wanted, why, snapshot=req)
                raise AgreementRefused(why)
        self.audit.record(
            actor,
            "view_snapshot",
            "snapshot",
            req,
            purpose=(purpose or "").strip() or r["purpose"] or "incident review",
            detail={"incident": r["incident_id"], "sha256": r["sha256"]},
        )
        return r["data"], r["mime"] or "image/jpeg"


def expire_snapshots(db: Database, cutoff: float) -> int:
    """Delete rows of a ``snapshots`` table created before ``cutoff`` (if the table exists)."""
    if "created_at" not in db.columns("snapshots"):
        return 0
    return db.execute_write("delete from snapshots where created_at < ?", [cutoff])
