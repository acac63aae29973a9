"""The agent-replay half of bench/detection.py: the whole clip through the pipeline.

Counting lines as line_crossing zones, a replay that also counts every crossing step of a
confirmed track, and the incidents the centre's merge rules would open. Plain helpers;
``bench/detection.py`` runs them and publishes the figures.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.detectors import build_detector

FPS = 10.0


def agent_cfg(kind: str, model: Path, gate: bool) -> Any:
    """An agent config for in-process replays: the shipped defaults, gate on or off."""
    from edge_agent.config import AgentConfig

    return AgentConfig.model_validate(
        {
            "device_id": "bench-vtest",
            "source": {"kind": "synthetic"},
            "detector": {"kind": kind, "model": str(model), "threads": 2},
            "motion": {"enabled": gate},
        }
    )


def rules_for(zones: list[dict[str, Any]], schedules: dict[str, Any] | None = None) -> Any:
    """A validated rules Config from plain zone dicts."""
    from edge_agent.config import parse_rules

    return parse_rules({"rev": 1, "zones": zones, "schedules": schedules or {}})


def line_zones(lines: dict[str, Any], w: int, h: int) -> list[dict[str, Any]]:
    """The annotated counting lines as line_crossing zones (normalised points)."""
    return [
        {
            "name": name,
            "rule": "line_crossing",
            "points": [[x / w, y / h] for x, y in spec["points"]],
            "direction": "both",
        }
        for name, spec in lines.items()
    ]


def replay(
    frames: list[np.ndarray],
    kind: str,
    model: Path,
    gate: bool,
    rules: Any,
    when: dt.datetime,
    lines: dict[str, list[tuple[float, float]]] | None = None,
) -> dict[str, Any]:
    """Run a clip through the pipeline; frames/s, detector runs, drafts, line crossings.

    ``lines`` (normalised points) are also watched outside the rules: every step of a
    confirmed track's foot across a line counts, which is what a per-crossing counter
    would report (the rules report a track once per line).
    """
    from edge_agent.agent import Pipeline
    from edge_agent.rules import line_crossing
    from edge_agent.sources import Frame

    cfg = agent_cfg(kind, model, gate)
    d = cfg.detector
    det = build_detector(kind, model, threads=2, thresholds=d.thresholds, min_score=d.min_score)
    pipe = Pipeline(cfg, det, rules)
    timed: list[tuple[float, Any]] = []
    feet: dict[int, tuple[float, float]] = {}
    steps = dict.fromkeys(lines or {}, 0)
    t0, c0 = time.perf_counter(), time.process_time()
    for i, rgb in enumerate(frames):
        t = i / FPS
        timed += [(t, x) for x in pipe.process(Frame(rgb, t, i), when + dt.timedelta(seconds=t))]
        for tr in pipe.tracker.tracks if lines else []:
            if tr.confirmed and tr.id in feet and feet[tr.id] != tr.foot:
                for name, pts in (lines or {}).items():
                    steps[name] += line_crossing(pts, feet[tr.id], tr.foot) is not None
            feet[tr.id] = tr.foot
    timed += [(len(frames) / FPS, x) for x in pipe.flush(len(frames) / FPS)]
    drafts = [x for _, x in timed]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "fps": len(frames) / wall,
        "cpu_ms": cpu / len(frames) * 1000,
        "track_crossings": steps,
        "detector_runs": pipe.stats.detected,
        "frames": len(frames),
        "drafts": drafts,
        "timed": timed,
        "tracks": len({x.track for x in drafts if x.track}),
    }


def crossings(drafts: list[Any]) -> dict[str, int]:
    """People counted per line: the rules' line_crossing events on it (each crossing is one
    ``start`` or ``update``; the ``end`` message only repeats the last rule)."""
    seen: dict[str, int] = {}
    for x in drafts:
        if x.kind == "line_crossing" and x.zone and x.phase != "end":
            seen[x.zone] = seen.get(x.zone, 0) + 1
    return seen


def incidents(
    timed: list[tuple[float, Any]], when: dt.datetime, clip_s: float, hours: float = 1.0
) -> int:
    """Incidents the centre's merge rules open when the clip's events repeat for ``hours``.

    The clip is shorter than the merge window (600 s), so one pass says little: its
    (time, event) list is laid end to end, track ids kept apart per repeat, and fed to
    :func:`coordinator.incidents.merge.choose` as one camera's stream.
    """
    from coordinator.incidents.merge import DEFAULT_RULES, Ev, Inc, choose

    incs: dict[str, Inc] = {}
    by_track: dict[int, str] = {}
    t0 = when.timestamp()
    opened = 0
    repeats = max(1, round(hours * 3600 / clip_s))
    stream = [
        (k * clip_s + dt_s, k * 1_000_000 + x.track if x.track else 0, x)
        for k in range(repeats)
        for dt_s, x in timed
    ]
    for i, (dt_s, track, x) in enumerate(stream):
        t = t0 + dt_s
        ev = Ev(str(i), "bench-vtest", track, x.kind, x.conf, t, 51.0, -1.0, x.zone)
        where, inc_id = choose(ev, incs.get(by_track.get(track, "")), incs.values(), DEFAULT_RULES)
        if where == "new":
            opened += 1
            inc_id = f"inc-{opened}"
            incs[inc_id] = Inc(inc_id, x.kind, "new", t, t, {"bench-vtest": (51.0, -1.0)})
        if inc_id is not None:
            incs[inc_id].last_t = t
            by_track[track] = inc_id
    return opened


# Until the centre seeds rules at enrolment, this is the conservative default set the
# issue describes: intrusion only at night, loitering from 60 s, over the whole view.
DEFAULT_RULES_STANDIN = [
    {
        "name": "night-intrusion",
        "rule": "intrusion",
        "points": [[0, 0], [1, 0], [1, 1], [0, 1]],
        "schedule": "night",
    },
    {
        "name": "loitering",
        "rule": "loitering",
        "points": [[0, 0], [1, 0], [1, 1], [0, 1]],
        "dwell_s": 60,
    },
]
NIGHT = {"night": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]}
