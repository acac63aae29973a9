"""The op tables of the TF.js → ONNX converter.

``EMIT[op](builder, node, input_keys)`` appends ONNX nodes for a TF op with at least one
non-constant input and returns ``[(onnx_name, nhwc_shape), …]``, one per TF output.
``FOLD[op](node, arrays)`` evaluates an op whose inputs are all constants with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .tfjs import TF_DTYPES, ConversionError, Node

if TYPE_CHECKING:
    from .tfjs_onnx import Builder

Ref = tuple[str, tuple[int, ...]]
TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]


# --- constant folding ---------------------------------------------------------------


def _sparse_to_dense(node: Node, a: list[np.ndarray]) -> list[np.ndarray]:
    indices, shape, values, default = a
    dense = np.full(tuple(int(v) for v in np.ravel(shape)), default, dtype=values.dtype)
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size:
        vals = np.broadcast_to(values, (idx.shape[0],) if idx.ndim else ())
        if idx.ndim <= 1:
            dense[idx] = vals
        else:
            dense[tuple(idx.T)] = vals
    return [dense]


def _cast(node: Node, a: list[np.ndarray]) -> list[np.ndarray]:
    dtype = TF_DTYPES.get(node.attrs.get("DstT", ""))
    if dtype is None:
        raise ConversionError(f"{node.name}: Cast to {node.attrs.get('DstT')} unsupported")
    return [a[0].astype(dtype)]


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., list[np.ndarray]]:
    return lambda node, a: [np.asarray(fn(a[0], a[1])).astype(np.result_type(a[0], a[1]))]


FOLD: dict[str, Callable[[Node, list[np.ndarray]], list[np.ndarray]]] = {
    "Identity": lambda n, a: [a[0]],
    "Cast": _cast,
    "SparseToDense": _sparse_to_dense,
    "Add": _binary(np.add),
    "AddV2": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "FloorDiv": _binary(np.floor_divide),
    "FloorMod": _binary(np.mod),
    "Maximum": _binary(np.maximum),
    "Minimum": _binary(np.minimum),
    "Reshape": lambda n, a: [a[0].reshape(tuple(int(v) for v in np.ravel(a[1])))],
    "Transpose": lambda n, a: [np.transpose(a[0], [int(v) for v in a[1]])],
    "ConcatV2": lambda n, a: [np.concatenate(a[:-1], axis=int(a[-1]))],
    "Pack": lambda n, a: [np.stack(a, axis=int(n.attrs.get("axis", 0)))],
    "ExpandDims": lambda n, a: [np.expand_dims(a[0], int(a[1]))],
    "GatherV2": lambda n, a: [np.take(a[0], a[1].astype(np.int64), axis=int(a[2]))],
    "Shape": lambda n, a: [np.asarray(a[0].shape, dtype=np.int32)],
}


# --- emitted ops ---------------------------------------------------------------------


def _const(b: Builder, key: str, what: str) -> np.ndarray:
    if not b.is_const(key):
        raise ConversionError(f"{what} must be a constant (tensor {key} is computed)")
    return b.const[key]


def _same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int, int]:
    """Output size and (before, after) padding of TF 'SAME' (extra padding at the end)."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return out, total // 2, total - total // 2


