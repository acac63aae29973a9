"""Ingest against a real Mosquitto and a real SQLite file: flow, bad input, sequence gaps."""

from __future__ import annotations

import json
import time

import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coordinator.platform.mqtt import Inbound
from protocol import Channel, Health, State, Topics, encode, uuid7
from tests.harness.core import (
    core_settings,
    count,
    ev_topic,
    event,
    publish_events,
    register,
    running_core,
    wait_count,
)
from tests.harness.mqtt import connect, wait_for


@pytest.fixture
def core(tmp_path, broker):
    with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
        register(svc)
        yield svc


@pytest.fixture
def board(broker):
    c = connect(broker.ports[0], "test-board")
    yield c
    c.close()


def test_events_are_stored_merged_and_acked_after_commit(core, board):
    evs = [event("cam-0", i, track=7, phase="start" if i == 1 else "update") for i in (1, 2, 3)]
    evs.append(event("cam-1", 1, track=3))  # nearby camera (~90 m), same kind, same minute
    publish_events(board, evs)
    wait_count(core, "select count(*) from events", 4)
    wait_for(lambda: core.mqtt.acked >= 4, 5, "acks")
    rows = core.db.query("select * from incidents")
    assert len(rows) == 1, rows
    assert rows[0]["event_count"] == 4
    assert json.loads(rows[0]["devices"]) == ["cam-0", "cam-1"]
    wait_for(lambda: core.ingest.stats.stored == 4, 5, "stats")


def _oversized() -> bytes:
    return b'{"v":1,"pad":"' + b"x" * 3000 + b'"}'


BAD = [
    ("garbage bytes", "cam-0", b"\x00\xff\xfegarbage", "garbage"),
    ("not JSON at all", "cam-0", b"hello", "garbage"),
    ("wrong schema version 2", "cam-0", None, "wrong version"),
    ("oversized payload (3 kB > 2 kB bound)", "cam-0", _oversized(), "oversize"),
    ("event from a device not in the registry", "cam-unknown", None, "unknown device"),
    ("topic device differs from payload device", "cam-1", None, "device mismatch"),
    ("schema-valid JSON with a bad field", "cam-0", b'{"v":1,"id":"nope"}', "invalid"),
]


