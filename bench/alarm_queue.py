"""Alarm-queue figures (the real coordinator services on a real SQLite file, no browser):

- operator actions to clear a 100-incident alarm storm, grouped (the written rule) against
  ungrouped (the same storm with grouping switched off), in the same run;
- share of top-priority incidents on the demo's mix (the demo's load generator: 400
  cameras 60 m apart, four kinds, confidence 0.5–1), the points model against the old step
  rule on the very same incidents, at the hour of the run and over a whole day.

Called by ``bench/dashboard.py`` (``--alarms-only`` runs just this part).
"""

from __future__ import annotations

import json
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from coordinator.bootstrap import open_services
from coordinator.fleet.service import DeviceIn
from coordinator.incidents import priority
from coordinator.incidents.merge import DEFAULT_RULES
from coordinator.incidents.merge import priority as old_priority
from coordinator.settings import Settings
from devtools.loadgen import EventStream, make_fleet
from tests.harness.core import inject


def _settings(tmp: Path, **over: Any) -> Settings:
    return Settings.for_dev(tmp, argon2_memory_kib=4096, argon2_time_cost=1, **over)


def _wait(svc: Any, sql: str, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while svc.db.query(sql)[0]["n"] < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {sql} < {n}")
        time.sleep(0.05)


def storm(grouped: bool, n: int = 100) -> dict[str, Any]:
    """Clear a storm of ``n`` alarms from the queue; count the operator's actions."""
    from tests.harness.core import event, register

    over: dict[str, Any] = {"incident_rules": {"intrusion": {"radius_m": 1.0}}}
    if not grouped:
        over["alarms"] = {"group_min": 1000}
    with tempfile.TemporaryDirectory() as tmp:
        svc = open_services(_settings(Path(tmp), **over))
        try:
            rng = random.Random(3)
            cams = {}
            for i in range(n):
                r, a = 200 * math.sqrt(rng.random()), rng.random() * 2 * math.pi
                cams[f"storm-{i:03d}"] = (29.306 + r * math.cos(a) / 111_195,
                                          120.076 + r * math.sin(a) / 96_990)  # fmt: skip
            register(svc, cams)
            inject(svc, [event(d, 1, track=1, conf=0.7) for d in cams])
            _wait(svc, "select count(*) as n from incidents", n)
            rows = len(svc.incidents.queue(limit=1000)["rows"])
            actions = 0
            t0 = time.perf_counter()
            while True:
                q = svc.incidents.queue(limit=1000)["rows"]
                if not q:
                    break
                r = q[0]
                actions += 1
                if r["type"] == "group":
                    svc.incidents.handle_group(r["id"], "dismiss", "bench", reason="storm: rain")
                else:
                    svc.incidents.dismiss(r["id"], "bench", "storm: rain")
            secs = time.perf_counter() - t0
        finally:
            svc.close()
    return {"rows": rows, "actions": actions, "seconds": round(secs, 2)}


def demo_mix(events: int = 3000) -> dict[str, Any]:
    """Top-priority share on the demo's load: new model vs the old step rule."""
    with tempfile.TemporaryDirectory() as tmp:
        svc = open_services(_settings(Path(tmp)))
        try:
            fleet = make_fleet(400)
            svc.fleet.upsert_many([DeviceIn(**d) for d in fleet])
            stream = iter(EventStream([d["id"] for d in fleet], seed=3, track_len=3))
            evs = [next(stream) for _ in range(events)]
            inject(svc, evs)
            _wait(svc, "select count(*) as n from events", events)
            svc.incidents.flush()
            rows = svc.db.query(
                "select id, kind, confidence, devices, priority from incidents "
                "where status != 'merged'"
            )
            conn = svc.db.read().conn
            mixes = {r["id"]: priority.mix_of(conn, r["id"]) for r in rows}
        finally:
            svc.close()
    model = priority.Model()
    total = len(rows)
    now_top = sum(r["priority"] == 1 for r in rows) / total
    old_top = (
        sum(
            old_priority(
                r["kind"], r["confidence"], None, len(json.loads(r["devices"])), DEFAULT_RULES
            )
            == 1
            for r in rows
        )
        / total
    )
    by_hour, whole_top_level = [], []
    stats = priority.OutcomeStats()
    for hour in range(24):
        lv = []
        for r in rows:
            sig = priority.signals_of({**r, "first_ts": None, "created_at": hour * 3600 - 8 * 3600},
                                      stats, model, {}, mixes[r["id"]])  # fmt: skip
            lv.append(priority.assess(sig, model)[0])
        by_hour.append(sum(x == 1 for x in lv) / total)
        whole = [
            priority.assess(
                priority.Signals(r["kind"], r["confidence"], len(json.loads(r["devices"])), hour),
                model,
            )[0]
            for r in rows
        ]
        whole_top_level.append(max(whole.count(p) for p in range(1, 6)) / total)
    levels = {p: sum(r["priority"] == p for r in rows) / total for p in range(1, 6)}
    return {
        "incidents": total,
        "top_now": round(now_top, 3),
        "top_old": round(old_top, 3),
        "top_day_mean": round(sum(by_hour) / 24, 3),
        "top_day_max": round(max(by_hour), 3),
        "levels_now": {k: round(v, 3) for k, v in levels.items()},
        "largest_level_share_whole_incident": round(sum(whole_top_level) / 24, 3),
    }


def run() -> tuple[str, dict[str, Any]]:
    """The markdown section and its data."""
    g, u = storm(True), storm(False)
    mix = demo_mix()
    lv = " · ".join(f"P{k} {v:.0%}" for k, v in mix["levels_now"].items())
    md = f"""
| 100-alarm storm (200 m across, one kind) | queue rows | operator actions to clear | time to clear |
|---|---:|---:|---:|
| grouped (≥ 5 of a kind within 300 m and 10 min) | {g["rows"]} | {g["actions"]} | {g["seconds"]} s |
| ungrouped (same storm, grouping off) | {u["rows"]} | {u["actions"]} | {u["seconds"]} s |

| demo mix ({mix["incidents"]} incidents from the demo's load generator) | share at top priority |
|---|---:|
| old step rule (kind ± confidence ± cameras) | {mix["top_old"]:.1%} |
| points model, at the hour of this run | {mix["top_now"]:.1%} |
| points model, mean over the 24 hours of a day | {mix["top_day_mean"]:.1%} |
| points model, the worst hour (night: intrusions score more) | {mix["top_day_max"]:.1%} |

Levels now: {lv}. The demo's load generator makes incidents of many cameras (cameras 60 m
apart merge, the most serious kind names the incident, the maximum confidence nears 1):
judged by those merged figures, {mix["largest_level_share_whole_incident"]:.0%} of them
(mean over a day) sat at one level. The model now judges an incident by the events of its
own kind (their mean confidence, the cameras that saw it, a penalty when that kind is a
minority of its events), which spreads them; `tests/coordinator/incidents/
test_priority_mix.py` checks it on the same generated load. Clearing the storm: one action
per queue row (a group is dismissed in one step, with a reason).
"""
    return md, {"storm_grouped": g, "storm_ungrouped": u, "mix": mix}
