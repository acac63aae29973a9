"""The pure sequence classifier, with literal inputs."""

from __future__ import annotations

import pytest

from coordinator.ingest.sequence import seq_step


@pytest.mark.parametrize(
    ("last", "seq", "expected"),
    [
        (None, 7, ("first", 7)),  # first event seen from a device: no gap before it
        (4, 5, ("next", 5)),
        (4, 9, ("gap", 9)),  # 5..8 lost (until they arrive late)
        (9, 6, ("late", 9)),  # a spooled event arriving after newer ones
        (9, 9, ("late", 9)),  # same number, different id: kept, counted late
        (500, 1, ("reset", 1)),  # numbering restarted (board re-flashed)
        (1, 1, ("late", 1)),
    ],
)
def test_seq_step(last, seq, expected):
    assert seq_step(last, seq) == expected