@pytest.mark.parametrize(("what", "topic_dev", "payload", "category"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_dead_lettered_and_ingest_goes_on(
    core, board, what, topic_dev, payload, category
):
    """Tried: {what}. Expect a dead letter with its reason and raw bytes, then normal ingest."""
    if payload is None:
        ev = event("cam-unknown" if topic_dev == "cam-unknown" else "cam-0", 1)
        raw = msgspec.json.decode(encode(ev))
        if category == "wrong version":
            raw["v"] = 2
        payload = msgspec.json.encode(raw)
    board.publish(ev_topic(topic_dev), payload, qos=1)
    good = event("cam-2", 1)
    publish_events(board, [good])
    wait_count(core, "select count(*) from events where id = ?", 1, params=[good.id])
    dl = core.db.query("select * from dead_letters")
    assert len(dl) == 1, dl
    assert dl[0]["reason"].startswith(category), dl[0]["reason"]
    assert dl[0]["raw"] == payload[:4096]
    assert dl[0]["size"] == len(payload)
    wait_for(lambda: core.ingest.stats.dead_letters[category] == 1, 5, "counted")
    wait_for(lambda: core.mqtt.acked >= 2, 5, "both acked")


def test_duplicate_ids_are_stored_once(core, board):
    """Tried: the same event id delivered three times (a board resending after a lost PUBACK)."""
    e = event("cam-0", 1)
    publish_events(board, [e, e, e])
    wait_for(lambda: core.ingest.stats.duplicates == 2, 10, "duplicates absorbed")
    assert count(core, "select count(*) from events") == 1
    assert count(core, "select event_count from incidents") == 1


def test_clock_skewed_event_is_kept_flagged_at_arrival_time(core, board):
    """Tried: an event stamped one day in the past (board clock wrong): kept, flagged."""
    skewed = event("cam-0", 1, ts=int((time.time() - 86400) * 1000))
    publish_events(board, [skewed])
    wait_count(core, "select count(*) from events", 1)
    row = core.db.query("select * from events")[0]
    assert row["skewed"] == 1
    assert abs(row["t"] - row["recv"]) < 1e-6  # merged at arrival time, not the bad clock
    assert row["ts"] == skewed.ts  # the board's own stamp is preserved
    wait_for(lambda: core.ingest.stats.skewed == 1, 5, "skew counted")


def test_sequence_gaps_are_lost_events_and_late_arrivals_fill_them(core, board):
    publish_events(board, [event("cam-0", s, track=s) for s in (1, 2, 5)])
    wait_count(core, "select count(*) from events", 3)
    gaps = core.ingest.lost_events("cam-0")
    assert [(g["first_seq"], g["last_seq"]) for g in gaps] == [(3, 4)]
    wait_for(lambda: core.ingest.stats.lost == 2, 5, "lost counted")
    publish_events(board, [event("cam-0", 3, track=3)])  # a spooled event arrives late
    wait_count(core, "select count(*) from events", 4)
    gaps = core.ingest.lost_events("cam-0")
    assert [(g["first_seq"], g["last_seq"]) for g in gaps] == [(4, 4)]
    wait_for(lambda: core.ingest.stats.lost == 1, 5, "gap filled")


def test_state_and_health_update_the_fleet(core, board):
    t = Topics()
    board.publish(
        t.device("cam-0", Channel.STATE),
        encode(State(status="online", firmware="1.2.3", model="yolo-n")),
        qos=1,
        retain=True,
    )
    board.publish(
        t.device("cam-0", Channel.HEALTH),
        encode(Health(ts=int(time.time() * 1000), fps=12.5, inference_ms=40)),
        qos=0,
    )
    fleet = core.fleet
    wait_for(lambda: (fleet.get("cam-0") or {}).get("health") is not None, 10, "health stored")
    dev = fleet.get("cam-0")
    assert dev["status"] == "online" and dev["firmware"] == "1.2.3" and dev["health"]["fps"] == 12.5
    assert dev["health_status"] == "online"
    board.publish(
        t.device("cam-0", Channel.STATE), encode(State(status="offline")), qos=1, retain=True
    )
    wait_for(lambda: fleet.alerts(), 10, "camera-down alert")
    assert fleet.alerts()[0]["kind"] == "offline"
    board.publish(
        t.device("cam-0", Channel.STATE), encode(State(status="online")), qos=1, retain=True
    )
    wait_for(lambda: not fleet.alerts(), 10, "alert closed")


def test_last_will_of_a_killed_board_opens_a_camera_down_alert(core, broker):
    """A board process killed -9: the broker publishes its Last Will, the centre sees 'offline'."""
    import subprocess
    import sys

    t = Topics()
    st = t.device("cam-1", Channel.STATE)
    script = f"""
import sys, time, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cam-1", protocol=mqtt.MQTTv5)
c.will_set({st!r}, {encode(State(status="offline"))!r}, qos=1, retain=True)
c.connect("127.0.0.1", {broker.ports[0]}, keepalive=5)
c.publish({st!r}, {encode(State(status="online"))!r}, qos=1, retain=True).wait_for_publish(5)
c.loop_write()
print("up", flush=True)
time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"up"
        fleet = core.fleet
        wait_for(lambda: (fleet.get("cam-1") or {}).get("status") == "online", 10, "online")
        proc.kill()
        proc.wait(10)
        wait_for(lambda: (fleet.get("cam-1") or {}).get("status") == "offline", 20, "will")
        assert [a["kind"] for a in fleet.alerts()] == ["offline"]
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


def test_stale_health_opens_an_alert(tmp_path, broker):
    with running_core(core_settings(tmp_path / "c", broker.ports[0], health_stale_s=0.2)) as svc:
        register(svc)
        c = connect(broker.ports[0], "b")
        try:
            c.publish(
                Topics().device("cam-2", Channel.STATE), encode(State(status="online")), qos=1
            )
            fleet = svc.fleet
            wait_for(lambda: (fleet.get("cam-2") or {}).get("status") == "online", 10, "online")
            wait_for(lambda: fleet.check_stale() or fleet.alerts(), 5, "stale alert")
            assert fleet.alerts()[0]["kind"] == "stale"
            assert fleet.get("cam-2")["health_status"] == "stale"
        finally:
            c.close()


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.binary(max_size=3000),
    channel=st.sampled_from([Channel.EVENT, Channel.STATE, Channel.HEALTH]),
)
def test_prepare_never_raises_on_arbitrary_bytes(services, payload, channel):
    """Property: any bytes on any ingest channel become a row or a dead letter, never a crash."""
    ingest = services.ingest
    topic = Topics().device("cam-x", channel)
    m = Inbound(topic, Topics().parse(topic), payload, 1, 1, 0, time.time())
    b = ingest._prepare([(m, "new", None)])
    assert len(b.events) + len(b.states) + len(b.healths) + len(b.dead) == 1


def test_uuid_sanity():
    assert len(uuid7()) == 32


def test_two_workers_share_events_through_an_mqtt5_shared_subscription(tmp_path, broker):
    """Two ingest workers in group 'ingest' split the events; each is stored exactly once."""
    s1 = core_settings(tmp_path / "c", broker.ports[0], mqtt_shared_group="ingest")
    s2 = core_settings(tmp_path / "c", broker.ports[0], mqtt_shared_group="ingest")
    with running_core(s1) as w1, running_core(s2) as w2:
        register(w1)
        # The second worker caches the registry at start; reload it after registration.
        register(w2)
        c = connect(broker.ports[0], "shared-board")
        try:
            publish_events(c, [event(f"cam-{i % 3}", i // 3 + 1, track=i) for i in range(120)])
        finally:
            c.close()
        wait_count(w1, "select count(*) from events", 120, timeout=20)
        stored = (w1.ingest.stats, w2.ingest.stats)
        wait_for(lambda: stored[0].stored + stored[1].stored == 120, 10, "both counted")
        assert stored[0].stored > 0 and stored[1].stored > 0, "one worker got nothing"
        assert count(w1, "select count(distinct id) from events") == 120


def test_a_retained_telemetry_message_is_not_dead_lettered_on_every_connect(tmp_path, broker):
    """A board that sets retain on its own event topic is handled once, not on each connect."""
    rogue = connect(broker.ports[0], "cam-0")
    try:
        rogue.publish(ev_topic("cam-0"), b"not json at all", retain=True)
    finally:
        rogue.close()
    for i in range(2):
        with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
            register(svc)
            wait_for(lambda s=svc: s.mqtt.retained_skipped >= 1, 10, "stale copy skipped")
            assert count(svc, "select count(*) from dead_letters") == 0, f"connect {i}"
