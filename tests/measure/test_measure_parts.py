"""The smaller parts: health and stability, cost, energy arithmetic, the histogram, provenance, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST, RunCli, save_graph, tensor, weight
from mcm.measure import environment, health, measure_model, power
from mcm.measure.cost import Cost
from mcm.measure.render import histogram
from mcm.measure.unavailable import Unavailable


def test_tally_counts_nan_and_inf_in_float_outputs_only() -> None:
    t = health.Tally()
    t.check([np.array([1.0, np.nan, np.inf, -np.inf]), np.array([1, 2])], "batch 1")
    t.record_calls(4, 1, "ValueError: x")
    t.record_calls(4, 0, None)
    assert (t.nan, t.inf, t.nan_inf_count, t.values) == (1, 2, 3, 4)
    assert t.error_rate == 1 / 8 and t.first_error == "ValueError: x" and t.where == ["batch 1"]


def test_stability() -> None:
    a = [np.array([1.0, 2.0, np.nan])]
    same = health.stability([a, a, a])
    assert isinstance(same, health.Stability) and same.identical and same.output_std == 0
    moved = health.stability([a, [np.array([1.0, 2.5, np.nan])]])
    assert isinstance(moved, health.Stability) and not moved.identical
    assert moved.max_abs_diff == 0.5 and moved.output_std == 0.25
    assert isinstance(health.stability([a]), Unavailable)
    assert isinstance(health.stability([a, [np.zeros(2)]]), Unavailable)


def test_cost() -> None:
    c = Cost(price_per_hour=3.6, throughput=1000.0, qps=2500.0)
    assert c.per_million == pytest.approx(1.0)
    assert c.instances == 3 and c.per_day == pytest.approx(3 * 3.6 * 24)
    assert c.to_dict()["utilization"] == pytest.approx(2500 / 3000)
    assert Cost(1.0, 10.0).per_day is None


def test_energy_from_a_counter() -> None:
    readings = iter([1000.0, 3000.0])
    meter = power.Meter("test counter", lambda: next(readings))
    energy = power.measure(meter, lambda: 400)
    assert isinstance(energy, power.Energy)
    assert energy.per_inference_mj == 5.0 and energy.power_w > 0
    stuck = power.Meter("stuck", lambda: 7.0)
    assert isinstance(power.measure(stuck, lambda: 1), Unavailable)


def test_rapl_reason_on_this_machine() -> None:
    meter = power.meter_for("cpu")
    if not isinstance(meter, Unavailable):
        pytest.skip("RAPL is readable here")
    assert "RAPL" in meter.reason


def test_histogram_rows() -> None:
    samples = np.concatenate([np.full(900, 10_000), np.full(90, 20_000), np.full(10, 1_000_000)]).astype(
        np.int64
    )
    rows = histogram(samples, bins=10)
    assert len(rows) == 11 and rows[-1].strip().startswith("> ") and rows[-1].endswith(" 10")
    assert rows[0].endswith(" 900") and "█" * 40 in rows[0]
    assert sum(int(r.rsplit(" ", 1)[1].replace(",", "")) for r in rows) == 1000


def test_provenance() -> None:
    p = environment.provenance()
    assert p["cpu"]["usable_cpus"] == environment.usable_cpus() >= 1
    assert "numpy" in p["libraries"] and p["core_build"] in ("release", "debug")


def test_measure_imports_no_framework() -> None:
    code = (
        "import sys, argparse, mcm.cli.measure as m; m.add_arguments(argparse.ArgumentParser()); "
        "import mcm.measure, mcm.demo; "
        "print(sorted(k for k in ('torch', 'onnxruntime', 'onnx') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_size_counts_external_data(tmp_path: Path, run_cli: RunCli) -> None:
    import onnx
    from onnx import helper

    path = save_graph(
        tmp_path / "ext.onnx",
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [tensor("x", ["batch", 64])],
        [tensor("y", ["batch", 32])],
        [weight("w", [64, 32])],
    )
    model = onnx.load(str(path))
    onnx.save(model, str(path), save_as_external_data=True, location="ext.onnx.data", size_threshold=0)
    report = measure_model(str(path), batches=(1,), min_time=0.02, min_count=5)
    files = report.sections["size"]["files"]
    assert [Path(f["path"]).name for f in files] == ["ext.onnx", "ext.onnx.data"]
    assert report.metrics["model_size_mb"] == pytest.approx(sum(f["bytes"] for f in files) / 2**20)
    assert report.metrics["params_m"] == pytest.approx(64 * 32 / 1e6)
    (tmp_path / "ext.onnx.data").unlink()
    rc, _, err = run_cli(["measure", str(path), *FAST])
    assert rc == 2 and "ext.onnx" in err and "Traceback" not in err
