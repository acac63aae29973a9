"""onnxruntime session loading: CPU threads and, on Jetson, the TensorRT/CUDA providers.

onnxruntime is imported lazily so this package imports on any machine. Providers are
asked for in the configured order and the CPU provider is always last, so a board whose
GPU libraries are missing or broken still detects (slower) and says so in its log. The
TensorRT and CUDA paths were exercised here only with the CPU fallback (no NVIDIA GPU in
CI); ``session.get_providers()`` reports what really loaded.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import ModelError

PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def _ort() -> Any:
    try:
        import onnxruntime

        return onnxruntime
    except ImportError:
        raise ModelError(
            "no onnxruntime: install it (pip install 'citywatch[edge]'; Jetson: the "
            "onnxruntime-gpu wheel for your JetPack)"
        ) from None


def provider_list(
    wanted: Sequence[str], available: Sequence[str], cache: Path | None = None
) -> tuple[list[Any], list[str]]:
    """Providers to request (with options) and the wanted ones that are not available.

    Pure: ``wanted`` are short names (tensorrt, cuda, cpu), ``available`` what the
    installed onnxruntime offers. TensorRT builds its engine once and caches it (FP16) in
    ``cache``, because building takes minutes on a Jetson.
    """
    chosen: list[Any] = []
    missing: list[str] = []
    for short in wanted:
        full = PROVIDERS.get(short)
        if full is None:
            raise ModelError(f"unknown onnxruntime provider {short!r} (use {sorted(PROVIDERS)})")
        if full not in available:
            missing.append(short)
            continue
        if full == "TensorrtExecutionProvider" and cache is not None:
            opts = {
                "trt_fp16_enable": "True",
                "trt_engine_cache_enable": "True",
                "trt_engine_cache_path": str(cache),
            }
            chosen.append((full, opts))
        elif full not in [c if isinstance(c, str) else c[0] for c in chosen]:
            chosen.append(full)
    if "CPUExecutionProvider" not in [c if isinstance(c, str) else c[0] for c in chosen]:
        chosen.append("CPUExecutionProvider")
    return chosen, missing


def load_session(
    model: Path,
    *,
    threads: int = 2,
    providers: Sequence[str] = ("cpu",),
    log: Callable[[str], None] | None = None,
) -> Any:
    """A ready onnxruntime session for ``model`` or ModelError saying what is wrong."""
    model = Path(model)
    if not model.is_file():
        raise ModelError(
            f"model file {model} not found: run `edge-agent models fetch` or fix detector.model"
        )
    ort = _ort()
    cache = model.parent / "trt-cache"
    chosen, missing = provider_list(providers, ort.get_available_providers(), cache)
    if missing and log is not None:
        log(f"onnxruntime providers {missing} not available here; using {chosen}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # errors only: provider fallbacks are reported by us
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "provider not in available names": handled above
            return ort.InferenceSession(str(model), so, providers=chosen)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"model file {model} could not be loaded: {exc}") from None


def output_names_by_shape(session: Any) -> dict[tuple[int, ...], list[str]]:
    """Output names grouped by static shape (outputs are matched by shape, never position)."""
    out: dict[tuple[int, ...], list[str]] = {}
    for o in session.get_outputs():
        shape = tuple(int(d) if isinstance(d, int) else -1 for d in o.shape)
        out.setdefault(shape, []).append(o.name)
    return out
