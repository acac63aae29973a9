"""Encode/decode: round trips, the size target, and hostile bytes."""

from __future__ import annotations

import contextlib
import statistics

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import (
    MAX_BYTES,
    PAYLOAD_TYPES,
    Ack,
    Channel,
    Config,
    Event,
    Health,
    ProtocolError,
    State,
    UnitPosition,
    box_from_permille,
    box_to_permille,
    decode,
    decode_as,
    encode,
    parse_uuid7,
    uuid7,
    uuid7_time_ms,
)
from tests.harness.samples import sample_event

# Strategies -----------------------------------------------------------------------------
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
ms = st.integers(0, 32503680000000)
unit = st.floats(0, 1, allow_nan=False)
pm = st.integers(0, 1000)
labels = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
uuids = st.integers(0, 2**48 - 1).map(lambda t: uuid7(t))

events = st.builds(
    Event,
    id=uuids,
    seq=st.integers(0, 2**53),
    ts=ms,
    dev=ids,
    kind=st.sampled_from(["presence", "intrusion", "loitering", "crowd", "line_crossing"]),
    phase=st.sampled_from(["start", "update", "end"]),
    label=labels,
    conf=unit,
    track=st.integers(0, 2**31),
    box=st.tuples(pm, pm, pm, pm),
    zone=st.none() | ids,
    count=st.none() | st.integers(0, 100000),
    direction=st.none() | st.sampled_from(["in", "out"]),
    dwell_s=st.none() | st.floats(0, 864000, allow_nan=False),
)
states = st.builds(
    State,
    status=st.sampled_from(["online", "offline"]),
    ts=st.none() | ms,
    firmware=st.none() | st.text(max_size=40),
    config_rev=st.none() | st.integers(0, 10**6),
    config_error=st.none() | st.text(max_size=200),
)
healths = st.builds(
    Health,
    ts=ms,
    fps=st.floats(0, 1000, allow_nan=False),
    inference_ms=st.floats(0, 60000, allow_nan=False),
    motion=unit,
    spool=st.integers(0, 10**9),
    drops=st.integers(0, 10**9),
    source_ok=st.booleans(),
    temp_c=st.none() | st.floats(-60, 150, allow_nan=False),
)
positions = st.builds(
    UnitPosition,
    ts=ms,
    lat=st.floats(-90, 90, allow_nan=False),
    lon=st.floats(-180, 180, allow_nan=False),
    speed=st.floats(0, 100, allow_nan=False),
    status=st.sampled_from(["available", "dispatched", "en_route", "on_scene", "busy", "off_duty"]),
)
acks = st.builds(
    Ack,
    order=uuids,
    ts=ms,
    status=st.sampled_from(["accepted", "declined", "en_route", "on_scene", "cleared"]),
    note=st.none() | st.text(max_size=100),
)
messages = events | states | healths | positions | acks


@given(messages)
def test_every_message_round_trips(msg):
    assert decode_as(type(msg), encode(msg)) == msg


@given(events)
def test_event_wire_form_always_carries_version_and_id(ev: Event):
    raw = msgspec.json.decode(encode(ev))
    assert raw["v"] == 1 and raw["id"] == ev.id and raw["seq"] == ev.seq


def test_median_event_is_at_most_200_bytes():
    # A day's mix as the edge agent emits it: starts/ends of presence and rule events,
    # with and without a zone.
    sizes = []
    for i in range(200):
        kind = ["presence", "intrusion", "loitering", "line_crossing", "crowd"][i % 5]
        extra: dict[str, object] = {}
        if kind == "loitering":
            extra["dwell_s"] = 94.2
        if kind == "line_crossing":
            extra["direction"] = "in"
        if kind == "crowd":
            extra["count"] = 12
        ev = sample_event(
            dev=f"cam-{i:06d}",
            seq=10_000 + i * 37,
            kind=kind,
            phase=["start", "end"][i % 2],
            conf=0.5 + (i % 50) / 100,
            track=i * 13,
            zone=None if kind == "presence" else "gate-a",
            **extra,
        ).rounded()
        sizes.append(len(encode(ev)))
    assert statistics.median(sizes) <= 200, sorted(sizes)


