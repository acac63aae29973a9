"""Camera rules as revisions: the centre is the source of truth of every camera's rules.

Each change appends a revision (author, reason, audit entry); a rollback appends a revision
with an older one's content; nothing is edited in place. The latest revision is published
as the board's retained config, rendered at the config level the board declared on its
``state`` (a level-1 board gets no masks), so a board that was offline gets the latest when
it reconnects and reports the revision it applied — the drift view compares the two.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import msgspec
import sqlite_utils

from protocol import Channel, Config, ProtocolError, State, Topics, encode, render_config
from protocol.codec import from_builtins
from protocol.validate import validate_config

from ..errors import Conflict, DomainError, Invalid, NotFound
from ..identity.audit import AuditService
from ..platform.bus import Publisher
from ..platform.db import Database
from .defaults import profile_defaults
from .model_store import ModelStore

log = logging.getLogger(__name__)

#: Event kinds that open incidents unless the centre's settings say otherwise.
CREATING_KINDS = frozenset({"intrusion", "loitering", "crowd", "line_crossing"})


class RulesError(DomainError):
    """A camera-rules request that cannot be done."""


class UnknownCamera(RulesError, NotFound):
    """No such device, or no such revision."""


class InvalidRules(RulesError, Invalid):
    """The rules fail the protocol schema or its semantic checks."""


class NeedsConfirmation(RulesError, Conflict):
    """The revision would leave the camera without any incident-raising rule."""


def to_config(rules: dict[str, Any], rev: int) -> Config:
    """Validate a rules mapping (protocol Config fields without ``v``/``rev``) as level 2."""
    body = {k: v for k, v in rules.items() if k not in ("v", "rev")}
    try:
        cfg: Config = from_builtins(Channel.CONFIG, {"v": 2, "rev": rev, **body})
    except ProtocolError as exc:
        raise InvalidRules(str(exc).removeprefix("config: ")) from None
    problems = validate_config(cfg)
    if problems:
        raise InvalidRules("; ".join(problems))
    return cfg


def rules_of(cfg: Config) -> dict[str, Any]:
    """The canonical stored form of a config's rules (defaults left out, no ``v``/``rev``)."""
    out = msgspec.to_builtins(cfg)
    return {k: v for k, v in out.items() if k not in ("v", "rev")}


def incident_rules(cfg: Config, creating: Iterable[str] = CREATING_KINDS) -> list[str]:
    """Names of the zones that can open an incident: a creating kind, some class to watch,
    and a schedule that is ever active."""
    kinds = set(creating)
    return [
        z.name
        for z in cfg.zones
        if z.rule in kinds and z.labels and (z.schedule is None or cfg.schedules.get(z.schedule))
    ]


def _revision(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "rules": json.loads(row["rules"])}


