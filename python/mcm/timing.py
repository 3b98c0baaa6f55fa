"""Timing a callable: one sample per call from the native loop, summarized into a :class:`LatencyReport`.

The loop and the statistics run in Rust (``mcm._core``); this module chooses defaults, turns the outcome into a
frozen, JSON-ready report, and says plainly when the numbers deserve less trust (high variation, too few samples
for a percentile, errors, a limit reached before the minimum).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mcm import _core, metrics
from mcm.exceptions import CallableError, StatsError

SCHEMA = "mcm.latency/1"
#: The percentiles a report has unless others are asked for: the ones the metric catalogue names.
DEFAULT_QUANTILES: tuple[float, ...] = tuple(p.percent for p in metrics.PERCENTILES)
#: Above this many samples the summary's mean and median intervals are analytic instead of bootstrapped.
BOOTSTRAP_MAX_N = 10_000
#: Above this coefficient of variation a report warns that the run was noisy (trtexec's threshold).
HIGH_CV = 0.025


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval and how it was computed (bootstrap, normal, order-statistic)."""

    low: float
    high: float
    method: str


@dataclass(frozen=True)
class QuantileStat:
    """One percentile with its distribution-free confidence interval (``None`` ends: too few samples)."""

    percent: float
    value_ns: float
    ci_low_ns: float | None
    ci_high_ns: float | None
    enough: bool
    min_samples: int

    @property
    def label(self) -> str:
        return metrics.percentile_label(self.percent)


@dataclass(frozen=True)
class Outliers:
    """Tukey-fence counts. Outliers are labelled, never dropped from the statistics."""

    q1_ns: float
    q3_ns: float
    low_severe: int
    low_mild: int
    high_mild: int
    high_severe: int
    fences_ns: tuple[float, float, float, float]


