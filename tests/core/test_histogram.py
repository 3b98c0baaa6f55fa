"""The streaming HDR-style histogram."""

from __future__ import annotations

import numpy as np
import pytest

from mcm import StatsError, _core


def lognormal_ns(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(12, 0.5, n).astype(np.int64)


def test_p99_within_a_tenth_of_a_percent_of_exact() -> None:
    x = lognormal_ns(1_000_000)
    h = _core.Histogram()
    h.record_array(x)
    assert h.count == len(h) == x.size
    for p in (50, 90, 99, 99.9):
        exact = float(np.percentile(x, p, method="inverted_cdf"))
        got = h.quantile(p)
        assert got is not None and abs(got - exact) / exact <= 0.001, p
    assert h.min == x.min() and h.max == x.max()
    assert h.mean == pytest.approx(x.mean(), rel=1e-12)


def test_merge_equals_recording_everything() -> None:
    x = lognormal_ns(100_000, seed=1)
    a, b, whole = _core.Histogram(), _core.Histogram(), _core.Histogram()
    a.record_array(x[:40_000])
    b.record_array(x[40_000:])
    whole.record_array(x)
    a.merge(b)
    assert a.to_bytes() == whole.to_bytes()
    with pytest.raises(StatsError, match="different layouts"):
        a.merge(_core.Histogram(sigfigs=2))


def test_bytes_round_trip_and_corruption() -> None:
    h = _core.Histogram()
    h.record_array(lognormal_ns(10_000))
    h.record(5, count=3)
    data = h.to_bytes()
    back = _core.Histogram.from_bytes(data)
    assert back.to_bytes() == data and back.quantile(99) == h.quantile(99)
    for broken in (b"", b"MCMH", data[:-1], b"XXXX" + data[4:], data[:20]):
        with pytest.raises(StatsError, match="corrupt"):
            _core.Histogram.from_bytes(broken)


def test_out_of_range_records_nothing() -> None:
    h = _core.Histogram(highest=1_000_000)
    with pytest.raises(StatsError, match="index 2"):
        h.record_array(np.array([1, 2, 2_000_000, 3]))
    with pytest.raises(StatsError, match="NaN"):
        h.record_array(np.array([1.0, np.nan]))
    with pytest.raises(StatsError):
        h.record_array(np.array([-1]))
    assert h.count == 0 and h.quantile(50) is None and h.min is None


def test_buckets_cover_the_recorded_values() -> None:
    h = _core.Histogram()
    h.record_array(np.array([1, 1, 1000, 123_456]))
    buckets = h.buckets()
    assert sum(c for _, _, c in buckets) == 4
    assert all(lo <= hi for lo, hi, _ in buckets)
    assert any(lo <= 123_456 <= hi for lo, hi, _ in buckets)


def test_invalid_layouts() -> None:
    with pytest.raises(StatsError):
        _core.Histogram(lowest=0)
    with pytest.raises(StatsError):
        _core.Histogram(sigfigs=9)
