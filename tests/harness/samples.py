"""Literal sample messages shared by protocol and harness tests."""

from __future__ import annotations

from protocol import Event, uuid7


def sample_event(dev: str = "cam-000123", seq: int = 1, **kw: object) -> Event:
    """A typical intrusion-start event, as a board sends it."""
    fields: dict[str, object] = dict(
        id=uuid7(),
        seq=seq,
        ts=1795840000123,
        dev=dev,
        kind="intrusion",
        phase="start",
        label="person",
        conf=0.873,
        track=42,
        box=(123, 200, 333, 900),
        zone="gate-a",
    )
    fields.update(kw)
    return Event(**fields)  # type: ignore[arg-type]
