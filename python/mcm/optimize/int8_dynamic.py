"""Dynamic INT8 quantization of the weights of MatMul/Gemm (activations quantized at run time) and of embedding
tables (Gather of a constant table, stored in INT8 and dequantized as rows are read), as ONNX Runtime's
``quantize_dynamic`` does by default: on a transformer the embeddings are a fifth of the weights (BERT-base: 23 M of
110 M parameters). It belongs to Linear-heavy models; on convolutions it runs several times slower on CPUs, so Conv
is never touched."""

from __future__ import annotations

import warnings
from pathlib import Path

from mcm.exceptions import OptimizeError
from mcm.optimize import graph
from mcm.optimize.base import Applied, Artifact, need_onnx, quiet

NAME = "int8_dynamic"
#: The compute ops whose weights are quantized; Gather: the embedding tables (ORT skips a Gather of a non-constant).
OPS = ("MatMul", "Gemm", "Attention", "Gather", "EmbedLayerNormalization")
_COMPUTE = ("MatMul", "Gemm", "Attention")


def apply(input_path: Path, out_dir: Path) -> Applied:
    """Write ``out_dir/model.onnx``: the MatMul/Gemm weights and embedding tables of ``input_path`` in INT8."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]

    need_onnx(input_path, NAME)
    model = graph.load(input_path)
    counts = graph.op_counts(model)
    targets = sum(counts[op] for op in _COMPUTE)
    constants = {i.name for i in model.graph.initializer}
    tables = sum(1 for n in model.graph.node if n.op_type == "Gather" and n.input[0] in constants)
    if targets == 0:
        raise OptimizeError(f"{NAME}: {input_path.name} has no MatMul or Gemm to quantize")
    out = out_dir / "model.onnx"
    with warnings.catch_warnings(), quiet():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(input_path), str(out), op_types_to_quantize=list(OPS), weight_type=QuantType.QInt8
        )
    summary = graph.int8_summary(graph.runtime_op_counts(out))
    return Applied(
        NAME,
        Artifact(out),
        (
            f"dynamic INT8 on {targets} MatMul/Gemm ops and {tables} embedding tables (convolutions left in FP32)",
            f"in the optimized graph: {summary['int8_ops']} INT8 compute ops, "
            f"{summary['float_ops']} left in floating point",
        ),
        checks=summary,
    )
