"""The camera fleet: registry, online/offline, staleness, camera-down alerts, fleet views.

Online/offline comes from the boards' retained ``state`` (and their Last Will, which the
broker publishes as ``offline`` when a board vanishes); staleness from ``health``. A
"camera down" alert opens when a device goes offline or its health goes stale, and closes
when it comes back. Registry writes go through the single writer; a small in-memory cache
(id → location, zone, owner) serves ingest and the incident engine without a query.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field, field_validator

from protocol import Health, State

from ..errors import Invalid
from ..geo.centres import Scope
from ..platform.bus import Unsubscribe, remover
from ..platform.db import Database
from .agreements import owner_type_of
from .alert_groups import DownGrouping, collapse, label
from .sharing import EvidenceSharing

OwnerType = Literal["government", "company", "community"]
#: (lat, lon, zone) → the monitoring centre responsible for that place (geo's hierarchy).
CentreLocator = Callable[[float, float, str | None], str | None]
CACHED = ("id", "lat", "lon", "zone", "owner_type", "owner_org", "centre_id", "org_id")


class DeviceIn(BaseModel):
    """A device registration (the provisioning tool and `coordinator load-fleet` send these)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="device id = cert CN")
    owner_org: str = Field(min_length=1, max_length=200, description="owning organisation")
    owner_type: OwnerType = Field(description="government, company or community")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    heading: float | None = Field(None, ge=0, lt=360, description="camera heading, degrees")
    zone: str | None = Field(None, max_length=64, description="patrol zone")
    profile: str | None = Field(None, max_length=64, description="board profile")
    cert_fingerprint: str | None = Field(None, max_length=128, description="SHA-256 hex")
    cert_not_after: dt.datetime | None = Field(None, description="certificate expiry (ISO 8601)")
    firmware: str | None = Field(None, max_length=200)
    model: str | None = Field(None, max_length=200)
    org_id: int | None = Field(
        None,
        ge=1,
        description="the owner organisation's record (its name and kind then replace "
        "owner_org and owner_type); unset: the organisation called owner_org, made if new",
    )
    evidence_sharing: EvidenceSharing | None = Field(
        None,
        description="whether the centre may take frames: always, on_request (with a stated "
        "purpose) or none; unset follows the owner type (government always, others on_request)",
    )

    @field_validator("cert_not_after")
    @classmethod
    def _aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)  # naive timestamps are taken as UTC
        return v


AlertHook = Callable[[dict[str, Any]], None]


@dataclass
class FleetHooks:
    """What other domains attach to the fleet (the composition root wires them).

    ``registered(rows)`` runs after devices are registered (committed), ``state(db, dev,
    state, now)`` inside the ingest transaction of every board state, and ``view(dev)``
    adds keys to a device's view (camera rules: desired vs applied revision).
    """

    registered: list[Callable[[list[dict[str, Any]]], Any]] = field(default_factory=list)
    state: list[Callable[[sqlite_utils.Database, str, State, float], None]] = field(
        default_factory=list
    )
    view: list[Callable[[str], dict[str, Any]]] = field(default_factory=list)
    centre: CentreLocator | None = None


