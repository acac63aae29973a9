"""Zone rules over tracks: intrusion, loitering, crowd, line crossing — pure functions.

The message budget is the point of this module: a track yields at most three messages —
``start`` when it is confirmed, one ``update`` for its first rule hit (the significant
change), ``end`` when it leaves, carrying the last rule it triggered and its dwell. An
object that stands still yields nothing while it stays. Crowd episodes follow the same
start/update/end budget with track 0 (a zone-level event).

Counting lines are the one exception, because a count is only right if every crossing is
reported: each crossing of a line is its own ``line_crossing`` event (``start`` or
``update``, with its direction) — a person who crosses back, or a track id that passes to
another walker in a group, counts again. Two bounds keep that cheap: the same track
crossing the same line again within :data:`LINE_RECROSS_S` is one crossing (a foot
jittering on the line), and a track reports at most :data:`MAX_CROSSINGS_PER_TRACK`. The
``end`` message carries the last rule as usual and is not a crossing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from protocol.messages import Config, Window, Zone
from protocol.validate import validate_config

from .tracker import Track, TrackUpdate

MAX_MESSAGES_PER_TRACK = 3
#: A track crossing the same line again within this many seconds is the same crossing.
LINE_RECROSS_S = 1.0
#: Most line crossings one track reports (a bound for a track stuck on a line).
MAX_CROSSINGS_PER_TRACK = 12


@dataclass(frozen=True)
class EventDraft:
    """What the rules decided to report; the agent adds id, seq, ts and device."""

    kind: str
    phase: str
    label: str
    conf: float
    track: int
    box: tuple[float, float, float, float]
    zone: str | None = None
    count: int | None = None
    direction: str | None = None
    dwell_s: float | None = None
    # car/truck/bus/motorcycle/bicycle for a vehicle (the event's optional `sub` field).
    subtype: str | None = None


def _on_segment(
    x: float, y: float, a: tuple[float, float], b: tuple[float, float], eps: float = 1e-9
) -> bool:
    """True when (x, y) lies on the segment a-b (within a rounding tolerance)."""
    cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
    if abs(cross) > eps * max(1.0, abs(b[0] - a[0]) + abs(b[1] - a[1])):
        return False
    return (
        min(a[0], b[0]) - eps <= x <= max(a[0], b[0]) + eps
        and min(a[1], b[1]) - eps <= y <= max(a[1], b[1]) + eps
    )


def point_in_polygon(x: float, y: float, poly: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting; a point on the boundary counts as inside.

    The boundary matters in practice: a person walking towards the camera has their feet on
    the frame's bottom edge (y = 1.0), exactly where a full-frame zone's edge lies, and the
    nearest people are the last ones a zone may miss.
    """
    n = len(poly)
    for i in range(n):
        if _on_segment(x, y, poly[i], poly[(i + 1) % n]):
            return True
    inside = False
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < xi:
                inside = not inside
    return inside


def _side(p0: tuple[float, float], p1: tuple[float, float], q: tuple[float, float]) -> float:
    return (p1[0] - p0[0]) * (q[1] - p0[1]) - (p1[1] - p0[1]) * (q[0] - p0[0])


def _segments_cross(
    a0: tuple[float, float],
    a1: tuple[float, float],
    b0: tuple[float, float],
    b1: tuple[float, float],
) -> bool:
    d1, d2 = _side(b0, b1, a0), _side(b0, b1, a1)
    d3, d4 = _side(a0, a1, b0), _side(a0, a1, b1)
    # The step must change sides strictly; touching a line end counts, because feet are
    # often clipped to the frame edge exactly where a line drawn edge-to-edge ends.
    return (d1 * d2 < 0) and (d3 * d4 <= 0)


def line_crossing(
    line: list[tuple[float, float]], prev: tuple[float, float], cur: tuple[float, float]
) -> str | None:
    """Direction (``in``/``out``) if the step prev→cur crosses the polyline, else None.

    ``in`` means crossing from the left to the right of the line walked from its first
    point to its last (in image coordinates, y pointing down).
    """
    for p0, p1 in zip(line, line[1:], strict=False):
        if _segments_cross(prev, cur, p0, p1):
            return "in" if _side(p0, p1, cur) > 0 else "out"
    return None


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def schedule_active(windows: list[Window], when: dt.datetime) -> bool:
    """True when local time ``when`` falls in one of the weekly windows.

    A window whose end is before its start runs overnight into the next day.
    """
    day, minute = when.weekday(), when.hour * 60 + when.minute
    for w in windows:
        start, end = _minutes(w.start), _minutes(w.end)
        if start <= end:
            if day in w.days and start <= minute < end:
                return True
        else:
            if (day in w.days and minute >= start) or ((day - 1) % 7 in w.days and minute < end):
                return True
    return False


