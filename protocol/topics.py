"""Every MQTT topic of the contract is built and parsed here, and nowhere else.

Publish topics never contain wildcards; ids never contain ``+``, ``#`` or ``/``.
Subscription filters (with ``+``) and MQTT 5 shared subscriptions (``$share/…``)
are built by :meth:`Topics.filter` so ingest workers can split the load later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import ProtocolError
from .ids import check_id

DEFAULT_ROOT = "cw/v1"
MAX_TOPIC_BYTES = 256


class Channel(StrEnum):
    """The message channels of DESIGN.md's topic table."""

    EVENT = "event"
    STATE = "state"
    HEALTH = "health"
    CONFIG = "config"
    SNAPSHOT_REQ = "snapshot/req"
    SNAPSHOT = "snapshot"
    COMMITTED = "committed"
    POSITION = "position"
    DISPATCH = "dispatch"
    ACK = "ack"
    WARNINGS = "warnings"


DEVICE_CHANNELS = frozenset(
    {
        Channel.EVENT,
        Channel.STATE,
        Channel.HEALTH,
        Channel.CONFIG,
        Channel.SNAPSHOT_REQ,
        Channel.SNAPSHOT,
        Channel.COMMITTED,
    }
)
UNIT_CHANNELS = frozenset({Channel.POSITION, Channel.DISPATCH, Channel.ACK})

# Who writes each channel: used by the broker ACL generator and by tests.
BOARD_WRITES = frozenset({Channel.EVENT, Channel.STATE, Channel.HEALTH, Channel.SNAPSHOT})
UNIT_WRITES = frozenset({Channel.POSITION, Channel.ACK})


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """A topic split into its parts: scope is ``dev``, ``unit`` or ``global``."""

    scope: str
    ident: str | None
    channel: Channel


def _check_root(root: str) -> str:
    if not root or root.startswith("$") or root.startswith("/") or root.endswith("/"):
        raise ProtocolError("topic", f"root {root!r} must be non-empty, not start with $ or /")
    for level in root.split("/"):
        if not level or "+" in level or "#" in level or "\x00" in level:
            raise ProtocolError("topic", f"root {root!r} has an empty or wildcard level")
    return root


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic builder/parser for one root (default ``cw/v1``)."""

    root: str = DEFAULT_ROOT

    def __post_init__(self) -> None:
        _check_root(self.root)

    def device(self, dev: str, channel: Channel | str) -> str:
        """Topic of ``channel`` for device ``dev``."""
        ch = Channel(channel)
        if ch not in DEVICE_CHANNELS:
            raise ProtocolError("topic", f"{ch.value!r} is not a device channel")
        return f"{self.root}/dev/{check_id(dev, 'device id')}/{ch.value}"

    def unit(self, unit: str, channel: Channel | str) -> str:
        """Topic of ``channel`` for patrol unit ``unit``."""
        ch = Channel(channel)
        if ch not in UNIT_CHANNELS:
            raise ProtocolError("topic", f"{ch.value!r} is not a unit channel")
        return f"{self.root}/unit/{check_id(unit, 'unit id')}/{ch.value}"

    def warnings(self) -> str:
        """Topic of the retained fraud warnings for market displays."""
        return f"{self.root}/{Channel.WARNINGS.value}"

    def filter(self, channel: Channel | str, shared_group: str | None = None) -> str:
        """Subscription filter for ``channel`` of every device/unit, optionally shared."""
        ch = Channel(channel)
        if ch in DEVICE_CHANNELS:
            flt = f"{self.root}/dev/+/{ch.value}"
        elif ch in UNIT_CHANNELS:
            flt = f"{self.root}/unit/+/{ch.value}"
        else:
            flt = self.warnings()
        if shared_group is not None:
            flt = f"$share/{check_id(shared_group, 'shared group')}/{flt}"
        return flt

    def parse(self, topic: str) -> ParsedTopic:
        """Split a received topic into scope, id and channel, or raise ProtocolError."""
        if not isinstance(topic, str):
            raise ProtocolError("topic", "topic must be a string")
        if len(topic.encode("utf-8", "surrogatepass")) > MAX_TOPIC_BYTES:
            raise ProtocolError("topic", f"topic longer than {MAX_TOPIC_BYTES} bytes")
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            raise ProtocolError("topic", f"{topic!r} is not under root {self.root!r}")
        rest = topic[len(prefix) :]
        if rest == Channel.WARNINGS.value:
            return ParsedTopic("global", None, Channel.WARNINGS)
        parts = rest.split("/", 2)
        if len(parts) != 3 or parts[0] not in ("dev", "unit"):
            raise ProtocolError("topic", f"{topic!r} is not a device, unit or warnings topic")
        scope, ident, tail = parts
        check_id(ident, f"{scope} id in topic")
        try:
            ch = Channel(tail)
        except ValueError:
            raise ProtocolError("topic", f"unknown channel {tail!r} in {topic!r}") from None
        allowed = DEVICE_CHANNELS if scope == "dev" else UNIT_CHANNELS
        if ch not in allowed:
            raise ProtocolError("topic", f"channel {tail!r} is not valid for {scope} topics")
        return ParsedTopic(scope, ident, ch)


def is_publishable(topic: str) -> bool:
    """True when ``topic`` is a legal MQTT publish topic (no wildcards, not empty)."""
    return bool(topic) and "+" not in topic and "#" not in topic and "\x00" not in topic
