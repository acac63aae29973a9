"""The priority model: points from what is known about an alarm, with the reasons shown.

Priority used to be a base per kind moved by a step or two, so most alarms of a busy city
reached the top (1) and the top meant nothing. Here each signal adds or takes away points
and the sum is cut into five bands. An unverified camera alarm alone does not reach the
top: even a confident intrusion at night seen by three cameras stops one band short; it
takes a sensitive zone or real alarms at those cameras earlier that day on top; a camera whose alarms
operators mostly dismiss loses points, and so does one that alarms all the time (an alarm
from a camera that raised a dozen this hour tells the operator less than a first one). Every signal that moved the score is kept as
a reason, so the operator sees *why* a row sits where it does.

An incident that absorbed events from many cameras is judged by the events of the kind that
names it, not by everything merged into it: its confidence is the mean confidence of those
events (one lucky frame among dozens does not make a detection certain), only the cameras
that saw that kind corroborate it, and when that kind is a minority of its events (a busy
street where one camera once saw an "intrusion" among loitering and line crossings) it
loses part of the kind's points. Without this, merging alone pushed the demo's incidents
to the same level: each absorbed several cameras, its maximum confidence neared 1 and the
most serious kind among them named it.

Pure functions over plain data; :class:`OutcomeStats` is the small read-side cache of how
operators decided each camera's past alarms (the false-alarm rate and repeat real alarms).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Points of each kind: what an alarm of that kind is worth before anything else is known.
KIND_POINTS: dict[str, int] = {
    "intrusion": 50,
    "crowd": 40,
    "loitering": 30,
    "line_crossing": 30,
    "presence": 10,
}
DEFAULT_KIND_POINTS = 30
#: Extra points at night, per kind (an intrusion at 03:00 is rarely a visitor).
NIGHT_POINTS: dict[str, int] = {"intrusion": 10, "loitering": 6, "line_crossing": 4}
BAND = 20.0  # points between two priority levels
MIN_DECIDED = 3  # a camera's false-alarm rate counts once operators decided this many
MIXED_FROM = 4  # the kind's share of the events counts once an incident holds this many
MIXED_WEIGHT = 0.6  # share of the kind's points lost when none of the other events is of it
LOOKBACK_S = 7 * 86400  # false-alarm rate: operators' decisions over the last week
REPEAT_S = 86400  # repeat real alarms: over the last day
BUSY_S = 3600  # a camera's alarm rate: incidents it was part of over the last hour
BUSY_FROM = 3  # from this many an alarm there tells less (the camera alarms all the time)
PHONE_POINTS = 15  # a person on the phone reports it: more than an unverified detection
REAL = ("confirmed", "dispatched", "en_route", "on_scene", "resolved")


@dataclass(frozen=True)
class Signals:
    """What the model knows about one alarm."""

    kind: str
    confidence: float
    cameras: int = 1
    local_hour: float = 12.0
    zone_boost: int = 0
    real_before: int = 0  # real alarms of this kind at these cameras in the last day
    false_alarm_rate: float | None = None  # dismissed share of decided alarms (None: too few)
    recent: int = 0  # incidents its busiest camera was part of in the last hour
    kind_share: float = 1.0  # share of its events that are of its kind (1: all, or unknown)
    events: int = 1  # how many events it holds
    source: str = "camera"  # "call": reported by phone (a person saw it; no camera score)


@dataclass(frozen=True)
class Model:
    """The model's knobs (from ``alarms:`` in the settings)."""

    top_score: float = 85.0
    night_start: int = 22
    night_end: int = 6
    utc_offset_h: float = 8.0


def is_night(hour: float, start: int, end: int) -> bool:
    """True when ``hour`` (local, 0–24) falls in the night window (which may wrap midnight)."""
    if start == end:
        return False
    return (start <= hour or hour < end) if start > end else (start <= hour < end)


def local_hour(ts: float, utc_offset_h: float) -> float:
    """The hour of day (0–24, fractional) of unix time ``ts`` in the city's time zone."""
    return ((ts / 3600.0) + utc_offset_h) % 24.0


def reason(code: str, points: int, text: str, value: float | str | None = None) -> dict[str, Any]:
    """One reason: a code the dashboard translates, its points, an English sentence."""
    return {"code": code, "points": points, "value": value, "text": text}


