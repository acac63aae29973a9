"""Protocol benchmark: bytes per message and encode/decode throughput per payload kind,
against the verbose JSON an NVR typically publishes per object update (stdlib json).

Run: ``python bench/protocol.py`` (or ``make bench``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402

from bench.common import median, percentile, publish, rate_over, table  # noqa: E402
from protocol import PAYLOAD_TYPES, Channel, Event, decode, encode, uuid7  # noqa: E402
from protocol.examples import EXAMPLES  # noqa: E402

N = 20_000


def verbose_nvr_event(i: int) -> dict:
    """An object update as common open NVRs publish it: before/after, every field spelled out."""
    obj = {
        "id": f"1732790000.{i:06d}-abc{i % 97:03d}",
        "camera": f"front_gate_camera_{i % 50:03d}",
        "frame_time": 1732790000.123456 + i,
        "snapshot": {
            "frame_time": 1732790000.1,
            "box": [312, 188, 455, 611],
            "area": 60489,
            "region": [200, 100, 600, 700],
            "score": 0.8671875,
            "attributes": [],
        },
        "label": "person",
        "sub_label": None,
        "top_score": 0.87109375,
        "false_positive": False,
        "start_time": 1732789990.5,
        "end_time": None,
        "score": 0.8671875,
        "box": [312, 188, 455, 611],
        "area": 60489,
        "ratio": 0.3382,
        "region": [200, 100, 600, 700],
        "active": True,
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 3,
        "current_zones": ["driveway", "front_steps"],
        "entered_zones": ["driveway", "front_steps"],
        "has_clip": True,
        "has_snapshot": True,
        "attributes": {},
        "current_attributes": [],
        "pending_loitering": False,
        "max_severity": "alert",
        "velocity_angle": 0,
        "path_data": [[[0.51, 0.72], 1732789991.2], [[0.53, 0.71], 1732789993.9]],
        "recognized_license_plate": None,
        "recognized_license_plate_score": None,
        "current_estimated_speed": 0,
        "average_estimated_speed": 0,
    }
    return {
        "before": obj,
        "after": {**obj, "frame_time": obj["frame_time"] + 0.5, "position_changes": 4},
        "type": "update",
    }


def event(i: int) -> Event:
    """A typical compact event (mix of kinds, with and without a zone)."""
    kind = ["presence", "intrusion", "loitering", "line_crossing", "crowd"][i % 5]
    return Event(
        id=uuid7(),
        seq=10_000 + i,
        ts=1795840000000 + i * 1000,
        dev=f"cam-{i % 24000:06d}",
        kind=kind,
        phase=["start", "end", "update"][i % 3],
        label="person",
        conf=round(0.5 + (i % 50) / 100, 3),
        track=i % 5000,
        box=(123, 200, 333 + i % 300, 900),
        zone=None if kind == "presence" else "gate-a",
        dwell_s=94.2 if kind == "loitering" else None,
        direction="in" if kind == "line_crossing" else None,
        count=12 if kind == "crowd" else None,
    )


def main() -> None:
    rows = []
    data: dict[str, dict] = {}
    sizes = [len(encode(event(i))) for i in range(2000)]
    events = [event(i) for i in range(200)]
    ev_bytes = [encode(e) for e in events]
    enc_rate = rate_over(encode, events, N)
    dec_rate = rate_over(lambda b: decode(Channel.EVENT, b), ev_bytes, N)
    rows.append(["event (mixed kinds)", median(sizes), percentile(sizes, 99), enc_rate, dec_rate])
    data["event"] = {
        "median_bytes": median(sizes),
        "p99_bytes": percentile(sizes, 99),
        "encode_per_s": enc_rate,
        "decode_per_s": dec_rate,
    }
    for ch in PAYLOAD_TYPES:
        if ch is Channel.EVENT:
            continue
        raw = [msgspec.json.encode(x) for x in EXAMPLES[ch]]
        msgs = [decode(ch, r) for r in raw]
        b = [len(encode(m)) for m in msgs]
        n = N // 10 if ch in (Channel.WARNINGS, Channel.SNAPSHOT) else N
        e = rate_over(encode, msgs, n)
        d = rate_over(lambda b, ch=ch: decode(ch, b), raw, n)
        rows.append([ch.value, median(b), max(b), e, d])
        data[ch.value] = {
            "median_bytes": median(b),
            "max_bytes": max(b),
            "encode_per_s": e,
            "decode_per_s": d,
        }
    verbose = [verbose_nvr_event(i) for i in range(200)]
    vb = [json.dumps(v).encode() for v in verbose]
    vsizes = [len(x) for x in vb]
    ve = rate_over(lambda v: json.dumps(v).encode(), verbose, N // 4)
    vd = rate_over(json.loads, vb, N // 4)
    rows.append(
        [
            "baseline: verbose NVR update (json, unvalidated)",
            median(vsizes),
            percentile(vsizes, 99),
            ve,
            vd,
        ]
    )
    data["baseline_verbose_nvr"] = {
        "median_bytes": median(vsizes),
        "encode_per_s": ve,
        "decode_per_s": vd,
    }
    ratio = median(vsizes) / median(sizes)
    md = table(["payload", "median B", "p99/max B", "encode/s", "decode+validate/s"], rows)
    md += (
        f"\n\nA median CityWatch event is **{median(sizes):.0f} B** (target ≤ 200 B), "
        f"{ratio:.1f}x smaller than the verbose baseline; decoding it includes full schema "
        f"validation, which the baseline's `json.loads` does not do."
    )
    data["size_ratio_vs_baseline"] = ratio
    publish("protocol", "Protocol: bytes and encode/decode speed", md, data)


if __name__ == "__main__":
    main()
