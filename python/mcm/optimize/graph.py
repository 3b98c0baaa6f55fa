"""ONNX graph helpers: load and check a model, save one, count the operators ONNX Runtime really runs."""

from __future__ import annotations

import collections
import tempfile
from pathlib import Path

import onnx

from mcm.exceptions import OptimizeError

#: Operators that compute in INT8 once ONNX Runtime has fused the graph.
INT8_OPS = frozenset(
    {
        "QLinearConv",
        "QGemm",
        "QLinearMatMul",
        "MatMulInteger",
        "ConvInteger",
        "DynamicQuantizeMatMul",
        "QAttention",  # ONNX Runtime's fused attention with INT8 weights
    }
)
#: Floating-point operators that carry the bulk of the compute.
FLOAT_OPS = frozenset({"Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul", "FusedMatMul", "Attention"})


def load(path: Path) -> onnx.ModelProto:
    """Load and check an ONNX model (model files are untrusted)."""
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as e:  # onnx raises several unrelated types for a bad file
        raise OptimizeError(f"{path}: not a valid ONNX model ({str(e).splitlines()[0]})") from e
    return model


def op_counts(model: onnx.ModelProto) -> collections.Counter[str]:
    """Operator type → count over the main graph."""
    return collections.Counter(n.op_type for n in model.graph.node)


def optimized(path: Path, out: Path, level: str = "extended") -> None:
    """Save ``path`` as ONNX Runtime optimizes it at ``level`` (``basic``/``extended``/``all``) into ``out``;
    :class:`OptimizeError` with ONNX Runtime's reason when it cannot load the model."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    so = ort.SessionOptions()
    so.graph_optimization_level = levels[level]
    so.optimized_model_filepath = str(out)
    so.intra_op_num_threads = 1
    try:
        ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # ONNX Runtime's own exception types: a reason, not a traceback
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise OptimizeError(f"{path.name}: ONNX Runtime cannot load it ({reason})") from e


def runtime_op_counts(path: Path) -> collections.Counter[str]:
    """Operator counts of ``path`` after ONNX Runtime's graph optimization (what really runs)."""
    with tempfile.TemporaryDirectory(prefix="mcm-ops-") as tmp:
        out = Path(tmp) / "optimized.onnx"
        optimized(path, out)
        return op_counts(onnx.load(str(out)))


def int8_summary(counts: collections.Counter[str]) -> dict[str, int]:
    """How many compute operators run in INT8 and how many stay in floating point."""
    return {
        "int8_ops": sum(counts[op] for op in INT8_OPS),
        "float_ops": sum(counts[op] for op in FLOAT_OPS),
    }


def toposort(model: onnx.ModelProto) -> onnx.ModelProto:
    """Reorder the main graph's nodes so each comes after the producers of its inputs (in place)."""
    g = model.graph
    ready = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
    pending, ordered = list(g.node), []
    while pending:
        rest = [n for n in pending if not all(i in ready for i in n.input)]
        done = [n for n in pending if all(i in ready for i in n.input)]
        if not done:
            raise OptimizeError("the graph has a cycle or an input that nothing produces")
        for n in done:
            ordered.append(n)
            ready.update(n.output)
        pending = rest
    del g.node[:]
    g.node.extend(ordered)
    return model