def _window(
    node: Node, shape: tuple[int, ...], kh: int, kw: int
) -> tuple[list[int], list[int], list[int], tuple[int, int]]:
    """Strides, dilations, ONNX pads and output H, W of a NHWC window op."""
    if node.attrs.get("data_format", "NHWC") != "NHWC":
        raise ConversionError(f"{node.name}: data_format {node.attrs['data_format']} unsupported")
    st = node.attrs.get("strides", [1, 1, 1, 1])
    dl = node.attrs.get("dilations", [1, 1, 1, 1])
    strides, dil = [int(st[1]), int(st[2])], [int(dl[1]), int(dl[2])]
    padding = node.attrs.get("padding", "VALID")
    h, w = shape[1], shape[2]
    if padding == "SAME":
        oh, t, bt = _same_pads(h, kh, strides[0], dil[0])
        ow, lf, rt = _same_pads(w, kw, strides[1], dil[1])
        pads = [t, lf, bt, rt]
    elif padding == "VALID":
        pads = [0, 0, 0, 0]
        oh = (h - (kh - 1) * dil[0] - 1) // strides[0] + 1
        ow = (w - (kw - 1) * dil[1] - 1) // strides[1] + 1
    elif padding == "EXPLICIT":
        ep = [int(v) for v in node.attrs.get("explicit_paddings", [])]
        if len(ep) != 8:
            raise ConversionError(f"{node.name}: explicit_paddings {ep} is not 4 pairs")
        pads = [ep[2], ep[4], ep[3], ep[5]]
        oh = (h + ep[2] + ep[3] - (kh - 1) * dil[0] - 1) // strides[0] + 1
        ow = (w + ep[4] + ep[5] - (kw - 1) * dil[1] - 1) // strides[1] + 1
    else:
        raise ConversionError(f"{node.name}: padding {padding!r} unsupported")
    if oh <= 0 or ow <= 0:
        raise ConversionError(f"{node.name}: window larger than its {h}x{w} input")
    return strides, dil, pads, (oh, ow)


def _activation(b: Builder, x: str, act: str, node: Node) -> str:
    if act == "Relu":
        return b.node("Relu", [x], node.name)[0]
    if act == "Relu6":
        lo = b.initializer(f"{node.name}/min", np.array(0.0, np.float32))
        hi = b.initializer(f"{node.name}/max", np.array(6.0, np.float32))
        return b.node("Clip", [x, lo, hi], node.name)[0]
    if act == "LeakyRelu":
        alpha = float(node.attrs.get("leakyrelu_alpha", node.attrs.get("alpha", 0.2)))
        return b.node("LeakyRelu", [x], node.name, alpha=alpha)[0]
    if act == "Sigmoid":
        return b.node("Sigmoid", [x], node.name)[0]
    raise ConversionError(f"{node.name}: fused activation {act} unsupported")


def _conv(b: Builder, node: Node, keys: list[str], depthwise: bool) -> list[Ref]:
    x, shape = b.ref(keys[0])
    filt = _const(b, keys[1], f"{node.name}: the filter")
    if len(shape) != 4 or filt.ndim != 4:
        raise ConversionError(
            f"{node.name}: needs a 4-D input and filter, got {shape}, {filt.shape}"
        )
    kh, kw, cin, cout = filt.shape
    if cin != shape[3] and not (not depthwise and shape[3] % cin == 0):
        raise ConversionError(f"{node.name}: filter {filt.shape} does not fit input {shape}")
    strides, dil, pads, (oh, ow) = _window(node, shape, kh, kw)
    if depthwise:  # (H, W, C, M) → (C*M, 1, H, W); output channel c*M + m
        w = filt.transpose(2, 3, 0, 1).reshape(cin * cout, 1, kh, kw)
        group, out_c = cin, cin * cout
    else:  # HWIO → OIHW
        w = filt.transpose(3, 2, 0, 1)
        group, out_c = shape[3] // cin, cout
    fused = list(node.attrs.get("fused_ops", []))
    ins = [b.node("Transpose", [x], f"{node.name}/nchw", perm=TO_NCHW)[0]]
    ins.append(b.initializer(f"{node.name}/weights", w.astype(np.float32)))
    if fused:
        if fused[0] != "BiasAdd" or len(fused) > 2 or len(keys) < 3:
            raise ConversionError(f"{node.name}: fused ops {fused} unsupported")
        bias = _const(b, keys[2], f"{node.name}: the bias").astype(np.float32).reshape(-1)
        ins.append(b.initializer(f"{node.name}/bias", bias))
    y = b.node(
        "Conv",
        ins,
        f"{node.name}/conv",
        kernel_shape=[kh, kw],
        strides=strides,
        dilations=dil,
        pads=pads,
        group=group,
    )[0]
    if len(fused) == 2:
        y = _activation(b, y, fused[1], node)
    y = b.node("Transpose", [y], node.name, perm=TO_NHWC)[0]
    return [(y, (shape[0], oh, ow, out_c))]


