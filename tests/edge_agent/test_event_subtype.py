"""Vehicle subtypes travel on the wire as an optional field that older centres ignore."""

from __future__ import annotations

import msgspec

from edge_agent.agent import make_event
from edge_agent.rules import EventDraft
from protocol import Channel, decode, encode


def _draft(label: str, subtype: str | None) -> EventDraft:
    return EventDraft(
        kind="intrusion", phase="start", label=label, conf=0.61, track=3,
        box=(0.4, 0.5, 0.7, 0.9), zone="gate", subtype=subtype,
    )  # fmt: skip


def test_vehicle_event_carries_its_subtype_and_stays_small() -> None:
    ev = make_event(
        _draft("vehicle", "truck"),
        "cam-1",
        7,
        1795840000000,
        "0" * 12 + "7" + "0" * 3 + "8" + "0" * 15,
    )
    wire = encode(ev)
    assert b'"sub":"truck"' in wire and len(wire) <= 200
    assert decode(Channel.EVENT, wire).subtype == "truck"


def test_person_event_has_no_subtype_on_the_wire() -> None:
    ev = make_event(
        _draft("person", "car"),
        "cam-1",
        8,
        1795840000000,
        "0" * 12 + "7" + "0" * 3 + "8" + "0" * 15,
    )
    assert b"sub" not in encode(ev)


def test_an_older_centre_schema_ignores_the_field() -> None:
    """A centre built before the field existed decodes the new event without it."""

    class OldEvent(msgspec.Struct, tag_field="v", tag=1):
        id: str
        seq: int
        l: str  # noqa: E741

    ev = make_event(
        _draft("vehicle", "bus"),
        "cam-1",
        9,
        1795840000000,
        "0" * 12 + "7" + "0" * 3 + "8" + "0" * 15,
    )
    old = msgspec.json.decode(encode(ev), type=OldEvent)
    assert old.l == "vehicle" and old.seq == 9
