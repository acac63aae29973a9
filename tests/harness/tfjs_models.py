"""Tiny TF.js graph models written the way TF.js lays one out (model.json + .bin shards),
for the converter's and the model build's tests."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np


def s(v: str) -> dict[str, str]:
    """A string attr (TF.js stores them base64-encoded)."""
    return {"s": base64.b64encode(v.encode()).decode()}


def ints(*v: int) -> dict[str, Any]:
    """An int-list attr (strides, ksize …)."""
    return {"list": {"i": [str(x) for x in v]}}


def node(name: str, op: str, *inputs: str, **attr: Any) -> dict[str, Any]:
    """One graph node as TF.js writes it."""
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


def write_model(
    tmp: Path,
    nodes: list[dict[str, Any]],
    consts: dict[str, np.ndarray],
    input_shape: tuple[int, ...],
    outputs: list[str],
    quant: dict[str, dict[str, Any]] | None = None,
    shards: int = 1,
) -> Path:
    """model.json + shards; ``quant`` maps a weight name to its quantisation entry."""
    quant = quant or {}
    specs, blobs = [], []
    for name, arr in consts.items():
        q = quant.get(name)
        dtype = "int32" if arr.dtype.kind in "iu" else "float32"
        spec: dict[str, Any] = {"name": name, "shape": list(arr.shape), "dtype": dtype}
        if q is None:
            blobs.append(arr.astype(np.int32 if dtype == "int32" else np.float32).tobytes())
        elif q["dtype"] == "float16":
            blobs.append(arr.astype(np.float16).tobytes())
            spec["quantization"] = {"dtype": "float16"}
        else:
            qt = np.uint8 if q["dtype"] == "uint8" else np.uint16
            blobs.append(np.round((arr - q["min"]) / q["scale"]).astype(qt).tobytes())
            spec["quantization"] = q
        specs.append(spec)
    data = b"".join(blobs)
    cut = [len(data) * i // shards for i in range(shards + 1)]
    paths = []
    for i in range(shards):
        p = f"group1-shard{i + 1}of{shards}.bin"
        (tmp / p).write_bytes(data[cut[i] : cut[i + 1]])
        paths.append(p)
    graph = [
        node(
            "x",
            "Placeholder",
            dtype={"type": "DT_FLOAT"},
            shape={"shape": {"dim": [{"size": str(d)} for d in input_shape]}},
        )
    ]
    graph += [node(n, "Const", dtype={"type": "DT_FLOAT"}) for n in consts]
    graph += nodes
    doc = {
        "format": "graph-model",
        "modelTopology": {"node": graph, "library": {}, "versions": {}},
        "weightsManifest": [{"paths": paths, "weights": specs}],
        "signature": {"outputs": {o: {"name": f"{o}:0"} for o in outputs}},
    }
    path = tmp / "model.json"
    path.write_text(json.dumps(doc))
    return path