@pytest.mark.parametrize(
    "payload,fragment",
    [
        (b"", "empty payload"),
        (b"not json", "malformed JSON"),
        (b"[]", "invalid payload"),
        (b'{"v":1}', "missing required field"),
        (b'{"v":2,"st":"online"}', "unsupported schema version"),
        (b'{"v":0,"st":"online"}', "unsupported schema version"),
        (b'{"st":"online"}', "missing required field `v`"),
        (b'{"v":"1","st":"online"}', "schema version"),
        (b'{"v":1,"st":"maybe"}', "invalid payload"),
        (b'{"v":1,"st":"online","ts":-5}', "invalid payload"),
        (b"\xff\xfe\x00garbage", "malformed JSON"),
        (b'{"v":1,"st":"online"' + b" " * 5000 + b"}", "exceeds"),
    ],
)
def test_bad_state_payloads_raise_one_clear_error(payload: bytes, fragment: str):
    with pytest.raises(ProtocolError, match=fragment) as info:
        decode(Channel.STATE, payload)
    assert info.value.kind == "state"


def test_config_is_strict_about_unknown_fields():
    with pytest.raises(ProtocolError, match="unknown field"):
        decode(Channel.CONFIG, b'{"v":1,"rev":3,"min_scor":0.4}')
    cfg = decode(Channel.CONFIG, b'{"v":1,"rev":3,"min_score":0.4}')
    assert isinstance(cfg, Config) and cfg.min_score == 0.4


def test_telemetry_tolerates_fields_added_by_newer_firmware():
    h = decode(Channel.HEALTH, b'{"v":1,"ts":5,"fps":9.5,"inf":21.0,"npu_load":0.3}')
    assert isinstance(h, Health) and h.fps == 9.5


@pytest.mark.parametrize("box", [[0, 0, 1001, 5], [-1, 0, 5, 5], [1, 2, 3], [0.5, 1, 2, 3]])
def test_event_box_out_of_range_is_refused(box):
    raw = msgspec.json.decode(encode(sample_event()))
    raw["b"] = box
    with pytest.raises(ProtocolError, match=r"\$\.b"):
        decode(Channel.EVENT, msgspec.json.encode(raw))


def test_unknown_channel_and_non_bytes_are_refused():
    with pytest.raises(ProtocolError, match="unknown channel"):
        decode("video", b"{}")
    with pytest.raises(ProtocolError, match="bytes"):
        decode(Channel.EVENT, 12345)  # type: ignore[arg-type]


def test_encode_refuses_oversized_messages():
    big = State(status="online", config_error="x" * 2000, firmware="y" * 200, model="z" * 200)
    enc = encode(big)  # within bounds
    assert len(enc) <= MAX_BYTES[Channel.STATE]
    with pytest.raises(ProtocolError, match="not a protocol message"):
        encode("hello")  # type: ignore[arg-type]


@pytest.mark.parametrize("channel", list(PAYLOAD_TYPES))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_only_ever_raise_protocol_error(channel: Channel, data: bytes):
    with contextlib.suppress(ProtocolError):
        decode(channel, data)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_arbitrary_json_only_ever_raises_protocol_error(obj):
    for channel in PAYLOAD_TYPES:
        with contextlib.suppress(ProtocolError):
            decode(channel, msgspec.json.encode(obj))


def test_deeply_nested_json_is_refused_not_crashing():
    for channel in (Channel.EVENT, Channel.CONFIG, Channel.WARNINGS):
        with pytest.raises(ProtocolError):
            decode(channel, b"[" * 1000 + b"]" * 1000)


def test_uuid7_is_sortable_and_carries_time():
    a, b = uuid7(), uuid7()
    assert a < b  # same millisecond still sorts in creation order
    assert uuid7(1_700_000_000_000) < uuid7(1_700_000_000_001)
    a = uuid7(1_700_000_000_000)
    assert uuid7_time_ms(a) == 1_700_000_000_000
    assert parse_uuid7(a).version == 7
    with pytest.raises(ProtocolError, match="version 4"):
        parse_uuid7("9f1c0e4e3c1b4f7a8f6b2d9e0a1b2c3d")
    with pytest.raises(ProtocolError, match="not a UUID"):
        parse_uuid7("zzz")


def test_box_permille_conversion():
    assert box_to_permille((0.1234, 0.0, 1.2, -0.1)) == (123, 0, 1000, 0)
    assert box_from_permille((123, 0, 1000, 500)) == (0.123, 0.0, 1.0, 0.5)