def _pool(b: Builder, node: Node, keys: list[str], op: str) -> list[Ref]:
    x, shape = b.ref(keys[0])
    ks = node.attrs.get("ksize", [1, 1, 1, 1])
    kh, kw = int(ks[1]), int(ks[2])
    if int(ks[0]) != 1 or int(ks[3]) != 1:
        raise ConversionError(f"{node.name}: pooling over batch or channels unsupported")
    strides, _, pads, (oh, ow) = _window(node, shape, kh, kw)
    extra = {"count_include_pad": 0} if op == "AveragePool" else {}
    xt = b.node("Transpose", [x], f"{node.name}/nchw", perm=TO_NCHW)[0]
    y = b.node(
        op, [xt], f"{node.name}/pool", kernel_shape=[kh, kw], strides=strides, pads=pads, **extra
    )[0]
    y = b.node("Transpose", [y], node.name, perm=TO_NHWC)[0]
    return [(y, (shape[0], oh, ow, shape[3]))]


def _resize(b: Builder, node: Node, keys: list[str], mode: str) -> list[Ref]:
    x, shape = b.ref(keys[0])
    size = [int(v) for v in _const(b, keys[1], f"{node.name}: the size").ravel()]
    if len(shape) != 4 or len(size) != 2:
        raise ConversionError(f"{node.name}: needs a 4-D input and a 2-value size")
    if node.attrs.get("align_corners"):
        ctm = "align_corners"
    elif node.attrs.get("half_pixel_centers"):
        ctm = "half_pixel" if mode == "linear" else "tf_half_pixel_for_nn"
    else:
        ctm = "asymmetric"
    extra: dict[str, Any] = (
        {"nearest_mode": "round_prefer_ceil" if ctm == "align_corners" else "floor"}
        if mode == "nearest"
        else {}
    )
    xt = b.node("Transpose", [x], f"{node.name}/nchw", perm=TO_NCHW)[0]
    sizes = b.initializer(f"{node.name}/sizes", np.array([shape[0], shape[3], *size], np.int64))
    y = b.node(
        "Resize",
        [xt, "", "", sizes],
        f"{node.name}/resize",
        mode=mode,
        coordinate_transformation_mode=ctm,
        **extra,
    )[0]
    y = b.node("Transpose", [y], node.name, perm=TO_NHWC)[0]
    return [(y, (shape[0], size[0], size[1], shape[3]))]


