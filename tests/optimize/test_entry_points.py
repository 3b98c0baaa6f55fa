"""PyTorch entry points into the optimize loop: every named input exported, with a free batch dimension."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from mcm.optimize.loop import resolve


@pytest.fixture(autouse=True)
def _models_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def test_every_named_input_is_exported_with_a_free_batch(tmp_path: Path) -> None:
    source = resolve("optimize_models:tiny_bert", tmp_path)
    session = ort.InferenceSession(str(source.onnx), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
    # batch 3 with padding: the mask must reach the graph, the outputs must agree with PyTorch
    ids = torch.randint(0, 1000, (3, 16))
    mask = torch.ones(3, 16, dtype=torch.long)
    mask[1, 9:] = 0
    with torch.no_grad():
        expected = source.torch_module(ids, mask).numpy()
        unmasked = source.torch_module(ids, torch.ones_like(mask)).numpy()
    (got,) = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(expected[1], unmasked[1], atol=1e-4)  # the mask changes the answer


def test_a_factory_returning_a_bare_tensor_is_taken_as_measure_takes_it(tmp_path: Path) -> None:
    source = resolve("optimize_models:bare_tensor_cnn", tmp_path)
    session = ort.InferenceSession(str(source.onnx), providers=["CPUExecutionProvider"])
    (only,) = session.get_inputs()
    assert only.name == "image"
    x = np.random.default_rng(0).standard_normal((5, 3, 16, 16), dtype=np.float32)
    (got,) = session.run(None, {"image": x})
    assert got.shape == (5, 4)


def test_dynamic_int8_covers_the_embedding_tables_as_onnxruntime_does(tmp_path: Path) -> None:
    """Issue #13: on BERT-base dynamic INT8 left the embeddings in FP32 (181 MB where quantize_dynamic gives 110)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]

    from mcm.optimize import int8_dynamic

    source = resolve("optimize_models:tiny_bert", tmp_path)
    ours = int8_dynamic.apply(source.onnx, _dir(tmp_path / "ours")).model.onnx
    reference = tmp_path / "reference.onnx"
    quantize_dynamic(str(source.onnx), str(reference), weight_type=QuantType.QInt8)
    assert ours.stat().st_size <= 1.1 * reference.stat().st_size
    assert ours.stat().st_size <= 0.4 * source.onnx.stat().st_size  # the 1000×32 table is most of the model
    session = ort.InferenceSession(str(ours), providers=["CPUExecutionProvider"])
    ids = np.random.default_rng(0).integers(0, 1000, (2, 16))
    (got,) = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    with torch.no_grad():
        expected = source.torch_module(torch.from_numpy(ids), torch.ones(2, 16, dtype=torch.long)).numpy()
    assert np.abs(got - expected).max() < 0.1 * np.abs(expected).max()


def _dir(path: Path) -> Path:
    path.mkdir()
    return path
