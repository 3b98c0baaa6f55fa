"""`mcm._core.summarize` against numpy, on random and awkward inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mcm import StatsError, _core

QS = [0.0, 1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0]

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
arrays = hnp.arrays(np.float64, st.integers(1, 3000), elements=finite)
# Few distinct values: heavy ties.
tied = hnp.arrays(np.float64, st.integers(1, 3000), elements=st.sampled_from([0.0, 1.0, 1.5, 2.0, 1e6]))


def check_against_numpy(x: np.ndarray) -> None:
    s = _core.summarize(x, QS, bootstrap=0)
    got = [q.value for q in s.quantiles]
    want = np.percentile(x, QS, method="linear").tolist()
    assert got == want
    scale = float(np.abs(x).max()) + 1.0  # rounding noise is relative to the values, not to their spread
    # The middle pair's mean: (a + b) / 2 here, a + (b - a) / 2 in numpy, one rounding apart.
    assert math.isclose(s.median, np.median(x), rel_tol=1e-15, abs_tol=1e-15 * scale)
    assert math.isclose(s.mad, np.median(np.abs(x - np.median(x))), rel_tol=1e-15, abs_tol=1e-15 * scale)
    assert s.min == x.min() and s.max == x.max() and s.count == x.size
    assert math.isclose(s.mean, x.mean(), rel_tol=1e-9, abs_tol=1e-12 * scale)
    if x.size > 1:
        assert math.isclose(s.std, x.std(ddof=1), rel_tol=1e-6, abs_tol=1e-9 * scale)


@settings(max_examples=150, deadline=None)
@given(arrays)
def test_quantiles_equal_numpy_on_random_arrays(x: np.ndarray) -> None:
    check_against_numpy(x)


@settings(max_examples=100, deadline=None)
@given(tied)
def test_quantiles_equal_numpy_with_ties(x: np.ndarray) -> None:
    check_against_numpy(x)


def test_length_one_and_two() -> None:
    check_against_numpy(np.array([3.5]))
    check_against_numpy(np.array([3.5, -1.0]))


@pytest.mark.parametrize("n", [9_000, 200_001, 1_500_000])
def test_large_skewed_arrays_equal_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    x = 2e4 + rng.lognormal(11, 0.6, n)
    x[::997] *= 50  # a tail of outliers
    check_against_numpy(x)


def test_integer_and_float32_input_read_in_place() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(10_000, 90_000, 50_000)
    ref = _core.summarize(x.astype(np.float64), QS, bootstrap=0)
    for dtype in (np.int64, np.uint64, np.int32, np.uint32):
        assert _core.summarize(x.astype(dtype), QS, bootstrap=0) == ref
    f32 = x.astype(np.float32)
    assert (
        _core.summarize(f32, QS, bootstrap=0).quantiles
        == _core.summarize(f32.astype(np.float64), QS, bootstrap=0).quantiles
    )


def test_strided_and_list_input() -> None:
    x = np.arange(100.0)
    assert _core.summarize(x[::3], [50]).quantiles[0].value == np.percentile(x[::3], 50)
    assert _core.summarize([1, 2, 3, 4], [50]).median == 2.5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.array([]), "no samples"),
        (np.array([1.0, np.nan, 2.0]), "sample 1 is NaN"),
        (np.array([1.0, 2.0, np.inf]), "sample 2 is inf"),
        (np.zeros((2, 2)), "1-D"),
        (np.array(["a", "b"]), "numeric"),
    ],
)
def test_bad_samples_are_rejected_clearly(bad: np.ndarray, message: str) -> None:
    with pytest.raises(StatsError, match=message):
        _core.summarize(bad, QS)


@pytest.mark.parametrize(
    "kwargs", [{"quantiles": [101.0]}, {"quantiles": [-1.0]}, {"confidence": 1.0}, {"confidence": 0.0}]
)
def test_bad_options_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(StatsError):
        _core.summarize(np.arange(10.0), **{"quantiles": QS, **kwargs})  # type: ignore[arg-type]


def test_too_few_samples_are_flagged() -> None:
    s = _core.summarize(np.arange(100.0), [50, 99, 99.9])
    enough = {q.percent: q.enough for q in s.quantiles}
    assert enough == {50.0: True, 99.0: False, 99.9: False}
    assert s.quantiles[1].min_samples == _core.min_samples(99) == 368
    assert s.quantiles[1].ci_high is None


def test_quantile_intervals_cover_the_truth_in_a_seeded_simulation() -> None:
    """500 trials of 1,000 Exponential(1) samples: the 95% interval of p90 must cover ln(10) in >= 93% of them."""
    rng = np.random.default_rng(2026)
    truth = math.log(10)
    covered = 0
    for _ in range(500):
        q = _core.summarize(rng.exponential(1.0, 1000), [90], bootstrap=0).quantiles[0]
        covered += q.ci_low <= truth <= q.ci_high
    assert covered / 500 >= 0.93


def test_bootstrap_intervals_are_seeded_and_sensible() -> None:
    x = np.random.default_rng(3).normal(100.0, 10.0, 2000)
    a = _core.summarize(x, [50], seed=7)
    assert a == _core.summarize(x, [50], seed=7)
    assert a.mean_ci.method == a.median_ci.method == "bootstrap"
    assert a.mean_ci.low < x.mean() < a.mean_ci.high
    half = (a.mean_ci.high - a.mean_ci.low) / 2
    assert math.isclose(half, 1.96 * 10 / math.sqrt(2000), rel_tol=0.2)
    assert _core.summarize(x, [50], seed=8).mean_ci != a.mean_ci
    big = _core.summarize(np.tile(x, 10), [50])
    assert big.mean_ci.method == "normal" and big.median_ci.method == "order-statistic"


def test_outliers_are_counted_never_dropped() -> None:
    x = np.concatenate([np.linspace(9, 11, 201), [12.5, 30.0, 1000.0, -500.0]])
    s = _core.summarize(x, [50])
    o = s.outliers
    q1, q3 = np.percentile(x, [25, 75])
    iqr = q3 - q1
    assert o.high_severe == int((x > q3 + 3 * iqr).sum()) == 2
    assert o.high_mild == int(((x > q3 + 1.5 * iqr) & (x <= q3 + 3 * iqr)).sum()) == 1
    assert o.low_severe == 1 and o.low_mild == 0
    assert o.fences == [q1 - 3 * iqr, q1 - 1.5 * iqr, q3 + 1.5 * iqr, q3 + 3 * iqr]
    assert s.count == x.size and s.max == 1000.0


def test_the_summary_is_a_frozen_object_with_named_fields() -> None:
    s = _core.summarize(np.arange(1.0, 101.0), [50, 99], bootstrap=0)
    assert isinstance(s, _core.Summary) and isinstance(s.quantiles[0], _core.QuantileEstimate)
    assert isinstance(s.mean_ci, _core.Interval) and isinstance(s.outliers, _core.Outliers)
    assert [q.percent for q in s.quantiles] == [50.0, 99.0] and s.passes >= 1 and s.confidence == 0.95
    with pytest.raises(AttributeError):
        s.mean = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        _core.summarize(np.arange(10.0))  # type: ignore[call-arg]  # the caller names the quantiles
