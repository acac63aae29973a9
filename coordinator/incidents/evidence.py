"""An incident exported as evidence for hand-over: frames, events, action log, with hashes.

The bundle is a zip of plain files a recipient can read without CityWatch::

    incident.json          the incident as the centre holds it
    events.json            its events (what, where, when, the detector's boxes)
    actions.json           its action log (who confirmed, dispatched, merged … and when)
    frames.json            one entry per frame: camera, event, who asked, why, when, box
    frames/<event>.jpg     the JPEGs exactly as the boards sent them (boxes are not drawn)
    manifest.json          who exported it, when, why, and the SHA-256 and size of every file
    manifest.json.sha256   the SHA-256 of manifest.json (``sha256sum -c`` reads it)

The manifest's own hash is also written to the audit log with the export, so the centre
can later confirm that a bundle is the one it handed over. :func:`build_bundle` and
:func:`verify_bundle` are pure; :class:`EvidenceExporter` reads the database and audits.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from typing import Any

from ..fleet.agreements import Level
from ..fleet.owners import OwnerService
from ..identity.audit import AuditService
from ..identity.auth import Principal
from ..platform.db import Database
from .actions import IncidentNotFound, public_row

FORMAT = "citywatch-evidence/1"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"


def _json(obj: Any) -> bytes:
    return (
        json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    ).encode()


def build_bundle(files: dict[str, bytes], meta: dict[str, Any]) -> tuple[bytes, str]:
    """The zip of ``files`` plus manifest and manifest hash; returns (zip bytes, manifest SHA-256)."""
    listing = [
        {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for path, data in sorted(files.items())
    ]
    manifest = _json({"format": FORMAT, **meta, "files": listing})
    digest = hashlib.sha256(manifest).hexdigest()
    stamp = time.gmtime(meta.get("exported_at", time.time()))[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        out = {**dict(sorted(files.items())), MANIFEST: manifest}
        out[MANIFEST_SUM] = f"{digest}  {MANIFEST}\n".encode()
        for path, data in out.items():
            info = zipfile.ZipInfo(path, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            # JPEGs are already compressed: store them as they are.
            info.compress_type = (
                zipfile.ZIP_STORED if path.endswith(".jpg") else zipfile.ZIP_DEFLATED
            )
            z.writestr(info, data)
    return buf.getvalue(), digest


def verify_bundle(data: bytes) -> list[str]:
    """What is wrong with a bundle (empty when every hash matches and nothing is extra)."""
    problems: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        if MANIFEST not in names or MANIFEST_SUM not in names:
            return ["no manifest"]
        manifest = z.read(MANIFEST)
        want = z.read(MANIFEST_SUM).decode().split()[0]
        if hashlib.sha256(manifest).hexdigest() != want:
            problems.append("manifest.json does not match manifest.json.sha256")
        listed = json.loads(manifest)["files"]
        for f in listed:
            if f["path"] not in names:
                problems.append(f"{f['path']} is missing")
            elif hashlib.sha256(z.read(f["path"])).hexdigest() != f["sha256"]:
                problems.append(f"{f['path']} does not match its SHA-256")
        extra = names - {f["path"] for f in listed} - {MANIFEST, MANIFEST_SUM}
        problems += [f"{n} is not in the manifest" for n in sorted(extra)]
    return problems


class EvidenceExporter:
    """Builds an incident's evidence bundle from the database; every export is audited."""

    def __init__(
        self, db: Database, audit: AuditService, owners: OwnerService | None = None
    ) -> None:
        self.db = db
        self.audit = audit
        #: The owners' sharing agreements: a frame whose camera no longer shares frames is
        #: left out of a bundle (the retention job deletes it soon after).
        self.owners = owners

    def export(
        self, incident_id: str, actor: Principal | str, purpose: str
    ) -> tuple[bytes, str, dict[str, Any]]:
        """(zip bytes, manifest SHA-256, manifest metadata) of the incident."""
        rows = self.db.query("select * from incidents where id = ?", [incident_id])
        if not rows:
            raise IncidentNotFound(f"no incident {incident_id!r}")
        events = self.db.query(
            "select * from events where incident_id = ? order by t, seq", [incident_id]
        )
        for e in events:
            e["box"] = json.loads(e["box"]) if e.get("box") else None
        log = self.db.query(
            "select ts, actor, action, detail from incident_log where incident_id = ? order by id",
            [incident_id],
        )
        for entry in log:
            entry["detail"] = json.loads(entry["detail"]) if entry.get("detail") else None
        files, frames = self._frames(incident_id, {e["id"]: e for e in events})
        files.update(
            {
                "incident.json": _json(public_row(rows[0])),
                "events.json": _json(events),
                "actions.json": _json(log),
                "frames.json": _json(frames),
            }
        )
        name = actor.username if isinstance(actor, Principal) else actor
        meta = {
            "incident_id": incident_id,
            "exported_at": time.time(),
            "exported_by": name,
            "purpose": purpose,
            "events": len(events),
            "frames": len(frames),
        }
        data, digest = build_bundle(files, meta)
        self.audit.record(
            actor,
            "export_evidence",
            "incident",
            incident_id,
            purpose=purpose,
            detail={"manifest_sha256": digest, "files": len(files), "frames": len(frames)},
        )
        return data, digest, meta

    def _frames(
        self, incident_id: str, events: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
        files: dict[str, bytes] = {}
        frames: list[dict[str, Any]] = []
        for s in self.db.query(
            "select req, device_id, event_id, requested_by, purpose, created_at, answered_at,"
            " width, height, sha256, data from snapshots"
            " where status = 'ok' and (incident_id = ? or event_id in"
            " (select id from events where incident_id = ?)) order by created_at",
            [incident_id, incident_id],
        ):
            path = f"frames/{s['event_id']}.jpg"
            if path in files:
                continue  # the same event asked twice: one copy is enough
            wanted = Level.SNAPSHOTS if s["event_id"] else Level.LIVE
            if self.owners and not self.owners.agreement(s["device_id"])[0].level.allows(wanted):
                continue
            files[path] = bytes(s.pop("data"))
            ev = events.get(s["event_id"]) or {}
            frames.append({**s, "file": path, "box": ev.get("box"), "label": ev.get("label")})
        return files, frames