@dataclass(frozen=True)
class LatencyReport:
    """Latency of a callable: per-call statistics in nanoseconds, how the run went, and what to distrust."""

    count: int
    calls: int
    errors: int
    mean_ns: float
    std_ns: float
    min_ns: float
    max_ns: float
    median_ns: float
    mad_ns: float
    cv: float | None
    quantiles: tuple[QuantileStat, ...]
    mean_ci: Interval
    median_ci: Interval
    outliers: Outliers
    confidence: float
    stop_reason: str
    elapsed_s: float
    warmup_calls: int
    warmup_s: float
    clock: str
    #: The clock's own read cost, subtracted from every sample (0 when ``subtract_clock_cost=False``).
    clock_cost_ns: float
    core_build: str
    warnings: tuple[str, ...]
    error: str | None = None
    samples: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, np.int64), repr=False, compare=False
    )

    def quantile(self, percent: float) -> QuantileStat:
        """The stat for ``percent`` (it must have been asked for)."""
        for q in self.quantiles:
            if q.percent == percent:
                return q
        asked = ", ".join(q.label for q in self.quantiles)
        raise StatsError(f"{metrics.percentile_label(percent)} was not computed; this report has {asked}")

    @property
    def calls_per_s(self) -> float:
        """Successful calls per second of the timed phase (wall time, loop overhead included)."""
        return self.count / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (nanoseconds; the raw samples are left out)."""
        d = asdict(self)
        d.pop("samples")
        return {"schema": SCHEMA, **d}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


def time_callable(
    fn: Callable[..., Any],
    *,
    args: Sequence[Any] | None = None,
    warmup: int = 10,
    warmup_time: float = 0.0,
    min_count: int = 100,
    min_time: float = 0.0,
    max_count: int | None = None,
    max_time: float | None = 60.0,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    confidence: float = 0.95,
    target_quantile: float | None = None,
    target_rel_width: float = 0.01,
    on_error: Literal["raise", "count"] = "raise",
    bootstrap: int = 1000,
    seed: int = 0,
    subtract_clock_cost: bool = True,
) -> LatencyReport:
    """Time ``fn(*args)`` one call at a time and summarize the samples.

    Warm-up runs until both ``warmup`` calls and ``warmup_time`` seconds are done; timing runs until both
    ``min_count`` and ``min_time`` are reached and stops at ``max_count`` or ``max_time``. With ``target_quantile``
    (e.g. 99) it keeps going past the minimum until that percentile's confidence interval is within
    ``target_rel_width`` of it on each side (or a maximum is hit). An exception from ``fn`` raises
    :class:`CallableError` carrying the partial report (``on_error="count"`` counts it and goes on instead).
    Ctrl-C stops the run and returns what was measured, with ``stop_reason == "interrupted"``. Each sample has the
    clock's own read cost (measured at the start, ``clock_cost_ns``) taken off unless ``subtract_clock_cost`` is off.
    """
    ask = _Asked(tuple(quantiles), confidence, bootstrap, seed, target_quantile, target_rel_width, min_count)
    run = _core.bench(
        fn,
        None if args is None else tuple(args),
        warmup_count=warmup,
        warmup_time_ns=_ns("warmup_time", warmup_time),
        min_count=min_count,
        min_time_ns=_ns("min_time", min_time),
        max_count=max_count,
        max_time_ns=None if max_time is None else _ns("max_time", max_time),
        on_error=on_error,
        target_quantile=target_quantile,
        target_rel_width=target_rel_width,
        confidence=confidence,
        subtract_clock_cost=subtract_clock_cost,
    )
    return _outcome(run, ask)


def summarize(
    samples_ns: npt.ArrayLike,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    confidence: float = 0.95,
    bootstrap: int = 1000,
    seed: int = 0,
) -> _core.Summary:
    """Statistics of any latency samples (see ``mcm._core.summarize``); a thin, typed pass-through."""
    return _core.summarize(samples_ns, list(quantiles), confidence, bootstrap, BOOTSTRAP_MAX_N, seed)


@dataclass(frozen=True)
class _Asked:
    """What the caller of :func:`time_callable` asked of the statistics and the stopping rule."""

    quantiles: tuple[float, ...]
    confidence: float
    bootstrap: int
    seed: int
    target_quantile: float | None
    target_rel_width: float
    min_count: int


def _ns(name: str, seconds: float) -> int:
    """``seconds`` (the ``name`` argument) in whole nanoseconds; raises :class:`StatsError` unless it is one."""
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise StatsError(f"{name} must be a non-negative number of seconds, got {seconds!r}")
    return round(seconds * 1e9)


def _outcome(run: _core.BenchRun, asked: _Asked) -> LatencyReport:
    """The report of a finished run; raises when the run ended on an error (with the partial report if any)."""
    stopping = run.error
    if stopping is not None and not isinstance(stopping, (Exception, KeyboardInterrupt)):
        raise stopping  # SystemExit and the like are not ours to swallow
    if isinstance(stopping, KeyboardInterrupt) and run.samples.size == 0:
        raise stopping
    if run.samples.size == 0:
        first = stopping or run.first_error
        raise CallableError(f"no call succeeded: {_describe(first)}") from first
    report = _report(run, asked)
    if isinstance(stopping, Exception):
        raise CallableError(
            f"the callable raised {_describe(stopping)} after {run.samples.size} successful calls",
            partial=report,
        ) from stopping
    return report


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _report(run: _core.BenchRun, asked: _Asked) -> LatencyReport:
    s = summarize(
        run.samples,
        quantiles=asked.quantiles,
        confidence=asked.confidence,
        bootstrap=asked.bootstrap,
        seed=asked.seed,
    )
    quantiles = tuple(
        QuantileStat(q.percent, q.value, q.ci_low, q.ci_high, q.enough, q.min_samples) for q in s.quantiles
    )
    outliers = _outliers(s.outliers)
    return LatencyReport(
        count=s.count,
        calls=run.calls,
        errors=run.errors,
        mean_ns=s.mean,
        std_ns=s.std,
        min_ns=s.min,
        max_ns=s.max,
        median_ns=s.median,
        mad_ns=s.mad,
        cv=s.cv,
        quantiles=quantiles,
        mean_ci=_interval(s.mean_ci),
        median_ci=_interval(s.median_ci),
        outliers=outliers,
        confidence=asked.confidence,
        stop_reason=run.stop_reason,
        elapsed_s=run.elapsed_ns / 1e9,
        warmup_calls=run.warmup_calls,
        warmup_s=run.warmup_ns / 1e9,
        clock=run.clock,
        clock_cost_ns=run.clock_cost_ns,
        core_build=_core.BUILD_PROFILE,
        warnings=_warnings(run, s.cv, quantiles, outliers, asked),
        error=None if run.error is None else _describe(run.error),
        samples=run.samples,
    )


def _interval(i: _core.Interval) -> Interval:
    return Interval(i.low, i.high, i.method)


def _outliers(o: _core.Outliers) -> Outliers:
    low_severe, low_mild, high_mild, high_severe = o.fences
    return Outliers(
        o.q1,
        o.q3,
        o.low_severe,
        o.low_mild,
        o.high_mild,
        o.high_severe,
        (low_severe, low_mild, high_mild, high_severe),
    )


def _warnings(
    run: _core.BenchRun,
    cv: float | None,
    quantiles: tuple[QuantileStat, ...],
    outliers: Outliers,
    asked: _Asked,
) -> tuple[str, ...]:
    confidence, target_quantile, min_count = asked.confidence, asked.target_quantile, asked.min_count
    out: list[str] = []
    n = run.samples.size
    if cv is not None and cv > HIGH_CV:
        out.append(
            f"high variation: CV {cv:.1%} is above {HIGH_CV:.1%}; close other programs, fix the CPU frequency, "
            "or take more samples before trusting small differences"
        )
    for q in quantiles:
        if not q.enough:
            out.append(
                f"{q.label} needs at least {q.min_samples:,} samples for a {confidence:.0%} interval; "
                f"only {n:,} were taken, so treat it as a rough estimate"
            )
    severe = outliers.low_severe + outliers.high_severe
    if severe:
        out.append(f"{severe:,} severe outliers (beyond 3 IQR) are kept in the statistics")
    if run.errors:
        out.append(
            f"{run.errors:,} of {run.calls + run.warmup_calls:,} calls raised (first: {_describe(run.first_error)})"
        )
    if run.stop_reason in ("max_time", "max_count") and run.calls < min_count:
        out.append(
            f"stopped at the {run.stop_reason.replace('_', ' ')} after {run.calls:,} calls, before min_count {min_count:,}"
        )
    if run.stop_reason == "interrupted":
        out.append(f"interrupted after {run.calls:,} calls: the statistics cover those only")
    if target_quantile is not None and run.stop_reason != "converged":
        width = "unbounded" if run.rel_half_width is None else f"±{run.rel_half_width:.1%}"
        out.append(
            f"{metrics.percentile_label(target_quantile)} interval is {width}, "
            f"not within the ±{asked.target_rel_width:.1%} target "
            f"(stopped: {run.stop_reason.replace('_', ' ')})"
        )
    if _core.BUILD_PROFILE != "release":
        out.append("the native core is a debug build: timings include its extra overhead")
    return tuple(out)


__all__ = ["SCHEMA", "Interval", "LatencyReport", "Outliers", "QuantileStat", "summarize", "time_callable"]
