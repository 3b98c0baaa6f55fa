"""What one measurement found, turned into the report: canonical metric values, sections and warnings.

The flat metrics are taken at the first batch size asked for (the primary one, 1 by default) except throughput,
which is the best offline rate over all batch sizes, and FLOPs / MACs, which are per sample:

- ``latency_ms`` is the mean per call, ``latency_pXX_ms`` the percentiles (only with enough samples for a 95%
  interval; otherwise unavailable with the count needed), ``latency_cv`` the coefficient of variation;
- ``throughput_qps`` samples/s (MLPerf Offline: the best batch size); ``fps`` the single-stream rate at batch 1;
- ``memory_mb`` the peak on the device that runs the model, over loading and the check calls at every batch
  size (CPU: RSS growth of a fresh process over its RSS with the runtime imported, or of this process for a
  model given as a Python object, the method named in the memory section; GPU: the framework's peak counter);
- ``power_w`` / ``energy_mj`` (per sample) / ``inferences_per_joule`` from a hardware counter over the primary
  batch's timed window;
- ``nan_inf_count`` over every output checked, ``error_rate`` over every call made, ``output_std`` across repeats;
- ``cost_usd_per_million`` from ``price_per_hour`` and ``throughput_qps``, ``cost_usd_per_day`` at ``qps``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mcm import metrics
from mcm.measure import health, power, size
from mcm.measure.accuracy import Top1
from mcm.measure.cost import Cost
from mcm.measure.flops import FlopCount
from mcm.measure.inputs import InputPlan
from mcm.measure.memory import CpuPeak
from mcm.measure.params import ParamCount
from mcm.measure.report import MeasureReport, split_metrics
from mcm.measure.runner import Runner
from mcm.measure.unavailable import Unavailable
from mcm.timing import LatencyReport

T = TypeVar("T")


@dataclass
class Results:
    """Everything one run of :func:`mcm.measure.measure_model` found."""

    model: dict[str, Any]
    settings: dict[str, Any]
    runtime: dict[str, Any]
    plan: InputPlan
    data: str | None
    latency: dict[int, LatencyReport]
    energy: power.Energy | Unavailable
    tally: health.Tally
    stability: health.Stability | Unavailable
    top1: Top1 | Unavailable
    cpu_peak: CpuPeak | Unavailable
    gpu_peak: float | Unavailable
    stop_reason: str | None = None
    interrupted_during: str | None = None
    #: Why the measuring phases did not run at all (a counts-only report), else None.
    skipped: str | None = None
    reference: dict[str, Any] | Unavailable = field(
        default_factory=lambda: Unavailable("no reference model given")
    )
    size: size.SizeReport | Unavailable = field(default_factory=lambda: Unavailable("not counted"))
    params: ParamCount | Unavailable = field(default_factory=lambda: Unavailable("not counted"))
    flops: FlopCount | Unavailable = field(default_factory=lambda: Unavailable("not counted"))
    provenance: dict[str, Any] = field(default_factory=dict)

    def add_statics(self, runner: Runner, plan: InputPlan) -> None:
        """Size on disk, parameters and FLOPs (counted at the primary batch, reported per sample)."""
        self.size = _guard(lambda: _size(runner))
        self.params = _guard(runner.params)
        with runner.session():
            self.flops = _guard(lambda: runner.flops(plan.feeds(plan.batches[0])))

    @property
    def primary(self) -> int:
        return self.plan.batches[0]

    def missing(self, what: str) -> Unavailable:
        """Why a phase's result is absent: the phases were skipped, or the run was interrupted before it."""
        if self.skipped is not None:
            return Unavailable(f"{what}: {self.skipped}")
        when = f" during {self.interrupted_during}" if self.interrupted_during else ""
        return Unavailable(f"{what}: the run was interrupted{when}")


def build_report(r: Results) -> MeasureReport:
    values = _values(r)
    measured, unavailable = split_metrics(values)
    sections: dict[str, Any] = {
        "runtime": r.runtime,
        "inputs": _inputs(r),
        "latency": _latency(r),
        "throughput": _throughput(r),
        "size": _dict(r.size),
        "params": _dict(r.params),
        "flops": _dict(r.flops),
        "memory": {"cpu": _dict(r.cpu_peak), "gpu_peak_mb": _dict(r.gpu_peak)},
        "health": r.tally.to_dict(),
        "stability": {**_dict(r.stability), "latency_cv": values.get("latency_cv")},
        "power": _dict(r.energy),
        "cost": _dict(_cost(r)),
        "accuracy": _dict(r.top1),
        "reference": _dict(r.reference),
        "provenance": r.provenance,
    }
    return MeasureReport(
        model={**r.model, "kind": r.flops.kind}
        if isinstance(r.flops, FlopCount) and r.flops.kind is not None
        else r.model,
        settings=r.settings,
        metrics=measured,
        unavailable=unavailable,
        sections=sections,
        warnings=_warnings(r),
        partial=r.stop_reason is not None,
        stop_reason=r.stop_reason,
        samples={b: rep.samples for b, rep in r.latency.items()},
    )


