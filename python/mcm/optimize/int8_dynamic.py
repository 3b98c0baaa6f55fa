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
#: Where embedding tables sit among an op's inputs: a Gather's data; the word, position and segment tables of a
#: fused EmbedLayerNormalization.
_TABLES = {"Gather": slice(0, 1), "EmbedLayerNormalization": slice(2, 5)}


def apply(input_path: Path, out_dir: Path) -> Applied:
    """Write ``out_dir/model.onnx``: the MatMul/Gemm weights and embedding tables of ``input_path`` in INT8."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]

    need_onnx(input_path, NAME)
    model = graph.load(input_path)
    counts = graph.op_counts(model)
    targets = sum(counts[op] for op in _COMPUTE)
    constants = {i.name for i in model.graph.initializer}
    tables = sum(
        name in constants
        for n in model.graph.node
        for name in list(n.input)[_TABLES.get(n.op_type, slice(0))]
    )
    if targets == 0:
        raise OptimizeError(f"{NAME}: {input_path.name} has no MatMul or Gemm to quantize")
    out = out_dir / "model.onnx"
    try:
        with warnings.catch_warnings(), quiet():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(input_path),
                str(out),
                op_types_to_quantize=list(OPS),
                weight_type=QuantType.QInt8,
                # the type of tensors shape inference cannot type: outputs of ONNX Runtime's fused contrib ops
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
    except Exception as e:  # the library's failure on this model: a reason, not a traceback
        out.unlink(missing_ok=True)
        raise OptimizeError(
            f"{NAME}: ONNX Runtime could not quantize this model ({type(e).__name__}: {e})"
        ) from e
    summary = graph.int8_summary(graph.runtime_op_counts(out))
    return Applied(
        NAME,
        Artifact(out),
        (
            f"dynamic INT8 on {targets} MatMul/Gemm/Attention ops and {tables} embedding tables (convolutions left "
            "in FP32)",
            f"in the optimized graph: {summary['int8_ops']} INT8 compute ops, "
            f"{summary['float_ops']} left in floating point",
        ),
        checks=summary,
    )
