"""TF.js graph model → ONNX, with numpy and ``onnx`` only (no TensorFlow).

How it works: the nodes the requested outputs depend on are visited in topological order.
A node whose inputs are all constants is evaluated here with numpy (``FOLD``: shape
arithmetic such as SparseToDense, Cast, AddV2 on shape tensors); every other node becomes
ONNX nodes (``EMIT``). Tensors keep TensorFlow's NHWC layout in the ONNX graph; the
layout-bound ops (convolutions, pooling, resizing) are wrapped in NHWC↔NCHW transposes,
which onnxruntime's transpose optimiser cancels between neighbouring convolutions. Static
shapes are tracked for every tensor, so SAME padding becomes explicit (asymmetric where
TensorFlow pads more at the end) and reshapes are checked.

The output is deterministic: names come from the TF node names, initialisers are emitted
in visiting order, and the model carries no timestamp or library version, so the same
input gives byte-identical ONNX (pinned by SHA-256 in :mod:`edge_agent.models`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .tfjs import (
    TF_DTYPES,
    ConversionError,
    GraphModel,
    Node,
    parse_tensor_ref,
    read_graph_model,
    tensor_key,
)
from .tfjs_ops import EMIT, FOLD

OPSET = 13
IR_VERSION = 8
PRODUCER = "citywatch-tfjs-onnx"
PRODUCER_VERSION = "1"


class Builder:
    """Conversion state: constants, ONNX values with their NHWC shapes, nodes, initialisers."""

    def __init__(self) -> None:
        """Start empty."""
        self.const: dict[str, np.ndarray] = {}
        self.value: dict[str, tuple[str, tuple[int, ...]]] = {}
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._init_names: dict[int, str] = {}
        self._used: set[str] = set()

    def fresh(self, base: str) -> str:
        """A value/node name not used before, derived from ``base``."""
        name, i = base, 1
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name

    def initializer(self, base: str, arr: np.ndarray) -> str:
        """Add a constant tensor, returning its ONNX name."""
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(
        self, op: str, inputs: Sequence[str], base: str, n_out: int = 1, **attrs: Any
    ) -> list[str]:
        """Append one ONNX node, returning its output names."""
        outs = [self.fresh(base if n_out == 1 else f"{base}:{i}") for i in range(n_out)]
        self.nodes.append(
            helper.make_node(op, list(inputs), outs, name=self.fresh(f"{base}/{op}"), **attrs)
        )
        return outs

    def is_const(self, key: str) -> bool:
        """True when the tensor is a compile-time constant."""
        return key in self.const

    def ref(self, key: str, dtype: Any = None) -> tuple[str, tuple[int, ...]]:
        """ONNX name and shape of a tensor; constants become initialisers on first use."""
        if key in self.value:
            return self.value[key]
        if key not in self.const:
            raise ConversionError(f"tensor {key} is used before it is produced")
        arr = self.const[key]
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        ref = (self.initializer(key, arr), tuple(arr.shape))
        if dtype is None:
            self.value[key] = ref
        return ref


def _topological(graph: GraphModel, outputs: Sequence[str]) -> list[Node]:
    """Nodes the outputs depend on, each after its inputs (iterative DFS, stable order)."""
    by_name = {n.name: n for n in graph.nodes}
    order: list[Node] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for out in outputs:
        root = tensor_key(out).split(":")[0]
        if root not in by_name:
            raise ConversionError(f"output {out!r} is not a node of the graph")
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            name, i = stack.pop()
            if state.get(name) == 2:
                continue
            node = by_name.get(name)
            if node is None:
                raise ConversionError(f"input {name!r} refers to no node")
            deps = [parse_tensor_ref(r.lstrip("^"))[0] for r in node.inputs]
            if i < len(deps):
                state[name] = 1
                stack.append((name, i + 1))
                dep = deps[i]
                if state.get(dep) == 1:
                    raise ConversionError(f"the graph has a cycle through {dep!r}")
                if state.get(dep) != 2:
                    stack.append((dep, 0))
                continue
            state[name] = 2
            order.append(node)
    return order


def _placeholder(b: Builder, node: Node, input_shape: Sequence[int] | None) -> onnx.ValueInfoProto:
    shape = list(input_shape) if input_shape is not None else list(node.attrs.get("shape") or [])
    if not shape or any(d < 0 for d in shape):
        raise ConversionError(
            f"input {node.name} has shape {shape or 'unknown'}: pass a static input_shape"
        )
    dtype = TF_DTYPES.get(node.attrs.get("dtype", "DT_FLOAT"))
    if dtype is not np.float32:
        raise ConversionError(f"input {node.name}: only float32 inputs are supported")
    b._used.add(node.name)
    b.value[node.name] = (node.name, tuple(shape))
    return helper.make_tensor_value_info(node.name, TensorProto.FLOAT, shape)


def convert_graph(
    graph: GraphModel,
    outputs: Sequence[str] | None = None,
    input_shape: Sequence[int] | None = None,
    name: str = "model",
) -> onnx.ModelProto:
    """Convert a parsed graph model; ``outputs`` default to the signature's outputs."""
    outs = [tensor_key(o) for o in (outputs or graph.outputs)]
    if not outs:
        raise ConversionError("no outputs: the model has no signature, name them")
    b = Builder()
    inputs: list[onnx.ValueInfoProto] = []
    for node in _topological(graph, outs):
        if node.op == "Placeholder":
            inputs.append(_placeholder(b, node, input_shape))
            continue
        if node.op == "Const":
            if node.name not in graph.weights:
                raise ConversionError(f"constant {node.name} has no weight in the manifest")
            b.const[node.name] = graph.weights[node.name]
            continue
        keys = [tensor_key(r) for r in node.inputs if not r.startswith("^")]
        if all(b.is_const(k) for k in keys):
            fold: Callable[..., list[np.ndarray]] | None = FOLD.get(node.op)
            if fold is None:
                raise ConversionError(f"{node.name}: cannot fold constant op {node.op}")
            results = fold(node, [b.const[k] for k in keys])
            for i, arr in enumerate(results):
                b.const[node.name if i == 0 else f"{node.name}:{i}"] = np.asarray(arr)
            continue
        emit = EMIT.get(node.op)
        if emit is None:
            raise ConversionError(
                f"{node.name}: unsupported op {node.op} (supported: {', '.join(sorted(EMIT))})"
            )
        try:
            produced = emit(b, node, keys)
        except ConversionError:
            raise
        except (ValueError, IndexError, KeyError, TypeError) as exc:
            raise ConversionError(f"{node.name} ({node.op}): {exc}") from None
        for i, ref in enumerate(produced):
            b.value[node.name if i == 0 else f"{node.name}:{i}"] = ref
    if not inputs:
        raise ConversionError("the outputs do not depend on any input")
    out_infos = []
    for key in outs:
        if key not in b.value:
            raise ConversionError(f"output {key} is a constant; nothing to compute")
        src, shape = b.value[key]
        out_name = b.fresh(key.replace(":", "_"))
        b.nodes.append(
            helper.make_node("Identity", [src], [out_name], name=b.fresh(f"{out_name}/out"))
        )
        out_infos.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(shape)))
    g = helper.make_graph(b.nodes, name, inputs, out_infos, initializer=b.inits)
    model = helper.make_model(
        g,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def convert(
    model_json: Path,
    outputs: Sequence[str] | None = None,
    input_shape: Sequence[int] | None = None,
) -> onnx.ModelProto:
    """Read a TF.js graph model (JSON + shards) and convert it to an ONNX model."""
    return convert_graph(read_graph_model(model_json), outputs, input_shape, Path(model_json).stem)


def to_bytes(model: onnx.ModelProto) -> bytes:
    """The model's serialised bytes, deterministic for a given model."""
    return model.SerializeToString(deterministic=True)


def convert_file(
    model_json: Path,
    out: Path,
    outputs: Sequence[str] | None = None,
    input_shape: Sequence[int] | None = None,
) -> Path:
    """Convert ``model_json`` and write the ONNX file to ``out``; returns ``out``."""
    data = to_bytes(convert(model_json, outputs, input_shape))
    Path(out).write_bytes(data)
    return Path(out)
