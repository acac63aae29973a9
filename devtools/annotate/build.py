"""Build the evaluation annotations: proposals + recorded hand corrections -> COCO JSON.

    python -m devtools.annotate.build proposals    # background-subtraction proposals
    python -m devtools.annotate.build sheets        # contact sheets of proposals to review
    python -m devtools.annotate.build coco          # apply corrections, write COCO JSON
    python -m devtools.annotate.build final         # sheets of the final boxes
    python -m devtools.annotate.build audit         # CenterNet boxes the annotation lacks

Files live in ``bench/data/detection/``: ``vtest_proposals.json`` (what the machine
proposed), ``vtest_corrections.yaml`` (the review: deletions, adjustments, additions,
labels), ``vtest_pass2.yaml`` (a second pass on 10% of the frames, boxed from scratch),
``stills.yaml`` (hand boxes on the still photos) and the COCO files built from them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from . import footage, proposals, sheets

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "data" / "detection"
OUT = ROOT / ".cache" / "annotate"
STEP = 10  # every 10th frame of the 10 fps clip: one second apart
SUBTYPES = ("car", "bus", "truck", "bicycle", "motorcycle")


def sampled_frames(n_frames: int = 795) -> list[int]:
    """The annotated frame indices of the clip."""
    return list(range(0, n_frames, STEP))


def double_frames() -> list[int]:
    """The 10% of annotated frames boxed a second time, from scratch."""
    return [f for f in sampled_frames() if f % 100 == 50]


def _load_clip() -> tuple[dict[int, Any], Any]:
    import numpy as np

    frames = footage.read_frames(footage.fetch(footage.VTEST))
    order = [frames[i] for i in sorted(frames)]
    cache = OUT / "vtest_background.npy"
    if cache.exists():
        bg = np.load(cache)
    else:
        bg = proposals.median_background(order)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, bg)
    return frames, bg


def make_proposals() -> dict[str, Any]:
    """The background-subtraction proposals for every sampled frame (deterministic)."""
    frames, bg = _load_clip()
    p = proposals.BgParams()
    return {
        "source": "median background of the clip, |frame - bg| > "
        f"{p.diff}, open {p.open_px}, close {p.close_px}, components >= {p.min_area} px",
        "frames": {
            str(i): proposals.boxes_from_mask(proposals.foreground(frames[i], bg, p), p.min_area)
            for i in sampled_frames(len(frames))
        },
    }


def cmd_proposals() -> None:
    """Write the proposals to ``vtest_proposals.json``."""
    out = make_proposals()
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "vtest_proposals.json").write_text(json.dumps(out, indent=1) + "\n")
    n = sum(len(v) for v in out["frames"].values())
    print(f"{n} proposals on {len(out['frames'])} frames")


def _label(s: str) -> tuple[str, str | None]:
    if s in ("person", "ignore"):
        return s, None
    cls, _, sub = s.partition("/")
    if cls != "vehicle" or sub not in SUBTYPES:
        raise ValueError(f"unknown label {s!r}")
    return cls, sub


def apply_corrections(
    props: dict[str, list[list[int]]], corr: dict[str, Any], masks: Any = None
) -> dict[int, list[dict[str, Any]]]:
    """Final boxes per frame: proposals (as persons) with the recorded review applied.

    Per frame: ``delete`` ids, ``set`` {id: box}, ``label`` {id: label}, ``merge`` lists of
    ids (one object cut in parts, e.g. by the lamp post), ``split`` {id: n or [x, ...]}
    (people side by side in one blob: n equal-width parts, or cut at the given x, each
    part fitted to the foreground), ``add`` a list of
    [label, x1, y1, x2, y2] (a trailing ``snap`` fits the box to the foreground inside
    it); ``every_frame.add`` for what stands in every frame (parked vehicles).
    """
    out: dict[int, list[dict[str, Any]]] = {}
    per_frame = {int(k): v or {} for k, v in (corr.get("frames") or {}).items()}
    always = (corr.get("every_frame") or {}).get("add", [])
    unknown = set(per_frame) - {int(k) for k in props}
    if unknown:
        raise ValueError(f"corrections for frames without proposals: {sorted(unknown)}")
    for key, boxes in props.items():
        f = int(key)
        c = per_frame.get(f, {})
        dels = set(c.get("delete", []))
        sets = {int(k): v for k, v in (c.get("set") or {}).items()}
        labels = {int(k): v for k, v in (c.get("label") or {}).items()}
        merges = [list(m) for m in c.get("merge", [])]
        splits = {int(k): v for k, v in (c.get("split") or {}).items()}
        touched = dels | set(sets) | set(labels) | set(splits) | {i for m in merges for i in m}
        for i in touched:
            if not 0 <= i < len(boxes):
                raise ValueError(f"frame {f}: no proposal {i}")
        boxes = [list(b) for b in boxes]
        for m in merges:
            group = [boxes[i] for i in m]
            boxes[m[0]] = [
                min(b[0] for b in group),
                min(b[1] for b in group),
                max(b[2] for b in group),
                max(b[3] for b in group),
            ]
            dels |= set(m[1:])
        anns = []
        for i, b in enumerate(boxes):
            if i in dels:
                continue
            cls, sub = _label(labels.get(i, "person"))
            if i in splits:
                cuts = splits[i]
                if isinstance(cuts, int):
                    w = (b[2] - b[0]) / cuts
                    cuts = [b[0] + k * w for k in range(1, cuts)]
                xs = [b[0], *cuts, b[2]]
                for xa, xb in zip(xs, xs[1:], strict=False):
                    part = [xa, b[1], xb, b[3]]
                    fitted = proposals.snap(masks(f), part, margin=0) if masks else None
                    box: list[Any] = fitted or [round(v, 1) for v in part]
                    anns.append({"label": cls, "subtype": sub, "box": box, "origin": "bgsub+split"})
                continue
            if i in sets:
                anns.append({"label": cls, "subtype": sub, "box": sets[i], "origin": "hand"})
                continue
            # The waving tape often widens a proposal: refit it without thin horizontals,
            # but only where that removes a lot (an arm held out is part of the person).
            fitted = proposals.snap(masks(f, True), b, margin=0) if masks else None
            if fitted is None or fitted[2] - fitted[0] > 0.8 * (b[2] - b[0]):
                fitted = b
            anns.append({"label": cls, "subtype": sub, "box": fitted, "origin": "bgsub"})
        for a in list(always) + list(c.get("add", [])):
            cls, sub = _label(a[0])
            box = [float(v) for v in a[1:5]]
            origin = "hand"  # the box as typed; "hand+snap" when fitted to the foreground
            if len(a) > 5 and a[5] == "snap" and masks is not None:
                fitted = proposals.snap(masks(f), box)
                if fitted is not None:
                    box, origin = fitted, "hand+snap"
            anns.append({"label": cls, "subtype": sub, "box": box, "origin": origin})
        out[f] = anns
    return out


def to_coco(
    images: list[dict[str, Any]], anns: dict[int, list[dict[str, Any]]], info: dict[str, Any]
) -> dict[str, Any]:
    """COCO detection JSON: categories person (1) and vehicle (2); ignore boxes as iscrowd."""
    cats = [{"id": 1, "name": "person"}, {"id": 2, "name": "vehicle"}]
    out_anns: list[dict[str, Any]] = []
    for img in images:
        for a in anns.get(img["id"], []):
            x1, y1, x2, y2 = a["box"]
            ignore = a["label"] == "ignore"
            out_anns.append(
                {
                    "id": len(out_anns) + 1,
                    "image_id": img["id"],
                    "category_id": 2 if a["label"] == "vehicle" else 1,
                    "bbox": [round(x1, 1), round(y1, 1), round(x2 - x1, 1), round(y2 - y1, 1)],
                    "area": round((x2 - x1) * (y2 - y1), 1),
                    "iscrowd": 1 if ignore else 0,
                    "subtype": a.get("subtype"),
                    "origin": a.get("origin", "hand"),
                }
            )
    return {"info": info, "images": images, "annotations": out_anns, "categories": cats}


def _masks() -> Any:
    frames, bg = _load_clip()
    cache: dict[tuple[int, bool], Any] = {}

    def mask(f: int, untaped: bool = False) -> Any:
        if (f, untaped) not in cache:
            m = proposals.foreground(frames[f], bg)
            cache[(f, untaped)] = proposals.without_thin_horizontals(m) if untaped else m
        return cache[(f, untaped)]

    return mask


def cmd_sheets(which: str, frames_arg: list[int] | None, per: int) -> None:
    """Contact sheets of proposals (ids), final boxes, or raw frames for the second pass."""
    import numpy as np

    frames, _bg = _load_clip()
    props = json.loads((DATA / "vtest_proposals.json").read_text())["frames"]
    idx = frames_arg or (double_frames() if which == "pass2" else sampled_frames(len(frames)))
    final = None
    if which == "final":
        corr = yaml.safe_load((DATA / "vtest_corrections.yaml").read_text()) or {}
        final = apply_corrections(props, corr, _masks())
    tiles = []
    for f in idx:
        if which == "proposals":
            boxes = [("proposal", b, str(i)) for i, b in enumerate(props[str(f)])]
            tiles.append(sheets.draw(frames[f], boxes, f"frame {f}"))
        elif which == "final":
            assert final is not None
            boxes = [(a["label"], a["box"], a["subtype"] or str(i)) for i, a in enumerate(final[f])]
            tiles.append(sheets.draw(frames[f], boxes, f"frame {f}"))
        else:
            # The second pass sees no proposals: the frame alone, twice enlarged, in halves.
            for x0 in (0, 384):
                half = np.ascontiguousarray(frames[f][:, x0 : x0 + 384])
                tile = sheets.draw(half, [], f"frame {f} x+{x0}", scale=2.0, with_grid=False)
                sheets.grid(tile, every=50, offset=(2 * x0, 0), unit=0.5)
                tiles.append(tile)
    cols = 2 if per >= 4 else 1
    for s in range(0, len(tiles), per):
        path = OUT / which / f"{which}_{s:03d}.png"
        sheets.sheet(tiles[s : s + per], cols, path)
        print(path)


def cmd_zoom(frames_arg: list[int], region: list[int], scale: float) -> None:
    """Enlarged crops of one region of several frames, proposals drawn, grid in frame pixels."""
    import numpy as np

    frames, _bg = _load_clip()
    props = json.loads((DATA / "vtest_proposals.json").read_text())["frames"]
    x1, y1, x2, y2 = region
    tiles = []
    for f in frames_arg:
        crop = np.ascontiguousarray(frames[f][y1:y2, x1:x2])
        boxes = [
            ("proposal", [b[0] - x1, b[1] - y1, b[2] - x1, b[3] - y1], str(i))
            for i, b in enumerate(props.get(str(f), []))
        ]
        tile = sheets.draw(crop, boxes, f"frame {f} @({x1},{y1})", scale=scale, with_grid=False)
        step = 10
        for gx in range((x1 // step + 1) * step, x2, step):
            px = int((gx - x1) * scale)
            tile[:, px] = tile[:, px] // 2 + (64 if gx % 50 else 127)
        for gy in range((y1 // step + 1) * step, y2, step):
            py = int((gy - y1) * scale)
            tile[py, :] = tile[py, :] // 2 + (64 if gy % 50 else 127)
        tiles.append(tile)
    path = OUT / "zoom" / f"zoom_{frames_arg[0]:04d}_{x1}_{y1}.png"
    sheets.sheet(tiles, min(len(tiles), max(1, int(1500 // tiles[0].shape[1]))), path)
    print(path)


def agreement(coco: dict[str, Any]) -> dict[str, Any]:
    """Mean IoU between the dataset and the independent second pass, per class."""
    from bench.metrics import pair_iou

    spec = yaml.safe_load((DATA / "vtest_pass2.yaml").read_text())["frames"]
    out: dict[str, Any] = {"frames": sorted(int(f) for f in spec)}
    for cls, cat in (("person", 1), ("vehicle", 2), ("all", 0)):
        ious: list[float] = []
        n1 = n2 = 0
        for f, boxes in spec.items():
            a = [
                (x, y, x + w, y + h)
                for ann in coco["annotations"]
                if ann["image_id"] == int(f)
                and not ann["iscrowd"]
                and cat in (0, ann["category_id"])
                for x, y, w, h in [ann["bbox"]]
            ]
            b = [tuple(v[1:5]) for v in boxes if cat == 0 or _label(v[0])[0] == cls]
            ious += pair_iou(a, b)
            n1, n2 = n1 + len(a), n2 + len(b)
        out[cls] = {
            "mean_iou": round(sum(ious) / len(ious), 3) if ious else None,
            "pairs": len(ious),
            "boxes_pass1": n1,
            "boxes_pass2": n2,
        }
    return out


def build_coco(write: bool = True) -> dict[str, Any]:
    """Apply the review (and write ``vtest.coco.json`` unless ``write`` is False)."""
    props = json.loads((DATA / "vtest_proposals.json").read_text())["frames"]
    corr = yaml.safe_load((DATA / "vtest_corrections.yaml").read_text()) or {}
    anns = apply_corrections(props, corr, _masks())
    images = [
        {"id": f, "file_name": f"vtest.avi#{f}", "frame": f, "width": 768, "height": 576}
        for f in sorted(anns)
    ]
    info = {
        "description": "vtest.avi (opencv-doc) every 10th frame: background-subtraction "
        "proposals reviewed and corrected by hand",
        "footage": footage.VTEST.name,
        "package": f"{footage.VTEST.package} {footage.VTEST.version} (Debian)",
        "sha256": footage.VTEST.sha256,
        "license": footage.VTEST.license,
    }
    coco = to_coco(images, anns, info)
    coco["info"]["double_annotation"] = agreement(coco)
    if not write:
        return coco
    (DATA / "vtest.coco.json").write_text(json.dumps(coco, indent=1) + "\n")
    anns_ = coco["annotations"]
    n = {c: sum(1 for a in anns_ if a["category_id"] == c and not a["iscrowd"]) for c in (1, 2)}
    ign = sum(1 for a in anns_ if a["iscrowd"])
    print(f"vtest: {len(images)} frames, {n[1]} person and {n[2]} vehicle boxes, {ign} ignore")
    print("second pass:", json.dumps(coco["info"]["double_annotation"]))
    return coco


def build_stills() -> dict[str, Any]:
    """Hand boxes on the still photos -> ``stills.coco.json``."""
    spec = yaml.safe_load((DATA / "stills.yaml").read_text())
    images: list[dict[str, Any]] = []
    anns: dict[int, list[dict[str, Any]]] = {}
    for i, (name, entry) in enumerate(spec["images"].items(), start=1):
        fs = footage.ALL[name]
        images.append(
            {
                "id": i,
                "file_name": name,
                "width": entry["width"],
                "height": entry["height"],
                "package": f"{fs.package} {fs.version} ({fs.registry})",
                "license": fs.license,
            }
        )
        anns[i] = []
        for a in entry["boxes"]:
            cls, sub = _label(a[0])
            anns[i].append({"label": cls, "subtype": sub, "box": [float(v) for v in a[1:5]]})
    coco = to_coco(images, anns, {"description": "real street photos, boxed by hand"})
    (DATA / "stills.coco.json").write_text(json.dumps(coco, indent=1) + "\n")
    return coco


def cmd_audit(min_score: float) -> None:
    """CenterNet (never the model under test) as a second source, after the review.

    Prints every CenterNet box at ``min_score`` or more that overlaps no annotated box
    (IoU < 0.3): a person or vehicle the review may have missed, to be looked at.
    """
    from bench.metrics import iou
    from edge_agent.detectors import build_detector
    from edge_agent.models import fetch_kinds

    coco = json.loads((DATA / "vtest.coco.json").read_text())
    frames, _bg = _load_clip()
    det = build_detector("centernet", fetch_kinds(["centernet"])["centernet"], min_score=min_score)
    n = 0
    for im in coco["images"]:
        f = im["id"]
        truth = [
            (x, y, x + w, y + h)
            for a in coco["annotations"]
            if a["image_id"] == f
            for x, y, w, h in [a["bbox"]]
        ]
        for d in det.detect(frames[f]):
            b = (d.box[0] * 768, d.box[1] * 576, d.box[2] * 768, d.box[3] * 576)
            if max((iou(b, t) for t in truth), default=0.0) < 0.3:
                n += 1
                print(f"frame {f}: {d.label} {d.score:.2f} at {[round(v) for v in b]}")
    print(f"{n} CenterNet boxes >= {min_score} not in the annotations")


def main() -> None:
    """Command-line entry (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "what", choices=["proposals", "sheets", "final", "pass2", "zoom", "coco", "stills", "audit"]
    )
    ap.add_argument("--frames", type=int, nargs="*")
    ap.add_argument("--per", type=int, default=2, help="frames per sheet")
    ap.add_argument("--region", type=int, nargs=4, help="zoom: x1 y1 x2 y2 in frame pixels")
    ap.add_argument("--scale", type=float, default=3.0, help="zoom factor")
    ap.add_argument("--min-score", type=float, default=0.45, help="audit: CenterNet floor")
    a = ap.parse_args()
    if a.what == "proposals":
        cmd_proposals()
    elif a.what == "sheets":
        cmd_sheets("proposals", a.frames, a.per)
    elif a.what in ("final", "pass2"):
        cmd_sheets(a.what, a.frames, 1 if a.what == "pass2" else a.per)
    elif a.what == "zoom":
        cmd_zoom(a.frames, a.region, a.scale)
    elif a.what == "audit":
        cmd_audit(a.min_score)
    elif a.what == "coco":
        build_coco()
    else:
        coco = build_stills()
        print(f"stills: {len(coco['images'])} photos, {len(coco['annotations'])} boxes")


if __name__ == "__main__":
    main()