def score(sig: Signals, model: Model = Model()) -> tuple[float, list[dict[str, Any]]]:
    """The alarm's points and the reasons that made them, largest effect first."""
    reasons = [reason("kind", KIND_POINTS.get(sig.kind, DEFAULT_KIND_POINTS), sig.kind, sig.kind)]
    conf_pts = round(max(-10.0, min(15.0, (sig.confidence - 0.5) * 30)))
    if sig.source == "call":  # no detector score: the caller's report counts instead
        conf_pts = 0
        reasons.append(reason("phone", PHONE_POINTS, "reported by phone"))
    if conf_pts:
        pct = round(sig.confidence * 100)
        reasons.append(reason("confidence", conf_pts, f"confidence {pct}%", pct))
    if sig.cameras >= 2:
        pts = 5 if sig.cameras == 2 else 8
        reasons.append(reason("cameras", pts, f"seen by {sig.cameras} cameras", sig.cameras))
    night = NIGHT_POINTS.get(sig.kind, 0)
    if night and is_night(sig.local_hour, model.night_start, model.night_end):
        reasons.append(reason("night", night, f"{sig.kind} at night", round(sig.local_hour, 1)))
    if sig.zone_boost:
        pts = 10 * sig.zone_boost
        reasons.append(reason("zone", pts, "sensitive zone", sig.zone_boost))
    if sig.real_before:
        pts = min(10, 5 * sig.real_before)
        text = f"{sig.real_before} real alarm(s) here in the last day"
        reasons.append(reason("repeat", pts, text, sig.real_before))
    rate = sig.false_alarm_rate
    if rate is not None and rate >= 0.2:
        pts = -round(rate * 30)
        pct = round(rate * 100)
        reasons.append(reason("false_alarms", pts, f"camera's false-alarm rate {pct}%", pct))
    if sig.events >= MIXED_FROM and sig.kind_share < 1.0:
        base = KIND_POINTS.get(sig.kind, DEFAULT_KIND_POINTS)
        pts = -round(base * MIXED_WEIGHT * (1.0 - sig.kind_share))
        if pts:
            pct = round(sig.kind_share * 100)
            text = f"only {pct}% of its events are {sig.kind}"
            reasons.append(reason("mixed", pts, text, pct))
    if sig.recent >= BUSY_FROM:
        pts = -min(20, 4 * (sig.recent - BUSY_FROM + 1))
        text = f"camera alarmed {sig.recent} times in the last hour"
        reasons.append(reason("busy", pts, text, sig.recent))
    total = float(sum(r["points"] for r in reasons))
    return total, sorted(reasons, key=lambda r: -abs(r["points"]))


def band(points: float, top_score: float) -> int:
    """Priority 1 (highest) .. 5 from the points: one level every :data:`BAND` points."""
    for level in range(1, 5):
        if points >= top_score - BAND * (level - 1):
            return level
    return 5


def assess(sig: Signals, model: Model = Model()) -> tuple[int, list[dict[str, Any]]]:
    """Priority 1..5 and its reasons."""
    points, reasons = score(sig, model)
    return band(points, model.top_score), reasons


@dataclass
class OutcomeStats:
    """Per camera and kind: operators' decisions (dismissed vs real) over the lookback.

    Read from the incidents table (only alarms an operator decided, which are few) and
    kept for ``ttl_s``: a decision changes a camera's rate slowly, and the ingest path must
    not run an aggregate per alarm. Any process rebuilds the same figures from the database.
    """

    ttl_s: float = 30.0
    _at: float = -1e18
    _dismissed: dict[tuple[str, str], int] = field(default_factory=dict)
    _real: dict[tuple[str, str], int] = field(default_factory=dict)
    _recent_real: dict[tuple[str, str], int] = field(default_factory=dict)
    _busy: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, conn: Any, now: float) -> None:
        """Reload the figures when older than ``ttl_s``."""
        with self._lock:
            if now - self._at < self.ttl_s:
                return
            dismissed: dict[tuple[str, str], int] = {}
            real: dict[tuple[str, str], int] = {}
            recent: dict[tuple[str, str], int] = {}
            marks = ",".join("?" for _ in REAL)
            rows = conn.execute(
                "select kind, status, devices, coalesce(dismissed_at, confirmed_at, "
                "dispatched_at, resolved_at, created_at) from incidents "
                f"where status in ('dismissed', {marks}) and created_at >= ? "
                "order by created_at desc limit 200000",
                [*REAL, now - LOOKBACK_S],
            ).fetchall()
            for kind, status, devices, decided in rows:
                for dev in json.loads(devices or "[]"):
                    key = (dev, kind)
                    if status == "dismissed":
                        dismissed[key] = dismissed.get(key, 0) + 1
                        continue
                    real[key] = real.get(key, 0) + 1
                    if decided is not None and decided >= now - REPEAT_S:
                        recent[key] = recent.get(key, 0) + 1
            self._dismissed, self._real, self._recent_real = dismissed, real, recent
            self._busy = _busy(conn, now)
            self._at = now

    def invalidate(self) -> None:
        """Reload on the next use (after a decision the caller wants seen at once)."""
        with self._lock:
            self._at = -1e18

    def false_alarm_rate(self, devices: Sequence[str], kind: str) -> float | None:
        """Dismissed share of decided alarms of ``kind`` at these cameras (None: too few)."""
        d = sum(self._dismissed.get((dev, kind), 0) for dev in devices)
        r = sum(self._real.get((dev, kind), 0) for dev in devices)
        return d / (d + r) if d + r >= MIN_DECIDED else None

    def recent(self, devices: Sequence[str]) -> int:
        """Incidents the busiest of these cameras was part of over the last hour."""
        return max((self._busy.get(dev, 0) for dev in devices), default=0)

    def real_before(self, devices: Sequence[str], kind: str) -> int:
        """Real alarms of ``kind`` at these cameras over the last day."""
        return sum(self._recent_real.get((dev, kind), 0) for dev in devices)


