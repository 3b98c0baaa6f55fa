"""Input planning: --shape, --batch, .npz data, synthetic inputs, and the errors raised before anything runs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import save_graph, tensor
from mcm.exceptions import InputError
from mcm.measure import inputs
from mcm.measure.inputs import InputSpec, ShapeArg

IMAGE = InputSpec("x", "float32", ("batch", 3, 32, 32))
TOKENS = InputSpec("ids", "int64", ("batch", "seq"))


def test_parse_shape_and_batches() -> None:
    assert inputs.parse_shape("x=1x3x224x224") == ShapeArg("x", (1, 3, 224, 224))
    assert inputs.parse_shape("ids=2X128:int64") == ShapeArg("ids", (2, 128), "int64")
    assert inputs.parse_batches("1,8,8,32") == (1, 8, 32)
    for bad in ("x", "x=", "=1x2", "x=1xa", "x=1x2:nosuchtype"):
        with pytest.raises(InputError):
            inputs.parse_shape(bad)
    with pytest.raises(InputError):
        inputs.parse_batches("0,1")


def test_default_batches_and_synthetic_feeds() -> None:
    plan = inputs.plan([IMAGE])
    assert plan.batches == inputs.DEFAULT_BATCHES and plan.source == "synthetic"
    a, b = plan.feeds(8)["x"], plan.feeds(8)["x"]
    assert a.shape == (8, 3, 32, 32) and a.dtype == np.float32 and np.array_equal(a, b)


def test_symbolic_dimensions_need_a_shape() -> None:
    free_features = InputSpec("x", "float32", ("batch", "features"))
    with pytest.raises(InputError, match="free dimension 1: give its shape with --shape x="):
        inputs.plan([free_features])
    plan = inputs.plan([TOKENS], shapes=[inputs.parse_shape("ids=1x64")], batches=(1, 4))
    feeds = plan.feeds(4)["ids"]
    assert feeds.shape == (4, 64) and feeds.dtype == np.int64 and not feeds.any()


def test_a_free_sequence_of_token_inputs_gets_the_default_length() -> None:
    mask = InputSpec("attention_mask", "int64", ("batch", "sequence"))
    plan = inputs.plan([TOKENS, mask], batches=(2,))
    feeds = plan.feeds(2)
    assert feeds["ids"].shape == feeds["attention_mask"].shape == (2, inputs.SEQUENCE_LENGTH)
    assert f"sequence {inputs.SEQUENCE_LENGTH}" in plan.describe_synthetic()  # the report says which length
    ids = InputSpec("ids", "int64", ("batch", "sequence"))
    one_given = inputs.plan([ids, mask], shapes=[inputs.parse_shape("attention_mask=1x64")], batches=(2,))
    assert one_given.feeds(2)["ids"].shape == (2, 64)  # a --shape on one input sizes the other by its name
    assert one_given.default_sequence == ()


def test_shapes_that_disagree_on_a_named_dimension_are_refused() -> None:
    ids = InputSpec("input_ids", "int64", ("batch", "sequence"))
    mask = InputSpec("attention_mask", "int64", ("batch", "sequence"))
    shapes = [inputs.parse_shape("input_ids=1x64"), inputs.parse_shape("attention_mask=1x32")]
    with pytest.raises(InputError, match="dimension 'sequence' is 32 here but 64 in --shape input_ids"):
        inputs.plan([ids, mask], shapes=shapes)


def test_shape_without_batch_uses_its_first_dimension() -> None:
    plan = inputs.plan([IMAGE], shapes=[ShapeArg("x", (2, 3, 32, 32))])
    assert plan.batches == (2,)


def test_shape_and_data_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((2, 3, 32, 32), np.float32))
    with pytest.raises(InputError, match="not both"):
        inputs.plan([IMAGE], shapes=[ShapeArg("x", (1, 3, 32, 32))], data=inputs.load_npz(path))


def test_data_rows_feed_the_batches(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    x = np.arange(3 * 3 * 32 * 32, dtype=np.float32).reshape(3, 3, 32, 32)
    np.savez(path, images=x, labels=np.array([0, 1, 2]))
    data = inputs.load_npz(path)
    assert data.labels is not None and list(data.labels) == [0, 1, 2]
    plan = inputs.plan([IMAGE], data=data, batches=(2, 5))
    assert np.array_equal(plan.feeds(2)["x"], x[:2])
    assert np.array_equal(plan.feeds(5)["x"], np.concatenate([x, x])[:5])  # repeated when too few


def test_data_must_name_every_input(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, a=np.zeros((2, 4), np.float32), b=np.zeros((2, 4), np.float32))
    with pytest.raises(InputError, match="no array for input 'x'"):
        inputs.plan([InputSpec("x", "float32", ("batch", 4))], data=inputs.load_npz(path))


def test_unreadable_data(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"not a readable \.npz"):
        inputs.load_npz(path)
    with pytest.raises(InputError, match="no such data file"):
        inputs.load_npz(tmp_path / "missing.npz")


def test_check_feeds() -> None:
    inputs.check_feeds([IMAGE], {"x": np.zeros((1, 3, 32, 32), np.float32)}, "inputs")
    with pytest.raises(InputError, match=r"inputs\['x'\] has dtype float64"):
        inputs.check_feeds([IMAGE], {"x": np.zeros((1, 3, 32, 32))}, "inputs")
    with pytest.raises(InputError, match="no array for input 'x'"):
        inputs.check_feeds([IMAGE], {}, "inputs")


# ---- synthetic inputs for a transformer (issue #13)


def _bert_onnx(path: Path) -> Path:
    """A one-layer BERT (vocabulary 30,522, hidden 32) exported as users export it: batch free, 16 tokens."""
    torch = pytest.importorskip("torch")
    from archs import Bert

    ids, mask = torch.randint(0, 30522, (1, 16)), torch.ones(1, 16, dtype=torch.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Bert(layers=1, hidden=32, heads=2, intermediate=64).eval(),
            (ids, mask),
            str(path),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            dynamic_axes={"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}},
        )
    return path


def test_a_bert_without_data_gets_token_ids_below_its_vocabulary_and_a_mask_of_ones(tmp_path: Path) -> None:
    from mcm.measure.onnx_runner import OnnxRunner

    runner = OnnxRunner(_bert_onnx(tmp_path / "bert.onnx"), threads=1)
    feeds = inputs.plan(runner.inputs, batches=(4,)).feeds(4)
    ids, mask = feeds["input_ids"], feeds["attention_mask"]
    assert ids.shape == mask.shape == (4, 16) and ids.dtype == mask.dtype == np.int64
    assert ids.min() >= 0 and ids.max() < 30522 and len(np.unique(ids)) > 16  # spread over the vocabulary
    assert (mask == 1).all()


def test_a_bert_report_says_what_was_generated(tmp_path: Path) -> None:
    from mcm.measure import measure_model
    from mcm.measure.render import text

    report = measure_model(str(_bert_onnx(tmp_path / "bert.onnx")), batches=(2,), min_time=0.05, min_count=20)
    section = report.sections["inputs"]
    assert [s["ids_below"] for s in section["signature"]] == [30522, None]
    assert section["synthetic"] == (
        "input_ids: token ids uniform below 30522 (the vocabulary, from the embedding table); "
        "attention_mask: ones (a mask keeping every position); seed 0"
    )
    assert section["synthetic_by_input"]["input_ids"]["fill"] == "ids"
    assert section["synthetic_by_input"]["input_ids"]["below"] == 30522
    assert f"synthetic inputs: {section['synthetic']}" in text(report).splitlines()
    assert not any("NaN" in w for w in report.warnings)


def test_one_policy_for_synthetic_inputs() -> None:
    int64, boolean = np.dtype("int64"), np.dtype("bool")
    assert inputs.fill_for("x", np.dtype("float16")).kind == "normal"
    assert inputs.fill_for("attention_mask", int64, 30522).kind == "ones"
    assert inputs.fill_for("Attention_Mask", boolean).text.startswith("True")
    assert inputs.fill_for("flags", boolean).text == "False"
    assert inputs.fill_for("token_type_ids", int64, 2).kind == "zeros"
    assert inputs.fill_for("segment_ids", int64).kind == "zeros"
    assert inputs.fill_for("position_ids", int64, 512) == inputs.Fill(
        "positions", "positions 0, 1, 2, ... along the last dimension, wrapped below 512", 512
    )
    assert inputs.fill_for("input_ids", int64, 30522).below == 30522
    assert inputs.fill_for("input_ids", np.dtype("int8"), 30522).below == 128  # what the dtype can hold
    unknown = inputs.fill_for("input_ids", int64)
    assert unknown.kind == "zeros" and "no vocabulary found" in unknown.text


def test_synthetic_integer_feeds_follow_the_policy() -> None:
    specs = [
        InputSpec("input_ids", "int32", ("batch", 8), ids_below=100),
        InputSpec("token_type_ids", "int64", ("batch", 8), ids_below=2),
        InputSpec("position_ids", "int64", ("batch", 8), ids_below=5),
        InputSpec("attention_mask", "bool", ("batch", 8)),
        InputSpec("lengths", "int64", ("batch",)),
    ]
    plan = inputs.plan(specs, batches=(3,), seed=7)
    feeds = plan.feeds(3)
    ids = feeds["input_ids"]
    assert ids.dtype == np.int32 and ids.min() >= 0 and ids.max() < 100 and len(np.unique(ids)) > 1
    assert np.array_equal(ids, plan.feeds(3)["input_ids"])  # seeded
    assert not feeds["token_type_ids"].any() and not feeds["lengths"].any()
    assert feeds["position_ids"].tolist() == [[0, 1, 2, 3, 4, 0, 1, 2]] * 3
    assert feeds["attention_mask"].dtype == np.bool_ and feeds["attention_mask"].all()
    assert plan.describe_synthetic().endswith("; seed 7")


def test_the_vocabulary_is_found_through_a_cast_and_only_for_integer_inputs(tmp_path: Path) -> None:
    from mcm.measure.onnx_runner import OnnxRunner

    table = helper.make_tensor("table", TensorProto.FLOAT, [100, 4], np.zeros(400, np.float32).tolist())
    path = save_graph(
        tmp_path / "embed.onnx",
        [
            helper.make_node("Cast", ["ids"], ["ids64"], to=TensorProto.INT64),
            helper.make_node("Gather", ["table", "ids64"], ["y"]),
        ],
        [helper.make_tensor_value_info("ids", TensorProto.INT32, ["batch", 6])],
        [tensor("y", ["batch", 6, 4])],
        [table],
    )
    assert OnnxRunner(path, threads=1).inputs[0].ids_below == 100
    floats = save_graph(
        tmp_path / "relu.onnx",
        [helper.make_node("Relu", ["x"], ["y"])],
        [tensor("x", ["batch", 4])],
        [tensor("y", ["batch", 4])],
    )
    runner = OnnxRunner(floats, threads=1)
    assert runner.inputs[0].ids_below is None and runner._model is None  # the graph is not read for floats
