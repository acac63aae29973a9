"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), pure functions.

The second factor of the roles that read personal data. Codes are six digits over 30-second
steps, HMAC-SHA1 (what every authenticator app implements); a code is accepted one step
either side of now for clock drift, and never twice (the caller keeps the last step used).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_S = 30
DIGITS = 6
#: Steps accepted either side of now (a phone's clock may drift by a few seconds).
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation


def new_secret() -> str:
    """A fresh random secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    s = secret_b32.strip().replace(" ", "").upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))


def step_of(t: float) -> int:
    """The 30-second step that ``t`` (Unix seconds) falls in."""
    return int(t // STEP_S)


def hotp(secret_b32: str, counter: int) -> str:
    """RFC 4226: the code for one counter value (dynamic truncation of HMAC-SHA1)."""
    mac = hmac.new(_key(secret_b32), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def code_at(secret_b32: str, t: float) -> str:
    """The code an authenticator shows at time ``t``."""
    return hotp(secret_b32, step_of(t))


def matching_step(
    secret_b32: str, code: str, t: float, after_step: int | None = None
) -> int | None:
    """The step within the drift window whose code equals ``code``, later than
    ``after_step`` (a code already used is refused); None when nothing matches."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_of(t)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(hotp(secret_b32, step), code):
            return step
    return None


def otpauth_uri(secret_b32: str, account: str, issuer: str = "CityWatch") -> str:
    """The ``otpauth://`` URI an authenticator app scans (Key Uri Format)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode(
        {"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
         "period": STEP_S}
    )  # fmt: skip
    return f"otpauth://totp/{label}?{query}"
