"""Techniques on the PyTorch demo: structured pruning removes channels for real; unstructured pruning and
distillation export working models (slow: the ONNX exporter takes seconds)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
import torch
from torch import nn

from mcm import demo
from mcm.exceptions import OptimizeError
from mcm.optimize import distillation, plot, pruning, structured_pruning
from mcm.optimize.base import Artifact, Context
from mcm.optimize.loop import build_entry


def test_structured_pruning_physically_removes_channels() -> None:
    model, _ = build_entry(demo.ENTRY_POINT)
    pruned, changes = structured_pruning.prune(model, 0.5)
    assert [m.out_channels for m in pruned.features if isinstance(m, nn.Conv2d)] == [8, 16, 16]
    assert pruned.classifier.in_features == 256
    assert sum(p.numel() for p in pruned.parameters()) < 0.4 * sum(p.numel() for p in model.parameters())
    with torch.inference_mode():
        assert pruned(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    assert model.classifier.in_features == 512  # the original is untouched
    assert changes[-1] == "classifier: 512 → 256 inputs"


def test_structured_pruning_refuses_another_shape() -> None:
    with pytest.raises(OptimizeError, match="needs a model with `features`"):
        structured_pruning.prune(nn.Sequential(nn.Linear(4, 2)))


def test_torch_techniques_need_the_torch_model(tmp_path: Path) -> None:
    with pytest.raises(OptimizeError, match="needs the PyTorch model"):
        pruning.apply_artifact(Artifact(demo.ONNX_PATH), tmp_path, Context(train=demo.TRAIN_PATH))


def test_plot_is_a_png(tmp_path: Path) -> None:
    points = [plot.Point(1.0, 0.99, 0.07, "baseline"), plot.Point(0.5, 0.98, 0.02, "chosen")]
    caption = plot.write(points, tmp_path / "p.png")
    data = (tmp_path / "p.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and "accuracy" in caption
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    assert len(zlib.decompress(data[idat + 4 : idat + 4 + length])) == height * (1 + 3 * width)


@pytest.mark.slow
@pytest.mark.parametrize("technique", [pruning, structured_pruning, distillation])
def test_torch_technique_exports_a_working_model(technique: object, tmp_path: Path) -> None:
    model, x = build_entry(demo.ENTRY_POINT)
    ctx = Context(train=demo.TRAIN_PATH, example=x)
    applied = technique.apply_artifact(Artifact(demo.ONNX_PATH, model), tmp_path, ctx)  # type: ignore[attr-defined]
    assert applied.model.onnx.is_file() and applied.model.torch_module is not None
    if technique is pruning:
        assert applied.notes == (pruning.SIZE_ONLY,)
        assert applied.checks["compressed_bytes_after"] < applied.checks["compressed_bytes_before"]