class FleetService:
    """Registry and health of the camera fleet."""

    def __init__(
        self, db: Database, *, health_stale_s: float = 120.0, cert_warn_days: float = 30.0
    ) -> None:
        self.db = db
        self.health_stale_s = health_stale_s
        self.cert_warn_days = cert_warn_days
        self._lock = threading.Lock()
        self._cache: dict[str, dict[str, Any]] = {}
        self._alert_hooks: list[AlertHook] = []
        self.hooks = FleetHooks()
        #: Cameras down together become one alert (set by the composition root).
        self.grouping: DownGrouping | None = None
        for row in db.query(f"select {', '.join(CACHED)} from devices"):
            self._cache[row["id"]] = row

    # registry ----------------------------------------------------------------------
    def register(self, device: DeviceIn | dict[str, Any]) -> dict[str, Any]:
        """Create or update a device (upsert by id) and return its stored row."""
        d = device if isinstance(device, DeviceIn) else DeviceIn.model_validate(device)
        return self.upsert_many([d])[0]

    upsert = register

    def upsert_many(self, devices: list[DeviceIn]) -> list[dict[str, Any]]:
        """Upsert many devices in one transaction (used by load-fleet)."""
        now = time.time()
        rows = [_row(d, now) for d in devices]
        locate = self.hooks.centre
        for r in rows:
            r["centre_id"] = locate(r["lat"], r["lon"], r["zone"]) if locate else None

        def write(db: sqlite_utils.Database) -> None:
            for r in rows:
                _own(db, r, now)
                exists = db.execute("select 1 from devices where id = ?", [r["id"]]).fetchone()
                if exists:
                    fields = {k: v for k, v in r.items() if k != "registered_at"}
                    # Only overwrite what the caller sent: firmware comes from the board.
                    fields = {k: v for k, v in fields.items() if v is not None}
                    db.table("devices").update(r["id"], fields)
                else:
                    db.table("devices").insert(r)

        self.db.write(write)
        with self._lock:
            for r in rows:
                self._cache[r["id"]] = {k: r[k] for k in CACHED}
        for hook in self.hooks.registered:
            hook(rows)
        return [self.get(r["id"]) or {} for r in rows]

    def get(self, device_id: str) -> dict[str, Any] | None:
        """One device with its status and open alerts, or None."""
        rows = self.db.query("select * from devices where id = ?", [device_id])
        if not rows:
            return None
        out = _public(rows[0], time.time(), self.health_stale_s, self.cert_warn_days)
        out["alerts"] = self.db.query(
            "select * from device_alerts where device_id = ? and closed_at is null", [device_id]
        )
        for hook in self.hooks.view:
            out.update(hook(device_id))
        return out

    def reload_cache(self) -> None:
        """Read the cached columns of every device again (after a bulk change of labels)."""
        cache = {r["id"]: r for r in self.db.query(f"select {', '.join(CACHED)} from devices")}
        with self._lock:
            self._cache = cache

    def set_sharing(self, device_id: str, value: str | None) -> dict[str, Any] | None:
        """Set a device's evidence-sharing terms; its row as it was before, or None."""
        before = self.get(device_id)
        if before is not None:
            self.db.execute_write(
                "update devices set evidence_sharing = ? where id = ?", [value, device_id]
            )
        return before

    def assign_centres(self, locate: CentreLocator) -> int:
        """Re-derive every device's centre from its location (after a zones load); returns
        how many changed. Devices move between centres only when the map changes."""
        rows = self.db.query("select id, lat, lon, zone, centre_id from devices")
        moved = [
            (c, r["id"])
            for r in rows
            if (c := locate(r["lat"], r["lon"], r["zone"])) != r["centre_id"]
        ]
        if moved:
            self.db.write(
                lambda db: db.conn.executemany(
                    "update devices set centre_id = ? where id = ?", moved
                )
            )
        with self._lock:
            for c, dev in moved:
                if dev in self._cache:
                    self._cache[dev] = {**self._cache[dev], "centre_id": c}
        return len(moved)

    def centre_of(self, device_id: str) -> str | None:
        """The centre responsible for a device (cached), None when unknown or unplaced."""
        loc = self._cache.get(device_id)
        return loc.get("centre_id") if loc else None

    def known(self, device_id: str) -> bool:
        """True when the device is registered (in-memory, for ingest)."""
        return device_id in self._cache

    def location(self, device_id: str) -> dict[str, Any] | None:
        """Cached id, lat, lon, zone, owner_type, centre_id of a device."""
        return self._cache.get(device_id)

    def search(
        self,
        *,
        zone: str | None = None,
        owner_type: str | None = None,
        owner_org: str | None = None,
        status: str | None = None,
        org_id: int | None = None,
        limit: int = 500,
        offset: int = 0,
        centre: str | None = None,
        scope: Scope | None = None,
    ) -> list[dict[str, Any]]:
        """Devices filtered by zone / owner / centre / status (status: online, offline,
        stale, unknown, revoked), limited to the caller's ``scope``."""
        where, params = [], []
        if scope is not None:
            frag, args = scope.sql()
            where.append(frag)
            params += args
        for col, val in (
            ("zone", zone),
            ("owner_type", owner_type),
            ("owner_org", owner_org),
            ("centre_id", centre),
            ("org_id", org_id),
        ):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        sql = "select * from devices" + (" where " + " and ".join(where) if where else "")
        sql += " order by id"
        now = time.time()
        rows = [
            _public(r, now, self.health_stale_s, self.cert_warn_days)
            for r in self.db.query(sql, params)
        ]
        if status is not None:
            rows = [r for r in rows if r["health_status"] == status]
        return rows[offset : offset + limit]

    def summary(
        self,
        by: Literal["zone", "owner_type", "owner_org", "centre_id", "org_id"] = "zone",
        scope: Scope | None = None,
    ) -> dict[str, Any]:
        """Counts of online / offline / stale / unknown devices per zone, centre or owner."""
        now = time.time()
        frag, args = (scope or Scope(True)).sql()
        groups: dict[str, dict[str, int]] = {}
        total = {"online": 0, "offline": 0, "stale": 0, "unknown": 0, "revoked": 0,
                 "cert_expiring": 0}  # fmt: skip
        for r in self.db.query(f"select * from devices where {frag}", args):
            p = _public(r, now, self.health_stale_s, self.cert_warn_days)
            g = groups.setdefault(str(r[by] or "-"), {k: 0 for k in total})
            for bucket in (g, total):
                bucket[p["health_status"]] += 1
                bucket["cert_expiring"] += int(p["cert_expiring"])
        return {"by": by, "groups": groups, "total": total}

    def cert_expiring(self, days: float | None = None) -> list[dict[str, Any]]:
        """Devices whose certificate expires within ``days`` (default: the warning window)."""
        horizon = time.time() + 86400 * (self.cert_warn_days if days is None else days)
        rows = self.db.query(
            "select * from devices where cert_not_after_ts is not null and cert_not_after_ts <= ? "
            "order by cert_not_after_ts",
            [horizon],
        )
        now = time.time()
        return [_public(r, now, self.health_stale_s, self.cert_warn_days) for r in rows]

    def alerts(
        self, *, open_only: bool = True, limit: int = 500, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """Camera-down alerts (of the cameras in ``scope``), newest first."""
        frag, args = (scope or Scope(True)).sql("d.centre_id")
        sql = f"select a.* from device_alerts a join devices d on d.id = a.device_id where {frag}"
        if open_only:
            sql += " and a.closed_at is null"
        return self.db.query(sql + " order by a.id desc limit ?", [*args, limit])

    def on_alert(self, hook: AlertHook) -> Unsubscribe:
        """Call ``hook(alert_row)`` after an alert opens or closes (after commit); returns its
        undo."""
        self._alert_hooks.append(hook)
        return remover(self._alert_hooks, hook)

    def emit(self, alerts: list[dict[str, Any]]) -> None:
        """Deliver committed alert changes to the hooks (one change per alert group)."""
        for a in collapse(alerts):
            for hook in list(self._alert_hooks):
                hook(a)

    # inside the ingest transaction ---------------------------------------------------
    def apply_state(
        self, db: sqlite_utils.Database, dev: str, st: State, now: float
    ) -> list[dict[str, Any]]:
        """Record a state message; open/close the 'offline' alert. Returns alert changes."""
        fields: dict[str, Any] = {"status": st.status, "status_at": now, "updated_at": now}
        for attr, col in (
            ("firmware", "firmware"),
            ("model", "model"),
            ("config_rev", "config_rev"),
            ("config_error", "config_error"),
        ):
            if getattr(st, attr) is not None:
                fields[col] = getattr(st, attr)
        if st.status == "online":
            # An online state reports the board's config outcome as it stands now: no
            # error means the last config applied, so an earlier rejection is cleared. (A
            # Last Will carries whatever held when the board connected: it clears nothing.)
            fields["config_error"] = st.config_error
        sets = ", ".join(f"{k} = ?" for k in fields)
        changed = db.execute(
            f"update devices set {sets} where id = ? and status != 'revoked'",
            [*fields.values(), dev],
        ).rowcount
        if not changed:
            return []  # a revoked board's late Last Will: it stays "revoked", no alert
        for hook in self.hooks.state:
            hook(db, dev, st, now)
        if st.status == "offline":
            opened = _open_alert(db, dev, "offline", now, "Last Will or board reported offline")
            return self._grouped(db, opened, now)
        return self._grouped(db, _close_alerts(db, dev, ("offline", "stale"), now), now)

    def apply_health(
        self, db: sqlite_utils.Database, dev: str, h: Health, now: float
    ) -> list[dict[str, Any]]:
        """Record a health message; closes a 'stale' alert. Returns alert changes."""
        payload = json.dumps(
            {
                "fps": h.fps,
                "inference_ms": h.inference_ms,
                "spool": h.spool,
                "drops": h.drops,
                "outages": h.outages,
                "source_ok": h.source_ok,
                "temp_c": h.temp_c,
                "cpu": h.cpu,
                "uptime_s": h.uptime_s,
            }
        )
        db.execute(
            "update devices set last_health_at = ?, health = ? where id = ?", [now, payload, dev]
        )
        return self._grouped(db, _close_alerts(db, dev, ("stale",), now), now)

    def _grouped(
        self, db: sqlite_utils.Database, changes: list[dict[str, Any]], now: float
    ) -> list[dict[str, Any]]:
        """Put opened alerts into groups and recount the groups of closed ones."""
        if self.grouping is None or not changes:
            return changes
        opened = [a for a in changes if a["change"] == "opened"]
        closed = [a for a in changes if a["change"] == "closed"]
        self.grouping.opened(db, opened, now)
        self.grouping.closed(db, closed, now)
        return changes

    def alert_groups(self, limit: int = 500, scope: Scope | None = None) -> dict[str, Any]:
        """Open camera-down alerts as a flood-proof view: the open groups (largest first)
        and the alerts in no group, with the totals — of the cameras in ``scope`` only (a
        group spanning centres shows the caller only its members in view, counted)."""
        frag, args = (scope or Scope(True)).sql("d.centre_id")
        mine = (
            "select a.id, a.group_id from device_alerts a join devices d on d.id = a.device_id "
            f"where a.closed_at is null and {frag}"
        )
        counts = self.db.query(
            f"select group_id, count(*) as n from ({mine}) where group_id is not null "
            "group by group_id",
            args,
        )
        in_view = {r["group_id"]: r["n"] for r in counts}
        groups: list[dict[str, Any]] = []
        if in_view:
            ids = sorted(in_view)
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                groups += self.db.query(
                    "select * from device_alert_groups where closed_at is null and id in "
                    f"({','.join('?' for _ in chunk)})",
                    chunk,
                )
        for g in groups:
            g["open_count"] = in_view.get(g["id"], 0)
            g["label"] = label(g["dim"], g["value"], g["open_count"])
        groups.sort(key=lambda g: (-g["open_count"], g["id"]))
        singles = self.db.query(
            "select a.* from device_alerts a join devices d on d.id = a.device_id "
            f"where a.closed_at is null and a.group_id is null and {frag} "
            "order by a.id desc limit ?",
            [*args, limit],
        )
        total, grouped = (
            self.db.read()
            .conn.execute(
                "select count(*), coalesce(sum(case when group_id is null then 0 else 1 end), 0) "
                f"from ({mine})",
                args,
            )
            .fetchone()
        )
        return {"groups": groups[:limit], "singles": singles, "open": total, "grouped": grouped}

    def check_stale(self, now: float | None = None) -> list[dict[str, Any]]:
        """Background job: open a 'stale' alert for online devices with no recent health."""
        now = time.time() if now is None else now
        cutoff = now - self.health_stale_s

        def write(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            rows = db.execute(
                "select id from devices where status = 'online' and "
                "coalesce(last_health_at, status_at, 0) < ? and id not in "
                "(select device_id from device_alerts where closed_at is null)",
                [cutoff],
            ).fetchall()
            out: list[dict[str, Any]] = []
            for (dev,) in rows:
                out += _open_alert(db, dev, "stale", now, f"no health for {self.health_stale_s}s")
            return self._grouped(db, out, now)

        changes = self.db.write(write)
        self.emit(changes)
        return changes


def ensure_org(db: sqlite_utils.Database, name: str, kind: str, now: float) -> int:
    """The id of the organisation called ``name`` (made with ``kind`` when new), inside the
    caller's write transaction; a device registered by its older label lands here."""
    row = db.execute("select id from owner_orgs where name = ?", [name]).fetchone()
    if row:
        return int(row[0])
    cur = db.execute(
        "insert into owner_orgs (name, kind, created_at, updated_at) values (?, ?, ?, ?)",
        [name, kind, now, now],
    )
    return int(cur.lastrowid or 0)


def _own(db: sqlite_utils.Database, r: dict[str, Any], now: float) -> None:
    """Point a device row at its owner organisation; its labels follow the organisation."""
    if r.get("org_id") is None:
        r["org_id"] = ensure_org(db, r["owner_org"], r["owner_type"], now)
        return
    org = db.execute("select name, kind from owner_orgs where id = ?", [r["org_id"]]).fetchone()
    if org is None:
        raise Invalid(f"device {r['id']}: no owner organisation {r['org_id']}")
    r["owner_org"], r["owner_type"] = org[0], owner_type_of(org[1])


def _open_alert(
    db: sqlite_utils.Database, dev: str, kind: str, now: float, detail: str
) -> list[dict[str, Any]]:
    if db.execute(
        "select 1 from device_alerts where device_id = ? and kind = ? and closed_at is null",
        [dev, kind],
    ).fetchone():
        return []
    row = {"device_id": dev, "kind": kind, "opened_at": now, "closed_at": None, "detail": detail}
    row["id"] = db.table("device_alerts").insert(row).last_pk
    return [{**row, "change": "opened"}]


def _close_alerts(
    db: sqlite_utils.Database, dev: str, kinds: tuple[str, ...], now: float
) -> list[dict[str, Any]]:
    marks = ",".join("?" for _ in kinds)
    rows = db.execute(
        f"select id, kind from device_alerts where device_id = ? and kind in ({marks}) "
        "and closed_at is null",
        [dev, *kinds],
    ).fetchall()
    if not rows:
        return []
    db.execute(
        f"update device_alerts set closed_at = ? where device_id = ? and kind in ({marks}) "
        "and closed_at is null",
        [now, dev, *kinds],
    )
    return [
        {"id": i, "device_id": dev, "kind": k, "closed_at": now, "change": "closed"}
        for i, k in rows
    ]


def _row(d: DeviceIn, now: float) -> dict[str, Any]:
    r = d.model_dump()
    na = d.cert_not_after
    r["cert_not_after"] = na.astimezone(dt.UTC).isoformat() if na else None
    r["cert_not_after_ts"] = na.timestamp() if na else None
    r["registered_at"] = now
    r["updated_at"] = now
    return r


def _public(r: dict[str, Any], now: float, stale_s: float, warn_days: float) -> dict[str, Any]:
    """A device row as the API shows it, with derived health status and cert warning."""
    out = dict(r)
    out["health"] = json.loads(r["health"]) if r.get("health") else None
    status = r.get("status") or "unknown"
    if status == "online" and (r.get("last_health_at") or r.get("status_at") or 0) < now - stale_s:
        status = "stale"
    out["health_status"] = status
    na = r.get("cert_not_after_ts")
    out["cert_expiring"] = bool(na is not None and na <= now + warn_days * 86400)
    out["cert_days_left"] = None if na is None else round((na - now) / 86400, 1)
    return out
