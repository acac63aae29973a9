"""The one error type the protocol raises for anything it refuses."""

from __future__ import annotations


class ProtocolError(ValueError):
    """Raised when a topic, id or payload does not satisfy the CityWatch contract.

    ``kind`` names the message kind being handled (or ``"topic"``/``"id"``) and
    ``reason`` says, in words an operator can act on, what was wrong.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
