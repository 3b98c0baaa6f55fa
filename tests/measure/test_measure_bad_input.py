"""Bad input gives a clear message and exit 2 (never a traceback); a misbehaving model gives a flagged report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import FAST, RunCli, save_graph, tensor
from mcm.exceptions import InputError, ModelError
from mcm.measure import measure_model


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)  # type: ignore[no-any-return]


def fails_cleanly(run_cli: RunCli, args: list[str], *needles: str) -> str:
    rc, out, err = run_cli(["measure", *args, *FAST])
    assert rc == 2, (out, err)
    assert out == "" and "Traceback" not in err and err.startswith("mcm: error: ")
    for needle in needles:
        assert needle in err, err
    return err


def test_missing_file(run_cli: RunCli, tmp_path: Path) -> None:
    fails_cleanly(run_cli, [str(tmp_path / "nope.onnx")], "nope.onnx: no such file")


def test_corrupt_onnx(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07garbage, not a protobuf" * 10)
    fails_cleanly(run_cli, [str(bad)], "broken.onnx: not a valid ONNX model")


def test_unsupported_file_type(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "model.h5"
    bad.write_bytes(b"x")
    fails_cleanly(run_cli, [str(bad)], "unsupported model file type '.h5'")


def test_wrong_shape_is_refused_before_any_timing() -> None:
    phases: list[str] = []
    with pytest.raises(InputError, match=r"dimension 1 is 3, but the model fixes it at 1"):
        measure_model("demo", shapes=["x=1x3x8x8"], progress=lambda i, n, label, s: phases.append(label))
    assert not any("timing" in p for p in phases)


def test_wrong_shape_from_the_cli(run_cli: RunCli) -> None:
    fails_cleanly(run_cli, ["demo", "--shape", "x=4x1x9x8"], "dimension 2 is 9")
    fails_cleanly(run_cli, ["demo", "--shape", "y=1x1x8x8"], "the model has no input 'y'")
    fails_cleanly(run_cli, ["demo", "--shape", "x=1x1x8"], "has rank 3")


def test_wrong_dtype_in_data(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, x=np.zeros((3, 1, 8, 8)), y=np.zeros(3, np.int64))
    fails_cleanly(run_cli, ["demo", "--data", str(data)], "dtype float64 but the model expects float32")


def test_data_that_does_not_fit(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, x=np.zeros((3, 1, 8, 9), np.float32))
    fails_cleanly(run_cli, ["demo", "--data", str(data)], "fixes dimension 3 at 8")
    np.savez(data, x=np.zeros((3, 1, 8, 8), np.float32), y=np.zeros(2, np.int64))
    fails_cleanly(run_cli, ["demo", "--data", str(data)], "one label per row")


def test_fixed_batch_size(run_cli: RunCli, tmp_path: Path) -> None:
    from onnx import helper

    path = save_graph(
        tmp_path / "fixed.onnx",
        [helper.make_node("Relu", ["x"], ["y"])],
        [tensor("x", [2, 3])],
        [tensor("y", [2, 3])],
    )
    fails_cleanly(run_cli, [str(path), "--batch", "1,8"], "fixes the batch size at 2")


def test_pickled_checkpoint_is_refused(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(Tiny(), path)
    err = fails_cleanly(run_cli, [str(path)], "refused", "weights_only=True", "Unsupported global")
    assert "would run code" in err


def test_state_dict_says_what_is_missing(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    torch.save(Tiny().state_dict(), path)
    fails_cleanly(run_cli, [str(path)], "holds weights only (2 tensors", "entry point")


def test_model_that_always_raises(run_cli: RunCli) -> None:
    fails_cleanly(
        run_cli,
        ["measure_models:always_fails"],
        "raised on every check call",
        "ValueError: this model never works",
    )


def test_model_that_raises_sometimes_reports_an_error_rate(run_cli: RunCli) -> None:
    rc, out, _ = run_cli(["measure", "measure_models:flaky", "--format", "json", "--batch", "1", *FAST])
    assert rc == 0
    d = json.loads(out)
    assert d["metrics"]["error_rate"] == pytest.approx(0.25, abs=0.02)
    assert d["health"]["errors"] > 0 and "simulated failure" in d["health"]["first_error"]
    assert any("calls raised" in w for w in d["warnings"])


def test_nan_outputs_are_flagged(run_cli: RunCli, nan_onnx: Path) -> None:
    rc, out, _ = run_cli(["measure", str(nan_onnx), "--format", "json", *FAST])
    assert rc == 0
    d = json.loads(out)
    assert d["metrics"]["nan_inf_count"] > 0 and d["health"]["nan_count"] > 0
    assert any("NaN" in w for w in d["warnings"])
    assert "output_std" in d["metrics"]  # finite elements only: NaN does not poison stability


def test_bad_options(run_cli: RunCli) -> None:
    fails_cleanly(run_cli, ["demo", "--batch", "1,x"], "--batch '1,x'")
    fails_cleanly(run_cli, ["demo", "--threads", "0"], "threads must be at least 1")
    fails_cleanly(run_cli, ["demo", "--price-per-hour", "-1"], "price per hour must be positive")


def test_api_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(ModelError, match="cannot measure a int"):
        measure_model(3)


def test_missing_runtime_is_a_clear_message() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['onnxruntime'] = None; from mcm.cli.main import main; "
        "sys.exit(main(['measure', 'demo']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "needs onnx and onnxruntime (pip install 'mcm[onnx]')" in done.stderr
