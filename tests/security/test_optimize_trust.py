"""`mcm optimize` trusts no number it has not checked: NaN outputs fail a candidate, thresholds are finite and in
range, an unmeasured accuracy is said to be unmeasured, and a library failure is a reason, not a traceback or a
stray file in the current directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcm.exceptions import OptimizeError
from mcm.optimize import int8_static


def _two_sequence_model(folder: Path) -> tuple[Path, Path]:
    """A transformer-like graph ONNX Runtime's symbolic shape inference gives up on: two inputs whose sequence
    axes have different symbolic names (as ``input_ids`` and an attention mask do in exported models), added, then
    a MatMul. Returns the model and calibration data for it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "W")
    nodes = [helper.make_node("Add", ["x", "mask"], ["h"]), helper.make_node("MatMul", ["h", "W"], ["y"])]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 8]),
        helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "mask_seq", 8]),
    ]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 4])
    model = helper.make_model(
        helper.make_graph(nodes, "two_sequences", inputs, [output], [weight]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    path, calib = folder / "two.onnx", folder / "calib.npz"
    onnx.save(model, str(path))
    arrays = {name: rng.standard_normal((16, 5, 8)).astype(np.float32) for name in ("x", "mask")}
    np.savez(calib, **arrays)  # type: ignore[arg-type]
    return path, calib


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory, to see what a technique leaves in it."""
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    return here


def test_int8_static_retries_without_symbolic_shapes_and_leaves_no_file_behind(
    tmp_path: Path, cwd: Path
) -> None:
    from onnxruntime.quantization.shape_inference import quant_pre_process  # type: ignore[import-untyped]

    model, calib = _two_sequence_model(tmp_path)
    with pytest.raises(Exception, match="Incomplete symbolic shape inference"):  # the library's own failure
        quant_pre_process(str(model), str(tmp_path / "prepared.onnx"))
    (cwd / "sym_shape_infer_temp.onnx").unlink()  # what it leaves in the current directory
    out = tmp_path / "out"
    out.mkdir()
    applied = int8_static.apply(model, out, calib=calib, flags={}, arch="x86_64")
    assert any("without symbolic shape inference" in note for note in applied.notes), applied.notes
    assert applied.checks["int8_ops"] >= 1
    assert list(cwd.iterdir()) == []
    assert [p.name for p in out.iterdir()] == ["model.onnx"]  # the temporary directory is gone


def test_int8_static_failures_are_reasons_not_tracebacks(
    tmp_path: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, calib = _two_sequence_model(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    wrong = tmp_path / "wrong.npz"  # calibration rows of the wrong width: ONNX Runtime refuses them
    np.savez(wrong, x=np.zeros((4, 5, 7), np.float32), mask=np.zeros((4, 5, 7), np.float32))
    with pytest.raises(OptimizeError, match="could not quantize this model") as caught:
        int8_static.apply(model, out, calib=wrong, flags={}, arch="x86_64")
    assert "\n" not in str(caught.value)

    import onnxruntime.quantization.shape_inference as shape_inference  # type: ignore[import-untyped]

    def broken(*args: object, **kwargs: object) -> None:
        Path("sym_shape_infer_temp.onnx").write_bytes(b"x" * 1000)  # as the real one does, into the cwd
        raise RuntimeError("Incomplete symbolic shape inference\nsecond line")

    monkeypatch.setattr(shape_inference, "quant_pre_process", broken)
    with pytest.raises(
        OptimizeError, match=r"pre-processing failed .*again without symbolic shape inference"
    ):
        int8_static.apply(model, out, calib=calib, flags={}, arch="x86_64")
    assert list(cwd.iterdir()) == []
    assert list(out.iterdir()) == []


# ---- judging candidates


def _judge(
    monkeypatch: pytest.MonkeyPatch,
    cand_metrics: dict[str, float],
    base_metrics: dict[str, float],
    *,
    unavailable: dict[str, str] | None = None,
    max_drop: float = 1.0,
    speed: float = 1.5,
    interval: tuple[float, float] | None = None,
    scenario: str = "mobile",
    violated: tuple[str, ...] = (),
) -> tuple[str, str]:
    """The loop's verdict on a candidate measured as ``cand_metrics`` against an FP32 baseline (speed stubbed)."""
    from mcm.advisor import Advisor
    from mcm.optimize.base import Artifact
    from mcm.optimize.compare import Paired
    from mcm.optimize.loop import Candidate, Options, _Loop
    from mcm.rulebook import DIRECTORY

    loop = _Loop.__new__(_Loop)  # the verdict only: the shipped rules, no model, no measurement
    loop.opts = Options(model="m.onnx", rules=(), out=Path("out"), max_accuracy_drop_pp=max_drop)
    loop.advisor = Advisor.from_files([DIRECTORY])
    loop.scenario_name = scenario  # mobile: size, power, latency
    loop.reference = None  # no output comparison: the verdict from the given metrics
    loop.baseline = Candidate(
        "onnxruntime fp32", (), Artifact(Path("base.onnx")), "baseline", metrics=base_metrics,
        unavailable=dict(unavailable or {}),
    )  # fmt: skip
    low, high = interval or (speed * 0.98, speed * 1.02)
    paired = Paired(speed, low, high, rounds=8, batch=1)
    loop.baseline.constraints = [
        {"metric": m, "hard": True, "status": "violated", "text": f"{m} over its limit"} for m in violated
    ]
    monkeypatch.setattr(loop, "_paired", lambda best, candidate: {"vs_best": paired, "vs_onnx_fp32": paired})
    cand = Candidate(
        "int8_static", ("int8_static",), Artifact(Path("int8.onnx")), "measured", metrics=cand_metrics,
        unavailable=dict(unavailable or {}),
    )  # fmt: skip
    return loop._judge(cand, loop.baseline)


HEALTHY = {"nan_inf_count": 0.0, "error_rate": 0.0, "model_size_mb": 1.0}


def test_a_size_win_is_kept_where_size_is_core_even_when_slower(monkeypatch: pytest.MonkeyPatch) -> None:
    # MobileNetV3-small's static INT8 (issue #13): 0.27× the size, 12 % slower, in a scenario judged on size
    status, reason = _judge(monkeypatch, {**HEALTHY, "model_size_mb": 0.27}, HEALTHY, speed=0.88)
    assert status == "kept" and "better model_size_mb" in reason and "0.88×" in reason


def test_a_size_win_is_not_kept_where_only_throughput_and_cost_count(monkeypatch: pytest.MonkeyPatch) -> None:
    status, reason = _judge(
        monkeypatch, {**HEALTHY, "model_size_mb": 0.27}, HEALTHY, speed=1.0, scenario="cloud"
    )
    assert status == "rejected" and "no measured gain in what cloud is judged on" in reason


@pytest.mark.parametrize(
    ("speed", "interval"),
    [(1.05, (0.98, 1.12)), (1.3, (0.97, 1.6)), (1.04, (1.02, 1.06))],  # containing 1.0; real but too small
)
def test_a_speed_ratio_is_not_a_gain_unless_its_interval_says_so(
    monkeypatch: pytest.MonkeyPatch, speed: float, interval: tuple[float, float]
) -> None:
    status, reason = _judge(monkeypatch, dict(HEALTHY), HEALTHY, speed=speed, interval=interval)
    assert status == "rejected" and "no measured gain" in reason


def test_a_real_speed_gain_is_kept_where_latency_is_core(monkeypatch: pytest.MonkeyPatch) -> None:
    status, reason = _judge(monkeypatch, dict(HEALTHY), HEALTHY, speed=1.3, interval=(1.2, 1.4))
    assert status == "kept" and "better latency_ms" in reason and "[1.20, 1.40]" in reason


def test_a_step_that_makes_a_violated_constraint_worse_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # smaller, but clearly slower while the latency limit is already missed
    status, reason = _judge(
        monkeypatch, {**HEALTHY, "model_size_mb": 0.27}, HEALTHY, speed=0.7, violated=("latency_ms",)
    )
    assert status == "rejected" and "makes violated latency_ms worse" in reason


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"nan_inf_count": 12.0}, "12 NaN/Inf values"),
        ({"nan_inf_count": float("nan")}, "NaN/Inf values"),
        ({"error_rate": 0.25}, "25.0% of its calls raised"),
    ],
)
def test_a_candidate_with_nan_outputs_or_failing_calls_is_rejected(
    monkeypatch: pytest.MonkeyPatch, bad: dict[str, float], words: str
) -> None:
    status, reason = _judge(
        monkeypatch, {**HEALTHY, "model_size_mb": 0.25, **bad}, HEALTHY, speed=3.0
    )  # 3× faster, a quarter of the size: everything else says keep
    assert status == "rejected" and words in reason


