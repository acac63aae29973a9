"""A camera's evidence-sharing terms: may the centre take frames from it, and on what terms.

Most of the city's cameras belong to companies and communities, not to the government;
their owners joined the network on terms. Each device carries ``evidence_sharing``:

- ``always``: the centre may take frames of any incident the camera saw;
- ``on_request``: only with a stated purpose, recorded with the request and in the audit log;
- ``none``: never; the camera reports events, but no image leaves the board.

A device without a setting follows its owner type (:data:`DEFAULT_SHARING`): government
cameras ``always``, company and community cameras ``on_request``. Pure functions only.
"""

from __future__ import annotations

from enum import StrEnum


class EvidenceSharing(StrEnum):
    """What a camera's owner agreed to share with the centre."""

    NONE = "none"
    ON_REQUEST = "on_request"
    ALWAYS = "always"


DEFAULT_SHARING: dict[str, EvidenceSharing] = {
    "government": EvidenceSharing.ALWAYS,
    "company": EvidenceSharing.ON_REQUEST,
    "community": EvidenceSharing.ON_REQUEST,
}

#: Shortest purpose accepted where the terms ask for one.
MIN_PURPOSE = 3


def effective_sharing(owner_type: str | None, setting: str | None) -> EvidenceSharing:
    """The terms in force: the device's own setting, else its owner type's default."""
    if setting:
        return EvidenceSharing(setting)
    return DEFAULT_SHARING.get(owner_type or "", EvidenceSharing.ON_REQUEST)


def refusal(
    device_id: str, owner_type: str | None, setting: str | None, purpose: str | None
) -> str | None:
    """Why frames of ``device_id`` may not be taken, or None when the terms allow it."""
    terms = effective_sharing(owner_type, setting)
    owner = owner_type or "unknown"
    if terms is EvidenceSharing.NONE:
        return f"camera {device_id} ({owner}-owned) does not share evidence frames"
    if terms is EvidenceSharing.ON_REQUEST and len((purpose or "").strip()) < MIN_PURPOSE:
        return f"camera {device_id} ({owner}-owned) shares frames only with a stated purpose"
    return None
