"""Exported transformers keep a free sequence length: integer [batch, sequence] inputs share a dynamic ``sequence``
dimension beside ``batch``; a model that fixes its length is exported with only the batch free, and says so."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort  # type: ignore[import-untyped]
import pytest
import torch
from torch import nn

from mcm.optimize import export
from mcm.optimize.loop import resolve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "measure"))
import archs

LENGTHS = (16, 128, 200)


def _dims(path: Path) -> dict[str, list[int | str]]:
    graph = onnx.load(str(path)).graph
    return {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input}


def _agrees_at_every_length(path: Path, module: nn.Module, vocab: int) -> None:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for length in LENGTHS:
        ids = rng.integers(0, vocab, (2, length))
        mask = np.ones_like(ids)
        mask[1, length // 2 :] = 0
        with torch.no_grad():
            expected = module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        (got,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
        assert got.shape == expected.shape == (2, length, expected.shape[-1])
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_a_bert_exports_with_a_free_sequence_length(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = archs.Bert(layers=1).eval()
    ids = torch.randint(0, 30522, (1, 128))
    exported = export.export(module, (ids, torch.ones_like(ids)), tmp_path)
    assert _dims(exported.path) == {
        "input_ids": ["batch", "sequence"],
        "attention_mask": ["batch", "sequence"],
    }
    assert exported.notes == ()
    assert [(s.name, s.shape) for s in exported.shapes] == [
        ("input_ids", (1, 128)),
        ("attention_mask", (1, 128)),
    ]
    _agrees_at_every_length(exported.path, module, 30522)


def test_a_hugging_face_model_directory_exports_with_a_free_sequence_length(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=1000,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    transformers.BertModel(config).save_pretrained(tmp_path / "bert", safe_serialization=True)
    source = resolve(str(tmp_path / "bert"), tmp_path / "work")  # as mcm optimize reads it: exported at 128
    assert _dims(source.onnx) == {"input_ids": ["batch", "sequence"], "attention_mask": ["batch", "sequence"]}
    assert {s.name: s.shape for s in source.shapes} == {"input_ids": (1, 128), "attention_mask": (1, 128)}
    _agrees_at_every_length(source.onnx, source.torch_module, 1000)


class FixedLength(nn.Module):
    """Token ids through an embedding, then a reshape to a constant size: the length is part of the model."""

    def __init__(self, length: int = 16, hidden: int = 4) -> None:
        super().__init__()
        self.words, self.head = nn.Embedding(100, hidden), nn.Linear(length * hidden, 3)
        self.size = length * hidden

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.words(input_ids).reshape(input_ids.shape[0], self.size))
        return out


def test_a_model_that_fixes_its_length_exports_with_only_the_batch_free(tmp_path: Path) -> None:
    module = FixedLength().eval()
    exported = export.export(module, torch.randint(0, 100, (1, 16)), tmp_path)
    assert _dims(exported.path) == {"input_ids": ["batch", 16]}
    (note,) = exported.notes
    assert "sequence length fixed at 16 (input_ids)" in note
    ids = np.random.default_rng(0).integers(0, 100, (3, 16))
    (got,) = ort.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"]).run(
        None, {"input_ids": ids}
    )
    with torch.no_grad():
        np.testing.assert_allclose(got, module(torch.from_numpy(ids)).numpy(), atol=1e-5)


def test_a_cnn_keeps_only_its_batch_free(tmp_path: Path) -> None:
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten()).eval()
    exported = export.export(module, torch.randn(1, 3, 8, 8), tmp_path)
    assert _dims(exported.path) == {"input": ["batch", 3, 8, 8]}
    assert exported.notes == ()
    assert (
        export.to_onnx(module, torch.randn(1, 3, 8, 8), tmp_path / "again")
        == tmp_path / "again" / "model.onnx"
    )


def fixed_length_entry() -> tuple[nn.Module, torch.Tensor]:
    """An entry point for ``mcm optimize``: the model that fixes its length."""
    return FixedLength().eval(), torch.randint(0, 100, (1, 16))


def test_the_optimize_report_keeps_what_the_export_said(tmp_path: Path) -> None:
    import json

    from mcm.optimize.loop import Options, run

    rules = (Path(__file__).resolve().parents[2] / "rules",)
    options = Options(
        model="test_export_sequence:fixed_length_entry",
        rules=rules,
        out=tmp_path / "out",
        scenario="mobile",
        only=("int8_dynamic",),
        min_time=0.03,
        min_count=10,
    )
    result = run(options, lambda line: None)
    assert any("sequence length fixed at 16" in note for note in result.export_notes)
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["export_notes"] == list(result.export_notes)
    assert "Export: " in (tmp_path / "out" / "report.md").read_text()