def test_nan_values_the_baseline_has_too_are_not_held_against_a_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    same = {**HEALTHY, "nan_inf_count": 3.0}
    assert _judge(monkeypatch, {**same, "model_size_mb": 0.25}, same)[0] == "kept"


def test_an_unmeasured_accuracy_is_said_so_never_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    status, reason = _judge(
        monkeypatch, {**HEALTHY, "model_size_mb": 0.25}, HEALTHY, unavailable={"accuracy": "no --eval data"}
    )
    assert status == "kept"
    assert "accuracy not measured (no --eval data)" in reason and "pp" not in reason
    measured = {**HEALTHY, "accuracy": 0.9}
    status, reason = _judge(
        monkeypatch, {**HEALTHY, "model_size_mb": 0.25}, measured, unavailable={"accuracy": "x"}
    )
    assert status == "rejected" and "accuracy could not be measured" in reason  # the gate cannot be checked


@pytest.mark.parametrize(("drop", "kept"), [(0.5, True), (2.0, False), (float("nan"), False)])
def test_the_accuracy_gate_fails_closed(monkeypatch: pytest.MonkeyPatch, drop: float, kept: bool) -> None:
    base = {**HEALTHY, "accuracy": 0.9}
    cand = {**HEALTHY, "model_size_mb": 0.25, "accuracy": 0.9 - drop / 100}
    assert (_judge(monkeypatch, cand, base)[0] == "kept") == kept
    assert (
        _judge(monkeypatch, cand, base, max_drop=float("nan"))[0] == "rejected"
    )  # a NaN limit keeps nothing