def _values(r: Results) -> dict[str, float | Unavailable]:
    v: dict[str, float | Unavailable] = {}
    rep = r.latency.get(r.primary)
    if rep is None:
        gone = r.missing(f"batch {r.primary} was not timed")
        names = ("latency_ms", "latency_cv", *(p.metric for p in metrics.PERCENTILES))
        v.update({name: gone for name in names})
    else:
        v["latency_ms"] = rep.mean_ns / 1e6
        v["latency_cv"] = rep.cv if rep.cv is not None else Unavailable("too few samples for a CV")
        for p in metrics.PERCENTILES:
            q = rep.quantile(p.percent)
            v[p.metric] = (
                q.value_ns / 1e6
                if q.enough
                else Unavailable(
                    f"{q.label} needs at least {q.min_samples:,} samples for a {rep.confidence:.0%} interval; "
                    f"{rep.count:,} were taken at batch {r.primary} (raise --min-time)"
                )
            )
    rates = _rates(r)
    v["throughput_qps"] = max(rates.values()) if rates else r.missing("nothing was timed")
    v["fps"] = (
        rates[1] if 1 in rates else Unavailable("fps is the single-stream rate at batch 1, not measured")
    )
    if isinstance(r.flops, FlopCount) and r.flops.incomplete is not None:
        v["macs_g"] = v["flops_g"] = Unavailable(f"only a lower bound: {r.flops.incomplete}")
    elif isinstance(r.flops, FlopCount):
        v["macs_g"] = r.flops.macs_per_sample / 1e9
        v["flops_g"] = metrics.flops_from_macs(r.flops.macs_per_sample) / 1e9
    else:
        v["macs_g"] = v["flops_g"] = r.flops
    v["model_size_mb"] = r.size.total_mb if isinstance(r.size, size.SizeReport) else r.size
    v["params_m"] = r.params.millions if isinstance(r.params, ParamCount) else r.params
    v["memory_mb"] = _memory(r)
    v["accuracy"] = r.top1.accuracy if isinstance(r.top1, Top1) else r.top1
    v["accuracy_drop"] = _drop(r)
    if isinstance(r.energy, power.Energy):
        v["power_w"] = r.energy.power_w
        v["energy_mj"] = r.energy.per_inference_mj
        v["inferences_per_joule"] = metrics.inferences_per_joule(r.energy.per_inference_mj)
    else:
        v["power_w"] = v["energy_mj"] = v["inferences_per_joule"] = r.energy
    v["output_std"] = r.stability.output_std if isinstance(r.stability, health.Stability) else r.stability
    if r.tally.calls:
        v["nan_inf_count"] = float(r.tally.nan_inf_count)
        v["error_rate"] = r.tally.error_rate
    else:
        v["nan_inf_count"] = v["error_rate"] = r.missing("no call was made")
    cost = _cost(r)
    if isinstance(cost, Cost):
        v["cost_usd_per_million"] = cost.per_million
        per_day = cost.per_day
        v["cost_usd_per_day"] = (
            per_day if per_day is not None else Unavailable("no --qps given for a daily cost")
        )
    else:
        v["cost_usd_per_million"] = v["cost_usd_per_day"] = cost
    return v


def _rates(r: Results) -> dict[int, float]:
    return {b: rep.calls_per_s * b for b, rep in r.latency.items() if rep.count}


def _memory(r: Results) -> float | Unavailable:
    if r.runtime.get("device", "cpu") != "cpu":
        return r.gpu_peak
    return r.cpu_peak.increase_mb if isinstance(r.cpu_peak, CpuPeak) else r.cpu_peak


def _drop(r: Results) -> float | Unavailable:
    ref = r.reference
    if isinstance(ref, Unavailable):
        return Unavailable("no --reference model to compare accuracy with")
    ref_acc = ref.get("accuracy")
    if not isinstance(r.top1, Top1) or not isinstance(ref_acc, dict):
        return Unavailable("needs labelled data and the accuracy of both models")
    return float(ref_acc["top1"]) - r.top1.accuracy


def _cost(r: Results) -> Cost | Unavailable:
    price = r.settings.get("price_per_hour")
    rates = _rates(r)
    if price is None:
        return Unavailable("no --price-per-hour given")
    if not rates:
        return r.missing("no throughput to price")
    return Cost(float(price), max(rates.values()), r.settings.get("qps"))


