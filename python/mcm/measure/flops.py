"""Operation counts: MACs (multiply-accumulates) and FLOPs, where FLOPs = 2 × MACs.

Both counters count the multiply-accumulates of the linear operators (convolutions, matrix products, recurrent
cells) — the convention of torchvision's published figures, fvcore and thop. Elementwise work (activations,
additions, normalization, pooling) is not counted; the ONNX counter lists those operators by type, and every node
it could not count (an operator it has no formula for, an unknown shape, a subgraph) with the reason.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcm import metrics
from mcm.measure import model_kind
from mcm.measure.model_kind import ModelKind

if TYPE_CHECKING:
    import onnx

#: Operators with no multiply-accumulates by convention (elementwise, normalization, pooling, data movement).
_ZERO_OPS = """Abs Acos Add And ArgMax ArgMin AveragePool BatchNormalization BitShift Cast CastLike Ceil Celu Clip Compress
    Concat Constant ConstantOfShape Cos DepthToSpace DequantizeLinear Div Dropout DynamicQuantizeLinear Elu Equal Erf
    Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gelu GlobalAveragePool GlobalLpPool GlobalMaxPool
    Greater GreaterOrEqual GroupNormalization HardSigmoid HardSwish Hardmax Identity InstanceNormalization IsInf IsNaN
    LRN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization LpPool MaxPool MaxRoiPool
    MaxUnpool Max Mean Min Mish Mod Mul Neg NonZero Not OneHot Or PRelu Pad Pow QuantizeLinear Range Reciprocal
    ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare
    Relu Reshape Resize RMSNormalization Round ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Size
    Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK
    Transpose Trilu Unsqueeze Upsample Where Xor"""
ZERO_BY_CONVENTION = frozenset(_ZERO_OPS.split())
_CONV_WEIGHT = {"Conv": 1, "ConvInteger": 1, "QLinearConv": 3}
_MATMUL = {"MatMul", "MatMulInteger", "QLinearMatMul"}
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_SUBGRAPH = {"If", "Loop", "Scan"}
_FORMULA_OPS = {*_CONV_WEIGHT, "ConvTranspose", "Gemm", *_MATMUL, *_RNN_GATES}


@dataclass(frozen=True)
class FlopCount:
    """MACs of one call at ``batch``, by operator, and what could not be counted."""

    macs: int
    batch: int
    counter: str
    by_op: dict[str, int] = field(default_factory=dict)
    uncounted: list[dict[str, str]] = field(default_factory=list)
    zero_by_convention: dict[str, int] = field(default_factory=dict)
    #: What kind of model this is (:mod:`mcm.measure.model_kind`); None when some work went uncounted, since
    #: where the compute goes is then unknown (a ViT whose MatMuls went uncounted is no CNN).
    kind: ModelKind | None = None

    @property
    def incomplete(self) -> str | None:
        """Why the total is only a lower bound (some nodes' work could not be counted), or None when it is whole."""
        if not self.uncounted:
            return None
        reasons = Counter(f"{u['op']}: {u['reason']}" for u in self.uncounted)
        listed = "; ".join(f"{n} × {reason}" for reason, n in reasons.most_common(3))
        return f"{len(self.uncounted)} node(s) could not be counted ({listed})"

    @property
    def macs_per_sample(self) -> float:
        return self.macs / self.batch

    def to_dict(self) -> dict[str, Any]:
        return {
            "macs_per_sample": self.macs_per_sample,
            "flops_per_sample": metrics.flops_from_macs(self.macs_per_sample),
            "macs_g": self.macs_per_sample / 1e9,
            "flops_g": metrics.flops_from_macs(self.macs_per_sample) / 1e9,
            "counted_at_batch": self.batch,
            "counter": self.counter,
            "convention": "FLOPs = 2 x MACs; MACs of convolutions, matrix products and recurrent cells",
            "macs_by_op": self.by_op,
            "uncounted": self.uncounted,
            "not_counted_by_convention": self.zero_by_convention,
            "model_kind": self.kind,
        }


def count_onnx(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]], batch: int) -> FlopCount:
    """Count an ONNX graph with its inputs fixed to ``shapes`` (shape inference fills in the rest)."""
    known, inference = _infer(model, shapes)
    by_op: Counter[str] = Counter()
    zero: Counter[str] = Counter()
    uncounted: list[dict[str, str]] = []
    for node in model.graph.node:
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if op in ZERO_BY_CONVENTION:
            zero[op] += 1
            continue
        if op in _SUBGRAPH:
            uncounted.append(_skip(node, op, "control flow: the work inside its subgraph is not counted"))
            continue
        macs = _node_macs(node, op, known)
        if isinstance(macs, str):
            uncounted.append(_skip(node, op, macs))
        else:
            by_op[op] += macs
    counter = f"mcm ONNX graph counter (shapes by {inference})"
    kind = None if uncounted else model_kind.of_onnx(model, by_op)
    return FlopCount(sum(by_op.values()), batch, counter, dict(by_op), uncounted, dict(zero), kind)