# ---- thresholds on the command line


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--max-accuracy-drop", "nan"),
        ("--max-accuracy-drop", "inf"),
        ("--max-accuracy-drop", "-1"),
        ("--max-accuracy-drop", "101"),
        ("--min-time", "nan"),
        ("--min-time", "inf"),
        ("--budget", "9" * 400 + "s"),  # a float that overflows to inf
    ],
)
def test_a_threshold_that_is_not_a_finite_number_in_range_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    from mcm import demo
    from mcm.cli.main import main

    assert main(["optimize", str(demo.ONNX_PATH), flag, value, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert flag in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# ---- the report


def test_the_report_says_accuracy_was_not_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's ONNX file without --eval: no accuracy anywhere, and the report says why (JSON: null + reason)."""
    import json

    from mcm import demo
    from mcm.cli.main import main

    rules = Path(__file__).resolve().parents[2] / "rules"
    args = ["optimize", str(demo.ONNX_PATH), "--rules", str(rules), "--scenario", "mobile"]
    main([*args, "--budget", "0.001s", "--min-time", "0.03", "--out", str(tmp_path / "out")])
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    base = next(r for r in data["candidates"] if r["name"] == "onnxruntime fp32")
    assert "accuracy" not in base["metrics"] and base["unavailable"]["accuracy"] == "no --eval data"
    assert base["vs_onnx_fp32"]["accuracy_drop"] is None
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "Accuracy not measured (no --eval data)" in markdown and "0.00 pp" not in markdown
    assert "0.00 pp" not in capsys.readouterr().out
