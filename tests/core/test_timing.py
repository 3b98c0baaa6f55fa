"""`mcm.time_callable` and its report."""

from __future__ import annotations

import json
import time

import pytest

import mcm
from mcm import CallableError, LatencyReport, StatsError, metrics, time_callable


def busy(ns: int) -> None:
    end = time.perf_counter_ns() + ns
    while time.perf_counter_ns() < end:
        pass


def test_report_of_a_known_duration() -> None:
    r = time_callable(busy, args=(200_000,), min_count=300, warmup=20)
    assert isinstance(r, LatencyReport)
    assert abs(r.median_ns - 200_000) / 200_000 < 0.02
    assert r.count == r.calls == 300 and r.errors == 0
    p50 = r.quantile(50)
    assert p50.value_ns == r.median_ns and p50.ci_low_ns is not None and p50.ci_low_ns <= r.median_ns
    assert r.stop_reason == "min_reached" and r.core_build == "release"
    assert r.samples.size == 300


def test_json_is_complete_and_round_trips() -> None:
    r = time_callable(lambda: None, min_count=500)
    d = json.loads(r.to_json())
    assert d["schema"] == mcm.timing.SCHEMA
    assert "samples" not in d
    for key in (
        "mean_ns",
        "std_ns",
        "cv",
        "mad_ns",
        "quantiles",
        "mean_ci",
        "median_ci",
        "outliers",
        "warnings",
    ):
        assert key in d
    assert d["quantiles"][0]["percent"] == 50.0


def test_warns_when_samples_are_too_few_for_a_percentile() -> None:
    r = time_callable(busy, args=(10_000,), min_count=50)
    assert any("p99.9 needs at least 3,688 samples" in w for w in r.warnings)
    assert not r.quantile(99.9).enough


def test_warns_on_high_variation() -> None:
    n = [0]

    def uneven() -> None:
        n[0] += 1
        busy(40_000 if n[0] % 2 else 10_000)

    r = time_callable(uneven, min_count=200, warmup=0)
    assert r.cv is not None and r.cv > 0.5
    assert any(w.startswith("high variation") for w in r.warnings)


def test_an_exception_raises_with_the_partial_report() -> None:
    n = [0]

    def flaky() -> None:
        n[0] += 1
        if n[0] == 40:
            raise ValueError("model exploded")

    with pytest.raises(CallableError, match="ValueError: model exploded after 39 successful calls") as info:
        time_callable(flaky, warmup=0, min_count=100)
    partial = info.value.partial
    assert isinstance(partial, LatencyReport) and partial.count == 39 and partial.stop_reason == "error"
    assert isinstance(info.value.__cause__, ValueError)


def test_counted_errors_are_reported() -> None:
    n = [0]

    def flaky() -> None:
        n[0] += 1
        if n[0] % 5 == 0:
            raise OSError("flaky device")

    r = time_callable(flaky, warmup=0, min_count=100, on_error="count")
    assert r.errors == 20 and r.count == 80
    assert any("20 of 100 calls raised (first: OSError: flaky device)" in w for w in r.warnings)


def test_a_callable_that_always_fails() -> None:
    def broken() -> None:
        raise RuntimeError("no")

    with pytest.raises(CallableError, match="no call succeeded: RuntimeError: no"):
        time_callable(broken, on_error="count", warmup=0, min_count=10)


def test_ctrl_c_returns_what_was_measured() -> None:
    n = [0]

    def interrupted() -> None:
        n[0] += 1
        if n[0] == 60:
            raise KeyboardInterrupt

    r = time_callable(interrupted, warmup=0, min_count=1000)
    assert r.stop_reason == "interrupted" and r.count == 59
    assert any(w.startswith("interrupted after") for w in r.warnings)


def test_target_quantile_convergence_is_reported() -> None:
    r = time_callable(
        busy, args=(20_000,), min_count=100, max_count=200_000, target_quantile=50, target_rel_width=0.02
    )
    assert r.stop_reason == "converged"
    r = time_callable(busy, args=(20_000,), min_count=100, max_count=200, target_quantile=99.9)
    assert any("p99.9 interval is" in w for w in r.warnings)


def test_bad_arguments() -> None:
    with pytest.raises(StatsError):
        time_callable(lambda: None, max_time=-1.0)
    with pytest.raises(StatsError, match="p42 was not computed"):
        time_callable(lambda: None, min_count=10).quantile(42)


def test_the_percentiles_come_from_the_metric_catalogue() -> None:
    assert tuple(p.percent for p in metrics.PERCENTILES) == mcm.timing.DEFAULT_QUANTILES
    r = time_callable(lambda: None, min_count=100)
    labels = [q.label for q in r.quantiles]
    assert labels == [p.label for p in metrics.PERCENTILES] == ["p50", "p90", "p95", "p99", "p99.9"]
    assert [p.metric for p in metrics.PERCENTILES if p.metric in metrics.METRICS] == [
        "latency_p50_ms",
        "latency_p90_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "latency_p999_ms",
    ]
    assert metrics.lookup("p99.9").name == "latency_p999_ms" and metrics.lookup("tail_latency_ms").name == (
        "latency_p99_ms"
    )
