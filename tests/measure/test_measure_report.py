"""`mcm measure demo`: every field of the JSON report, the text view, `--out`, and what `mcm advise` reads."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from conftest import FAST, RunCli
from mcm import metrics
from mcm.engine.fact_inputs import baseline_metrics
from mcm.measure import SCHEMA, measure_model, write_atomic
from mcm.measure.report import NOT_MEASURED
from mcm.timing import LatencyReport

SECTIONS = (
    "schema",
    "partial",
    "stop_reason",
    "model",
    "settings",
    "metrics",
    "unavailable",
    "runtime",
    "inputs",
    "latency",
    "throughput",
    "size",
    "params",
    "flops",
    "memory",
    "health",
    "stability",
    "power",
    "cost",
    "accuracy",
    "reference",
    "provenance",
    "warnings",
)
#: What the demo must measure on any machine (p99.9 may lack samples on a slow one; energy needs a counter).
ROOT = Path(__file__).resolve().parents[2]
MEASURED = (
    "latency_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "throughput_qps",
    "fps",
    "flops_g",
    "macs_g",
    "model_size_mb",
    "memory_mb",
    "params_m",
    "accuracy",
    "accuracy_drop",
    "latency_cv",
    "output_std",
    "nan_inf_count",
    "error_rate",
    "cost_usd_per_day",
    "cost_usd_per_million",
)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    from mcm.cli.main import main

    out = tmp_path_factory.mktemp("report") / "demo.json"
    args = [
        "measure",
        "demo",
        "--format",
        "json",
        "--out",
        str(out),
        "--min-time",
        "0.2",
        "--batch",
        "1,8",
        "--price-per-hour",
        "3.06",
        "--qps",
        "200000",
        "--reference",
        "demo",
    ]
    assert main(args) == 0
    return json.loads(out.read_text()), out


def test_every_field_is_present(demo_report: tuple[dict[str, object], Path]) -> None:
    d, _ = demo_report
    assert list(d) == list(SECTIONS)
    assert d["schema"] == SCHEMA and d["partial"] is False
    m, u = d["metrics"], d["unavailable"]
    assert isinstance(m, dict) and isinstance(u, dict)
    assert set(m) | set(u) == set(metrics.METRICS) and not set(m) & set(u)
    for name in MEASURED:
        assert name in m, f"{name} unavailable: {u.get(name)}"
    for name, reason in NOT_MEASURED.items():
        assert u[name] == reason
    for name, reason in u.items():
        assert isinstance(reason, str) and len(reason) > 10, name


def test_metrics_are_plain_numbers_in_canonical_units(demo_report: tuple[dict[str, object], Path]) -> None:
    d, _ = demo_report
    m = d["metrics"]
    assert isinstance(m, dict)
    for name, value in m.items():
        assert type(value) in (int, float) and math.isfinite(value), name
        assert metrics.METRICS[name].range_problem(float(value)) is None, name
    assert 0.95 <= m["accuracy"] <= 1.0  # a fraction, not percent
    assert m["accuracy_drop"] == 0.0  # the reference is the same model
    assert m["macs_g"] == pytest.approx(456_704 / 1e9) and m["flops_g"] == pytest.approx(2 * m["macs_g"])
    assert m["params_m"] == pytest.approx(0.019178)
    assert m["model_size_mb"] == pytest.approx(os.path.getsize(_demo_onnx()) / 2**20)
    assert m["latency_p50_ms"] <= m["latency_p90_ms"] <= m["latency_p99_ms"]
    assert m["throughput_qps"] >= m["fps"] > 0
    assert m["cost_usd_per_million"] == pytest.approx(3.06 / 3600 / m["throughput_qps"] * 1e6)


def test_unavailable_energy_says_why(demo_report: tuple[dict[str, object], Path]) -> None:
    d, _ = demo_report
    u, power = d["unavailable"], d["power"]
    assert isinstance(u, dict) and isinstance(power, dict)
    if "unavailable" in power:
        for name in ("power_w", "energy_mj", "inferences_per_joule"):
            assert u[name] == power["unavailable"] and u[name]


def test_detailed_sections(demo_report: tuple[dict[str, object], Path]) -> None:
    d, _ = demo_report
    lat = d["latency"]["by_batch"]  # type: ignore[index]
    assert set(lat) == {"1", "8"}
    one = lat["1"]
    assert set(one["ms"]) >= {"mean", "std", "p50", "p90", "p95", "p99", "p99.9"}
    low, high = one["ci_ms"]["p50"]
    assert low <= one["ms"]["p50"] <= high
    assert one["stats_ns"]["schema"] == "mcm.latency/1" and one["samples"] >= 20
    tp = d["throughput"]
    assert tp["single_stream"]["batch"] == 1 and tp["offline"]["batch"] in (1, 8)  # type: ignore[index]
    assert d["size"]["files"][0]["bytes"] > 0  # type: ignore[index]
    assert d["flops"]["uncounted"] == [] and "Conv" in d["flops"]["macs_by_op"]  # type: ignore[index]
    assert d["memory"]["cpu"]["peak_increase_mb"] > 0  # type: ignore[index]
    assert d["health"]["calls"] > 0 and d["stability"]["runs"] == 3  # type: ignore[index]
    assert d["cost"]["instances"] >= 1  # type: ignore[index]
    assert d["accuracy"]["rows"] == 360  # type: ignore[index]
    assert d["reference"]["agreement"]["top1_agreement"] == 1.0  # type: ignore[index]
    prov = d["provenance"]
    assert isinstance(prov, dict)
    for key in ("time_utc", "mcm_version", "core_build", "cpu", "gpus", "os", "python", "libraries"):
        assert key in prov
    assert {"avx2", "avx512f", "avx512_vnni", "amx_tile"} <= set(prov["cpu"]["flags"])
    assert "onnxruntime" in prov["libraries"]
    assert d["runtime"]["intra_op_threads"] >= 1  # type: ignore[index]


def test_advise_reads_the_metrics(demo_report: tuple[dict[str, object], Path], run_cli: RunCli) -> None:
    d, path = demo_report
    assert baseline_metrics(str(path)) == d["metrics"]
    rc, out, err = run_cli(["advise", str(ROOT / "rules" / "mobile.rules"), "--baseline", str(path)])
    assert rc in (0, 1, 3) and err == "", err
    assert "Model size on disk" in out


def test_text_view_has_the_table_and_a_histogram(run_cli: RunCli) -> None:
    rc, out, err = run_cli(["measure", "demo", *FAST, "--batch", "1"])
    assert rc == 0
    assert "Latency, 99th percentile" in out and "Top-1 accuracy" in out and "unavailable:" in out
    assert "latency histogram, batch 1" in out and out.count("│") >= 5
    assert err == ""  # no progress bar when stderr is not a terminal


def test_out_is_written_whole(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    rc, out, err = run_cli(["measure", "demo", *FAST, "--format", "json", "--out", str(target)])
    assert rc == 0 and out == "" and "wrote" in err
    assert json.loads(target.read_text())["schema"] == SCHEMA
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_atomic_write_leaves_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_baseline_metrics_refuses_other_files(tmp_path: Path) -> None:
    from mcm.exceptions import FactsError

    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"schema": "other/1", "metrics": {"latency_ms": "fast"}}))
    with pytest.raises(FactsError, match=r"metric 'latency_ms' is 'fast', not a number"):
        baseline_metrics(str(bad))
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(FactsError, match="expected an mcm measure report"):
        baseline_metrics(str(bad))


def _demo_onnx() -> Path:
    from mcm import demo

    return demo.ONNX_PATH


def test_each_batch_timing_is_handed_over_as_soon_as_it_is_done() -> None:
    """``on_latency`` sees batch 1's samples while the run goes on (before batch 4 is timed)."""
    events: list[str] = []

    def on_latency(batch: int, rep: LatencyReport) -> None:
        assert rep.samples.size == rep.calls > 0
        events.append(f"timed {batch}")

    report = measure_model(
        "demo",
        batches=(1, 4),
        min_time=0.03,
        min_count=10,
        progress=lambda step, steps, phase, seconds: events.append(phase),
        on_latency=on_latency,
    )
    assert [e for e in events if e.startswith(("timed", "timing"))] == [
        "timing batch 1",
        "timed 1",
        "timing batch 4",
        "timed 4",
    ]
    assert set(report.samples) == {1, 4}
