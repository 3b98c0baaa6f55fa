"""Model kind from where the compute goes: architectures as published, exported as users export them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from archs import Bert, mobilenet_v2, resnet18
from onnx import helper

from conftest import save_graph, tensor, weight
from mcm.measure import flops, model_kind


def exported(module: torch.nn.Module, example: Sequence[torch.Tensor], path: Path) -> onnx.ModelProto:
    names = [f"in{i}" for i in range(len(example))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), tuple(example), str(path), dynamo=False, input_names=names)
    return onnx.load(str(path))


def kind_of(model: onnx.ModelProto) -> str:
    shapes = {
        i.name: tuple(d.dim_value for d in i.type.tensor_type.shape.dim)
        for i in model.graph.input
        if i.name not in {t.name for t in model.graph.initializer}
    }
    return model_kind.of_onnx(model, flops.count_onnx(model, shapes, 1).by_op)


@pytest.mark.parametrize("build", [resnet18, mobilenet_v2])
def test_convolutional_networks_are_cnns(build: type[torch.nn.Module], tmp_path: Path) -> None:
    model = exported(build(), [torch.randn(1, 3, 224, 224)], tmp_path / "cnn.onnx")
    assert kind_of(model) == "cnn"
    with torch.device("meta"):
        meta = build().eval()
    counted = flops.count_torch(meta, (torch.empty(1, 3, 224, 224, device="meta"),), 1)
    assert model_kind.of_torch(counted.by_op) == "cnn"


def test_a_bert_encoder_is_a_transformer(tmp_path: Path) -> None:
    ids, mask = torch.randint(0, 30522, (1, 32)), torch.ones(1, 32, dtype=torch.int64)
    assert kind_of(exported(Bert(layers=1), [ids, mask], tmp_path / "bert.onnx")) == "transformer"


def test_stacked_linear_layers_are_an_mlp_and_an_lstm_an_rnn(tmp_path: Path) -> None:
    mlp = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    assert kind_of(exported(mlp, [torch.randn(4, 64)], tmp_path / "mlp.onnx")) == "mlp"
    lstm = torch.nn.LSTM(32, 64, num_layers=2)
    assert kind_of(exported(lstm, [torch.randn(10, 1, 32)], tmp_path / "lstm.onnx")) == "rnn"


def test_detection_operators_make_a_detector(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("ReduceMax", ["c"], ["scores"], axes=[2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["scores", "one"], ["s3"]),
        helper.make_node("NonMaxSuppression", ["boxes", "s3"], ["keep"]),
    ]
    path = save_graph(
        tmp_path / "det.onnx",
        nodes,
        [tensor("x", [1, 3, 8, 8]), tensor("boxes", [1, 4, 4])],
        [helper.make_tensor_value_info("keep", onnx.TensorProto.INT64, [None, 3])],
        [weight("w", [4, 3, 3, 3]), onnx.numpy_helper.from_array(np.array([1]), "one")],
    )
    assert kind_of(onnx.load(str(path))) == "detector"


def test_no_majority_and_no_compute_are_other() -> None:
    assert model_kind.classify({}, ["Relu"], attention=False) == "other"
    assert model_kind.classify({"Conv": 4, "MatMul": 4, "Einsum": 4}, [], attention=False) == "other"


def test_weights_through_a_cast_or_transpose_are_still_weights(tmp_path: Path) -> None:
    """An MLP whose weight is stored as FP16 and cast, then transposed, ending in a softmax: not attention."""
    nodes = [
        helper.make_node("Cast", ["w16"], ["w32"], to=onnx.TensorProto.FLOAT),
        helper.make_node("Transpose", ["w32"], ["wt"]),
        helper.make_node("MatMul", ["x", "wt"], ["h"]),
        helper.make_node("Softmax", ["h"], ["p"]),
    ]
    w16 = onnx.numpy_helper.from_array(np.ones((10, 64), dtype=np.float16), "w16")
    path = save_graph(tmp_path / "mlp16.onnx", nodes, [tensor("x", [4, 64])], [tensor("p", [4, 10])], [w16])
    assert kind_of(onnx.load(str(path))) == "mlp"


def test_no_kind_is_claimed_from_a_partial_count(tmp_path: Path) -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("MatMul", ["c", "dyn"], ["m"])]
    path = save_graph(
        tmp_path / "partial.onnx",
        nodes,
        [tensor("x", [1, 3, 8, 8]), tensor("dyn", [6, "n"])],
        [tensor("m", [1, 4, 6, "n"])],
        [weight("w", [4, 3, 3, 3])],
    )
    counted = flops.count_onnx(onnx.load(str(path)), {"x": (1, 3, 8, 8)}, 1)
    assert counted.uncounted and counted.kind is None
