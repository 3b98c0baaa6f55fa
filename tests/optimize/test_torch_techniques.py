"""Techniques on the PyTorch demo: structured pruning removes channels for real; unstructured pruning and
distillation export working models (slow: the ONNX exporter takes seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from mcm import demo
from mcm.exceptions import OptimizeError
from mcm.optimize import distillation, pruning, structured_pruning
from mcm.optimize.base import Artifact, Context, OutOfTime
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


class Block(nn.Module):
    """Conv → BN → ReLU written with a functional activation, nested one level down."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class VGGish(nn.Module):
    """Not the demo's shape: nested blocks, a conv without BN, adaptive pooling, torch.flatten, a two-layer head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = Block(3, 16)
        self.body = nn.Sequential(Block(16, 32), nn.MaxPool2d(2), nn.Conv2d(32, 24, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.head = nn.Sequential(nn.Linear(24 * 4, 20), nn.ReLU(), nn.Linear(20, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.body(self.stem(x))), 1))


class Residual(nn.Module):
    """``pre`` feeds one conv; ``a`` feeds ``b`` and the add; ``b`` feeds the add; ``c`` gives the output."""

    def __init__(self) -> None:
        super().__init__()
        self.pre, self.a = nn.Conv2d(3, 6, 3, padding=1), nn.Conv2d(6, 8, 3, padding=1)
        self.b, self.c = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.a(torch.relu(self.pre(x))))
        return self.c(torch.relu(self.b(y)) + y)


def test_structured_pruning_takes_any_traceable_conv_chain() -> None:
    torch.manual_seed(0)
    model = VGGish().eval()
    pruned, changes = structured_pruning.prune(model, 0.5)
    assert changes == [
        "stem.conv: 16 → 8 channels",
        "body.0.conv: 32 → 16 channels",
        "body.2: 24 → 12 channels",
        "head.0: 96 → 48 inputs",
    ]
    with torch.inference_mode():
        assert pruned(torch.randn(2, 3, 8, 8)).shape == (2, 5)
    assert pruned.stem.bn.num_features == 8 and pruned.body[0].conv.in_channels == 8
    assert model.head[0].in_features == 96  # the original is untouched


def test_structured_pruning_removes_exactly_the_dead_channels() -> None:
    """Channels whose BN scale and shift are zero contribute nothing: removing them leaves the outputs as they were."""
    torch.manual_seed(1)
    model = VGGish().eval()
    for bn in (model.stem.bn, model.body[0].bn):
        dead = torch.arange(bn.num_features) % 2 == 1
        with torch.no_grad():
            bn.weight[dead], bn.bias[dead] = 0.0, 0.0
            bn.running_mean.uniform_(-0.5, 0.5), bn.running_var.uniform_(0.5, 2.0)
    with torch.no_grad():
        model.body[2].weight[12:] = 0.0  # the no-BN conv: L1 norm alone picks these
        model.body[2].bias[12:] = 0.0
    x = torch.randn(4, 3, 8, 8)
    pruned, _ = structured_pruning.prune(model, 0.5)
    with torch.inference_mode():
        torch.testing.assert_close(pruned(x), model(x), rtol=1e-5, atol=1e-6)


def test_structured_pruning_leaves_branching_convolutions_whole() -> None:
    pruned, changes = structured_pruning.prune(Residual().eval(), 0.5)
    assert changes == [
        "pre: 6 → 3 channels",
        "kept whole: a (its output branches)",
        "kept whole: b (it reaches add)",
        "kept whole: c (it gives the model's output)",
    ]
    assert (pruned.pre.out_channels, pruned.a.in_channels, pruned.b.out_channels) == (3, 3, 8)
    with torch.inference_mode():
        assert pruned(torch.randn(1, 3, 6, 6)).shape == (1, 4, 6, 6)


def test_structured_pruning_refuses_what_it_cannot_prune() -> None:
    with pytest.raises(OptimizeError, match="no convolution of Sequential can lose channels"):
        structured_pruning.prune(nn.Sequential(nn.Linear(4, 2)))

    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) if x.sum() > 0 else x  # data-dependent control flow

    with pytest.raises(OptimizeError, match=r"torch\.fx cannot trace Branchy"):
        structured_pruning.prune(Branchy())


def test_torch_techniques_need_the_torch_model(tmp_path: Path) -> None:
    with pytest.raises(OptimizeError, match="needs the PyTorch model"):
        pruning.apply_artifact(Artifact(demo.ONNX_PATH), tmp_path, Context(train=demo.TRAIN_PATH))


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


@pytest.mark.parametrize("technique", [pruning, structured_pruning, distillation])
def test_torch_techniques_stop_when_the_budget_runs_out(technique: object, tmp_path: Path) -> None:
    model, x = build_entry(demo.ENTRY_POINT)
    asked: list[int] = []

    def out_of_time() -> bool:  # the budget is spent at the second question: inside the training loop
        asked.append(1)
        return len(asked) > 1

    ctx = Context(train=demo.TRAIN_PATH, example=x, out_of_time=out_of_time)
    with pytest.raises(OutOfTime, match="the budget ran out"):
        technique.apply_artifact(Artifact(demo.ONNX_PATH, model), tmp_path, ctx)  # type: ignore[attr-defined]
    assert len(asked) == 2 and not (tmp_path / "model.onnx").exists()
