"""ID-document numbers at rest: AES-256-GCM with a key id, looked up by keyed hash.

Both keys are derived (HKDF-SHA256) from ``settings.data_key`` with distinct labels, so
one secret feeds an encryption key and an HMAC lookup key that cannot be confused.
A ciphertext starts with the 4-byte id of the key that made it; rotation (see
docs/population.md) decrypts with the old key, re-encrypts and re-hashes with the new
one, and can tell at a glance which rows are left.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import Broken

KID_LEN = 4
NONCE_LEN = 12
HASH_LEN = 16  # 128-bit lookup hash: collisions are out of reach at city scale


class UnknownKeyError(Broken, LookupError):
    """A ciphertext was made with a key that is not configured (an operator must add it)."""


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


class DataKey:
    """One data key: its id, AES-GCM cipher and HMAC lookup key."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("data_key is empty")
        self.kid = _derive(secret, b"citywatch/population/kid/v1")[:KID_LEN]
        self._aead = AESGCM(_derive(secret, b"citywatch/population/id-enc/v1"))
        self._mac = _derive(secret, b"citywatch/population/id-lookup/v1")

    @property
    def kid_hex(self) -> str:
        """The key id as hex (shown in docs, logs and the rotation command)."""
        return self.kid.hex()

    def lookup_hash(self, id_type: str, number: str) -> bytes:
        """Keyed hash of a normalised document number: equal numbers, equal hashes."""
        return hmac.new(self._mac, f"{id_type}:{number}".encode(), hashlib.sha256).digest()[
            :HASH_LEN
        ]

    def encrypt(self, id_type: str, number: str) -> bytes:
        """kid ‖ nonce ‖ ciphertext+tag; the document type is bound as associated data."""
        nonce = os.urandom(NONCE_LEN)
        return self.kid + nonce + self._aead.encrypt(nonce, number.encode(), id_type.encode())

    def decrypt(self, id_type: str, blob: bytes) -> str:
        """Inverse of :meth:`encrypt` (raises InvalidTag when tampered)."""
        nonce = blob[KID_LEN : KID_LEN + NONCE_LEN]
        return self._aead.decrypt(nonce, blob[KID_LEN + NONCE_LEN :], id_type.encode()).decode()


class Keyring:
    """The current key plus retired keys still accepted for decryption during rotation."""

    def __init__(self, current: str, retired: list[str] | None = None) -> None:
        self.current = DataKey(current)
        self._by_kid = {self.current.kid: self.current}
        for secret in retired or []:
            k = DataKey(secret)
            self._by_kid.setdefault(k.kid, k)

    def encrypt(self, id_type: str, number: str) -> bytes:
        """Encrypt with the current key."""
        return self.current.encrypt(id_type, number)

    def lookup_hash(self, id_type: str, number: str) -> bytes:
        """Lookup hash under the current key."""
        return self.current.lookup_hash(id_type, number)

    def decrypt(self, id_type: str, blob: bytes) -> str:
        """Decrypt with whichever configured key made ``blob``."""
        key = self._by_kid.get(bytes(blob[:KID_LEN]))
        if key is None:
            raise UnknownKeyError(
                f"ID number encrypted with key {bytes(blob[:KID_LEN]).hex()}, which is not "
                "configured: finish the key rotation (docs/population.md)"
            )
        return key.decrypt(id_type, bytes(blob))
