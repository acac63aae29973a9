"""Detection on real footage: every detector on the same annotated frames, one run.

Data (see docs/detection-evaluation.md): ``vtest.avi`` from Debian's opencv-doc (a static
camera over a campus road, 80 frames annotated, 1 s apart) and two street photos, fetched
from their pinned packages in setup, never committed; annotations in
``bench/data/detection/``. Thresholds are chosen on the first half of the clip (frames
< 400) and precision/recall reported on the second half, with AP@0.5 on the second half.
The whole clip is then replayed through the agent pipeline (gate, detector, tracker,
rules) to count people across the annotated lines, to compare the motion gate with
always-detect, and to estimate incidents per camera-hour. An INT8 NanoDet (onnxruntime
static quantisation, calibrated on first-half frames) is built here only.

``--quick`` skips the INT8 build and the quiet-scene replay.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import median, publish, table  # noqa: E402
from bench.detection_agent import (  # noqa: E402
    DEFAULT_RULES_STANDIN,
    FPS,
    NIGHT,
    crossings,
    incidents,
    line_zones,
    replay,
    rules_for,
)
from bench.metrics import (  # noqa: E402
    Scored,
    at_threshold,
    average_precision,
    choose_threshold,
    iou,
    match_frame,
)
from devtools.annotate import footage  # noqa: E402
from edge_agent.detectors import build_detector  # noqa: E402
from edge_agent.models import fetch_kinds  # noqa: E402

DATA = ROOT / "bench" / "data" / "detection"
SPLIT = 400  # frames below this choose thresholds; frames from it on are reported
LOW = 0.05  # detectors run with this floor so the whole PR curve is seen
DETECTORS = [
    ("nanodet", "NanoDet-g 416 (default)"),
    ("centernet", "CenterNet MobileNetV3 512"),
    ("ssd_oid", "SSD MobileNetV2 OIDv4 300 (light; vehicle baseline)"),
    ("pose", "MediaPipe pose (person baseline)"),
]
CLASSES = ("person", "vehicle")


# ---------------------------------------------------------------- data
def load_truth(path: Path) -> dict[int, dict[str, list[Any]]]:
    """Per image id: person / vehicle boxes (pixels), vehicle subtypes, ignore boxes."""
    coco = json.loads(path.read_text())
    out: dict[int, dict[str, list[Any]]] = {
        im["id"]: {"person": [], "vehicle": [], "subtype": [], "ignore": []}
        for im in coco["images"]
    }
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        box = (x, y, x + w, y + h)
        g = out[a["image_id"]]
        if a["iscrowd"]:
            g["ignore"].append(box)
        elif a["category_id"] == 2:
            g["vehicle"].append(box)
            g["subtype"].append(a.get("subtype"))
        else:
            g["person"].append(box)
    return out


def px(box: tuple[float, float, float, float], w: int, h: int) -> tuple[float, ...]:
    """A normalised box in pixels."""
    return (box[0] * w, box[1] * h, box[2] * w, box[3] * h)


# ---------------------------------------------------------------- detection metrics
def detect_all(det: Any, images: dict[Any, np.ndarray]) -> dict[Any, list[Any]]:
    """Each image's detections as (label, score, pixel box, subtype)."""
    out = {}
    for k, rgb in images.items():
        h, w = rgb.shape[:2]
        out[k] = [(d.label, d.score, px(d.box, w, h), d.subtype) for d in det.detect(rgb)]
    return out


def scored(
    dets: dict[Any, list[Any]], truth: dict[Any, dict[str, list[Any]]], keys: list[Any], cls: str
) -> tuple[list[Scored], int]:
    """Matched detections of one class over ``keys`` and the number of true boxes."""
    out: list[Scored] = []
    n = 0
    for k in keys:
        g = truth[k]
        d = [(s, b) for lab, s, b, _ in dets[k] if lab == cls]
        out += match_frame(d, g[cls], g["ignore"] if cls == "person" else [])
        n += len(g[cls])
    return out, n


def subtype_accuracy(
    dets: dict[Any, list[Any]], truth: dict[Any, dict[str, list[Any]]], keys: list[Any], thr: float
) -> tuple[int, int]:
    """(correct, matched) subtypes of vehicle detections >= thr that hit a true vehicle."""
    ok = n = 0
    for k in keys:
        g = truth[k]
        for lab, s, b, sub in dets[k]:
            if lab != "vehicle" or s < thr or not g["vehicle"]:
                continue
            j = max(range(len(g["vehicle"])), key=lambda i, b=b: iou(b, g["vehicle"][i]))
            if iou(b, g["vehicle"][j]) >= 0.5:
                n += 1
                ok += sub == g["subtype"][j]
    return ok, n


