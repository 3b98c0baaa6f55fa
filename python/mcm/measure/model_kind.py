"""What kind of model this is, from where its compute goes: the rules' ``env.model_kind``.

A detector has detection operators (non-maximum suppression, RoI pooling); otherwise the kind is whichever family
does at least half the multiply-accumulates: convolutions (``cnn``), recurrent cells (``rnn``), or matrix products,
which are a ``transformer`` when some product multiplies two activations (attention: Q·Kᵀ, scores·V) next to a
softmax, else an ``mlp``. A model with no such majority is ``other``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import onnx

ModelKind = Literal["cnn", "transformer", "mlp", "rnn", "detector", "other"]

_DETECTION = {"NonMaxSuppression", "RoiAlign", "MaxRoiPool", "torchvision.nms", "torchvision.roi_align"}
_FAMILIES = {
    "cnn": ("Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "convolution"),
    "rnn": ("LSTM", "GRU", "RNN", "lstm", "gru", "rnn_"),
    "matmul": (
        "MatMul",
        "MatMulInteger",
        "QLinearMatMul",
        "Gemm",
        "mm",
        "bmm",
        "addmm",
        "linear",
        "attention",
    ),
}


def classify(macs_by_op: Mapping[str, int], ops: Iterable[str], attention: bool) -> ModelKind:
    """The kind from MACs by operator (ONNX op types or torch's ``aten.*`` names), the operators present and whether
    some matrix product multiplies two activations beside a softmax."""
    present = set(ops)
    if present & _DETECTION:
        return "detector"
    total = sum(macs_by_op.values())
    if total <= 0:
        return "other"
    share = {
        family: sum(n for op, n in macs_by_op.items() if any(k in op for k in keys)) / total
        for family, keys in _FAMILIES.items()
    }
    if share["cnn"] >= 0.5:
        return "cnn"
    if share["rnn"] >= 0.5:
        return "rnn"
    if share["matmul"] >= 0.5:
        return "transformer" if attention else "mlp"
    return "other"


def of_onnx(model: onnx.ModelProto, macs_by_op: Mapping[str, int]) -> ModelKind:
    """:func:`classify` for an ONNX graph (ONNX Runtime's fused ``Attention`` operators count as attention)."""
    weights = _constants(model)
    ops = [n.op_type for n in model.graph.node]
    products = (n for n in model.graph.node if n.op_type in ("MatMul", "Einsum") and len(n.input) >= 2)
    two_activations = any(n.input[0] not in weights and n.input[1] not in weights for n in products)
    fused = any("Attention" in op for op in ops)
    return classify(macs_by_op, ops, fused or (two_activations and "Softmax" in ops))


def _constants(model: onnx.ModelProto) -> set[str]:
    """Values computed from weights alone (initializers, Constant nodes, and whatever is computed only from them:
    a Cast, Transpose or DequantizeLinear of a weight is still a weight, not an activation)."""
    constants = {t.name for t in model.graph.initializer}
    for node in model.graph.node:  # nodes are in topological order
        if all(not name or name in constants for name in node.input):
            constants.update(node.output)
    return constants


def of_torch(macs_by_op: Mapping[str, int]) -> ModelKind:
    """:func:`classify` for the operator counts of ``torch.utils.flop_counter`` (``aten.bmm`` with a softmax is not
    visible there: batched products and fused attention kernels stand for attention)."""
    attention = any(k in op for op in macs_by_op for k in ("bmm", "attention"))
    return classify(macs_by_op, macs_by_op, attention)


__all__ = ["ModelKind", "classify", "of_onnx", "of_torch"]
