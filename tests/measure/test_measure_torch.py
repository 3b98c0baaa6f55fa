"""PyTorch models: TorchScript files, torch.export programs, entry points and modules, each measured for real."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from measure_models import linear

from conftest import FAST, RunCli
from mcm import demo
from mcm.measure import measure_model

QUICK = {"min_time": 0.05, "min_count": 20}


def test_torchscript_file_needs_and_takes_shapes(run_cli: RunCli, tmp_path: Path) -> None:
    module, (example,) = linear()
    path = tmp_path / "linear.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.trace is deprecated
        torch.jit.trace(module, example).save(str(path))
    rc, _, err = run_cli(["measure", str(path), *FAST])
    assert rc == 2 and "give --shape input=" in err
    rc, out, _ = run_cli(["measure", str(path), "--shape", "input=2x4", "--format", "json", *FAST])
    assert rc == 0
    d = json.loads(out)
    assert d["model"]["format"] == "TorchScript" and d["runtime"]["runtime"] == "torch"
    assert d["metrics"]["params_m"] == pytest.approx(15e-6) and d["metrics"]["macs_g"] == pytest.approx(12e-9)
    assert d["inputs"]["batches"] == [2] and d["size"]["files"][0]["bytes"] == path.stat().st_size


def test_exported_program(tmp_path: Path) -> None:
    module, (example,) = linear()
    program = torch.export.export(module, (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    path = tmp_path / "linear.pt2"
    torch.export.save(program, str(path))
    report = measure_model(str(path), batches=(1, 4), **QUICK)
    assert report.model["format"] == "torch.export"
    assert set(report.sections["latency"]["by_batch"]) == {"1", "4"}
    assert report.metrics["params_m"] == pytest.approx(15e-6)
    assert report.sections["runtime"]["cuda"].startswith("unavailable: ")


def test_entry_point_with_reference_agrees_with_the_onnx_demo() -> None:
    report = measure_model(demo.ENTRY_POINT, data=demo.EVAL_PATH, batches=(8,), reference="demo", **QUICK)
    ref = report.sections["reference"]
    assert ref["agreement"]["top1_agreement"] == 1.0 and ref["agreement"]["max_abs_diff"] < 1e-3
    assert report.metrics["accuracy_drop"] == 0.0 and report.metrics["accuracy"] > 0.95
    assert report.sections["flops"]["counter"].startswith("torch.utils.flop_counter")
    assert "model_size_mb" in report.unavailable


def test_a_module_object_and_threads_restored() -> None:
    before = torch.get_num_threads()
    module, (example,) = linear()
    report = measure_model(module, inputs={"x": example.numpy()}, threads=1, batches=(2,), **QUICK)
    assert torch.get_num_threads() == before
    assert report.sections["runtime"]["intra_op_threads"] == 1
    assert report.metrics["error_rate"] == 0.0 and report.metrics["output_std"] == 0.0
