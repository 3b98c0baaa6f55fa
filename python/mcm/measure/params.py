"""Parameter counts: learnable weights, not buffers.

ONNX: every weight-typed initializer (and Constant) except batch-norm running statistics, clip bounds and
quantization scales / zero points; int64 shape constants are not weights.
PyTorch: ``sum(p.numel() for p in module.parameters())``, shared parameters counted once.
Why the two differ after an export: :mod:`mcm.measure.param_difference`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

#: ONNX element types that hold weights (float, float16, bfloat16, double, int8/uint8/int4/uint4, float8 kinds).
_WEIGHT_TYPES = {1, 2, 3, 10, 11, 16, 17, 18, 19, 20, 21, 22}
#: Input positions that are statistics, bounds or quantization parameters, not learned weights.
_NOT_WEIGHTS: dict[str, frozenset[int]] = {
    "BatchNormalization": frozenset({3, 4}),
    "Clip": frozenset({1, 2}),
    "QuantizeLinear": frozenset({1, 2}),
    "DequantizeLinear": frozenset({1, 2}),
    "QLinearConv": frozenset({1, 2, 4, 5, 6, 7}),
    "QLinearMatMul": frozenset({1, 2, 4, 5, 6, 7}),
    "ConvInteger": frozenset({2, 3}),
    "MatMulInteger": frozenset({2, 3}),
}


@dataclass(frozen=True)
class ParamCount:
    """How many parameters, counted how, and by element type."""

    count: int
    method: str
    by_dtype: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def millions(self) -> float:
        return self.count / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "millions": self.millions,
            "method": self.method,
            "by_dtype": self.by_dtype,
            "excluded": self.excluded,
        }


def count_onnx(model: onnx.ModelProto) -> ParamCount:
    """Parameters of an ONNX graph (initializers need not be loaded: only their dims are read)."""
    by_dtype: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    for _, t, counted in weight_tensors(model):
        if counted:
            by_dtype[_dtype(t)] += numel(t.dims)
        elif t.data_type not in _WEIGHT_TYPES:
            excluded[f"{_dtype(t)} constants"] += numel(t.dims)
        else:
            excluded["statistics and quantization parameters"] += numel(t.dims)
    return ParamCount(
        sum(by_dtype.values()), "ONNX initializers holding weights", dict(by_dtype), dict(excluded)
    )


def weight_tensors(model: onnx.ModelProto) -> list[tuple[str, onnx.TensorProto, bool]]:
    """The graph's initializers and Constant tensors: ``(name, tensor, counted as weights)``."""
    import onnx

    graph = model.graph
    roles: dict[str, set[str]] = {}
    for node in graph.node:
        skip = _NOT_WEIGHTS.get(node.op_type, frozenset())
        for i, name in enumerate(node.input):
            roles.setdefault(name, set()).add("other" if i in skip else "weight")
    tensors = [(t.name, t) for t in graph.initializer]
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            tensors += [(node.output[0], a.t) for a in node.attribute if a.type == onnx.AttributeProto.TENSOR]
    return [
        (name, t, t.data_type in _WEIGHT_TYPES and roles.get(name, {"weight"}) != {"other"})
        for name, t in tensors
    ]


def _dtype(t: onnx.TensorProto) -> str:
    import onnx

    return onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name if t.data_type else "undefined"


def count_tensors(tensors: Iterable[Any], method: str) -> ParamCount:
    """Parameters from torch tensors (``module.parameters()``), each distinct tensor once."""
    seen: set[int] = set()
    by_dtype: Counter[str] = Counter()
    for t in tensors:
        if id(t) in seen:
            continue
        seen.add(id(t))
        by_dtype[str(t.dtype).removeprefix("torch.")] += int(t.numel())
    return ParamCount(sum(by_dtype.values()), method, dict(by_dtype))


def numel(dims: Iterable[int]) -> int:
    n = 1
    for d in dims:
        n *= int(d)
    return n


__all__ = ["ParamCount", "count_onnx", "count_tensors", "numel", "weight_tensors"]
