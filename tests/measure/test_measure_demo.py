"""The bundled demo: small files, a real held-out accuracy, and a build script that reproduces them exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from mcm import demo

ROOT = Path(__file__).resolve().parents[2]
FILES = (demo.ONNX_PATH, demo.WEIGHTS_PATH, demo.EVAL_PATH, demo.CALIB_PATH, demo.TRAIN_PATH)


def test_files_are_small_and_shaped_as_documented() -> None:
    assert sum(p.stat().st_size for p in FILES) < 400 * 1024
    model = onnx.load(str(demo.ONNX_PATH))
    (x,) = model.graph.input
    dims = [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim]
    assert x.name == "x" and dims == ["batch", 1, 8, 8] and not any(demo.HERE.glob("*.data"))
    with np.load(demo.EVAL_PATH) as e, np.load(demo.TRAIN_PATH) as t, np.load(demo.CALIB_PATH) as c:
        assert e["x"].dtype == np.float32 and e["x"].shape[1:] == (1, 8, 8) and e["y"].dtype == np.int64
        assert len(e["x"]) + len(t["x"]) == 1797 and len(c["x"]) == 128
        assert e["x"].min() >= 0.0 and e["x"].max() <= 1.0


def test_weights_load_safely_into_the_entry_point() -> None:
    import torch

    from mcm.demo.model import build

    model, (example,) = build()
    with np.load(demo.EVAL_PATH) as e, torch.inference_mode():
        logits = model(torch.from_numpy(e["x"])).numpy()
        assert (logits.argmax(axis=1) == e["y"]).mean() > 0.95
    assert example.shape == (1, 1, 8, 8)


@pytest.mark.slow
def test_make_demo_rebuilds_the_same_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo" / "make_demo.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for p in FILES:
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name
