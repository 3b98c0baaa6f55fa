"""The optimization loop and `mcm optimize`: real techniques on the demo, measured, kept or rejected; atomic
output; clear refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mcm import demo
from mcm.cli.main import main
from mcm.cli.optimize import parse_budget
from mcm.exceptions import OptimizeError
from mcm.optimize import compare, pareto
from mcm.optimize.loop import Options, run

RULES = Path(__file__).resolve().parents[2] / "rules"
QUICK = {"min_time": 0.03, "min_count": 10}


def _options(model: Path, out: Path, **extra: object) -> Options:
    kwargs: dict[str, object] = {
        "rules": (RULES,),
        "scenario": "mobile",
        "calib": demo.CALIB_PATH,
        "eval_set": demo.EVAL_PATH,
        **QUICK,
        **extra,
    }
    return Options(model=str(model), out=out, **kwargs)  # type: ignore[arg-type]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_loop_on_an_onnx_file_measures_keeps_and_rejects(tmp_path: Path) -> None:
    model = tmp_path / "digits.onnx"
    shutil.copyfile(demo.ONNX_PATH, model)
    digest = _digest(model)
    lines: list[str] = []
    result = run(_options(model, tmp_path / "out"), lines.append)
    assert _digest(model) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.onnx", "out"]
    out = tmp_path / "out"
    assert {"model.onnx", "report.json", "report.md"} <= {p.name for p in out.iterdir()}
    data = json.loads((out / "report.json").read_text())
    rows = {r["name"]: r for r in data["candidates"]}
    assert rows["onnxruntime fp32"]["status"] == "baseline"
    assert "torch eager" not in rows  # an ONNX file has no framework baseline
    int8 = rows["int8_static"]
    assert int8["status"] in {"kept", "rejected"} and int8["paired_speedup"]["vs_onnx_fp32"]["ratio"] > 0
    assert int8["vs_onnx_fp32"]["size_x"] <= 0.3
    dynamic = next(r for r in data["candidates"] if r["chain"][-1:] == ["int8_dynamic"])
    assert dynamic["status"] in {"kept", "rejected"} and "×" in dynamic["reason"]
    assert rows["tensorrt"]["status"] == "skipped" and "nvidia_gpu" in rows["tensorrt"]["reason"]
    skipped_torch = [r for r in data["candidates"] if r["chain"][-1:] == ["structured_pruning"]]
    assert skipped_torch and all(r["status"] == "skipped" for r in skipped_torch)
    assert data["pareto_front"] and result.best.name in rows
    assert "| int8_static |" in (out / "report.md").read_text()
    assert any(line.startswith("step 1:") for line in lines)


def test_the_budget_stops_the_loop(tmp_path: Path) -> None:
    result = run(_options(demo.ONNX_PATH, tmp_path / "out", budget_s=1e-6), print)
    assert result.stop_reason.startswith("the budget") and result.best is result.onnx_baseline
    untried = [c for c in result.candidates if c.reason == "not tried: the budget ran out"]
    assert {c.name for c in untried} >= {"int8_static", "int8_dynamic"}  # the report names what was left
    assert (tmp_path / "out" / "model.onnx").read_bytes() == demo.ONNX_PATH.read_bytes()


def test_cli_exits_1_when_the_best_candidate_misses_a_constraint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["optimize", str(demo.ONNX_PATH), "--rules", str(RULES), "--scenario", "mobile"]
    args += ["--constraint", "model_size_mb<0.001 MB", "--budget", "0.001s", "--min-time", "0.03"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["meets_constraints"] is False
    chosen = next(c for c in report["candidates"] if c["name"] == report["chosen"]["name"])
    size = next(c for c in chosen["constraints"] if c["metric"] == "model_size_mb")
    assert size["status"] == "violated" and "< 0.001 MB" in size["text"]
    capsys.readouterr()


def test_strict_counts_an_unmeasurable_constraint_as_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """mobile requires power_w < 2 W; with no energy counter it stays unknown: exit 0 by default, 1 with --strict."""
    from mcm.measure import power
    from mcm.measure.unavailable import Unavailable

    if not isinstance(power.meter_for("cpu"), Unavailable):
        pytest.skip("this machine measures CPU power: power_w is not unknown here")
    args = ["optimize", str(demo.ONNX_PATH), "--rules", str(RULES), "--scenario", "mobile"]
    args += ["--budget", "0.001s", "--min-time", "0.03"]
    assert main([*args, "--out", str(tmp_path / "lenient")]) == 0
    assert main([*args, "--strict", "--out", str(tmp_path / "strict")]) == 1
    report = json.loads((tmp_path / "strict" / "report.json").read_text())
    assert report["meets_constraints"] is False
    assert "power_w unknown" in (tmp_path / "strict" / "report.md").read_text()
    capsys.readouterr()


def test_ctrl_c_leaves_nothing_behind(tmp_path: Path) -> None:
    def interrupt(line: str) -> None:
        if line.startswith("step 1:"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(_options(demo.ONNX_PATH, tmp_path / "out"), interrupt)
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_out_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OptimizeError, match="not empty"):
        run(_options(demo.ONNX_PATH, tmp_path), print)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_cli_unwritable_out_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["optimize", "demo", "--rules", str(RULES), "--out", str(blocker / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write there" in err and "Traceback" not in err


def test_cli_missing_calibration_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.npz"
    code = main(
        ["optimize", "demo", "--rules", str(RULES), "--calib", str(missing), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and f"--calib {missing}: no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0), ("45", 45.0)])
def test_budget(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "0m", "ten minutes", "-1s"])
def test_bad_budget(text: str) -> None:
    with pytest.raises(OptimizeError, match="--budget"):
        parse_budget(text)


def test_pareto_front() -> None:
    points = [
        {"speed_x": 1.0, "model_size_mb": 1.0, "accuracy": 0.99},
        {"speed_x": 2.0, "model_size_mb": 0.3, "accuracy": 0.99},  # dominates the first
        {"speed_x": 1.5, "model_size_mb": 0.1, "accuracy": 0.98},  # a trade-off
    ]
    assert pareto.front(points) == [1, 2]


@pytest.mark.slow
def test_cli_on_the_demo_with_the_mobile_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "optimize",
            "demo",
            "--rules",
            str(RULES),
            "--scenario",
            "mobile",
            "--min-time",
            "0.3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads((out / "report.json").read_text())
    rows = {r["name"]: r for r in data["candidates"]}
    assert "torch eager" in rows
    pruned = next(r for r in data["candidates"] if r["chain"][:1] == ["structured_pruning"])
    assert pruned["status"] in {"kept", "rejected"} and pruned["vs_onnx_fp32"]["size_x"] < 0.3
    unstructured = next(r for r in data["candidates"] if r["chain"][:1] == ["pruning"])
    assert any("size only after compression" in n for a in unstructured["applied"] for n in a["notes"])


def test_only_and_skip_choose_the_techniques_tried(tmp_path: Path) -> None:
    result = run(_options(demo.ONNX_PATH, tmp_path / "out", only=("int8_dynamic", "int8_static")), print)
    tried = {c.chain[-1] for c in result.candidates if c.status in {"kept", "rejected", "failed"}}
    assert tried <= {"int8_dynamic", "int8_static"} and "int8_dynamic" in tried
    left = {c.name: c.reason for c in result.candidates if c.status == "skipped"}
    assert left["ort_graph_opt"] == "not tried: not in --only"
    result = run(_options(demo.ONNX_PATH, tmp_path / "out2", skip=("int8_static",), budget_s=1e-6), print)
    assert {c.name: c.reason for c in result.candidates}["int8_static"] == "not tried: --skip"


def test_an_unknown_technique_in_only_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["optimize", str(demo.ONNX_PATH), "--rules", str(RULES), "--scenario", "mobile"]
    assert main([*args, "--only", "int8_dynamc", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--only int8_dynamc: no such technique" in err and "int8_dynamic" in err
    assert not (tmp_path / "out").exists()


def test_env_reaches_the_rules(tmp_path: Path) -> None:
    """tensorrt needs an NVIDIA GPU: skipped on this machine, queued when --env says the target has one."""
    on_cpu = run(_options(demo.ONNX_PATH, tmp_path / "cpu", budget_s=1e-6), print)
    assert "nvidia_gpu" in {c.name: c.reason for c in on_cpu.candidates}["tensorrt"]
    gpu = run(_options(demo.ONNX_PATH, tmp_path / "gpu", budget_s=1e-6, env=(("nvidia_gpu", "true"),)), print)
    assert {c.name: c.reason for c in gpu.candidates}["tensorrt"] == "not tried: the budget ran out"


def test_the_batch_follows_the_scenario(tmp_path: Path) -> None:
    mobile = run(_options(demo.ONNX_PATH, tmp_path / "m", budget_s=1e-6), print)
    cloud = run(_options(demo.ONNX_PATH, tmp_path / "c", budget_s=1e-6, scenario="cloud"), print)
    assert (mobile.batch, cloud.batch) == (1, 8)
    assert json.loads((tmp_path / "m" / "report.json").read_text())["batch"] == 1


def test_a_multi_input_entry_point_is_optimized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    opts = _options(Path("x"), tmp_path / "out", only=("int8_dynamic",), calib=None, eval_set=None)
    opts = Options(**{**opts.__dict__, "model": "optimize_models:tiny_bert"})
    result = run(opts, print)
    (step,) = [c for c in result.candidates if c.chain == ("int8_dynamic",)]
    assert step.status in {"kept", "rejected"} and step.paired["vs_best"].rounds >= compare.LOOKS[0]
    assert result.eager is not None and result.eager.metrics


def test_without_labels_outputs_are_compared_with_fp32(tmp_path: Path) -> None:
    """No --eval: each step's outputs against the FP32 baseline's on the calibration rows, said as what it is."""
    result = run(_options(demo.ONNX_PATH, tmp_path / "out", eval_set=None, only=("int8_dynamic",)), print)
    (step,) = [c for c in result.candidates if c.chain == ("int8_dynamic",)]
    found = step.agreement
    assert found is not None and not isinstance(found, str) and hasattr(found, "top1")
    assert found.origin == "calibration data" and found.rows == 128 and 0.9 <= found.top1 <= 1.0
    assert (
        "accuracy not measured (no --eval data); outputs vs FP32 on 128 rows of calibration data"
        in step.reason
    )
    assert "pp" not in step.reason
    row = next(
        r
        for r in json.loads((tmp_path / "out" / "report.json").read_text())["candidates"]
        if r["name"] == step.name
    )
    assert row["output_agreement"]["top1_agreement"] == found.top1


def _symbolic_sequence_model(path: Path) -> Path:
    """Token ids [batch, seq] → embedding → mean over the sequence → a linear head: the sequence is symbolic."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    table = numpy_helper.from_array(rng.standard_normal((500, 32), dtype=np.float32), "table")
    head = numpy_helper.from_array(rng.standard_normal((32, 4), dtype=np.float32), "head")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["emb"]),
        helper.make_node("ReduceMean", ["emb", "axes"], ["pooled"], keepdims=0),
        helper.make_node("MatMul", ["pooled", "head"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "seq",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
        [table, head, axes],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


def test_shape_fills_a_symbolic_sequence_for_optimize(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _symbolic_sequence_model(tmp_path / "seq.onnx")
    args = ["optimize", str(model), "--rules", str(RULES), "--scenario", "mobile", "--only", "int8_dynamic"]
    args += ["--min-time", "0.03", "--budget", "60s"]
    assert main([*args, "--out", str(tmp_path / "default")]) in (0, 1)  # a free sequence: 128 tokens
    default = json.loads((tmp_path / "default" / "report.json").read_text())
    assert any(
        r["chain"] == ["int8_dynamic"] and r["status"] in {"kept", "rejected"} for r in default["candidates"]
    )
    assert main([*args, "--shape", "input_ids=1x24", "--out", str(tmp_path / "out")]) in (0, 1)
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    step = next(r for r in data["candidates"] if r["chain"] == ["int8_dynamic"])
    assert step["status"] in {"kept", "rejected"}, step["reason"]
    assert step["output_agreement"]["origin"] == "synthetic inputs" and step["output_agreement"]["rows"] == 64
    capsys.readouterr()


def test_calibration_from_an_image_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = pytest.importorskip("PIL.Image")
    from mcm.optimize.loop import resolve

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    model = resolve("optimize_models:bare_tensor_cnn", tmp_path / "export").onnx
    for label in ("a", "b"):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(4):
            image.new("RGB", (40 + 8 * i, 30), (60 * i, 100, 200)).save(
                tmp_path / "imgs" / label / f"{i}.png"
            )
    args = ["optimize", str(model), "--rules", str(RULES), "--scenario", "mobile", "--only", "int8_static"]
    args += ["--calib", str(tmp_path / "imgs"), "--min-time", "0.03", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert "an image folder needs --preprocess" in capsys.readouterr().err
    assert main([*args, "--preprocess", "imagenet,resize=20,crop=16"]) in (0, 1)
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    step = next(r for r in data["candidates"] if r["chain"] == ["int8_static"])
    changes = " ".join(c for a in step["applied"] for c in a["changes"])
    assert "calibrated on 8 inputs from imgs.npz" in changes, changes
    assert step["output_agreement"]["origin"] == "calibration data" and step["output_agreement"]["rows"] == 8
    capsys.readouterr()


def test_the_budget_stops_a_technique_while_it_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcm.optimize import loop

    answers = iter([False])  # time left before the first step; spent at the first question inside it
    monkeypatch.setattr(loop._Loop, "_over_budget", lambda self: next(answers, True))
    lines: list[str] = []
    result = run(
        _options(demo.ONNX_PATH, tmp_path / "out", only=("int8_static", "int8_dynamic")), lines.append
    )
    stopped = [c for c in result.candidates if c.reason.startswith("stopped while being applied")]
    assert len(stopped) == 1 and stopped[0].status == "skipped" and stopped[0].metrics == {}
    assert result.stop_reason.startswith("the budget") and result.best is result.onnx_baseline
    untried = [c.reason for c in result.candidates if c is not stopped[0] and "--only" not in c.reason]
    assert untried == ["not tried: the budget ran out"]
    assert not (tmp_path / "out" / "candidates" / "01-int8_static").exists()  # nothing half-written is kept
    assert any(line.startswith("  skipped: stopped while being applied") for line in lines)
