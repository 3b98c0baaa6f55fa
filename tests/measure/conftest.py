"""Fixtures for the measurement tests: the CLI run in-process, and small ONNX graphs built by hand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

#: Short timing settings for tests: enough calls for statistics, a fraction of a second per batch size.
FAST = ("--min-time", "0.05", "--min-count", "20")

RunCli = Callable[[Sequence[str]], tuple[int, str, str]]


def save_graph(
    path: Path,
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    initializers: Sequence[onnx.TensorProto] = (),
) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def tensor(name: str, shape: Sequence[int | str | None]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def weight(name: str, shape: Sequence[int], seed: int = 0) -> onnx.TensorProto:
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return onnx.numpy_helper.from_array(values, name)


@pytest.fixture
def nan_onnx(tmp_path: Path) -> Path:
    """``y = sqrt(x)``: NaN for every negative input (synthetic inputs are standard normal)."""
    return save_graph(
        tmp_path / "sqrt.onnx",
        [helper.make_node("Sqrt", ["x"], ["y"])],
        [tensor("x", ["batch", 16])],
        [tensor("y", ["batch", 16])],
    )
