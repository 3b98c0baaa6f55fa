"""ONNX Runtime's transformer optimizer (``onnxruntime.transformers.optimizer``): multi-head attention, embeddings
with their layer norm, residual + layer norm and bias + GELU fused into ONNX Runtime's contrib operators. Dynamic
INT8 then quantizes a fused attention's weights too (QAttention).

It recognizes the graphs of the TorchScript exporter (``torch.onnx.export(dynamo=False)``, which optimum uses).
A session already makes the residual, layer-norm and GELU fusions at load, so a graph in which the optimizer finds
no attention or embedding to fuse (a dynamo export, as mcm's own) is skipped with that reason, not measured. Saved
without the session's own optimizations (``opt_level=0``): the file stays portable across CPUs."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import onnx

from mcm.exceptions import OptimizeError
from mcm.optimize.base import Applied, Artifact, need_onnx, quiet

NAME = "ort_transformer_opt"
#: Fusions a session does not make by itself when it loads the model.
OWN = ("Attention", "MultiHeadAttention", "EmbedLayerNormalization")
#: Protobuf's limit on one file: a larger model keeps its weights in an external data file.
_ONE_FILE = 2 * 1024**3 - 64 * 1024**2


def apply(input_path: Path, out_dir: Path) -> Applied:
    """Write ``out_dir/model.onnx``: ``input_path`` with its attention and embeddings fused (an encoder's fusions,
    heads and hidden size read from the graph); :class:`OptimizeError` when there is nothing of that to fuse."""
    need_onnx(input_path, NAME)
    optimize_model = _optimizer()
    try:
        with warnings.catch_warnings(), quiet(), quiet("onnxruntime.transformers"):
            warnings.simplefilter("ignore")
            optimized = optimize_model(
                str(input_path), model_type="bert", num_heads=0, hidden_size=0, opt_level=0, use_gpu=False
            )
    except Exception as e:  # the library's failure on this graph: a reason, not a traceback
        raise OptimizeError(
            f"{NAME}: ONNX Runtime's transformer optimizer failed ({type(e).__name__}: {e})"
        ) from e
    fused = {op: int(n) for op, n in optimized.get_fused_operator_statistics().items() if n}
    if not any(fused.get(op) for op in OWN):
        made = ", ".join(f"{n} {op}" for op, n in fused.items()) or "nothing"
        raise OptimizeError(
            f"{NAME}: nothing to fuse that ONNX Runtime does not fuse itself when it loads the model (no "
            f"attention or embedding pattern it knows; it made {made})",
            hint="the optimizer knows the TorchScript exporter's graphs: torch.onnx.export(..., dynamo=False) "
            "or optimum's export",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "model.onnx"
    try:
        optimized.save_model_to_file(
            str(out), use_external_data_format=optimized.model.ByteSize() > _ONE_FILE
        )
    except Exception as e:  # a full disk, a model protobuf cannot hold
        raise OptimizeError(f"{NAME}: cannot save the fused model ({type(e).__name__}: {e})") from e
    before = len(onnx.load(str(input_path), load_external_data=False).graph.node)
    after = len(optimized.model.graph.node)
    return Applied(
        NAME,
        Artifact(out),
        (
            "fused: " + ", ".join(f"{n} {op}" for op, n in fused.items()),
            f"{before} → {after} nodes; saved without the session's own optimizations (portable)",
        ),
        checks=fused,
    )


def _optimizer() -> Any:
    """``onnxruntime.transformers.optimizer.optimize_model``: its modules import their siblings as top-level
    modules, from a folder the package's ``__init__`` adds to ``sys.path`` once, on first import."""
    import onnxruntime.transformers as package  # type: ignore[import-untyped]

    folder = str(Path(package.__file__).parent)
    if folder not in sys.path:  # taken out since the package was imported
        sys.path.append(folder)
    from onnxruntime.transformers.optimizer import optimize_model  # type: ignore[import-untyped]

    return optimize_model
