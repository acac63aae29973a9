"""``edge-agent run --dry-run``: the whole pipeline on the configured source, no broker.

Source → motion gate → detector → tracker → rules, exactly as a running board does;
each event it would publish is printed as one JSON line ``{"topic", "payload"}`` (the
payload is the exact wire JSON), so a technician sees what the centre would receive; a
vehicle's subtype, which the wire does not carry yet, is shown beside the payload.
Nothing is spooled and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import TextIO

from protocol import Channel, Topics, encode, uuid7

from .agent import Pipeline, make_event
from .config import AgentConfig
from .detectors import detector_from_config
from .link import now_ms
from .rules import EventDraft
from .sources import Pacer, build_source


def dry_run(
    cfg: AgentConfig,
    out: TextIO,
    *,
    max_frames: int | None = None,
    stop: threading.Event | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Run until the source ends, ``max_frames`` or ``stop``; returns the events printed."""
    detector = detector_from_config(cfg, log)
    pipeline = Pipeline(cfg, detector, cfg.rules_config())
    topic = Topics(cfg.broker.topic_root).device(cfg.device_id, Channel.EVENT)
    stop = stop or threading.Event()
    source = build_source(cfg.source)
    pacer = Pacer(cfg.source.fps, stop) if cfg.source.realtime else None
    seq = 0

    def emit(drafts: list[EventDraft]) -> None:
        nonlocal seq
        for draft in drafts:
            seq += 1
            event = make_event(draft, cfg.device_id, seq, now_ms(), uuid7())
            row = {"topic": topic, "payload": json.loads(encode(event))}
            out.write(json.dumps(row) + "\n")
            out.flush()

    source.open()
    last_t, frames = 0.0, 0
    try:
        while not stop.is_set() and (max_frames is None or frames < max_frames):
            if pacer is not None:
                pacer.wait()
            frame = source.read()
            if frame is None:
                break
            frames += 1
            last_t = frame.t
            start = cfg.source.recorded_at  # recorded footage: judged as when filmed
            when = None if start is None else start + dt.timedelta(seconds=frame.t)
            emit(pipeline.process(frame, when))
        emit(pipeline.flush(last_t))
    finally:
        source.close()
    if log is not None:
        st = pipeline.stats
        log(f"dry run: {frames} frames, {st.detected} detected, {seq} events (none published)")
    return seq
