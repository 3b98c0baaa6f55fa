"""The techniques mcm can apply, by the names the rules use, behind one signature."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcm.exceptions import OptimizeError
from mcm.optimize import fp16, int8_dynamic, int8_static, ort_graph_opt, ort_transformer_opt, tensorrt
from mcm.optimize.base import Applied, Artifact, Context

Apply = Callable[[Artifact, Path, Context], Applied]


def _int8_static(m: Artifact, out: Path, ctx: Context) -> Applied:
    return int8_static.apply(
        m.onnx,
        out,
        calib=ctx.calib,
        flags=ctx.cpu_flags,
        arch=ctx.arch,
        checkpoint=lambda: ctx.checkpoint(int8_static.NAME),
    )


def _torch(module: str) -> Apply:
    def run(m: Artifact, out: Path, ctx: Context) -> Applied:
        import importlib

        apply: Apply = importlib.import_module(f"mcm.optimize.{module}").apply_artifact
        return apply(m, out, ctx)

    return run


TECHNIQUES: dict[str, Apply] = {
    "ort_graph_opt": lambda m, out, ctx: ort_graph_opt.apply(m.onnx, out),
    "ort_transformer_opt": lambda m, out, ctx: ort_transformer_opt.apply(m.onnx, out),
    "int8_static": _int8_static,
    "int8_dynamic": lambda m, out, ctx: int8_dynamic.apply(m.onnx, out),
    "fp16": lambda m, out, ctx: fp16.apply(m.onnx, out),
    "tensorrt": lambda m, out, ctx: tensorrt.apply(m.onnx, out),
    "structured_pruning": _torch("structured_pruning"),
    "pruning": _torch("pruning"),
    "distillation": _torch("distillation"),
}
#: Techniques the rules know that mcm does not apply by itself, and why.
NOT_AUTOMATED = {
    "lightweight_arch": "a new architecture is a design choice: not applied automatically",
    "input_downscale": "a new input size is a product decision: fine-tune at it, then run mcm optimize again",
    "batching": "a serving setting (dynamic batching in the server): see its throughput with mcm measure --batch",
}


def apply(name: str, model: Artifact, out_dir: Path, ctx: Context) -> Applied:
    """Apply technique ``name`` to ``model``, writing into ``out_dir`` (which must exist)."""
    if name in NOT_AUTOMATED:
        raise OptimizeError(f"{name}: {NOT_AUTOMATED[name]}")
    if name not in TECHNIQUES:
        raise OptimizeError(f"{name}: not implemented by mcm optimize")
    return TECHNIQUES[name](model, out_dir, ctx)