def count_torch(fn: Any, args: Sequence[Any], batch: int) -> FlopCount:
    """Count one call of a torch module through ``torch.utils.flop_counter.FlopCounterMode``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        fn(*args)
    by_op = {str(op): int(n) // 2 for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return FlopCount(
        int(counter.get_total_flops()) // 2,
        batch,
        "torch.utils.flop_counter.FlopCounterMode (matmul, convolution and attention kernels)",
        by_op,
        kind=model_kind.of_torch(by_op),
    )


def _infer(
    model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]
) -> tuple[dict[str, tuple[int, ...]], str]:
    """Fully known shapes of every value after fixing the inputs (unknown ones are left out), and how they were
    found: ONNX shape inference with data propagation, then, where a multiply-accumulate node's shapes are still
    unknown (exporters compute reshapes at run time: every Hugging Face export), ONNX Runtime's symbolic shape
    inference, which propagates through them."""
    import onnx
    import onnx.inliner

    m = onnx.ModelProto()
    m.CopyFrom(model)
    if m.functions:
        m = onnx.inliner.inline_local_functions(m)
    del m.graph.value_info[:]
    for out in m.graph.output:
        out.type.tensor_type.ClearField("shape")
    for inp in m.graph.input:
        if inp.name in shapes:
            dims = inp.type.tensor_type.shape.dim
            del dims[:]
            for d in shapes[inp.name]:
                dims.add().dim_value = int(d)
    known = _known(m)  # on failure, values keep unknown shapes and their nodes are reported as uncounted
    with contextlib.suppress(onnx.shape_inference.InferenceError, ValueError):
        known = _known(onnx.shape_inference.infer_shapes(m, data_prop=True))
    if all(_shapes_known(node, known) for node in m.graph.node):
        return known, "ONNX shape inference"
    symbolic = _symbolic(m)
    if symbolic is None:
        return known, "ONNX shape inference"
    return {**_known(symbolic), **known}, "ONNX shape inference, then ONNX Runtime's symbolic shape inference"


def _symbolic(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """``model`` with the shapes ONNX Runtime's symbolic shape inference finds, or None without ONNX Runtime or
    when it fails. Its public ``infer_shapes`` writes ``sym_shape_infer_temp.onnx`` and its weights into the
    working directory when some shape stays unknown, then raises; the same steps are run here without that
    write, and what it did infer is kept (the counter reports the rest as uncounted)."""
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        inference = SymbolicShapeInference(
            2**31 - 1, True, False, 0
        )  # int_max, auto_merge, guess rank, verbose
        inference._preprocess(model)
        while inference.run_:
            inference._infer_impl()
        inference._update_output_from_vi()
        return inference.out_mp_  # type: ignore[no-any-return]
    except Exception:  # its failures are assertions and KeyErrors as often as anything documented
        return None


def _known(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    known: dict[str, tuple[int, ...]] = {
        t.name: tuple(int(d) for d in t.dims) for t in model.graph.initializer
    }
    for vi in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            known[vi.name] = tuple(int(d.dim_value) for d in tt.shape.dim)
    return known


def _shapes_known(node: onnx.NodeProto, known: Mapping[str, tuple[int, ...]]) -> bool:
    """Whether the shapes a node's MAC formula reads are known (always, for a node without a formula: running
    the slower symbolic inference would not count it anyway)."""
    if node.op_type not in _FORMULA_OPS:
        return True
    names = [*node.input[:3], *node.output[:1]]
    return all(not name or name in known for name in names)


def _node_macs(node: onnx.NodeProto, op: str, known: Mapping[str, tuple[int, ...]]) -> int | str:
    """MACs of one node, or the reason it cannot be counted."""

    def shape(i: int, outputs: bool = False) -> tuple[int, ...] | None:
        names = node.output if outputs else node.input
        return known.get(names[i]) if i < len(names) and names[i] else None

    if op in _CONV_WEIGHT or op == "ConvTranspose":
        w = shape(_CONV_WEIGHT.get(op, 1))
        data = shape(0) if op == "ConvTranspose" else shape(0, outputs=True)
        if w is None or data is None:
            return "shape unknown after shape inference"
        return math.prod(data) * w[1] * math.prod(w[2:])
    if op == "Gemm":
        a, y = shape(0), shape(0, outputs=True)
        if a is None or y is None:
            return "shape unknown after shape inference"
        trans_a = next((int(x.i) for x in node.attribute if x.name == "transA"), 0)
        return math.prod(y) * (a[0] if trans_a else a[-1])
    if op in _MATMUL:
        a, y = shape(0), shape(0, outputs=True)
        if a is None or y is None:
            return "shape unknown after shape inference"
        return math.prod(y) * a[-1]
    if op in _RNN_GATES:
        x, w, r = shape(0), shape(1), shape(2)
        if x is None or w is None or r is None:
            return "shape unknown after shape inference"
        steps = x[0] * x[1]  # sequence × batch, in either layout
        return steps * w[0] * w[1] * (w[2] + r[2])
    return f"no MAC formula for {op}"


def _skip(node: onnx.NodeProto, op: str, reason: str) -> dict[str, str]:
    return {"op": op, "node": node.name or (node.output[0] if node.output else "?"), "reason": reason}


__all__ = ["ZERO_BY_CONVENTION", "FlopCount", "count_onnx", "count_torch"]
