"""Durable ingest: MQTT → decode → one SQLite transaction per batch → PUBACK.

The link hands every event/state/health message to :meth:`IngestService.sink`. A batcher
thread drains what has arrived (up to ``ingest_batch_max``), decodes and classifies it,
and submits *one* write task for the batch; the writer commits it (group commit) and only
then are the batch's messages acknowledged, in arrival order. Nothing is lost on a crash:
an unacknowledged message is redelivered by the broker, and the insert is idempotent by
event id, so the copy is absorbed.

Bad input never stops ingest. Garbage, a wrong schema version, an oversized payload, an
unknown device, or a topic/payload device mismatch go to ``dead_letters`` (reason + at
most ``RAW_KEEP`` bytes) and are acknowledged. A clock-skewed event is *kept* with
``skewed = 1`` and merged at its arrival time: it is real evidence, only its clock is
wrong (documented in docs/operators.md). If a batch's write fails, its messages are
retried one by one; one that fails alone is dead-lettered as an internal error.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from protocol import MAX_BYTES, Channel, Committed, Event, ProtocolError, decode, encode

from ..fleet.service import FleetService
from ..incidents.service import IncidentService
from ..platform.bus import Unsubscribe, remover
from ..platform.db import Database
from ..platform.mqtt import Inbound, MqttLink
from ..settings import Settings
from .schema import count_events
from .sequence import apply_sequence, watermarks

log = logging.getLogger(__name__)
RAW_KEEP = 4096  # bytes of a dead letter's payload kept for diagnosis
#: A board's committed watermark is published at most this often (seconds): a busy camera
#: gets one small retained message a second, not one per batch.
WATERMARK_EVERY_S = 1.0
EVENT_COLS = [
    "id",
    "dev",
    "seq",
    "ts",
    "t",
    "recv",
    "kind",
    "phase",
    "label",
    "conf",
    "track",
    "box",
    "zone",
    "count",
    "direction",
    "dwell",
    "skewed",
    "incident_id",
    "share",
]


@dataclass
class IngestStats:
    """Counters exported on /metrics."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    lost: int = 0
    late: int = 0
    skewed: int = 0
    states: int = 0
    healths: int = 0
    batches: int = 0
    failed_batches: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    lag_s: float = 0.0  # last batch: commit time - arrival of its oldest message


@dataclass
class _Batch:
    items: list[Inbound]
    events: list[dict[str, Any]] = field(default_factory=list)
    states: list[tuple[str, Any]] = field(default_factory=list)
    healths: dict[str, Any] = field(default_factory=dict)
    dead: list[dict[str, Any]] = field(default_factory=list)
    single: bool = False


_Item = tuple[Inbound, str, str | None]  # message, mode (new/dead/single), dead reason
CommitHook = Callable[[list[dict[str, Any]], float], None]
#: The channels ingest consumes on the centre's link (the composition root routes them here).
CHANNELS = (Channel.EVENT, Channel.STATE, Channel.HEALTH)