def class_report(
    dets: dict[Any, list[Any]], truth: dict[Any, dict[str, list[Any]]], cls: str
) -> dict[str, Any]:
    """Threshold on the first half, precision/recall and AP@0.5 on the second."""
    first = [k for k in truth if k < SPLIT]
    second = [k for k in truth if k >= SPLIT]
    s1, n1 = scored(dets, truth, first, cls)
    s2, n2 = scored(dets, truth, second, cls)
    thr = choose_threshold(s1, n1, min_precision=0.9)
    p, r = at_threshold(s2, n2, thr)
    out = {"threshold": thr, "precision": p, "recall": r, "ap50": average_precision(s2, n2)}
    out["n_true"] = n2
    if cls == "vehicle":
        out["subtype_correct"], out["subtype_matched"] = subtype_accuracy(dets, truth, second, thr)
    return out


def timing_ms(make: Callable[[int], Any], frames: list[np.ndarray], n: int) -> dict[int, float]:
    """Median wall ms per detect() call at 1 and 2 threads (after two warm-up calls)."""
    out = {}
    for threads in (1, 2):
        det = make(threads)
        for f in frames[:2]:
            det.detect(f)
        ts = []
        for i in range(n):
            t0 = time.perf_counter()
            det.detect(frames[i % len(frames)])
            ts.append((time.perf_counter() - t0) * 1000)
        out[threads] = median(ts)
    return out


