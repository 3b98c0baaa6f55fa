"""Paired comparisons: an interval on the speed ratio, rounds added until it answers the question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mcm.optimize import compare


def _chain(path: Path, layers: int, width: int = 256) -> Path:
    """``layers`` MatMul+Relu layers of ``width``: more layers, proportionally slower."""
    rng = np.random.default_rng(0)
    nodes, inits, prev = [], [], "x"
    for i in range(layers):
        w = rng.standard_normal((width, width), dtype=np.float32) / width**0.5
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes += [
            helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"]),
            helper.make_node("Relu", [f"m{i}"], [f"r{i}"]),
        ]
        prev = f"r{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", width])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_a_real_speed_difference_gives_an_interval_that_excludes_one(tmp_path: Path) -> None:
    slow, fast = _chain(tmp_path / "slow.onnx", 12), _chain(tmp_path / "fast.onnx", 2)
    found = compare.paired(slow, fast, batch=16, threads=1, data=None, round_time=0.01)
    p = found["reference"]
    assert p.faster and not p.slower and p.low > 1.5, p
    assert p.rounds == compare.LOOKS[0]  # settled at the first look
    back = compare.paired(fast, slow, batch=16, threads=1, data=None, round_time=0.01)["reference"]
    assert back.slower and back.high < 1 / 1.5, back


def test_a_model_against_itself_is_never_called_faster(tmp_path: Path) -> None:
    model = _chain(tmp_path / "m.onnx", 4)
    p = compare.paired(model, model, batch=8, threads=1, data=None, round_time=0.01, max_rounds=12)[
        "reference"
    ]
    assert not p.faster and not p.slower, p  # its interval contains 1.0


def test_others_are_timed_in_the_same_rounds(tmp_path: Path) -> None:
    base, mid, fast = (_chain(tmp_path / f"{n}.onnx", k) for n, k in (("base", 12), ("mid", 6), ("fast", 2)))
    found = compare.paired(mid, fast, others={"fp32": base}, batch=16, threads=1, data=None, round_time=0.01)
    assert set(found) == {"reference", "fp32"}
    assert found["fp32"].rounds == found["reference"].rounds
    assert found["fp32"].ratio > found["reference"].ratio > 1


def test_too_few_rounds_give_no_interval() -> None:
    p = compare.interval([1.2, 1.3, 1.25], batch=1)
    assert p.low == 0.0 and p.high == float("inf") and not p.faster and not compare.settled(p)
    assert "3 rounds" in str(p)
