"""Why a PyTorch model's parameter count differs from its ONNX export's: each reason found from what both models
hold, on real exports (``mcm.optimize.export.to_onnx``), and the rest reported as unexplained."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn

from mcm.measure.param_difference import Difference, explain_difference
from mcm.optimize.export import to_onnx
from mcm.optimize.loop import Options, run

RULES = Path(__file__).resolve().parents[2] / "rules"


class TiedHead(nn.Module):
    """A language-model head tied to the token embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.body = nn.Linear(16, 16)
        self.head = nn.Linear(16, 100, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(torch.relu(self.body(self.embed(ids))))
        return out


class WithBuffer(nn.Module):
    """A float table registered as a buffer and added in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.register_buffer("table", torch.randn(4, 8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc(x + self.table)
        return out


class WithUnused(nn.Module):
    """Parameters forward never reads: a spare layer and a scale."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.spare = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc(x) * 2.5 + 1.0
        return out


class Positions(nn.Module):
    """A position table of 64 rows read up to the input's length (16 when exported)."""

    def __init__(self) -> None:
        super().__init__()
        self.positions = nn.Embedding(64, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        where = torch.arange(x.size(1), device=x.device)
        out: torch.Tensor = self.fc(x + self.positions(where)[None])
        return out


def _explain(
    tmp_path: Path, module: nn.Module, example: torch.Tensor, *, run_forward: bool = True
) -> Difference:
    path = to_onnx(module, example, tmp_path / "export")
    return explain_difference(module, onnx.load(str(path)), (example,) if run_forward else None)


def _kinds(found: Difference) -> dict[str, int]:
    return {r.kind: r.delta for r in found.reasons}


def test_resnet18_differs_by_its_folded_batch_norms_alone(tmp_path: Path) -> None:
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.resnet18()  # random weights: every folded shift is zero
    found = _explain(tmp_path, model.eval(), torch.randn(1, 3, 224, 224))
    assert (found.torch_count, found.onnx_count) == (11_689_512, 11_679_912)
    assert _kinds(found) == {"batchnorm_folded": -9_600} and found.unexplained == 0 and not found.note
    assert found.lines() == [
        "−9,600: 20 BatchNorm layers folded into the preceding convolutions (their 9,600 scale and shift weights "
        "removed; their shifts are all zero, so the convolutions gained no bias)"
    ]
    assert found.reasons[0].names[:2] == ("bn1", "layer1.0.bn1")


def test_trained_batch_norms_add_a_bias_to_each_convolution(tmp_path: Path) -> None:
    from mcm.demo.model import build

    module, example = build()  # 3 Conv(bias=False)-BN pairs with 16, 32, 32 channels and trained shifts
    found = _explain(tmp_path, module, example[0])
    assert _kinds(found) == {"batchnorm_folded": -80} and found.difference == -80 and found.unexplained == 0
    assert "160 scale and shift weights removed; 80 bias values added" in found.lines()[0]


def test_a_tied_weight_stored_twice(tmp_path: Path) -> None:
    found = _explain(tmp_path, TiedHead().eval(), torch.randint(0, 100, (1, 7)))
    assert found.difference == 1_600 and found.unexplained == 0
    assert _kinds(found) == {"stored_more_than_once": 1_600}
    (reason,) = found.reasons
    assert reason.names == ("embed.weight = head.weight",) and "tied weight stored twice" in reason.text


def test_a_float_buffer_exported_as_a_weight(tmp_path: Path) -> None:
    found = _explain(tmp_path, WithBuffer().eval(), torch.randn(1, 4, 8))
    assert found.difference == 32 and found.unexplained == 0
    assert _kinds(found) == {"buffer_exported": 32} and found.reasons[0].names == ("table",)


def test_unused_parameters_dropped_by_the_export(tmp_path: Path) -> None:
    found = _explain(tmp_path, WithUnused().eval(), torch.randn(1, 8))
    assert found.difference == -30 and found.unexplained == 0
    assert _kinds(found) == {"unused_dropped": -32, "export_constants": 2}  # the 2.5 and the 1.0
    assert set(found.reasons[0].names) == {"spare.weight", "spare.bias", "scale"}


def test_without_example_inputs_what_cannot_be_established_stays_unexplained(tmp_path: Path) -> None:
    found = _explain(tmp_path, WithUnused().eval(), torch.randn(1, 8), run_forward=False)
    assert found.difference == -30 and found.unexplained == -27  # never forced to zero
    assert "spare.weight" in found.note and "not checked" in found.note
    assert found.lines()[-1].startswith("−27 unexplained: ")
    assert _kinds(found)["zeros_or_ones"] == -5  # scale: all ones, said as unverified either way


def test_a_table_read_in_part_is_kept_as_a_constant(tmp_path: Path) -> None:
    found = _explain(tmp_path, Positions().eval(), torch.randn(1, 16, 8))
    assert found.unexplained == 0 and _kinds(found)["folded_into_constant"] == 128 - 512
    assert "positions.weight: 128 of 512 values" in found.reasons[0].text


def test_no_difference_no_reasons(tmp_path: Path) -> None:
    found = _explain(
        tmp_path, nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)).eval(), torch.randn(1, 8)
    )
    assert found.difference == 0 and found.reasons == () and found.lines() == []


def test_the_optimize_report_explains_the_baselines_counts(tmp_path: Path) -> None:
    """The demo: PyTorch counts 19,258 parameters, its ONNX file 19,178 (3 batch norms folded)."""
    out = tmp_path / "out"
    opts = Options("demo", (RULES,), out, scenario="mobile", budget_s=1e-6, min_time=0.03, min_count=10)
    run(opts, lambda _: None)
    data = json.loads((out / "report.json").read_text())
    rows = {r["name"]: r for r in data["candidates"]}
    found = rows["onnxruntime fp32"]["param_difference"]
    assert (found["torch"], found["onnx"], found["difference"], found["unexplained"]) == (
        19_258,
        19_178,
        -80,
        0,
    )
    assert [r["kind"] for r in found["reasons"]] == ["batchnorm_folded"]
    assert "param_difference" not in rows["torch eager"]
    text = (out / "report.md").read_text()
    assert "Parameters: the PyTorch model has 19,258 parameters, its ONNX export 19,178 (−80):" in text
    assert "- −80: 3 BatchNorm layers folded into the preceding convolutions" in text