def _latency(r: Results) -> dict[str, Any]:
    by_batch: dict[str, Any] = {}
    for b, rep in r.latency.items():
        by_batch[str(b)] = {
            "batch": b,
            "input_shapes": r.plan.shapes(b),
            "ms": {
                "mean": rep.mean_ns / 1e6,
                "std": rep.std_ns / 1e6,
                "min": rep.min_ns / 1e6,
                "max": rep.max_ns / 1e6,
                **{q.label: q.value_ns / 1e6 for q in rep.quantiles},
            },
            "ci_ms": {
                "mean": [rep.mean_ci.low / 1e6, rep.mean_ci.high / 1e6],
                "median": [rep.median_ci.low / 1e6, rep.median_ci.high / 1e6],
                **{
                    q.label: None
                    if q.ci_low_ns is None or q.ci_high_ns is None
                    else [q.ci_low_ns / 1e6, q.ci_high_ns / 1e6]
                    for q in rep.quantiles
                },
            },
            "confidence": rep.confidence,
            "enough_samples": {q.label: q.enough for q in rep.quantiles},
            "cv": rep.cv,
            "samples": rep.count,
            "stop_reason": rep.stop_reason,
            "stats_ns": rep.to_dict(),
        }
    return {"unit": "ms", "primary_batch": r.primary, "by_batch": by_batch}


def _throughput(r: Results) -> dict[str, Any]:
    rates = _rates(r)
    single: dict[str, Any] | str = "unavailable: batch 1 was not timed"
    if 1 in rates:
        single = {
            "batch": 1,
            "samples_per_s": rates[1],
            "p90_latency_ms": r.latency[1].quantile(90).value_ns / 1e6,
        }
    offline: dict[str, Any] | str = "unavailable: nothing was timed"
    if rates:
        best = max(rates, key=lambda b: rates[b])
        offline = {"batch": best, "samples_per_s": rates[best]}
    return {
        "unit": "samples/s",
        "single_stream": single,
        "offline": offline,
        "by_batch": {str(b): v for b, v in rates.items()},
        "definitions": {
            "single_stream": "one sample per query, each query issued when the previous one completes "
            "(MLPerf SingleStream; its metric is the p90 latency)",
            "offline": "all samples available at once, run back to back in batches (MLPerf Offline); "
            "the best of the batch sizes measured",
        },
    }


def _inputs(r: Results) -> dict[str, Any]:
    synthetic = r.plan.source == "synthetic"
    return {
        "source": r.plan.source,
        "data": r.data,
        "signature": [s.to_dict() for s in r.plan.specs],
        "batches": list(r.plan.batches),
        "shapes_by_batch": {str(b): r.plan.shapes(b) for b in r.plan.batches},
        "synthetic": r.plan.describe_synthetic() if synthetic else None,
        "synthetic_by_input": {n: f.to_dict() for n, f in r.plan.fills().items()} if synthetic else None,
    }


def _warnings(r: Results) -> list[str]:
    out: list[str] = []
    if r.stop_reason == "interrupted":
        out.append(f"interrupted during {r.interrupted_during}: the report is partial")
    t = r.tally
    if t.nan_inf_count:
        out.append(f"outputs contain {t.nan:,} NaN and {t.inf:,} Inf values (in {', '.join(t.where)})")
    if t.errors:
        out.append(
            f"{t.errors:,} of {t.calls:,} calls raised (error rate {t.error_rate:.2%}; first: {t.first_error})"
        )
    if isinstance(r.stability, health.Stability) and not r.stability.identical:
        out.append(
            f"outputs differ across {r.stability.runs} runs on the same inputs "
            f"(max |diff| {r.stability.max_abs_diff:.3g})"
        )
    if (
        isinstance(r.energy, power.Energy)
        and r.energy.source.startswith("NVML")
        and (r.energy.seconds < power.NVML_MIN_WINDOW_S)
    ):
        out.append(
            f"the energy window was only {r.energy.seconds:.3f} s; NVML needs about "
            f"{power.NVML_MIN_WINDOW_S} s or more"
        )
    if isinstance(r.flops, FlopCount) and r.flops.uncounted:
        ops = sorted({u["op"] for u in r.flops.uncounted})
        out.append(f"{len(r.flops.uncounted)} operator(s) not counted in FLOPs/MACs: {', '.join(ops)}")
    if isinstance(r.top1, Top1) and r.top1.evaluated < r.top1.rows:
        out.append(f"accuracy covers {r.top1.evaluated:,} of {r.top1.rows:,} rows (the others raised)")
    for b, rep in r.latency.items():
        out += [f"batch {b}: {w}" for w in rep.warnings if "calls raised" not in w and "interrupted" not in w]
    return out


def _size(runner: Runner) -> size.SizeReport | Unavailable:
    files = runner.files()
    return files if isinstance(files, Unavailable) else size.of_files(files)


def _guard(fn: Callable[[], T | Unavailable]) -> T | Unavailable:
    """A static count that fails (an odd graph, a library error) becomes unavailable with the reason."""
    try:
        return fn()
    except Exception as e:  # counting is best effort; the reason is reported
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return Unavailable(f"could not be counted ({type(e).__name__}{': ' + first if first else ''})")


def _dict(x: Any) -> Any:
    if isinstance(x, Unavailable):
        return x.to_dict()
    return x.to_dict() if hasattr(x, "to_dict") else x


__all__ = ["Results", "build_report"]
