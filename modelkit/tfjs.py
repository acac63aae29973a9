"""Reading a TF.js graph model: ``model.json`` topology plus its binary weight shards.

A graph model is a JSON document with ``modelTopology.node`` (TensorFlow GraphDef nodes:
name, op, inputs, attrs) and ``weightsManifest`` (groups of shard files whose bytes,
concatenated, hold every weight in manifest order). Weights may be quantised: ``float16``,
or ``uint8``/``uint16`` with an affine ``min``/``scale``. This module only reads; it needs
numpy and nothing else.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class ConversionError(ValueError):
    """A TF.js model is malformed, or uses something the converter does not support."""


# TensorFlow's DataType enum names (as TF.js writes them) → numpy.
TF_DTYPES: dict[str, Any] = {
    "DT_FLOAT": np.float32,
    "DT_HALF": np.float16,
    "DT_DOUBLE": np.float64,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_INT8": np.int8,
    "DT_UINT8": np.uint8,
    "DT_BOOL": np.bool_,
}
# Manifest dtypes (what a weight means once dequantised) → numpy.
_MANIFEST_DTYPES: dict[str, Any] = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
# Quantised storage dtypes → numpy, as stored in the shard.
_QUANT_DTYPES: dict[str, Any] = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


@dataclass(frozen=True)
class Node:
    """One graph node: its inputs are tensor references ``name`` or ``name:index``."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GraphModel:
    """A parsed graph model: nodes in file order, weights by name, signature outputs."""

    nodes: tuple[Node, ...]
    weights: dict[str, np.ndarray]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def attr_value(raw: dict[str, Any]) -> Any:
    """Decode one attr value (``{"i": "3"}``, ``{"s": base64}``, ``{"list": …}``, …)."""
    if "list" in raw:
        lst = raw["list"]
        for key in ("i", "f", "s", "b", "type"):
            if key in lst:
                return [attr_value({key: v}) for v in lst[key]]
        return []
    if "i" in raw:
        return int(raw["i"])
    if "f" in raw:
        return float(raw["f"])
    if "b" in raw:
        return bool(raw["b"])
    if "s" in raw:
        return base64.b64decode(raw["s"]).decode("utf-8", "replace")
    if "type" in raw:
        return raw["type"]
    if "shape" in raw:
        dims = raw["shape"].get("dim", [])
        return [int(d.get("size", -1)) for d in dims]
    if "tensor" in raw:
        return raw["tensor"]
    return None


def parse_tensor_ref(ref: str) -> tuple[str, int]:
    """``"node:1"`` → ``("node", 1)``; ``"node"`` → ``("node", 0)``."""
    name, _, idx = ref.rpartition(":")
    if name and idx.isdigit():
        return name, int(idx)
    return ref, 0


def tensor_key(ref: str) -> str:
    """Canonical tensor name: ``node`` for output 0, ``node:i`` otherwise."""
    name, idx = parse_tensor_ref(ref)
    return name if idx == 0 else f"{name}:{idx}"


def decode_weights(manifest: list[dict[str, Any]], buffer: bytes) -> dict[str, np.ndarray]:
    """Split the concatenated shard bytes into named arrays, dequantising as described."""
    out: dict[str, np.ndarray] = {}
    offset = 0
    for group in manifest:
        for spec in group.get("weights", []):
            try:
                name, shape, dtype = spec["name"], [int(d) for d in spec["shape"]], spec["dtype"]
            except (KeyError, TypeError, ValueError):
                raise ConversionError(f"malformed weight entry {spec!r}") from None
            count = int(np.prod(shape, dtype=np.int64))
            quant = spec.get("quantization")
            if quant is not None:
                qtype = _QUANT_DTYPES.get(quant.get("dtype", ""))
                if qtype is None:
                    raise ConversionError(f"{name}: unsupported quantisation {quant!r}")
                size = count * np.dtype(qtype).itemsize
            elif dtype in _MANIFEST_DTYPES:
                size = count * np.dtype(_MANIFEST_DTYPES[dtype]).itemsize
            else:
                raise ConversionError(f"{name}: unsupported weight dtype {dtype!r}")
            if offset + size > len(buffer):
                raise ConversionError(
                    f"weight {name} needs bytes {offset}..{offset + size}, "
                    f"but the shards hold only {len(buffer)}"
                )
            chunk = buffer[offset : offset + size]
            offset += size
            if quant is None:
                arr = np.frombuffer(chunk, dtype=_MANIFEST_DTYPES[dtype])
            elif quant["dtype"] == "float16":
                arr = np.frombuffer(chunk, dtype=np.float16).astype(np.float32)
            else:
                q = np.frombuffer(chunk, dtype=_QUANT_DTYPES[quant["dtype"]]).astype(np.float32)
                try:
                    scale, lo = np.float32(quant["scale"]), np.float32(quant["min"])
                except KeyError:
                    raise ConversionError(f"{name}: quantisation needs min and scale") from None
                arr = q * scale + lo
                if dtype == "int32":
                    arr = np.round(arr).astype(np.int32)
            out[name] = arr.reshape(shape).copy()
    if offset != len(buffer):
        raise ConversionError(
            f"the weight shards hold {len(buffer)} bytes but the manifest describes {offset}"
        )
    return out


def read_graph_model(model_json: Path) -> GraphModel:
    """Read ``model.json`` and its shards (paths relative to the JSON file)."""
    model_json = Path(model_json)
    try:
        doc = json.loads(model_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConversionError(f"{model_json}: not a readable model.json: {exc}") from None
    if not isinstance(doc, dict) or "modelTopology" not in doc or "weightsManifest" not in doc:
        raise ConversionError(f"{model_json}: no modelTopology/weightsManifest (not a graph model)")
    if doc.get("format", "graph-model") != "graph-model":
        raise ConversionError(f"{model_json}: format {doc.get('format')!r} is not a graph model")
    topo = doc["modelTopology"]
    if topo.get("library", {}).get("function"):
        raise ConversionError(f"{model_json}: graphs with functions (control flow) unsupported")
    manifest = doc["weightsManifest"]
    chunks = []
    for group in manifest:
        for rel in group.get("paths", []):
            path = model_json.parent / rel
            try:
                chunks.append(path.read_bytes())
            except OSError as exc:
                raise ConversionError(f"weight shard {path}: {exc}") from None
    weights = decode_weights(manifest, b"".join(chunks))
    nodes = []
    for raw in topo.get("node", []):
        try:
            attrs = {k: attr_value(v) for k, v in raw.get("attr", {}).items()}
            nodes.append(Node(raw["name"], raw["op"], tuple(raw.get("input", [])), attrs))
        except (KeyError, TypeError, AttributeError):
            raise ConversionError(f"{model_json}: malformed node {str(raw)[:200]}") from None
    sig = doc.get("signature") or {}
    ins = tuple(sorted(tensor_key(v.get("name", k)) for k, v in sig.get("inputs", {}).items()))
    outs = tuple(sorted(tensor_key(v.get("name", k)) for k, v in sig.get("outputs", {}).items()))
    return GraphModel(tuple(nodes), weights, ins, outs)
