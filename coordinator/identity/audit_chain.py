"""The audit log's hash chain and signed checkpoints: pure functions over plain rows.

Each entry carries ``prev_hash`` (the previous entry's ``hash``) and its own ``hash``, a
SHA-256 over a canonical encoding of every column including ``id`` and ``prev_hash``. Ids
are contiguous from 1. A rewritten entry no longer matches its hash; a deleted one leaves a
gap in the ids; an inserted one breaks the link of the entry after it. Someone who can write
the file can recompute the whole chain, so the head is *checkpointed*: signed with an
Ed25519 key kept outside the database. A checkpoint names the entry it covers, that
entry's hash, and the previous checkpoint's signature; a recomputed chain no longer
matches the signed hash, and a truncated log falls short of the last checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: The columns an entry's hash covers, in this order.
HASHED = (
    "id", "ts", "actor", "actor_roles", "action", "subject_type", "subject_id", "purpose",
    "detail", "prev_hash",
)  # fmt: skip
CHECKPOINT_DOMAIN = "citywatch-audit-checkpoint/v1"


def entry_hash(row: dict[str, Any]) -> str:
    """SHA-256 (hex) of an entry's canonical encoding (JSON of the HASHED columns)."""
    values = [row.get(c) for c in HASHED]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checkpoint_message(upto_id: int, head_hash: str, ts: float, prev_sig: str | None) -> bytes:
    """The bytes a checkpoint signs."""
    text = json.dumps(
        [CHECKPOINT_DOMAIN, upto_id, head_hash, ts, prev_sig or ""], separators=(",", ":")
    )
    return text.encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key (first 16 hex of SHA-256 of its raw bytes)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass
class Report:
    """The outcome of a verification: what was checked and every problem found."""

    entries: int = 0
    checkpoints: int = 0
    head_id: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``coordinator audit verify --json``)."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "head_id": self.head_id,
            "problems": self.problems,
        }


MAX_PROBLEMS = 100


def _add(report: Report, text: str) -> None:
    if len(report.problems) < MAX_PROBLEMS:
        report.problems.append(text)
    elif len(report.problems) == MAX_PROBLEMS:
        report.problems.append("… more problems not listed")


def verify_entries(
    rows: Iterable[dict[str, Any]], report: Report, wanted: set[int]
) -> dict[int, str]:
    """Walk the entries in id order; returns the stored hash of the ``wanted`` ids (those
    checkpoints name), so memory stays bounded whatever the log's length."""
    hashes: dict[int, str] = {}
    expected_id, prev = 1, GENESIS
    for row in rows:
        rid = int(row["id"])
        report.entries += 1
        if rid != expected_id:
            if rid > expected_id:
                _add(report, f"entries {expected_id}..{rid - 1} are missing (deleted)")
            else:
                _add(report, f"entry {rid} is out of order")
        if row.get("prev_hash") != prev:
            _add(report, f"entry {rid} does not link to the entry before it (inserted, "
                 "deleted or reordered)")  # fmt: skip
        if row.get("hash") != entry_hash(row):
            _add(report, f"entry {rid} was altered (its content does not match its hash)")
        prev = row.get("hash") or ""
        if rid in wanted:
            hashes[rid] = prev
        expected_id = rid + 1
    report.head_id = expected_id - 1
    return hashes


def verify_checkpoints(
    checkpoints: Iterable[dict[str, Any]],
    stored: dict[int, str],
    public: Ed25519PublicKey,
    report: Report,
) -> None:
    """Each checkpoint must be signed by ``public``, chained to the one before it, and
    match the stored hash of the entry it covers."""
    prev_sig: str | None = None
    for cp in checkpoints:
        report.checkpoints += 1
        cid, upto = cp["id"], int(cp["upto_id"])
        msg = checkpoint_message(upto, cp["head_hash"], cp["ts"], cp.get("prev_sig"))
        try:
            public.verify(base64.b64decode(cp["signature"]), msg)
        except (InvalidSignature, ValueError):
            _add(report, f"checkpoint {cid} is not signed by the audit key (forged)")
            continue
        if (cp.get("prev_sig") or None) != prev_sig:
            _add(report, f"checkpoint {cid} does not follow the checkpoint before it "
                 "(a checkpoint was removed)")  # fmt: skip
        prev_sig = cp["signature"]
        if upto > report.head_id:
            _add(report, f"checkpoint {cid} covers entries up to {upto}, but the log ends at "
                 f"{report.head_id} (entries were deleted)")  # fmt: skip
        elif stored.get(upto) != cp["head_hash"]:
            _add(report, f"entry {upto} differs from what checkpoint {cid} signed (the log was "
                 "rewritten and its chain recomputed)")  # fmt: skip


def compare_exported(
    exported: Iterable[dict[str, Any]], in_db: dict[int, dict[str, Any]], report: Report
) -> None:
    """Every checkpoint kept outside the database must still be in it, unchanged."""
    for cp in exported:
        mine = in_db.get(int(cp["id"]))
        if mine is None or mine["signature"] != cp["signature"]:
            _add(report, f"checkpoint {cp['id']} kept outside the database is missing from it "
                 "or differs (checkpoints were removed or replaced)")  # fmt: skip


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Checkpoints from an exported JSON-lines file (blank lines skipped)."""
    for line in lines:
        if line.strip():
            yield json.loads(line)
