"""`mcm._core.bench`: the native timing loop with a real Python callable."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mcm import StatsError, _core


def busy(ns: int) -> None:
    end = time.perf_counter_ns() + ns
    while time.perf_counter_ns() < end:
        pass


def test_samples_are_per_call_and_handed_over_without_a_copy() -> None:
    run = _core.bench(lambda: None, min_count=1000, warmup_count=5)
    assert run.stop_reason == "min_reached"
    assert (run.calls, run.warmup_calls, run.errors) == (1000, 5, 0)
    s = run.samples
    assert s.dtype == np.int64 and s.shape == (1000,) and (s >= 0).all()
    assert not s.flags.owndata  # the buffer is the Rust Vec, owned through a capsule
    assert run.clock in ("TSC", "CLOCK_MONOTONIC")


def test_a_busy_wait_of_200_us_is_measured_within_2_percent() -> None:
    run = _core.bench(busy, (200_000,), min_count=300, warmup_count=20)
    median = float(np.median(run.samples))
    assert abs(median - 200_000) / 200_000 < 0.02, median


def test_an_exception_stops_the_run_and_keeps_the_samples() -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 50:
            raise ValueError("boom")

    run = _core.bench(flaky, warmup_count=0, min_count=1000)
    assert run.stop_reason == "error"
    assert isinstance(run.error, ValueError) and str(run.error) == "boom"
    assert run.samples.size == 49


def test_errors_can_be_counted_instead() -> None:
    n = [0]

    def flaky() -> None:
        n[0] += 1
        if n[0] % 10 == 0:
            raise RuntimeError(f"call {n[0]}")

    run = _core.bench(flaky, warmup_count=0, min_count=500, on_error="count")
    assert run.stop_reason == "min_reached"
    assert (run.calls, run.errors, run.samples.size) == (500, 50, 450)
    assert str(run.first_error) == "call 10"


def test_keyboard_interrupt_always_stops() -> None:
    n = [0]

    def interrupted() -> None:
        n[0] += 1
        if n[0] == 30:
            raise KeyboardInterrupt

    run = _core.bench(interrupted, warmup_count=0, min_count=1000, on_error="count")
    assert run.stop_reason == "interrupted" and isinstance(run.error, KeyboardInterrupt)
    assert run.samples.size == 29


def test_limits_and_early_stop() -> None:
    run = _core.bench(busy, (100_000,), min_count=10**6, max_time_ns=20_000_000)
    assert run.stop_reason == "max_time" and run.calls < 1000
    run = _core.bench(lambda: None, min_count=10, max_count=10)
    assert run.stop_reason == "max_count" and run.calls == 10
    run = _core.bench(
        busy, (20_000,), min_count=100, max_count=100_000, target_quantile=50, target_rel_width=0.02
    )
    assert run.stop_reason == "converged" and run.rel_half_width is not None and run.rel_half_width <= 0.02


def test_min_time_is_honoured() -> None:
    run = _core.bench(busy, (1_000_000,), min_count=1, min_time_ns=30_000_000, warmup_count=0)
    assert run.elapsed_ns >= 30_000_000 and run.stop_reason == "min_reached"
    assert run.calls * 1_000_000 <= run.elapsed_ns + 1_000_000  # each call took at least its 1 ms


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_count": 10, "max_count": 5},
        {"on_error": "ignore"},
        {"target_quantile": 100.0},
        {"target_quantile": 99.0, "target_rel_width": 0.0},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(StatsError):
        _core.bench(lambda: None, **kwargs)  # type: ignore[arg-type]


def test_not_callable() -> None:
    with pytest.raises(StatsError, match="callable"):
        _core.bench(42)  # type: ignore[arg-type]


def test_clock_info() -> None:
    info = _core.clock_info(10_000)
    assert info.clock in ("TSC", "CLOCK_MONOTONIC")
    assert 0 < info.read_overhead_ns < 10_000
    assert info.reads == 10_000
    with pytest.raises(AttributeError):  # frozen: a result, not a settings object
        info.reads = 1  # type: ignore[misc]


def test_the_clock_read_cost_is_taken_off_each_sample() -> None:
    on = _core.bench(lambda: None, min_count=20_000)
    off = _core.bench(lambda: None, min_count=20_000, subtract_clock_cost=False)
    assert 0 < on.clock_cost_ns < 1_000 and off.clock_cost_ns == 0
    assert (on.samples >= 0).all()
    assert np.median(on.samples) <= np.median(off.samples)