class CamRulesService:
    """Revisions, publishing and drift of every camera's rules."""

    def __init__(
        self,
        db: Database,
        topics: Topics,
        *,
        publisher: Publisher | None = None,
        creating_kinds: Iterable[str] = CREATING_KINDS,
        models: ModelStore | None = None,
    ) -> None:
        self.db = db
        self.models = models
        self.topics = topics
        self.publisher = publisher
        self.creating_kinds = frozenset(creating_kinds)
        # Reading the latest revision and handing it to the link happen under one lock, so
        # two edits saved at once reach the broker in revision order (the retained copy is
        # the last one published).
        self._publish_lock = threading.Lock()

    # reading ----------------------------------------------------------------------------
    def current(self, device_id: str) -> dict[str, Any] | None:
        """The latest revision of a camera, or None when it has none."""
        rows = self.db.query(
            "select * from camera_rule_revisions where device_id = ? order by rev desc limit 1",
            [device_id],
        )
        return _revision(rows[0]) if rows else None

    def revisions(self, device_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """A camera's revisions, newest first."""
        rows = self.db.query(
            "select * from camera_rule_revisions where device_id = ? order by rev desc limit ?",
            [device_id, limit],
        )
        return [_revision(r) for r in rows]

    def config(self, device_id: str) -> Config | None:
        """The latest revision as a (level-2) protocol Config."""
        cur = self.current(device_id)
        return None if cur is None else to_config(cur["rules"], cur["rev"])

    def status(self, device_id: str) -> dict[str, Any]:
        """Desired vs applied revision, the drift flag, the board's error and config level."""
        return _status(self.db.read().conn, device_id)

    def drift_summary(self) -> list[dict[str, Any]]:
        """The status of every camera that has rules, drifting ones first (two queries)."""
        conn = self.db.read().conn
        boards = {
            r[0]: r[1:]
            for r in conn.execute(f"select device_id, {_BOARD_COLS} from camera_rule_boards")
        }
        latest = conn.execute(
            "select r.device_id, r.rev, r.rules from camera_rule_revisions r join "
            "(select device_id, max(rev) as rev from camera_rule_revisions group by device_id) m "
            "on m.device_id = r.device_id and m.rev = r.rev"
        ).fetchall()
        rows = [_status_of(dev, (rev, rules), boards.get(dev)) for dev, rev, rules in latest]
        return sorted(rows, key=lambda r: (not r["drift"], r["device_id"]))

    # writing ----------------------------------------------------------------------------
    def set(
        self,
        device_id: str,
        rules: dict[str, Any],
        author: str,
        reason: str,
        *,
        confirm_no_incident_rules: bool = False,
        rolled_back_to: int | None = None,
    ) -> dict[str, Any]:
        """Append a revision with ``rules`` and publish it; returns the revision."""

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            if not db.execute("select 1 from devices where id = ?", [device_id]).fetchone():
                raise UnknownCamera(f"no device {device_id!r}")
            return self.append(
                db,
                device_id,
                rules,
                author,
                reason,
                confirm_no_incident_rules=confirm_no_incident_rules,
                rolled_back_to=rolled_back_to,
            )

        row = self.db.write(write)
        self.publish(device_id)
        return row

    def rollback(
        self,
        device_id: str,
        to_rev: int,
        author: str,
        reason: str,
        *,
        confirm_no_incident_rules: bool = False,
    ) -> dict[str, Any]:
        """Append a revision with revision ``to_rev``'s content (history is never rewritten)."""
        rows = self.db.query(
            "select rules from camera_rule_revisions where device_id = ? and rev = ?",
            [device_id, to_rev],
        )
        if not rows:
            raise UnknownCamera(f"camera {device_id!r} has no revision {to_rev}")
        return self.set(
            device_id,
            json.loads(rows[0]["rules"]),
            author,
            reason,
            confirm_no_incident_rules=confirm_no_incident_rules,
            rolled_back_to=to_rev,
        )

    def append(
        self,
        db: sqlite_utils.Database,
        device_id: str,
        rules: dict[str, Any],
        author: str,
        reason: str,
        *,
        confirm_no_incident_rules: bool = False,
        rolled_back_to: int | None = None,
    ) -> dict[str, Any]:
        """Inside a write transaction: validate and append a revision (publish after commit)."""
        if not reason.strip():
            raise InvalidRules("a revision needs a reason")
        last = db.execute(
            "select coalesce(max(rev), 0) from camera_rule_revisions where device_id = ?",
            [device_id],
        ).fetchone()[0]
        cfg = to_config(rules, last + 1)
        if not incident_rules(cfg, self.creating_kinds) and not confirm_no_incident_rules:
            raise NeedsConfirmation(
                f"revision {last + 1} would leave camera {device_id} without any rule that "
                "raises an incident (only presence would be reported); send "
                "confirm_no_incident_rules: true if that is intended"
            )
        row = {
            "device_id": device_id,
            "rev": last + 1,
            "rules": json.dumps(rules_of(cfg), sort_keys=True),
            "author": author,
            "reason": reason.strip(),
            "rolled_back_to": rolled_back_to,
            "created_at": time.time(),
        }
        db.table("camera_rule_revisions").insert(row)
        action = "camera_rules_rollback" if rolled_back_to is not None else "camera_rules_set"
        detail = {"rev": row["rev"], "reason": row["reason"], "rolled_back_to": rolled_back_to}
        AuditService.append(
            db, AuditService.entry(author, action, "device", device_id, detail=detail)
        )
        return _revision(row)

    def seed(self, devices: Iterable[dict[str, Any]], author: str = "system") -> list[str]:
        """Give cameras without rules their profile's defaults (revision 1) and publish them;
        returns the ids seeded. Called when boards are registered (enrolment does that)."""
        devices = [d for d in devices if d.get("id")]

        def write(db: sqlite_utils.Database) -> list[str]:
            seeded = []
            for d in devices:
                if db.execute(
                    "select 1 from camera_rule_revisions where device_id = ?", [d["id"]]
                ).fetchone():
                    continue
                profile = d.get("profile")
                self.append(
                    db,
                    d["id"],
                    profile_defaults(profile),
                    author,
                    f"defaults of board profile {profile or '(none)'}",
                )
                seeded.append(d["id"])
            return seeded

        seeded = self.db.write(write) if devices else []
        for dev in seeded:
            self.publish(dev)
        return seeded

    # publishing -------------------------------------------------------------------------
    def publish(self, device_id: str, db: sqlite_utils.Database | None = None) -> bool:
        """Publish the latest revision as the board's retained config, at its config level.

        With ``db`` (inside a write transaction) the publication is recorded there; the
        payload is the same for the same revision and level, so publishing again is harmless.
        """
        with self._publish_lock:
            conn = (db or self.db.read()).conn
            row = conn.execute(
                "select rev, rules from camera_rule_revisions where device_id = ? "
                "order by rev desc limit 1",
                [device_id],
            ).fetchone()
            if row is None or self.publisher is None:
                return False
            level, detector = _level(conn, device_id)
            model = self.models.ref(detector) if self.models and level >= 3 else None
            cfg = render_config(to_config(json.loads(row[1]), row[0]), level, model)
            try:
                self.publisher.publish(
                    self.topics.device(device_id, Channel.CONFIG), encode(cfg), qos=1, retain=True
                )
            except RuntimeError as exc:  # the link is not started: the next state retries
                log.info("rules of %s not published yet: %s", device_id, exc)
                return False
        args = [device_id, row[0], level, time.time(), model.sha256 if model else None]
        # Recorded after the lock is released (the writer thread may be waiting for it in
        # on_state); an older publication recorded late never overwrites a newer one.
        sql = (
            "insert into camera_rule_boards (device_id, published_rev, published_level, "
            "published_at, published_model) values (?, ?, ?, ?, ?) on conflict(device_id) "
            "do update set published_rev = excluded.published_rev, "
            "published_level = excluded.published_level, published_at = excluded.published_at, "
            "published_model = excluded.published_model "
            "where excluded.published_rev >= coalesce(camera_rule_boards.published_rev, 0)"
        )
        if db is not None:
            db.execute(sql, args)
        else:
            self.db.write(lambda w: w.execute(sql, args))
        return True

    def publish_pending(self) -> int:
        """Publish every camera whose latest revision was never published (a revision saved
        by the command line, or while the link was down); the centre runs this every few
        seconds. Returns how many were published."""
        rows = self.db.query(
            "select r.device_id from camera_rule_revisions r left join camera_rule_boards b "
            "on b.device_id = r.device_id group by r.device_id "
            "having max(r.rev) != coalesce(max(b.published_rev), 0)"
        )
        devices = {r["device_id"] for r in rows} | self._model_changed()
        return sum(self.publish(d) for d in sorted(devices))

    def _model_changed(self) -> frozenset[str]:
        """Level-3 boards whose named model is not the store's model of their kind any more
        (``coordinator models build`` filled or changed the store)."""
        if self.models is None:
            return frozenset()
        refs = self.models.refs()
        rows = self.db.query(
            "select device_id, detector, published_model from camera_rule_boards "
            "where config_level >= 3 and published_rev is not null"
        )
        return frozenset(
            r["device_id"]
            for r in rows
            if (refs[r["detector"]].sha256 if r["detector"] in refs else None)
            != r["published_model"]
        )

    def on_state(self, db: sqlite_utils.Database, dev: str, st: State, now: float) -> None:
        """Inside the ingest transaction: record what the board reports; publish again when
        it now speaks another config level (a firmware update) or never got the latest."""
        if st.status != "online":
            return  # a Last Will carries the revision of when the board connected: stale
        db.execute(
            "insert into camera_rule_boards (device_id, config_level, applied_rev, error, "
            "reported_at, detector, model_sha256, model_error) values (?, ?, ?, ?, ?, ?, ?, ?) "
            "on conflict(device_id) do update set "
            "config_level = excluded.config_level, applied_rev = excluded.applied_rev, "
            "error = excluded.error, reported_at = excluded.reported_at, "
            "detector = excluded.detector, model_sha256 = excluded.model_sha256, "
            "model_error = excluded.model_error",
            [
                dev,
                st.config_level or 1,
                st.config_rev,
                st.config_error,
                now,
                st.detector,
                st.model_sha256,
                st.model_error,
            ],
        )
        pub = db.execute(
            "select b.published_rev, b.published_level, max(r.rev), b.published_model "
            "from camera_rule_boards b join camera_rule_revisions r "
            "on r.device_id = b.device_id where b.device_id = ?",
            [dev],
        ).fetchone()
        if pub is None or pub[2] is None:
            return
        level = st.config_level or 1
        model = self.models.ref(st.detector) if self.models and level >= 3 else None
        named = model.sha256 if model else None
        if pub[0] != pub[2] or pub[1] != level or (level >= 3 and pub[3] != named):
            self.publish(dev, db)


def _level(conn: Any, device_id: str) -> tuple[int, str | None]:
    """The config level a board declared (1 when unknown) and its detector kind."""
    row = conn.execute(
        "select config_level, detector from camera_rule_boards where device_id = ?", [device_id]
    ).fetchone()
    return (int(row[0]) if row and row[0] else 1), (row[1] if row else None)


_BOARD_COLS = (
    "config_level, applied_rev, error, reported_at, published_rev, published_level, "
    "detector, published_model, model_sha256, model_error"
)


def _status(conn: Any, device_id: str) -> dict[str, Any]:
    rev = conn.execute(
        "select rev, rules from camera_rule_revisions where device_id = ? order by rev desc limit 1",
        [device_id],
    ).fetchone()
    board = conn.execute(
        f"select {_BOARD_COLS} from camera_rule_boards where device_id = ?", [device_id]
    ).fetchone()
    return _status_of(device_id, rev, board)


def _status_of(device_id: str, rev: Any, board: Any) -> dict[str, Any]:
    """Desired vs applied from the latest (rev, rules JSON) and the board's row."""
    (level, applied, error, reported_at, published_rev, published_level) = (board or (None,) * 10)[
        :6
    ]
    detector, named, running, model_error = (board or (None,) * 10)[6:]
    desired = rev[0] if rev else None
    # Stored rules leave defaults out: "masks" is there only when some mask is set.
    has_masks = bool(rev) and bool(json.loads(rev[1]).get("masks"))
    level = level or 1
    return {
        "device_id": device_id,
        "desired_rev": desired,
        "applied_rev": applied,
        "drift": desired is not None and applied != desired,
        "error": error,
        "config_level": level,
        "masks_unsupported": has_masks and level < 2,
        "published_rev": published_rev,
        "published_level": published_level,
        "reported_at": reported_at,
        "detector": detector,
        "model_named": named,
        "model_sha256": running,
        "model_error": model_error,
        "model_drift": named is not None and running != named,
    }
