"""Contracts between the coordinator's MQTT link and the domain services.

The link (``coordinator/platform/mqtt.py``) owns the one MQTT connection of the centre. Domain
services never import paho: they receive a :class:`Publisher` to send with, and register
:data:`Handler` functions for the channels they consume (unit positions, acks, snapshots…).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from protocol import ParsedTopic


class Publisher(Protocol):
    """Anything that can publish an encoded payload on a topic (the MQTT link, a test double)."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Queue ``payload`` for ``topic``; QoS 1 messages survive reconnects of the link."""
        ...


#: Called by the link for each message on a channel a service registered for.
#: Handlers must not raise for bad payloads: they decode with ``protocol.decode`` and
#: report ``ProtocolError`` to the dead-letter store themselves (or let the link do it).
Handler = Callable[[ParsedTopic, bytes], None]

#: Returned by every subscription (incident changes, alerts, MQTT handlers): call it to undo.
Unsubscribe = Callable[[], None]


def remover(items: list[Any], item: object) -> Unsubscribe:
    """An :data:`Unsubscribe` that takes ``item`` out of ``items`` (once; later calls no-op)."""

    def undo() -> None:
        for i, x in enumerate(items):
            if x is item:
                del items[i]
                return

    return undo