def validate_rules(cfg: Config) -> list[str]:
    """Semantic checks the schema cannot express (the centre runs the same ones)."""
    return validate_config(cfg)


@dataclass
class _TrackState:
    sent: int = 0
    started: bool = False
    last_kind: str = "presence"
    last_zone: str | None = None
    last_direction: str | None = None
    reported: set[tuple[str, str]] = field(default_factory=set)
    zone_enter_t: dict[str, float] = field(default_factory=dict)
    crossed_t: dict[str, float] = field(default_factory=dict)  # line → last counted crossing
    crossings: int = 0


@dataclass
class _CrowdState:
    active: bool = False
    sent: int = 0
    reported_count: int = 0
    below_since: float | None = None
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    conf: float = 0.0
    label: str = "person"


class RuleEngine:
    """Turns tracker output into event drafts under one :class:`Config` (swappable live)."""

    def __init__(self, cfg: Config, report_presence: bool = True, crowd_hold_s: float = 2.0):
        """Engine with ``cfg``; ``report_presence`` also reports tracks outside any zone."""
        self.cfg = cfg
        self.report_presence = report_presence
        self.crowd_hold_s = crowd_hold_s
        self._tracks: dict[int, _TrackState] = {}
        self._crowds: dict[str, _CrowdState] = {}

    def set_config(self, cfg: Config) -> None:
        """Swap the rules (already validated); per-track budgets carry over."""
        self.cfg = cfg
        self._crowds = {k: v for k, v in self._crowds.items() if k in {z.name for z in cfg.zones}}

    def _min_score(self, label: str) -> float:
        return self.cfg.thresholds.get(label, self.cfg.min_score)

    def _zone_live(self, z: Zone, label: str, when: dt.datetime) -> bool:
        if label not in z.labels:
            return False
        if z.schedule is None:
            return True
        return schedule_active(self.cfg.schedules.get(z.schedule, []), when)

    def step(self, upd: TrackUpdate, t: float, when: dt.datetime) -> list[EventDraft]:
        """Evaluate the rules for one processed frame at time ``t`` (local ``when``)."""
        out: list[EventDraft] = []
        for tr in upd.active:
            out += self._track_step(tr, t, when)
        for tr in upd.ended:
            out += self._track_end(tr, t)
        out += self._crowd_step(upd.active, t, when)
        return out

    def _emit(self, st: _TrackState, tr: Track, phase: str, **kw: object) -> EventDraft:
        st.sent += 1
        return EventDraft(
            kind=str(kw.pop("kind", st.last_kind)),
            phase=phase,
            label=tr.label,
            conf=float(tr.score),
            track=tr.id,
            box=tr.box,
            subtype=tr.subtype,
            **kw,  # type: ignore[arg-type]
        )

    def _track_step(self, tr: Track, t: float, when: dt.datetime) -> list[EventDraft]:
        st = self._tracks.setdefault(tr.id, _TrackState())
        if not st.started and tr.score < self._min_score(tr.label):
            return []
        hits = self._rule_hits(tr, st, t, when)
        out: list[EventDraft] = []
        if not st.started:
            st.started = True
            if hits:
                kind, zone, extra = hits[0]
                if kind == "line_crossing":
                    self._count_crossing(st, zone, t)
                st.reported.add((kind, zone))
                st.last_kind, st.last_zone = kind, zone
                st.last_direction = extra.get("direction")  # type: ignore[assignment]
                return [self._emit(st, tr, "start", kind=kind, zone=zone, **extra)]
            if self.report_presence:
                return [self._emit(st, tr, "start", kind="presence")]
            st.started = False  # nothing to say about it (yet)
            return []
        for kind, zone, extra in hits:
            if kind == "line_crossing":
                if self._count_crossing(st, zone, t):
                    st.reported.add((kind, zone))
                    st.last_kind, st.last_zone = kind, zone
                    st.last_direction = extra.get("direction")  # type: ignore[assignment]
                    out.append(self._emit(st, tr, "update", kind=kind, zone=zone, **extra))
                continue
            if (kind, zone) in st.reported:
                continue
            st.reported.add((kind, zone))
            st.last_kind, st.last_zone = kind, zone
            st.last_direction = extra.get("direction")  # type: ignore[assignment]
            # The update slot is kept for the first rule hit; later hits ride on `end`.
            if st.sent < MAX_MESSAGES_PER_TRACK - 1:
                out.append(self._emit(st, tr, "update", kind=kind, zone=zone, **extra))
        return out

    @staticmethod
    def _count_crossing(st: _TrackState, zone: str, t: float) -> bool:
        """Whether this crossing of ``zone`` counts (see LINE_RECROSS_S and the bound)."""
        last = st.crossed_t.get(zone)
        if last is not None and t - last < LINE_RECROSS_S:
            return False
        if st.crossings >= MAX_CROSSINGS_PER_TRACK:
            return False
        st.crossed_t[zone] = t
        st.crossings += 1
        return True

    def _rule_hits(
        self, tr: Track, st: _TrackState, t: float, when: dt.datetime
    ) -> list[tuple[str, str, dict[str, object]]]:
        hits: list[tuple[str, str, dict[str, object]]] = []
        fx, fy = tr.foot
        for z in self.cfg.zones:
            if z.min_score is not None and tr.score < z.min_score and not st.started:
                continue
            live = self._zone_live(z, tr.label, when)
            if z.rule == "line_crossing":
                if live and len(tr.history) >= 2:
                    d = line_crossing(list(z.points), tr.history[-2], tr.history[-1])
                    if d is not None and z.direction in (None, "both", d):
                        hits.append(("line_crossing", z.name, {"direction": d}))
                continue
            inside = live and point_in_polygon(fx, fy, list(z.points))
            if not inside:
                st.zone_enter_t.pop(z.name, None)
                continue
            entered = st.zone_enter_t.setdefault(z.name, t)
            if z.rule == "intrusion":
                hits.append(("intrusion", z.name, {}))
            elif z.rule == "loitering" and z.dwell_s is not None and t - entered >= z.dwell_s:
                hits.append(("loitering", z.name, {"dwell_s": round(t - entered, 1)}))
        return hits

    def _track_end(self, tr: Track, t: float) -> list[EventDraft]:
        st = self._tracks.pop(tr.id, None)
        if st is None or not st.started:
            return []
        return [
            self._emit(
                st,
                tr,
                "end",
                kind=st.last_kind,
                zone=st.last_zone,
                direction=st.last_direction,
                dwell_s=round(max(0.0, tr.last_t - tr.first_t), 1),
            )
        ]

    def _crowd_step(self, active: list[Track], t: float, when: dt.datetime) -> list[EventDraft]:
        out: list[EventDraft] = []
        for z in self.cfg.zones:
            if z.rule != "crowd" or z.min_count is None:
                continue
            members = [
                tr
                for tr in active
                if self._zone_live(z, tr.label, when)
                and tr.score >= (z.min_score or self._min_score(tr.label))
                and point_in_polygon(*tr.foot, list(z.points))
            ]
            cs = self._crowds.setdefault(z.name, _CrowdState())
            n = len(members)
            if members:
                cs.box = (
                    min(m.box[0] for m in members),
                    min(m.box[1] for m in members),
                    max(m.box[2] for m in members),
                    max(m.box[3] for m in members),
                )
                cs.conf = sum(m.score for m in members) / n
                cs.label = members[0].label
            if n >= z.min_count:
                cs.below_since = None
                if not cs.active:
                    cs.active, cs.sent, cs.reported_count = True, 1, n
                    out.append(self._crowd_draft(z, cs, "start", n))
                elif cs.sent < MAX_MESSAGES_PER_TRACK - 1 and n >= 2 * cs.reported_count:
                    cs.sent += 1
                    cs.reported_count = n
                    out.append(self._crowd_draft(z, cs, "update", n))
            elif cs.active:
                cs.below_since = t if cs.below_since is None else cs.below_since
                if t - cs.below_since >= self.crowd_hold_s:
                    out.append(self._crowd_draft(z, cs, "end", n))
                    self._crowds[z.name] = _CrowdState()
        return out

    @staticmethod
    def _crowd_draft(z: Zone, cs: _CrowdState, phase: str, n: int) -> EventDraft:
        return EventDraft("crowd", phase, cs.label, cs.conf, 0, cs.box, zone=z.name, count=n)

    def flush(self, ended: list[Track], t: float) -> list[EventDraft]:
        """End events for tracks closed because the agent stops."""
        out: list[EventDraft] = []
        for tr in ended:
            out += self._track_end(tr, t)
        return out
