"""Input planning: --shape, --batch, .npz data, synthetic inputs, and the errors raised before anything runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
    with pytest.raises(InputError, match="free dimension 1: give its shape with --shape ids="):
        inputs.plan([TOKENS])
    plan = inputs.plan([TOKENS], shapes=[inputs.parse_shape("ids=1x128")], batches=(1, 4))
    feeds = plan.feeds(4)["ids"]
    assert feeds.shape == (4, 128) and feeds.dtype == np.int64 and not feeds.any()


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
