"""Identifiers: UUIDv7 event ids and validation of device/unit ids.

UUIDv7 (RFC 9562) is time-ordered, so ids sort by creation time and index well in
SQLite's B-trees; the stdlib gains ``uuid.uuid7`` only in 3.14, hence this helper.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid

from .errors import ProtocolError

# Ids end up inside MQTT topic levels, certificate CNs and file names: no wildcard,
# separator, whitespace or leading '$' (reserved for broker topics) can ever pass.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7(now_ms: int | None = None) -> str:
    """Return a new UUIDv7 as 32 lowercase hex digits; monotonic within one process."""
    global _last_ms, _counter
    if now_ms is not None:
        # An explicit time (replays, simulations) bypasses the process-wide ordering state.
        return _build(now_ms, int.from_bytes(os.urandom(2), "big") & 0xFFF)
    with _lock:
        ms = int(time.time() * 1000)
        if ms <= _last_ms:
            # Same (or earlier, after a clock step) millisecond: keep order with a counter.
            ms = _last_ms
            _counter += 1
            if _counter >= 1 << 12:
                ms += 1
                _counter = 0
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        _last_ms = ms
        rand_a = _counter
    return _build(ms, rand_a)


def _build(ms: int, rand_a: int) -> str:
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return uuid.UUID(int=value).hex


def uuid7_time_ms(value: str) -> int:
    """Return the millisecond timestamp embedded in a UUIDv7 string."""
    u = parse_uuid7(value)
    return u.int >> 80


def parse_uuid7(value: str) -> uuid.UUID:
    """Parse and check a UUIDv7 string, raising ProtocolError when it is not one."""
    try:
        u = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as exc:
        raise ProtocolError("id", f"not a UUID: {value!r}") from exc
    if u.version != 7:
        raise ProtocolError("id", f"UUID is version {u.version}, expected 7: {value!r}")
    if value != u.hex:
        raise ProtocolError("id", f"UUIDv7 must be 32 lowercase hex digits: {value!r}")
    return u


def is_valid_id(value: object) -> bool:
    """True when ``value`` may be used as a device, unit or zone id."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def check_id(value: object, what: str = "id") -> str:
    """Return ``value`` when it is a valid id, else raise ProtocolError saying why."""
    if not isinstance(value, str):
        raise ProtocolError("id", f"{what} must be a string, got {type(value).__name__}")
    if not _ID_RE.fullmatch(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "._-"))})
        detail = f" (forbidden characters: {''.join(bad)!r})" if bad else ""
        raise ProtocolError(
            "id",
            f"{what} {value!r} is invalid{detail}: use 1-64 of A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit",
        )
    return value
