"""The CityWatch contract: MQTT topics, payload schemas and their encoding (v1).

Imports only the standard library and msgspec, so every role (board, centre,
provisioning, tests) shares one definition of the wire format.
"""

from .codec import CHANNEL_OF, MAX_BYTES, PAYLOAD_TYPES, decode, decode_as, encode
from .errors import ProtocolError
from .ids import check_id, is_valid_id, parse_uuid7, uuid7, uuid7_time_ms
from .messages import (
    CONFIG_LEVEL,
    SCHEMA_VERSION,
    Ack,
    CapAlert,
    CapInfo,
    CapParameter,
    Committed,
    Config,
    ConfigV2,
    Dispatch,
    Event,
    Health,
    Mask,
    Masks,
    SnapshotRequest,
    SnapshotResponse,
    State,
    UnitPosition,
    WarningBoard,
    Window,
    Zone,
    box_from_permille,
    box_to_permille,
    config_masks,
    render_config,
)
from .topics import DEFAULT_ROOT, Channel, ParsedTopic, Topics

__version__ = "0.1.0"

__all__ = [
    "CHANNEL_OF",
    "CONFIG_LEVEL",
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
    "ConfigV2",
    "Dispatch",
    "Event",
    "Health",
    "Mask",
    "Masks",
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
    "config_masks",
    "decode",
    "decode_as",
    "encode",
    "is_valid_id",
    "parse_uuid7",
    "render_config",
    "uuid7",
    "uuid7_time_ms",
]
