"""The priority model over the demo's generated load, through the real incident service:
incidents that merged many cameras' random events are judged by the events of their kind,
so they spread instead of all sitting at one level, and few are at the top."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from coordinator.bootstrap import open_services
from coordinator.fleet.service import DeviceIn
from coordinator.incidents import priority
from coordinator.settings import Settings
from devtools.loadgen import EventStream, make_fleet
from tests.harness.core import inject


@pytest.fixture(scope="module")
def demo_incidents(tmp_path_factory) -> list[dict]:
    """The incidents 3,000 events of the demo's load generator (400 cameras) make."""
    svc = open_services(Settings.for_dev(tmp_path_factory.mktemp("mix"), argon2_memory_kib=4096,
                                         argon2_time_cost=1))  # fmt: skip
    try:
        _load(svc, cameras=400, events=3000, seed=3, track_len=3)
        return svc.db.query("select * from incidents where status != 'merged'")
    finally:
        svc.close()


def _load(svc, *, cameras: int, events: int, seed: int, track_len: int) -> None:  # noqa: ANN001
    """The demo load generator's ``events`` from ``cameras`` cameras, stored through ingest."""
    fleet = make_fleet(cameras)
    svc.fleet.upsert_many([DeviceIn(**d) for d in fleet])
    stream = iter(EventStream([d["id"] for d in fleet], seed=seed, track_len=track_len))
    inject(svc, [next(stream) for _ in range(events)])
    deadline = time.monotonic() + 60
    while svc.db.query("select count(*) as n from events")[0]["n"] < events:
        assert time.monotonic() < deadline, "events not stored"
        time.sleep(0.05)
    svc.incidents.flush()


def test_few_are_top_priority_and_the_levels_spread(demo_incidents) -> None:
    levels = Counter(r["priority"] for r in demo_incidents)
    n = len(demo_incidents)
    assert n >= 30
    assert levels[1] / n <= 0.10, levels
    assert max(levels.values()) / n <= 0.8, levels  # not one level for nearly all
    assert len([p for p in levels if levels[p] / n >= 0.05]) >= 2, levels


def test_every_level_comes_with_its_reasons(demo_incidents) -> None:
    for r in demo_incidents:
        reasons = json.loads(r["priority_reasons"])
        assert reasons[0]["code"] in {"kind", "mixed"} or any(x["code"] == "kind" for x in reasons)
        points = sum(x["points"] for x in reasons)
        assert priority.band(points, priority.Model().top_score) == r["priority"]
    mixed = [r for r in demo_incidents if '"mixed"' in r["priority_reasons"]]
    assert mixed, "merged incidents of many kinds lose part of their kind's points"


def test_the_merged_figures_alone_would_saturate(demo_incidents) -> None:
    """The baseline: judged by the whole incident (maximum confidence, every camera), the
    same incidents crowd into one level — what the composition signal fixes."""
    whole = Counter(
        priority.assess(
            priority.Signals(
                r["kind"], r["confidence"], len(json.loads(r["devices"])), local_hour=14
            )
        )[0]  # fmt: skip
        for r in demo_incidents
    )
    assert max(whole.values()) / len(demo_incidents) > 0.7, whole


@pytest.mark.parametrize(
    ("share", "events", "expected"),
    [(1.0, 40, 0), (0.25, 40, -22), (0.25, 3, 0), (0.5, 10, -15)],
)
def test_a_minority_kind_loses_part_of_its_points(share, events, expected) -> None:
    sig = priority.Signals("intrusion", 0.75, kind_share=share, events=events)
    _, reasons = priority.score(sig)
    got = sum(r["points"] for r in reasons if r["code"] == "mixed")
    assert got == expected


def _mix_table(svc) -> dict[tuple[str, str, str], int]:
    rows = svc.db.query("select incident_id, kind, dev, n from incident_mix where n > 0")
    return {(r["incident_id"], r["kind"], r["dev"]): r["n"] for r in rows}


def _mix_events(svc) -> dict[tuple[str, str, str], int]:
    rows = svc.db.query(
        "select incident_id, kind, dev, count(*) as n from events "
        "where incident_id is not null group by incident_id, kind, dev"
    )
    return {(r["incident_id"], r["kind"], r["dev"]): r["n"] for r in rows}


def test_the_running_mix_follows_events_through_merge_unmerge_and_split(tmp_path) -> None:
    """The mix the priority reads (a few rows per incident, whatever its size) is always
    what counting the incident's events would say: after ingest, a merge, its undo and a
    split."""
    svc = open_services(Settings.for_dev(tmp_path, argon2_memory_kib=4096, argon2_time_cost=1))
    try:
        _load(svc, cameras=60, events=600, seed=11, track_len=4)
        assert _mix_table(svc) == _mix_events(svc) and _mix_events(svc)
        open_ = svc.db.query(
            "select i.id, count(e.id) as n from incidents i join events e on e.incident_id = i.id "
            "where i.status = 'new' group by i.id order by n desc limit 3"
        )
        assert len(open_) == 3
        a, b, c = (r["id"] for r in open_)
        svc.incidents.merge(a, [b], "op")
        assert _mix_table(svc) == _mix_events(svc)
        assert not any(k[0] == b for k in _mix_table(svc))  # b's events all moved to a
        svc.incidents.unmerge(b, "op")
        assert _mix_table(svc) == _mix_events(svc)
        devs = [r["dev"] for r in svc.db.query(
            "select distinct dev from events where incident_id = ?", [c])]  # fmt: skip
        svc.incidents.split(c, "op", device_ids=devs[:1])
        assert _mix_table(svc) == _mix_events(svc)
        got = priority.mix_of(svc.db.read().conn, a)
        assert got.total == sum(n for k, n in _mix_events(svc).items() if k[0] == a)
    finally:
        svc.close()
