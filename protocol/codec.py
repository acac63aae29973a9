"""Encode messages to compact JSON and decode untrusted bytes into typed messages.

Decoding never raises anything but :class:`ProtocolError`: size is checked before parsing,
msgspec validates types and ranges in one pass, and the schema version is checked last.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import msgspec

from .errors import ProtocolError
from .messages import (
    _V0,
    SCHEMA_VERSION,
    Ack,
    Committed,
    Config,
    ConfigV2,
    ConfigV3,
    Dispatch,
    Event,
    Health,
    Message,
    SnapshotRequest,
    SnapshotResponse,
    State,
    UnitPosition,
    WarningBoard,
)
from .topics import Channel

T = TypeVar("T")

#: Channel → payload type.
PAYLOAD_TYPES: dict[Channel, type] = {
    Channel.EVENT: Event,
    Channel.STATE: State,
    Channel.HEALTH: Health,
    Channel.CONFIG: Config,
    Channel.SNAPSHOT_REQ: SnapshotRequest,
    Channel.SNAPSHOT: SnapshotResponse,
    Channel.COMMITTED: Committed,
    Channel.POSITION: UnitPosition,
    Channel.DISPATCH: Dispatch,
    Channel.ACK: Ack,
    Channel.WARNINGS: WarningBoard,
}
CHANNEL_OF: dict[type, Channel] = {t: c for c, t in PAYLOAD_TYPES.items()}
CHANNEL_OF[ConfigV2] = Channel.CONFIG
CHANNEL_OF[ConfigV3] = Channel.CONFIG
#: What each channel decodes: one type, except config, which has one type per level.
WIRE_TYPES: dict[Channel, Any] = {**PAYLOAD_TYPES, Channel.CONFIG: Config | ConfigV2 | ConfigV3}

#: Upper bound on a payload's size per channel; anything larger is refused unparsed.
MAX_BYTES: dict[Channel, int] = {
    Channel.EVENT: 2_048,
    Channel.STATE: 4_096,
    Channel.HEALTH: 2_048,
    Channel.CONFIG: 65_536,
    Channel.SNAPSHOT_REQ: 1_024,
    Channel.SNAPSHOT: 1_500_000,
    Channel.COMMITTED: 512,
    Channel.POSITION: 1_024,
    Channel.DISPATCH: 4_096,
    Channel.ACK: 4_096,
    Channel.WARNINGS: 2_000_000,
}

_encoder = msgspec.json.Encoder()
# Decoding into ``T | _V0`` (a tagged union) makes the version field ``v`` mandatory and
# checked by msgspec itself; a bare tagged struct would accept a payload without it.
_decoders = {c: msgspec.json.Decoder(t | _V0) for c, t in WIRE_TYPES.items()}


def encode(msg: Message) -> bytes:
    """Encode a message to compact JSON bytes (raises ProtocolError if it is too big)."""
    ch = CHANNEL_OF.get(type(msg))
    if ch is None:
        raise ProtocolError("encode", f"{type(msg).__name__} is not a protocol message")
    data = _encoder.encode(msg)
    if len(data) > MAX_BYTES[ch]:
        raise ProtocolError(ch.value, f"encoded size {len(data)} B exceeds {MAX_BYTES[ch]} B")
    return data


def decode(channel: Channel | str, data: bytes | bytearray | memoryview | str) -> Any:
    """Decode untrusted bytes received on ``channel`` into its typed message."""
    try:
        ch = Channel(channel)
    except ValueError:
        raise ProtocolError("decode", f"unknown channel {channel!r}") from None
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(ch.value, f"payload must be bytes, got {type(data).__name__}")
    size = len(data)
    if size == 0:
        raise ProtocolError(ch.value, "empty payload")
    if size > MAX_BYTES[ch]:
        raise ProtocolError(ch.value, f"payload of {size} B exceeds the {MAX_BYTES[ch]} B bound")
    try:
        msg = _decoders[ch].decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if text.endswith("at `$.v`"):
            raise ProtocolError(
                ch.value, f"unsupported schema version ({text}); this build speaks {SCHEMA_VERSION}"
            ) from None
        raise ProtocolError(ch.value, f"invalid payload: {text}") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(ch.value, f"malformed JSON: {exc}") from None
    except (RecursionError, UnicodeDecodeError, ValueError) as exc:  # defensive: hostile input
        raise ProtocolError(ch.value, f"undecodable payload: {exc}") from None
    if isinstance(msg, _V0):
        raise ProtocolError(
            ch.value, f"unsupported schema version 0; this build speaks {SCHEMA_VERSION}"
        )
    return msg


def decode_as(cls: type[T], data: bytes | bytearray | memoryview | str) -> T:
    """Decode ``data`` as message type ``cls`` (typed convenience over :func:`decode`)."""
    ch = CHANNEL_OF.get(cls)
    if ch is None:
        raise ProtocolError("decode", f"{cls.__name__} is not a protocol message")
    return cast(T, decode(ch, data))


def to_builtins(msg: Message) -> dict[str, Any]:
    """Return the message as plain JSON-ready builtins, with wire (short) field names."""
    return cast(dict[str, Any], msgspec.to_builtins(msg))


def from_builtins(channel: Channel | str, obj: Any) -> Any:
    """Validate a plain dict (e.g. an AsyncAPI example) as the payload of ``channel``."""
    return decode(channel, msgspec.json.encode(obj))
