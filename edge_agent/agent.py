"""The agent: frame source → motion gate → detector → tracker → rules → spool → link.

``Pipeline`` is the synchronous core (no MQTT: benches and tests drive it frame by
frame); ``Agent`` wires it to a supervised source, the spool and the link, and runs it
until stopped.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from protocol import encode, uuid7
from protocol.messages import (
    CONFIG_LEVEL,
    Config,
    Event,
    Health,
    ModelRef,
    SnapshotRequest,
    SnapshotResponse,
    config_masks,
    config_model,
)

from . import __version__
from .config import AgentConfig
from .detectors import Detector, ModelError, detector_from_config
from .link import Link, now_ms
from .masks import FrameMasks
from .model_update import BoardSigner, ModelUpdateError, install, revert
from .models import sha256_file
from .motion import MotionGate
from .rules import EventDraft, RuleEngine
from .snapshots import SnapshotRing
from .snapshots import answer as answer_snapshot
from .sources import Frame, Pacer, SupervisedSource, build_source
from .spool import Spool, SpoolFull
from .tracker import Tracker, TrackerConfig


def make_event(d: EventDraft, dev: str, seq: int, ts: int, event_id: str) -> Event:
    """A protocol Event from a rules draft (boxes to integer thousandths)."""
    from protocol.messages import box_to_permille

    return Event(
        id=event_id,
        seq=seq,
        ts=ts,
        dev=dev,
        kind=d.kind,  # type: ignore[arg-type]
        phase=d.phase,  # type: ignore[arg-type]
        label=d.label,
        conf=min(1.0, max(0.0, d.conf)),
        track=d.track,
        box=box_to_permille(d.box),
        zone=d.zone,
        count=d.count,
        direction=d.direction,  # type: ignore[arg-type]
        dwell_s=d.dwell_s,
        subtype=d.subtype if d.label == "vehicle" else None,  # type: ignore[arg-type]
    ).rounded()


@dataclass
class Stats:
    """Counters behind the health message."""

    frames: int = 0
    detected: int = 0
    events: int = 0
    inference_ms: float = 0.0
    motion: float = 0.0
    started: float = field(default_factory=time.monotonic)
    window_frames: int = 0
    window_t: float = field(default_factory=time.monotonic)


#: Tries to take a model the centre names, and the wait before the second (doubling).
MODEL_TRIES = 4
MODEL_RETRY_S = 30.0


class Pipeline:
    """Gate, detector, tracker and rules for one camera; ``process`` returns drafts."""

    def __init__(self, cfg: AgentConfig, detector: Detector, rules: Config) -> None:
        """Assemble the stages from the config."""
        m = cfg.motion
        self.gate = MotionGate(
            m.width, m.pixel_threshold, m.min_area, m.background_alpha, m.recheck_s, m.enabled
        )
        self.detector = detector
        t = cfg.tracker
        self.tracker = Tracker(TrackerConfig(t.iou_threshold, t.max_age_s, t.min_hits))
        self.rules = RuleEngine(rules, report_presence=cfg.report_presence)
        self.masks = FrameMasks(config_masks(rules))
        self.stats = Stats()

    def set_rules(self, rules: Config) -> None:
        """Swap rules and masks (already validated) between frames."""
        self.rules.set_config(rules)
        self.masks = FrameMasks(config_masks(rules))

    def process(self, frame: Frame, when: dt.datetime | None = None) -> list[EventDraft]:
        """Run one frame through the stages."""
        self.stats.frames += 1
        self.stats.window_frames += 1
        # Privacy masks first: neither the gate nor the detector ever sees those pixels.
        rgb = self.masks.privacy(frame.rgb)
        g = self.gate.check(rgb, frame.t, bool(self.tracker.tracks), self.masks.motion)
        self.stats.motion = g.motion
        if not g.detect:
            # Age tracks even when nothing is detected, so people who left end on time.
            if self.tracker.tracks and any(
                frame.t - tr.last_t > self.tracker.cfg.max_age_s for tr in self.tracker.tracks
            ):
                upd = self.tracker.update([], frame.t)
                return self.rules.step(upd, frame.t, when or dt.datetime.now())
            return []
        dets = self.masks.objects(self.detector.detect(rgb))
        self.stats.detected += 1
        self.stats.inference_ms = self.detector.last_inference_ms
        upd = self.tracker.update(dets, frame.t)
        return self.rules.step(upd, frame.t, when or dt.datetime.now())

    def flush(self, t: float) -> list[EventDraft]:
        """End all tracks (the source ended or the agent stops)."""
        return self.rules.flush(self.tracker.flush(), t)


def cpu_temperature() -> float | None:
    """SoC temperature in °C where the kernel exposes it (Pi, Jetson), else None."""
    for zone in ("/sys/class/thermal/thermal_zone0/temp",):
        try:
            with open(zone) as f:
                return round(int(f.read().strip()) / 1000, 1)
        except (OSError, ValueError):
            continue
    return None


class Agent:
    """A running board agent (threads: the pipeline loop, the link's network and sender)."""

    def __init__(self, cfg: AgentConfig, log: Callable[[str], None] = print) -> None:
        """Load the model, open the spool, prepare the link (ModelError if the model is bad)."""
        self.cfg = cfg
        self.log = log
        self.stop_event = threading.Event()
        rules = cfg.rules_config()
        self.detector = detector_from_config(cfg, log)
        self.model_sha256 = sha256_file(cfg.model_path())
        self._pending_detector: Detector | None = None
        self._model_lock = threading.Lock()
        self._model_wanted: str | None = None  # sha256 being downloaded, or None
        self._model_named: ModelRef | None = None  # the latest model the centre named
        self.pipeline = Pipeline(cfg, self.detector, rules)
        self.spool = Spool(cfg.spool.path, cfg.spool.max_events, cfg.spool.max_bytes)
        s = cfg.snapshots
        # Privacy masks are burned into every kept frame: no snapshot ever shows them.
        self.snapshots = SnapshotRing(
            s.ring, s.quality, s.max_width, redact=lambda rgb: self.pipeline.masks.privacy(rgb)
        )
        self.health_interval = float(cfg.health_interval_s)
        self._pending_config: Config | None = None
        # The newest frame (a reference, replaced each frame): the camera's current view.
        self._latest_rgb: np.ndarray | None = None
        self.spool_errors = 0
        self.link = Link(
            cfg.broker,
            cfg.device_id,
            self.spool,
            state_fields={
                "firmware": f"edge-agent {__version__}",
                "model": self.detector.model_version,
                "profile": cfg.profile,
                "config_level": CONFIG_LEVEL,
                "detector": cfg.detector.kind,
                "model_sha256": self.model_sha256,
            },
            on_config=self._on_config,
            on_snapshot=self._on_snapshot,
            log=log,
        )
        self.link.config_rev = rules.rev
        self.source = SupervisedSource(
            build_source(cfg.source),
            self.stop_event,
            cfg.source.reopen_min_s,
            cfg.source.reopen_max_s,
            log=log,
        )

    def _on_config(self, cfg: Config) -> None:
        self._pending_config = cfg  # picked up by the pipeline thread between frames
        ref = config_model(cfg)
        if ref is not None:
            self._want_model(ref)

    def _want_model(self, ref: ModelRef) -> None:
        """Start taking the model the centre names, unless it runs already or is coming."""
        self._model_named = ref
        if ref.kind != self.cfg.detector.kind:
            self._model_result(
                f"the centre named a {ref.kind} model; this board runs {self.cfg.detector.kind}"
            )
            return
        with self._model_lock:
            if ref.sha256 == self.model_sha256:
                if self.link.state_fields.get("model_error"):
                    self._model_result(None)  # it runs the named model: nothing is wrong
                return
            if ref.sha256 == self._model_wanted:
                return
            self._model_wanted = ref.sha256
        # Off the MQTT thread: a download takes seconds and must not stall the link.
        threading.Thread(target=self._take_model, args=(ref,), name="cw-model", daemon=True).start()

    def _take_model(self, ref: ModelRef) -> None:
        """Take ``ref``, trying again after MODEL_RETRY_S, 2x, 4x … while it is still the
        model the centre names; the pipeline swaps detectors between frames."""
        try:
            for attempt in range(MODEL_TRIES):
                try:
                    detector = self._install_and_load(ref)
                except (ModelUpdateError, ModelError) as exc:
                    self._model_result(f"kept the running model: {exc}")
                    if self.stop_event.wait(MODEL_RETRY_S * 2**attempt):
                        return
                    if self._model_named != ref:
                        return  # the centre names another one by now
                    continue
                self._pending_detector = detector
                self.model_sha256 = ref.sha256
                self.link.set_state_fields(model=detector.model_version, model_sha256=ref.sha256)
                self._model_result(None)
                return
        finally:
            with self._model_lock:
                self._model_wanted = None

    def _install_and_load(self, ref: ModelRef) -> Detector:
        """Download and verify ``ref`` into the store, then load it; a model that does not
        load is taken back out of the store (the previous one is active again)."""
        c, tls = self.cfg.centre, self.cfg.broker.tls
        if not c.url:
            raise ModelUpdateError("no centre address configured (centre.url)")
        if tls is None or tls.cert is None or tls.key is None:
            raise ModelUpdateError("no board certificate to sign the download with")
        signer = BoardSigner(self.cfg.device_id, tls.cert, tls.key)
        install(
            ref, c.models_dir, c.url, signer, ca=c.ca or tls.ca, timeout=c.download_timeout_s,
            log=self.log,
        )  # fmt: skip
        try:
            return detector_from_config(self.cfg, self.log)  # the store's active model
        except ModelError:
            revert(c.models_dir, ref.kind)
            raise

    def _model_result(self, error: str | None) -> None:
        """Report the outcome of the last model the centre named in ``state``."""
        if error:
            self.log(error)
        # Bounded: the state message (with a config error beside it) stays under its limit.
        self.link.set_state_fields(model_error=error[:500] if error else None)
        self.link.publish_state()

    def _on_snapshot(self, req: SnapshotRequest) -> SnapshotResponse:
        return answer_snapshot(self.snapshots, req, lambda: self._latest_rgb)

    def _encode(self, d: EventDraft, ts: int, event_id: str, seq: int) -> bytes:
        return encode(make_event(d, self.cfg.device_id, seq, ts, event_id))

    def emit(self, drafts: list[EventDraft], frame: Frame | None) -> None:
        """Spool each draft as an Event (durably), keep the frame's snapshot, wake the sender."""
        kept: list[str] = []
        for d in drafts:
            event_id = uuid7()
            ts = now_ms()
            try:
                self.spool.append(functools.partial(self._encode, d, ts, event_id))
            except SpoolFull as exc:
                self.spool_errors += 1
                self.log(str(exc))
                continue
            self.pipeline.stats.events += 1
            kept.append(event_id)
        if frame is not None and kept:
            # Every phase keeps its frame: the centre asks for all of an incident's frames.
            self.snapshots.put_frame(kept, frame.rgb)
        if drafts:
            self.link.kick()

    def health(self) -> Health:
        """The current health message."""
        st = self.pipeline.stats
        now = time.monotonic()
        span = max(1e-6, now - st.window_t)
        fps = min(1000.0, st.window_frames / span)
        st.window_frames, st.window_t = 0, now
        try:
            load = os.getloadavg()[0] / (os.cpu_count() or 1)
        except OSError:
            load = None
        return Health(
            ts=now_ms(),
            fps=round(fps, 2),
            inference_ms=round(st.inference_ms, 2),
            motion=round(min(1.0, st.motion), 4),
            spool=self.spool.depth(),
            drops=self.spool.drops(),
            spool_first=self.spool.first_seq(),
            outages=self.source.outages,
            source_ok=self.source.ok,
            temp_c=cpu_temperature(),
            uptime_s=int(now - st.started),
            cpu=None if load is None else round(min(1.0, load), 3),
        )

    def run(self) -> int:
        """Run until stopped or a finite source ends; returns an exit code."""
        self.link.start()
        # Health has its own thread: it must keep flowing while the source is in an
        # outage (the pipeline loop is then blocked in the source's backoff).
        health = threading.Thread(target=self._health_main, name="cw-health", daemon=True)
        health.start()
        pacer = Pacer(self.cfg.source.fps, self.stop_event) if self.cfg.source.realtime else None
        last_t = 0.0
        try:
            while not self.stop_event.is_set():
                if self._pending_detector is not None:
                    self.pipeline.detector, self._pending_detector = self._pending_detector, None
                    self.detector = self.pipeline.detector
                if self._pending_config is not None:
                    cfg, self._pending_config = self._pending_config, None
                    self.pipeline.set_rules(cfg)
                    self.health_interval = float(cfg.health_interval_s)
                if pacer is not None:
                    pacer.wait()
                frame = self.source.read()
                if frame is None:
                    break
                last_t = frame.t
                self._latest_rgb = frame.rgb
                try:
                    drafts = self.pipeline.process(frame, self._frame_time(frame))
                except ValueError as exc:  # an unreadable frame: report, skip, carry on
                    self.log(f"skipped a frame: {exc}")
                    continue
                self.emit(drafts, frame)
            self.emit(self.pipeline.flush(last_t), None)
        finally:
            self.stop_event.set()
            health.join(5)
            self.source.close()
            self._drain(2.0)
            self.link.stop()
            self.spool.close()
        return 0

    def _frame_time(self, frame: Frame) -> dt.datetime | None:
        """When the rules judge ``frame``: as filmed for recorded footage, else now (None)."""
        start = self.cfg.source.recorded_at
        return None if start is None else start + dt.timedelta(seconds=frame.t)

    def _health_main(self) -> None:
        delay = min(2.0, self.health_interval)  # the first one early: the centre sees us
        while not self.stop_event.wait(delay):
            self.link.publish_health(self.health())
            delay = self.health_interval

    def _drain(self, timeout: float) -> None:
        """Give the sender a moment to publish what is spooled (it stays spooled anyway)."""
        deadline = time.monotonic() + timeout
        while self.spool.depth() and self.link.connected.is_set() and time.monotonic() < deadline:
            self.link.kick()
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask the loop to finish (signal-safe)."""
        self.stop_event.set()
