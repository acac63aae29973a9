"""A board's real MQTT link and spool, without camera or detector (delivery tests, benches)."""

from __future__ import annotations

from collections.abc import Callable

from edge_agent.config import BrokerSection
from edge_agent.link import Link
from edge_agent.spool import Spool
from protocol import SnapshotRequest, SnapshotResponse


def no_snapshot(req: SnapshotRequest) -> SnapshotResponse:
    """A board that keeps no frames."""
    return SnapshotResponse(req=req.req, ts=1, ok=False, error="none")


def board_link(
    port: int,
    dev: str,
    spool: Spool,
    *,
    inflight: int = 64,
    on_snapshot: Callable[[SnapshotRequest], SnapshotResponse] = no_snapshot,
) -> Link:
    """A board's link to a plain broker on ``port`` (not started)."""
    return Link(
        BrokerSection(host="127.0.0.1", port=port, inflight=inflight),
        dev,
        spool,
        state_fields={"firmware": "test"},
        on_config=lambda cfg: None,
        on_snapshot=on_snapshot,
        log=lambda msg: None,
    )