def _elementwise(op: str) -> Callable[[Builder, Node, list[str]], list[Ref]]:
    def emit(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
        (xa, sa), (xb, sb) = b.ref(keys[0]), b.ref(keys[1])
        return [(b.node(op, [xa, xb], node.name)[0], tuple(np.broadcast_shapes(sa, sb)))]

    return emit


def _bias_add(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    if node.attrs.get("data_format", "NHWC") != "NHWC":
        raise ConversionError(f"{node.name}: BiasAdd data_format {node.attrs['data_format']}")
    return _elementwise("Add")(b, node, keys)


def _unary(op: str, **attrs: Any) -> Callable[[Builder, Node, list[str]], list[Ref]]:
    def emit(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
        x, shape = b.ref(keys[0])
        extra = dict(attrs)
        if op == "LeakyRelu":
            extra["alpha"] = float(node.attrs.get("alpha", 0.2))
        return [(b.node(op, [x], node.name, **extra)[0], shape)]

    return emit


def _relu6(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    x, shape = b.ref(keys[0])
    return [(_activation(b, x, "Relu6", node), shape)]


def _pad(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    x, shape = b.ref(keys[0])
    p = _const(b, keys[1], f"{node.name}: paddings").astype(np.int64).reshape(-1, 2)
    if p.shape[0] != len(shape):
        raise ConversionError(f"{node.name}: paddings {p.tolist()} do not fit shape {shape}")
    ins = [x, b.initializer(f"{node.name}/pads", np.concatenate([p[:, 0], p[:, 1]]))]
    if len(keys) > 2:
        value = _const(b, keys[2], f"{node.name}: constant_values").astype(np.float32)
        ins.append(b.initializer(f"{node.name}/value", value.reshape(())))
    out = tuple(int(d + p[i, 0] + p[i, 1]) for i, d in enumerate(shape))
    return [(b.node("Pad", ins, node.name, mode="constant")[0], out)]


def _mean(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    x, shape = b.ref(keys[0])
    axes = sorted({int(a) % len(shape) for a in np.ravel(_const(b, keys[1], "axes"))})
    keep = bool(node.attrs.get("keep_dims", False))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape) if keep or i not in axes)
    return [(b.node("ReduceMean", [x], node.name, axes=axes, keepdims=int(keep))[0], out)]


def _concat(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    refs = [b.ref(k) for k in keys[:-1]]
    axis = int(_const(b, keys[-1], "axis")) % len(refs[0][1])
    shape = list(refs[0][1])
    shape[axis] = sum(r[1][axis] for r in refs)
    return [(b.node("Concat", [r[0] for r in refs], node.name, axis=axis)[0], tuple(shape))]


def _transpose(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    x, shape = b.ref(keys[0])
    perm = [int(v) for v in _const(b, keys[1], "perm")]
    return [(b.node("Transpose", [x], node.name, perm=perm)[0], tuple(shape[p] for p in perm))]


def _reshape(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    x, shape = b.ref(keys[0])
    target = [int(v) for v in np.ravel(_const(b, keys[1], "shape"))]
    if 0 in target or target.count(-1) > 1:
        raise ConversionError(f"{node.name}: reshape to {target} unsupported")
    total, known = math.prod(shape), math.prod(d for d in target if d != -1)
    out = [total // known if d == -1 else d for d in target]
    if math.prod(out) != total:
        raise ConversionError(f"{node.name}: cannot reshape {shape} to {target}")
    s = b.initializer(f"{node.name}/shape", np.array(out, np.int64))
    return [(b.node("Reshape", [x, s], node.name)[0], tuple(out))]


def _split_v(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    x, shape = b.ref(keys[0])
    sizes = [int(v) for v in np.ravel(_const(b, keys[1], "size_splits"))]
    axis = int(_const(b, keys[2], "split_dim")) % len(shape)
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != shape[axis] or min(sizes) < 0:
        raise ConversionError(f"{node.name}: splits {sizes} do not fit dimension {shape[axis]}")
    s = b.initializer(f"{node.name}/split", np.array(sizes, np.int64))
    outs = b.node("Split", [x, s], node.name, n_out=len(sizes), axis=axis)
    return [
        (o, tuple(n if i == axis else d for i, d in enumerate(shape)))
        for o, n in zip(outs, sizes, strict=True)
    ]


def _identity(b: Builder, node: Node, keys: list[str]) -> list[Ref]:
    return [b.ref(keys[0])]


EMIT: dict[str, Callable[[Builder, Node, list[str]], list[Ref]]] = {
    "Conv2D": lambda b, n, k: _conv(b, n, k, False),
    "_FusedConv2D": lambda b, n, k: _conv(b, n, k, False),
    "DepthwiseConv2dNative": lambda b, n, k: _conv(b, n, k, True),
    "FusedDepthwiseConv2dNative": lambda b, n, k: _conv(b, n, k, True),
    "MaxPool": lambda b, n, k: _pool(b, n, k, "MaxPool"),
    "AvgPool": lambda b, n, k: _pool(b, n, k, "AveragePool"),
    "ResizeBilinear": lambda b, n, k: _resize(b, n, k, "linear"),
    "ResizeNearestNeighbor": lambda b, n, k: _resize(b, n, k, "nearest"),
    "Pad": _pad,
    "PadV2": _pad,
    "Add": _elementwise("Add"),
    "AddV2": _elementwise("Add"),
    "BiasAdd": _bias_add,
    "Sub": _elementwise("Sub"),
    "Mul": _elementwise("Mul"),
    "RealDiv": _elementwise("Div"),
    "Maximum": _elementwise("Max"),
    "Minimum": _elementwise("Min"),
    "Relu": _unary("Relu"),
    "Relu6": _relu6,
    "LeakyRelu": _unary("LeakyRelu"),
    "Sigmoid": _unary("Sigmoid"),
    "Tanh": _unary("Tanh"),
    "Mean": _mean,
    "ConcatV2": _concat,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "SplitV": _split_v,
    "Identity": _identity,
}
