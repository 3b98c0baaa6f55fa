"""ONNX Runtime graph optimization, saved at the EXTENDED level: fusions that any CPU can run. Higher levels
(layout transforms such as NCHWc) make the file hardware-specific, so the session applies them at load."""

from __future__ import annotations

from pathlib import Path

from mcm.optimize import graph
from mcm.optimize.base import Applied, Artifact, need_onnx

NAME = "ort_graph_opt"


def apply(input_path: Path, out_dir: Path) -> Applied:
    """Write ``out_dir/model.onnx``: ``input_path`` with ONNX Runtime's EXTENDED graph optimizations."""
    need_onnx(input_path, NAME)
    before = graph.op_counts(graph.load(input_path))
    out = out_dir / "model.onnx"
    graph.optimized(input_path, out, "extended")
    after = graph.op_counts(graph.load(out))
    return Applied(
        NAME,
        Artifact(out),
        (
            f"graph optimized at EXTENDED level: {sum(before.values())} → {sum(after.values())} nodes",
            "layout transforms (NCHWc) left to the session at load (saving them is hardware-specific)",
        ),
        checks={"nodes_before": sum(before.values()), "nodes_after": sum(after.values())},
    )