class IngestService:
    """Batches link messages into idempotent SQLite writes and acks after commit."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        fleet: FleetService,
        incidents: IncidentService,
        link: MqttLink | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.fleet = fleet
        self.incidents = incidents
        self.link = link
        self.stats = IngestStats()
        self._q: queue.Queue[_Item | None] = queue.Queue()
        self._seq: dict[str, int] = {}
        # End-to-end acknowledgement: each board's committed watermark, as last published,
        # those waiting for their next slot, and the floor each board last declared.
        self._floor: dict[str, int] = {}
        self._marks_sent: dict[str, tuple[int, float]] = {}
        self._marks_due: dict[str, int] = {}
        self._marks_lock = threading.Lock()
        self._inflight = threading.Semaphore(3)  # batches queued at the writer
        self._thread: threading.Thread | None = None
        self._commit_hooks: list[CommitHook] = []
        #: What a camera's owner lets the centre receive at a time (the owners' agreements;
        #: set by the composition root): each event is stamped with it.
        self.share: Callable[[str, float], str] | None = None

    # wiring ------------------------------------------------------------------------------
    def sink(self, msg: Inbound) -> None:
        """Accept one message from the link (called on paho's network thread)."""
        self._q.put((msg, "new", None))

    def dead_letter(self, msg: Inbound, reason: str) -> None:
        """Store a message the link could not route (already acked by the link)."""
        self._q.put((msg, "dead", reason))

    def on_committed(self, hook: CommitHook) -> Unsubscribe:
        """Call ``hook(event_rows, commit_time)`` after each batch commits (benchmarks);
        returns its undo."""
        self._commit_hooks.append(hook)
        return remover(self._commit_hooks, hook)

    def start(self) -> IngestService:
        """Start the batcher thread."""
        self._thread = threading.Thread(target=self._loop, name="ingest-batcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the batcher after what is queued; unacked messages stay with the broker."""
        if self._thread is not None:
            self._q.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    close = stop

    @property
    def queued(self) -> int:
        """Messages received but not yet handed to the writer."""
        return self._q.qsize()

    # batcher ------------------------------------------------------------------------------
    def _loop(self) -> None:
        limit = self.settings.ingest_batch_max
        stop = False
        while not stop:
            try:
                first = self._q.get(timeout=WATERMARK_EVERY_S / 2)
            except queue.Empty:
                self._flush_marks()
                continue
            if first is None:
                break
            items = [first]
            alone: list[_Item] = []
            while len(items) < limit:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                (alone if nxt[1] == "single" else items).append(nxt)
            if first[1] == "single":
                alone.insert(0, items.pop(0))
            try:
                if items:
                    self._submit(items, single=False)
                for it in alone:  # retried after a failed batch: one per transaction
                    self._submit([it], single=True)
            except Exception:  # noqa: BLE001 - the writer is closed: stop quietly
                log.exception("ingest could not submit a batch")
                return
        # Drain: wait for batches still at the writer.
        for _ in range(3):
            self._inflight.acquire()

    def _submit(self, items: list[_Item], *, single: bool) -> None:
        self._inflight.acquire()
        try:
            batch = self._prepare(items)
            batch.single = single
            fut = self.db.submit(lambda db: self._write(db, batch))
        except BaseException:
            self._inflight.release()
            raise
        fut.add_done_callback(lambda f: self._done(f, batch))

    def _prepare(self, items: list[_Item]) -> _Batch:
        b = _Batch([m for m, _, _ in items])
        skew = self.settings.max_clock_skew_s
        accept_unknown = self.settings.accept_unknown_devices
        for m, mode, reason in items:
            dev = m.parsed.ident if m.parsed else None
            if mode == "dead":
                b.dead.append(_dead(m, reason or "unroutable", dev))
                continue
            assert m.parsed is not None
            ch = m.parsed.channel
            try:
                msg = decode(ch, m.payload)
            except ProtocolError as exc:
                b.dead.append(_dead(m, _classify(exc, len(m.payload), ch), dev))
                continue
            if not accept_unknown and not self.fleet.known(dev or ""):
                b.dead.append(
                    _dead(m, f"unknown device: {dev!r} is not in the fleet registry", dev)
                )
                continue
            if ch is Channel.EVENT:
                ev: Event = msg
                if ev.dev != dev:
                    b.dead.append(
                        _dead(m, f"device mismatch: topic says {dev!r}, payload {ev.dev!r}", dev)
                    )
                    continue
                skewed = abs(ev.ts / 1000 - m.received) > skew
                b.events.append(
                    {
                        "id": ev.id,
                        "dev": ev.dev,
                        "seq": ev.seq,
                        "ts": ev.ts,
                        "t": m.received if skewed else ev.ts / 1000,
                        "recv": m.received,
                        "kind": ev.kind,
                        "phase": ev.phase,
                        "label": ev.label,
                        "conf": ev.conf,
                        "track": ev.track,
                        "box": json.dumps(ev.box),
                        "zone": ev.zone,
                        "count": ev.count,
                        "direction": ev.direction,
                        "dwell": ev.dwell_s,
                        "skewed": int(skewed),
                        "incident_id": None,
                        "share": None,
                    }
                )
                if self.share is not None:
                    b.events[-1]["share"] = self.share(ev.dev, b.events[-1]["t"])
            elif ch is Channel.STATE:
                b.states.append((dev or "", msg))
            else:
                b.healths[dev or ""] = msg  # only the latest health per device matters
        return b

    # writer thread -------------------------------------------------------------------------
    def _write(self, db: sqlite_utils.Database, b: _Batch) -> dict[str, Any]:
        now = time.time()
        conn = db.conn
        seen: set[str] = set()
        ids = [e["id"] for e in b.events]
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            seen.update(
                r[0] for r in conn.execute(f"select id from events where id in ({marks})", chunk)
            )
        new: list[dict[str, Any]] = []
        for e in b.events:
            if e["id"] in seen:
                continue
            seen.add(e["id"])
            new.append(e)
        dups = len(b.events) - len(new)
        lost, late, touched = apply_sequence(conn, self._seq, new, now)
        changes = self.incidents.assign(db, new, now)
        conn.executemany(
            f"insert into events ({','.join(EVENT_COLS)}) values ({','.join('?' * len(EVENT_COLS))})",
            [[e[c] for c in EVENT_COLS] for e in new],
        )
        count_events(db, new)
        if b.dead:
            conn.executemany(
                "insert into dead_letters (ts, topic, device, reason, size, raw) "
                "values (?, ?, ?, ?, ?, ?)",
                [
                    [d["ts"], d["topic"], d["device"], d["reason"], d["size"], d["raw"]]
                    for d in b.dead
                ],
            )
        alerts: list[dict[str, Any]] = []
        for dev, st in b.states:
            alerts += self.fleet.apply_state(db, dev, st, now)
        for dev, h in b.healths.items():
            alerts += self.fleet.apply_health(db, dev, h, now)
        if touched:
            conn.executemany(
                "insert into seq_state (dev, last_seq, updated_at) values (?, ?, ?) "
                "on conflict(dev) do update set last_seq = excluded.last_seq, "
                "updated_at = excluded.updated_at",
                [[d, self._seq[d], now] for d in touched],
            )
        floors = {
            dev: h.spool_first
            for dev, h in b.healths.items()
            if h.spool_first is not None and self._floor.get(dev) != h.spool_first
        }
        if floors:
            # last_seq stays NULL for a board not heard from yet: its first event then
            # starts its numbering instead of opening a gap from 1.
            conn.executemany(
                "insert into seq_state (dev, last_seq, updated_at, floor) values (?, NULL, ?, ?) "
                "on conflict(dev) do update set floor = excluded.floor",
                [[d, now, f] for d, f in floors.items()],
            )
        wmarks = watermarks(conn, touched | set(floors)) if (touched or floors) else {}
        return {
            "floors": floors,
            "marks": wmarks,
            "new": new,
            "dups": dups,
            "lost": lost,
            "late": late,
            "changes": changes,
            "alerts": alerts,
        }

    def _done(self, fut: Future[Any], b: _Batch) -> None:
        self._inflight.release()
        now = time.time()
        exc = fut.exception()
        if exc is not None:
            # In-memory state may be ahead of the rolled-back database: rebuild it.
            self._seq.clear()
            self.incidents.mark_dirty()
            self.stats.failed_batches += 1
            if b.single and not b.dead:
                log.error("ingest: message failed alone, dead-lettering: %s", exc)
                reason = f"internal error: {type(exc).__name__}: {exc}"
                self._q.put((b.items[0], "dead", reason))
            elif b.single:
                # Even the dead letter cannot be written (disk full?): leave it unacked,
                # the broker redelivers it after the next reconnect.
                log.error("ingest: cannot store dead letter: %s", exc)
            else:
                log.warning(
                    "ingest batch of %d failed (%s); retrying one by one", len(b.items), exc
                )
                for m in b.items:
                    self._q.put((m, "single", None))
            return
        res = fut.result()
        st = self.stats
        st.received += len(b.items)
        st.stored += len(res["new"])
        st.duplicates += res["dups"]
        st.lost += res["lost"]
        st.late += res["late"]
        st.skewed += sum(e["skewed"] for e in res["new"])
        st.states += len(b.states)
        st.healths += len(b.healths)
        st.batches += 1
        for d in b.dead:
            st.dead_letters[d["reason"].split(":")[0]] += 1
        if b.items:
            st.lag_s = now - min(m.received for m in b.items)
        if self.link is not None:
            for m in b.items:
                self.link.ack(m)
        self._floor.update(res["floors"])
        if res["marks"]:
            with self._marks_lock:
                self._marks_due.update(res["marks"])
            self._flush_marks()
        if res["changes"]:
            self.incidents.publish_changes(res["changes"])
        if res["alerts"]:
            self.fleet.emit(res["alerts"])
        for hook in list(self._commit_hooks):
            hook(res["new"], now)

    # end-to-end acknowledgement ----------------------------------------------------------
    def _flush_marks(self) -> None:
        """Publish due watermarks (retained, QoS 1), each board at most once a second."""
        link = self.link
        if link is None or not link.connected.is_set():
            return
        now = time.monotonic()
        out: list[tuple[str, int]] = []
        with self._marks_lock:
            for dev, mark in list(self._marks_due.items()):
                sent = self._marks_sent.get(dev)
                if sent is not None and sent[0] >= mark:
                    del self._marks_due[dev]  # nothing new for this board
                elif sent is None or now - sent[1] >= WATERMARK_EVERY_S:
                    del self._marks_due[dev]
                    self._marks_sent[dev] = (mark, now)
                    out.append((dev, mark))
        for dev, mark in out:
            try:
                link.publish(
                    link.topics.device(dev, Channel.COMMITTED),
                    encode(Committed(seq=mark, ts=int(time.time() * 1000))),
                    qos=1,
                    retain=True,
                )
            except RuntimeError as exc:  # link stopped under us: the next commit resends
                with self._marks_lock:
                    self._marks_sent.pop(dev, None)
                    self._marks_due.setdefault(dev, mark)
                log.warning("could not publish the committed watermark of %s: %s", dev, exc)

    def committed_marks(self) -> dict[str, int]:
        """The watermark last published per board (for the fleet view and tests)."""
        with self._marks_lock:
            return {d: m for d, (m, _) in self._marks_sent.items()}

    # maintenance ---------------------------------------------------------------------------
    def trim_dead_letters(self) -> int:
        """Keep only the newest ``dead_letter_keep`` dead letters."""
        keep = self.settings.dead_letter_keep
        return self.db.execute_write(
            "delete from dead_letters where id <= (select max(id) from dead_letters) - ?", [keep]
        )

    def lost_events(self, device: str | None = None) -> list[dict[str, Any]]:
        """Recorded sequence gaps (events a board sent that never arrived)."""
        if device:
            return self.db.query(
                "select * from seq_gaps where dev = ? order by first_seq", [device]
            )
        return self.db.query("select * from seq_gaps order by id desc limit 1000")


def _classify(exc: ProtocolError, size: int, ch: Channel) -> str:
    """A dead-letter reason whose first word (before ':') is a stable category."""
    text = exc.reason
    if size > MAX_BYTES[ch]:
        return f"oversize: {text}"
    if "schema version" in text:
        return f"wrong version: {text}"
    if (
        text.startswith("malformed JSON")
        or text.startswith("undecodable")
        or text == "empty payload"
    ):
        return f"garbage: {text}"
    return f"invalid: {text}"


def _dead(m: Inbound, reason: str, dev: str | None) -> dict[str, Any]:
    return {
        "ts": m.received,
        "topic": m.topic[:300],
        "device": dev,
        "reason": reason[:1000],
        "size": len(m.payload),
        "raw": bytes(m.payload[:RAW_KEEP]),
    }


def purge_raw_events(db: Database, cutoff: float) -> int:
    """Delete events received before ``cutoff`` that belong to no incident."""
    return db.execute_write("delete from events where incident_id is null and recv < ?", [cutoff])