# ---------------------------------------------------------------- INT8
def build_int8(model: Path, calib: list[np.ndarray], out: Path) -> Path:
    """Static INT8 quantisation (QDQ, per-channel weights) calibrated on the given frames."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edge_agent.detectors.nanodet import NanoDetDetector

    ref = NanoDetDetector(model, threads=2)
    feeds = [{ref._in: ref.preprocess(f)} for f in calib]

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.it, None)

    pre = out.with_suffix(".pre.onnx")
    quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
    import onnx

    # The stem pads with -inf before its max-pool: a range with -inf has no INT8 scale,
    # so the pad and the pool stay in float (everything else is quantised).
    graph = onnx.load(str(pre)).graph
    keep_float = [n.name for n in graph.node if n.op_type in ("Pad", "MaxPool")]
    quantize_static(
        str(pre),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=keep_float,
    )
    return out


# ---------------------------------------------------------------- main
def main() -> int:  # noqa: C901 - one linear report
    """Run every measurement and publish the detection section."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip INT8 and the quiet scene")
    args = ap.parse_args()

    clip = footage.read_frames(footage.fetch(footage.VTEST))
    frames = [clip[i] for i in sorted(clip)]
    h, w = frames[0].shape[:2]
    truth = load_truth(DATA / "vtest.coco.json")
    images = {k: clip[k] for k in truth}
    stills_truth_raw = load_truth(DATA / "stills.coco.json")
    stills_meta = json.loads((DATA / "stills.coco.json").read_text())["images"]
    from edge_agent.sources.replay import read_image

    stills = {
        im["id"]: read_image(footage.fetch(footage.ALL[im["file_name"]])) for im in stills_meta
    }
    models = fetch_kinds([k for k, _ in DETECTORS])

    def make(kind: str, model: Path) -> Callable[[int], Any]:
        return lambda threads: build_detector(kind, model, threads=threads, min_score=LOW)

    rows, vrows, srows, data = [], [], [], {"detectors": {}}
    timing_frames = [images[k] for k in sorted(images)[:20]]
    for kind, title in DETECTORS:
        det = make(kind, models[kind])(2)
        dets = detect_all(det, images)
        sdets = detect_all(det, stills)
        ms = timing_ms(make(kind, models[kind]), timing_frames, 20)
        rep = {c: class_report(dets, truth, c) for c in CLASSES}
        still = {}
        for c in CLASSES:
            s, n = scored(sdets, stills_truth_raw, list(stills), c)
            thr = rep[c]["threshold"]
            still[c] = {"n_true": n, "found": sum(x.hit for x in s if x.score >= thr)}
        data["detectors"][kind] = {"title": title, "ms": ms, **rep, "stills": still}
        p, v = rep["person"], rep["vehicle"]
        rows.append([title, p["ap50"], p["threshold"], p["precision"], p["recall"], ms[1], ms[2]])
        sub = f"{v['subtype_correct']}/{v['subtype_matched']}" if v["subtype_matched"] else "-"
        vrows.append([title, v["ap50"], v["threshold"], v["precision"], v["recall"], sub])
        srows.append(
            [
                title,
                f"{still['person']['found']}/{still['person']['n_true']}",
                f"{still['vehicle']['found']}/{still['vehicle']['n_true']}",
            ]
        )
        print(f"{kind}: person AP {p['ap50']:.3f}, vehicle AP {v['ap50']:.3f}, {ms}", flush=True)

    # INT8 NanoDet: speed-up and AP loss on the same frames.
    int8 = None
    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            calib = [images[k] for k in sorted(images) if k < SPLIT]
            q = build_int8(models["nanodet"], calib, Path(tmp) / "nanodet-int8.onnx")
            det = make("nanodet", q)(2)
            dets = detect_all(det, images)
            ms = timing_ms(make("nanodet", q), timing_frames, 20)
            rep = {c: class_report(dets, truth, c) for c in CLASSES}
            int8 = {"ms": ms, **rep, "size_mb": q.stat().st_size / 2**20}
            data["int8"] = int8

    # Agent replay: counting lines, gate vs always-detect, incidents per camera-hour.
    lines = yaml.safe_load((DATA / "lines.yaml").read_text())["lines"]
    day = dt.datetime(2026, 11, 30, 14, 0)
    night = dt.datetime(2026, 11, 30, 2, 0)
    zones = line_zones(lines, w, h)
    count_rules = rules_for(zones)
    pts = {z["name"]: [tuple(p) for p in z["points"]] for z in zones}
    kind, model = "nanodet", models["nanodet"]
    # Best of two alternating passes each: the machine is shared and its load drifts.
    busy_gated = replay(frames, kind, model, True, count_rules, day, pts)
    busy_always = replay(frames, kind, model, False, count_rules, day, pts)
    for gate in (True, False):
        again = replay(frames, kind, model, gate, count_rules, day, pts)
        best = busy_gated if gate else busy_always
        best["fps"], best["cpu_ms"] = (
            max(best["fps"], again["fps"]),
            min(best["cpu_ms"], again["cpu_ms"]),
        )
    counted = crossings(busy_gated["drafts"])
    counted_always = crossings(busy_always["drafts"])
    quiet = None
    if not args.quick:
        from devtools.annotate.proposals import median_background

        bg = median_background(frames)
        rng = np.random.default_rng(7)
        still_scene = [
            np.clip(bg + rng.normal(0, 2.0, bg.shape), 0, 255).astype(np.uint8) for _ in range(300)
        ]
        q_gated = replay(still_scene, kind, model, True, count_rules, day)
        q_always = replay(still_scene, kind, model, False, count_rules, day)
        quiet = {"gated_fps": q_gated["fps"], "always_fps": q_always["fps"]}
        quiet |= {"gated_cpu_ms": q_gated["cpu_ms"], "always_cpu_ms": q_always["cpu_ms"]}
        quiet["gated_runs"] = q_gated["detector_runs"]
    clip_s = len(frames) / FPS
    inc = {}
    for label, when in (("day (14:00)", day), ("night (02:00)", night)):
        std = replay(frames, kind, model, True, rules_for(DEFAULT_RULES_STANDIN, NIGHT), when)
        inc[label] = {
            "events_per_clip": len(std["drafts"]),
            "incidents_in_clip": incidents(std["timed"], when, clip_s, hours=clip_s / 3600),
            "per_camera_hour": incidents(std["timed"], when, clip_s),
        }
    with_lines = incidents(busy_gated["timed"], day, clip_s)
    data["replay"] = {
        "lines": {
            n: {
                "truth": s["crossings"],
                "gated": counted.get(n, 0),
                "always": counted_always.get(n, 0),
                "track_crossings_gated": busy_gated["track_crossings"][n],
                "track_crossings_always": busy_always["track_crossings"][n],
            }
            for n, s in lines.items()
        },
        "busy": {
            "gated_fps": busy_gated["fps"],
            "always_fps": busy_always["fps"],
            "gated_cpu_ms": busy_gated["cpu_ms"],
            "always_cpu_ms": busy_always["cpu_ms"],
            "gated_runs": busy_gated["detector_runs"],
        },
        "quiet": quiet,
        "incidents": inc,
        "incidents_counting_lines_per_hour": with_lines,
    }

    # ------------------------------------------------------------ report
    d0 = data["detectors"]["nanodet"]["person"]
    met_ap = d0["ap50"] >= 0.85
    met_pr = d0["precision"] >= 0.9 and d0["recall"] >= 0.9
    n_frames = len(truth)
    n_person = sum(len(g["person"]) for g in truth.values())
    md = [
        f"Real footage: `vtest.avi` (opencv-doc, static campus camera, 768x576), {n_frames} "
        f"frames annotated 1 s apart ({n_person} person boxes, 2 parked vehicles); thresholds "
        f"chosen on frames < {SPLIT} (best recall at precision >= 0.9, else best F1), "
        "figures on the second half (40 frames). See docs/detection-evaluation.md.",
        "",
        "**Person** (AP@0.5 threshold-free; P/R at the chosen threshold; ms per frame, "
        "whole detect() call):",
        "",
        table(
            ["detector", "AP@0.5", "threshold", "precision", "recall", "ms 1 thr", "ms 2 thr"], rows
        ),
        "",
        f"Default targets: person AP@0.5 >= 0.85 — **{'met' if met_ap else 'not met'}** "
        f"({d0['ap50']:.3f}); recall >= 0.90 at precision >= 0.90 — "
        f"**{'met' if met_pr else 'not met'}** (P {d0['precision']:.3f}, R {d0['recall']:.3f}).",
        "",
        "**Vehicle** (N = 2 unique parked vehicles in the clip, so no AP target; subtype = "
        "correct/matched, the van is annotated truck):",
        "",
        table(["detector", "AP@0.5", "threshold", "precision", "recall", "subtype"], vrows),
        "",
        "**Still street photos** (bus.jpg, 2011_000025.jpg; found at the chosen threshold):",
        "",
        table(["detector", "persons", "vehicles (buses, car)"], srows),
    ]
    if int8:
        fp = data["detectors"]["nanodet"]
        md += [
            "",
            "**INT8 NanoDet** (onnxruntime static QDQ, per-channel, calibrated on 40 "
            "first-half frames; built in the bench only):",
            "",
            table(
                ["model", "person AP@0.5", "vehicle AP@0.5", "ms 1 thr", "ms 2 thr"],
                [
                    ["fp32", fp["person"]["ap50"], fp["vehicle"]["ap50"], fp["ms"][1], fp["ms"][2]],
                    [
                        "int8",
                        int8["person"]["ap50"],
                        int8["vehicle"]["ap50"],
                        int8["ms"][1],
                        int8["ms"][2],
                    ],
                ],
            ),
            "",
            f"Speed-up {fp['ms'][1] / int8['ms'][1]:.2f}x (1 thread), "
            f"person AP change {int8['person']['ap50'] - fp['person']['ap50']:+.3f}.",
        ]
    r = data["replay"]
    md += [
        "",
        "**Agent replay** (whole clip, 795 frames at 10 fps, NanoDet with the shipped "
        "per-class thresholds, motion gate, tracker, rules):",
        "",
        table(
            [
                "line",
                "true crossings",
                "rules: crossings counted (gated / always)",
                "track crossings (gated / always)",
                "rules within ±1",
                "crossings within ±1",
            ],
            [
                [
                    n,
                    v["truth"],
                    f"{v['gated']} / {v['always']}",
                    f"{v['track_crossings_gated']} / {v['track_crossings_always']}",
                    "yes" if abs(v["gated"] - v["truth"]) <= 1 else "no",
                    "yes" if abs(v["track_crossings_gated"] - v["truth"]) <= 1 else "no",
                ]
                for n, v in r["lines"].items()
            ],
        ),
        "",
        "The rules report every crossing of a line as its own line_crossing event (a "
        "walker who turns back, or a track id that passes to another walker in a group, "
        "counts again; the same track re-crossing within 1 s is one crossing, at most 12 "
        "per track). Track crossings count every step of a confirmed track's foot across "
        "the line, outside the rules (the ceiling the rules can reach).",
        "",
        table(
            [
                "scene",
                "always-detect frames/s",
                "gated frames/s",
                "gated / always",
                "CPU ms/frame always / gated",
                "detector runs",
            ],
            [
                [
                    "busy clip (vtest)",
                    r["busy"]["always_fps"],
                    r["busy"]["gated_fps"],
                    r["busy"]["gated_fps"] / r["busy"]["always_fps"],
                    f"{r['busy']['always_cpu_ms']:.0f} / {r['busy']['gated_cpu_ms']:.0f}",
                    f"{r['busy']['gated_runs']}/{len(frames)}",
                ],
            ]
            + (
                [
                    [
                        "quiet scene (empty view of the same camera, 300 frames)",
                        quiet["always_fps"],
                        quiet["gated_fps"],
                        quiet["gated_fps"] / quiet["always_fps"],
                        f"{quiet['always_cpu_ms']:.0f} / {quiet['gated_cpu_ms']:.1f}",
                        f"{quiet['gated_runs']}/300",
                    ]
                ]
                if quiet
                else []
            ),
        ),
        "",
        table(
            [
                "default rules, clip replayed at",
                "events per pass (79.5 s)",
                "incidents in one pass",
                "incidents per camera-hour",
            ],
            [
                [k, v["events_per_clip"], v["incidents_in_clip"], v["per_camera_hour"]]
                for k, v in inc.items()
            ],
        ),
        "",
        "Default rules: intrusion over the whole view 22:00-06:00 and loitering >= 60 s "
        "(a stand-in until the centre seeds rules at enrolment). Per camera-hour: the "
        "clip's events laid end to end for an hour and merged by the centre's rules "
        "(`coordinator.incidents.merge`). With the two counting lines as rules instead, "
        f"incidents per camera-hour: {r['incidents_counting_lines_per_hour']}.",
    ]
    publish("detection", "Detection on real footage", "\n".join(md), data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
