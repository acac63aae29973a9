"""The CityWatch contract: MQTT topics, payload schemas and their encoding (v1).

Imports only the standard library and msgspec, so every role (board, centre,
provisioning, tests) shares one definition of the wire format.
"""

from .codec import CHANNEL_OF, MAX_BYTES, PAYLOAD_TYPES, decode, decode_as, encode
from .errors import ProtocolError
from .ids import check_id, is_valid_id, parse_uuid7, uuid7, uuid7_time_ms
from .messages import (
    SCHEMA_VERSION,
    Ack,
    CapAlert,
    CapInfo,
    CapParameter,
    Committed,
    Config,
    Dispatch,
    Event,
    Health,
    SnapshotRequest,
    SnapshotResponse,
    State,
    UnitPosition,
    WarningBoard,
    Window,
    Zone,
    box_from_permille,
    box_to_permille,
)
from .topics import DEFAULT_ROOT, Channel, ParsedTopic, Topics

__version__ = "0.1.0"

__all__ = [
    "CHANNEL_OF",
    "DEFAULT_ROOT",
    "MAX_BYTES",
    "PAYLOAD_TYPES",
    "SCHEMA_VERSION",
    "Ack",
    "CapAlert",
    "CapInfo",
    "CapParameter",
    "Channel",
    "Committed",
    "Config",
    "Dispatch",
    "Event",
    "Health",
    "ParsedTopic",
    "ProtocolError",
    "SnapshotRequest",
    "SnapshotResponse",
    "State",
    "Topics",
    "UnitPosition",
    "WarningBoard",
    "Window",
    "Zone",
    "box_from_permille",
    "box_to_permille",
    "check_id",
    "decode",
    "decode_as",
    "encode",
    "is_valid_id",
    "parse_uuid7",
    "uuid7",
    "uuid7_time_ms",
]
