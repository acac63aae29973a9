"""Device ids can never take or imitate a service account's or unit's name."""

from __future__ import annotations

import pytest

from protocol.names import device_name_problem


@pytest.mark.parametrize(
    ("name", "taken", "refused"),
    [
        ("coordinator", [], True),
        ("Coordinator", [], True),  # case-folded
        ("coordinator-2", [], True),  # a worker's prefix
        ("ingest_2", [], True),  # separators folded
        ("svc.alarm", [], True),
        ("car-12", ["car-12"], True),  # a patrol unit's id
        ("CAR_12", ["car-12"], True),
        ("cam-001", ["car-12", "coordinator"], False),
        ("gw-futian-03.ch2", [], False),
        ("recoordinator", [], False),  # only prefixes, not substrings
    ],
)
def test_device_names(name: str, taken: list[str], refused: bool) -> None:
    assert (device_name_problem(name, taken) is not None) is refused
