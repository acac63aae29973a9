"""Topic builders and parsers: publish topics are always concrete, ids always safe."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import Channel, ProtocolError, Topics, check_id, is_valid_id
from protocol.topics import DEVICE_CHANNELS, UNIT_CHANNELS, is_publishable

T = Topics()


@pytest.mark.parametrize("channel", sorted(DEVICE_CHANNELS))
def test_device_topics_round_trip(channel: Channel):
    topic = T.device("cam-000123", channel)
    assert is_publishable(topic)
    parsed = T.parse(topic)
    assert (parsed.scope, parsed.ident, parsed.channel) == ("dev", "cam-000123", channel)


@pytest.mark.parametrize("channel", sorted(UNIT_CHANNELS))
def test_unit_topics_round_trip(channel: Channel):
    parsed = T.parse(T.unit("car-17", channel))
    assert (parsed.scope, parsed.ident, parsed.channel) == ("unit", "car-17", channel)


def test_exact_topic_strings_match_design():
    assert T.device("cam-1", Channel.EVENT) == "cw/v1/dev/cam-1/event"
    assert T.device("cam-1", Channel.SNAPSHOT_REQ) == "cw/v1/dev/cam-1/snapshot/req"
    assert T.unit("car-1", Channel.DISPATCH) == "cw/v1/unit/car-1/dispatch"
    assert T.warnings() == "cw/v1/warnings"
    assert T.filter(Channel.EVENT) == "cw/v1/dev/+/event"
    assert T.filter(Channel.EVENT, shared_group="ingest") == "$share/ingest/cw/v1/dev/+/event"
    assert Topics("city/x").device("a", "state") == "city/x/dev/a/state"


@pytest.mark.parametrize(
    "bad_id",
    ["", "+", "#", "cam/1", "cam+1", "cam#", "$SYS", " cam", "cam 1", "-lead", "é", "a" * 65],
)
def test_wildcards_separators_and_junk_are_refused_in_ids(bad_id: str):
    assert not is_valid_id(bad_id)
    with pytest.raises(ProtocolError, match="invalid|must be"):
        T.device(bad_id, Channel.EVENT)


@pytest.mark.parametrize(
    "channel,builder",
    [(Channel.EVENT, "unit"), (Channel.POSITION, "device"), (Channel.WARNINGS, "device")],
)
def test_channel_scope_mismatch_is_refused(channel: Channel, builder: str):
    with pytest.raises(ProtocolError, match="not a"):
        getattr(T, builder)("x1", channel)


@pytest.mark.parametrize(
    "topic",
    [
        "cw/v1/dev/cam-1",
        "cw/v1/dev/cam-1/nope",
        "cw/v1/dev/+/event",
        "cw/v1/dev/cam-1/position",
        "cw/v1/unit/u1/event",
        "other/dev/cam-1/event",
        "cw/v1/dev//event",
        "cw/v1/x/cam-1/event",
        "cw/v1/" + "a" * 300,
    ],
)
def test_parse_refuses_foreign_and_malformed_topics(topic: str):
    with pytest.raises(ProtocolError):
        T.parse(topic)


@pytest.mark.parametrize("root", ["", "$SYS", "/cw", "cw/", "cw/+/x", "cw//v1", "cw/#"])
def test_bad_roots_are_refused(root: str):
    with pytest.raises(ProtocolError, match="root"):
        Topics(root)


@given(st.text(max_size=80))
def test_parse_never_raises_anything_but_protocol_error(topic: str):
    with contextlib.suppress(ProtocolError):
        T.parse(topic)


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True))
def test_every_valid_id_builds_a_parsable_topic(ident: str):
    assert check_id(ident) == ident
    assert T.parse(T.device(ident, Channel.HEALTH)).ident == ident