@dataclass
class Mix:
    """What an incident's events are made of: per kind, the cameras, count and confidence."""

    cameras: dict[str, set[str]] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)
    conf: dict[str, float] = field(default_factory=dict)  # sum of confidences

    def add(self, kind: str, dev: str, n: int, conf_sum: float) -> None:
        """Count ``n`` events of ``kind`` from camera ``dev``."""
        self.cameras.setdefault(kind, set()).add(dev)
        self.count[kind] = self.count.get(kind, 0) + n
        self.conf[kind] = self.conf.get(kind, 0.0) + conf_sum

    @property
    def total(self) -> int:
        """Events of every kind."""
        return sum(self.count.values())


def signals_of(
    row: Mapping[str, Any],
    stats: OutcomeStats,
    model: Model,
    zone_boost: Mapping[str, int],
    mix: Mix | None = None,
) -> Signals:
    """The model's inputs for one incident row (``devices`` as a list or its JSON); with
    ``mix`` (its events by kind) judged by the events of the kind that names it."""
    devices = row.get("devices") or []
    if isinstance(devices, str):
        devices = json.loads(devices)
    kind = str(row.get("kind") or "")
    ts = row.get("first_ts") or row.get("created_at") or time.time()
    confidence, cameras, share, events = float(row.get("confidence") or 0.0), len(devices), 1.0, 1
    if mix is not None and mix.count.get(kind):
        n = mix.count[kind]
        confidence = mix.conf[kind] / n
        cameras = len(mix.cameras[kind])
        events = mix.total
        share = n / events
    return Signals(
        kind=kind,
        confidence=confidence,
        cameras=cameras,
        local_hour=local_hour(float(ts), model.utc_offset_h),
        zone_boost=int(zone_boost.get(str(row.get("zone") or ""), 0)),
        real_before=stats.real_before(devices, kind),
        false_alarm_rate=stats.false_alarm_rate(devices, kind),
        recent=stats.recent(devices),
        kind_share=share,
        events=events,
        source=str(row.get("source") or "camera"),
    )


def mix_of(conn: Any, incident_id: str, batch: Sequence[Mapping[str, Any]] = ()) -> Mix:
    """The incident's events by kind: those stored (the running mix ingest keeps, a few
    rows whatever the incident's size), and ``batch`` (events of the ingest transaction,
    not yet stored)."""
    mix = Mix()
    for kind, dev, n, conf in conn.execute(
        "select kind, dev, n, conf from incident_mix where incident_id = ? and n > 0",
        [incident_id],
    ).fetchall():
        mix.add(kind, dev, n, conf or 0.0)
    for e in batch:
        if e.get("incident_id") == incident_id:
            mix.add(str(e["kind"]), str(e["dev"]), 1, float(e.get("conf") or 0.0))
    return mix


def _busy(conn: Any, now: float) -> dict[str, int]:
    """Per camera: incidents it was part of over the last hour (bounded read)."""
    out: dict[str, int] = {}
    for (devices,) in conn.execute(
        "select devices from incidents where created_at >= ? and status != 'merged' "
        "order by created_at desc limit 50000",
        [now - BUSY_S],
    ).fetchall():
        for dev in json.loads(devices or "[]"):
            out[dev] = out.get(dev, 0) + 1
    return out
