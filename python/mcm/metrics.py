"""The metric catalogue: every metric mcm knows, in the reference's six categories (DESIGN.md §3).

One source of truth for names, units, directions and labels. A metric's value is always stored in its canonical
``unit``, which is the base unit of its ``dimension`` (``fps`` and ``qps`` both name "per second"; ``units.py``):

- ``accuracy``, ``map``, ``error_rate`` are fractions in [0, 1]: ``0.945`` and ``94.5 %`` are the same value.
- ``accuracy_drop`` is ``baseline.accuracy - accuracy``, also a fraction, written in percentage points:
  ``3 pp`` is stored as ``0.03``. ``%`` is refused for it, because "a 3 % drop" may be read as relative.
- ``latency_cv`` (run-to-run coefficient of variation) is a fraction too; ``2.5 %`` is ``0.025``.
- ``bleu`` is a score in [0, 100]; counts (``nan_inf_count``) are plain numbers.

``accepts`` lists the units a value of the metric may be written in; ``display`` is the unit to show it in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from mcm import units
from mcm.exceptions import UnitError, UnknownMetricError

Category = Literal["performance", "resources", "accuracy", "energy", "reliability", "cost"]
Direction = Literal["lower", "higher"]

CATEGORIES: tuple[Category, ...] = ("performance", "resources", "accuracy", "energy", "reliability", "cost")


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: canonical name and unit, dimension, category, which direction is better, labels."""

    name: str
    unit: str
    dimension: str
    category: Category
    better: Direction
    en: str
    zh: str
    accepts: tuple[str, ...]
    display: str
    minimum: float | None = 0.0
    maximum: float | None = None
    aliases: tuple[str, ...] = ()

    def to_canonical(self, value: float, unit: str) -> float:
        """``value`` written in ``unit`` as this metric's canonical value; raises :class:`UnitError`."""
        if unit not in self.accepts:
            raise UnitError(self.unit_problem(unit), f"{self.name} accepts {units.describe(self.accepts)}")
        canonical = units.lookup(unit).to_base(value)
        problem = self.range_problem(canonical)
        if problem is not None:
            raise UnitError(problem, self.range_hint(unit))
        return canonical

    def parse(self, text: str) -> float:
        """A command-line value such as ``"120ms"``, ``"0.9"`` or ``"90%"`` as this metric's canonical value."""
        value, unit = units.split_quantity(text)
        return self.to_canonical(value, unit)

    def unit_problem(self, unit: str) -> str:
        """Why ``unit`` cannot be used for this metric (the unit is assumed not to be in ``accepts``)."""
        if unit not in units.UNITS:
            return f"unknown unit '{unit}'"
        if unit == "":
            return f"{self.name} needs a unit"
        if units.UNITS[unit].dimension != self.dimension:
            return (
                f"unit '{unit}' ({units.UNITS[unit].dimension}) does not fit {self.name} ({self.dimension})"
            )
        if unit == "%" and "pp" in self.accepts:
            return f"'%' is ambiguous for {self.name}: it is an absolute difference, written in pp"
        return f"unit '{unit}' does not fit {self.name}"

    def range_problem(self, canonical: float) -> str | None:
        """Why ``canonical`` cannot be a value of this metric (not finite, out of range), or None."""
        if not math.isfinite(canonical):
            return f"{self.name} must be a finite number"
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if low <= canonical <= high:
            return None
        bounds = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        return f"{self.name} must be {bounds}, got {canonical:g}"

    def range_hint(self, unit: str) -> str | None:
        """A hint for an out-of-range value: fractions written as percentages without the ``%``."""
        if unit == "" and self.maximum == 1.0 and "%" in self.accepts:
            return f"{self.name} is a fraction from 0 to 1: write 90 % or 0.90"
        return None

    def format(self, value: float | None, digits: int = units.DISPLAY_DIGITS) -> str:
        """A canonical value as people read it, in the display unit: ``0.945`` accuracy → ``94.5 %``,
        ``0.0522475`` ms → ``0.05225 ms``; None (not measured) → ``—``."""
        return "—" if value is None else units.format_quantity(value, self.display, digits)

    def literal(self, value: float) -> str:
        """A canonical value written so that mcm reads it back exactly (rules files, ``--set``): the display form
        when it parses back to ``value`` (``100 ms``, ``85 %``), else the shortest exact canonical number."""
        for digits in (units.DISPLAY_DIGITS, units.PRECISE_DIGITS):
            shown = units.format_quantity(value, self.display, digits).replace(",", "")
            try:
                if self.parse(shown) == value:
                    return shown
            except UnitError:
                pass
        return f"{value!r} {self.unit}".rstrip()


def _m(
    name: str,
    unit: str,
    category: Category,
    better: Direction,
    en: str,
    zh: str,
    *,
    accepts: tuple[str, ...] | None = None,
    display: str | None = None,
    minimum: float | None = 0.0,
    maximum: float | None = None,
    aliases: tuple[str, ...] = (),
) -> Metric:
    dimension = units.UNITS[unit].dimension
    return Metric(
        name=name,
        unit=unit,
        dimension=dimension,
        category=category,
        better=better,
        en=en,
        zh=zh,
        accepts=units.units_of(dimension) if accepts is None else accepts,
        display=unit if display is None else display,
        minimum=minimum,
        maximum=maximum,
        aliases=aliases,
    )


def percentile_label(percent: float) -> str:
    """The short name of a percentile: ``p50``, ``p99.9`` (report keys, table labels, warnings)."""
    return f"p{percent:g}"


@dataclass(frozen=True, slots=True)
class Percentile:
    """A latency percentile mcm reports: its metric (``latency_p999_ms``), the percent (``99.9``), its label
    (``p99.9``) and the metric's aliases."""

    metric: str
    percent: float
    label: str
    aliases: tuple[str, ...]


def _percentile(percent: float, *more_aliases: str) -> Percentile:
    label = percentile_label(percent)
    digits = label.replace(".", "")
    aliases = (*dict.fromkeys((label, digits, f"{digits}_ms")), *more_aliases)
    return Percentile(f"latency_{digits}_ms", percent, label, aliases)


#: The one list of latency percentiles: the catalogue's metrics, what is timed and measured, rules' derivations.
PERCENTILES: tuple[Percentile, ...] = (
    _percentile(50.0, "median_latency_ms"),
    _percentile(90.0),
    _percentile(95.0),
    _percentile(99.0, "tail_latency_ms"),
    _percentile(99.9),
)


def _latency(p: Percentile) -> Metric:
    digits = p.label.replace(".", "")
    return _m(
        p.metric,
        "ms",
        "performance",
        "lower",
        f"Latency, {p.percent:g}th percentile",
        f"延迟（{digits.upper()}）",
        aliases=p.aliases,
    )


_FRACTION = ("", "%")
# fmt: off
_CATALOGUE = (
    # performance
    _m("latency_ms", "ms", "performance", "lower", "Latency (mean per inference)", "延迟（单次推理平均）",
       aliases=("latency", "latency_mean_ms")),
    *(_latency(p) for p in PERCENTILES),
    _m("throughput_qps", "qps", "performance", "higher", "Throughput", "吞吐量", accepts=("qps",),
       aliases=("throughput", "qps")),
    _m("fps", "fps", "performance", "higher", "Frame rate", "帧率（FPS）", accepts=("fps",),
       aliases=("frame_rate",)),
    _m("flops_g", "GFLOPs", "performance", "lower", "Compute (FLOPs, 2 per multiply-add)", "计算量（FLOPs）",
       aliases=("flops", "gflops")),
    _m("macs_g", "GMACs", "performance", "lower", "Multiply-accumulates (MACs)", "乘加运算量（MACs）",
       aliases=("macs", "gmacs")),
    # resources
    _m("model_size_mb", "MB", "resources", "lower", "Model size on disk", "模型大小",
       aliases=("model_size", "size_mb", "size")),
    _m("memory_mb", "MB", "resources", "lower", "Peak memory", "内存占用（峰值）",
       aliases=("memory", "peak_memory_mb")),
    _m("params_m", "M", "resources", "lower", "Parameters", "参数量", aliases=("params", "parameters")),
    # accuracy
    _m("accuracy", "", "accuracy", "higher", "Top-1 accuracy", "准确率", accepts=_FRACTION, display="%",
       maximum=1.0, aliases=("top1", "acc", "accuracy_min")),
    _m("accuracy_drop", "", "accuracy", "lower", "Accuracy drop from the baseline", "精度损失",
       accepts=("pp", ""), display="pp", minimum=-1.0, maximum=1.0, aliases=("accuracy_drop_pp", "acc_drop")),
    _m("map", "", "accuracy", "higher", "Mean average precision (mAP)", "平均精度（mAP）", accepts=_FRACTION,
       maximum=1.0, aliases=("mAP", "mean_ap")),
    _m("bleu", "", "accuracy", "higher", "BLEU score", "BLEU（翻译质量）", accepts=("",), maximum=100.0),
    # energy
    _m("power_w", "W", "energy", "lower", "Power draw during inference", "功耗", aliases=("power",)),
    _m("energy_mj", "mJ", "energy", "lower", "Energy per inference", "单次能耗", aliases=("energy",)),
    _m("inferences_per_joule", "inf/J", "energy", "higher", "Energy efficiency", "能效比",
       aliases=("efficiency", "inf_per_j", "inferences_per_watt")),
    # reliability
    _m("latency_cv", "", "reliability", "lower", "Run-to-run latency variation (CV)", "稳定性（延迟变异系数）",
       accepts=_FRACTION, display="%", aliases=("stability", "cv")),
    _m("output_std", "", "reliability", "lower", "Output spread across runs (std)", "结果一致性（标准差）",
       accepts=("",), aliases=("consistency",)),
    _m("nan_inf_count", "", "reliability", "lower", "NaN/Inf outputs", "数值异常（NaN/Inf）个数", accepts=("",),
       aliases=("nan_count", "numerical_errors")),
    _m("error_rate", "", "reliability", "lower", "Error (crash) rate", "错误率", accepts=_FRACTION, display="%",
       maximum=1.0, aliases=("crash_rate",)),
    # cost
    _m("cost_usd_per_day", "USD/day", "cost", "lower", "Serving cost per day", "云服务费（每天）",
       aliases=("cost", "cost_per_day")),
    _m("cost_usd_per_million", "USD/M", "cost", "lower", "Cost per million inferences", "每百万次推理成本",
       aliases=("cost_per_million",)),
    _m("hardware_cost_usd", "USD", "cost", "lower", "Hardware cost", "硬件成本", aliases=("hardware_cost",)),
    _m("engineering_cost_usd", "USD", "cost", "lower", "Engineering cost", "研发成本",
       aliases=("engineering_cost", "dev_cost")),
)
# fmt: on

METRICS: Mapping[str, Metric] = MappingProxyType({m.name: m for m in _CATALOGUE})
_ALIASES: Mapping[str, str] = MappingProxyType({a: m.name for m in _CATALOGUE for a in m.aliases})


def suggest(name: str) -> str | None:
    """A ``did you mean`` hint for an unknown metric name; aliases lead to their metric (``latency``)."""
    spellings = {**{m: m for m in METRICS}, **_ALIASES}
    close = [name] if name in _ALIASES else units.closest(name, spellings)
    return units.choices_hint(dict.fromkeys(spellings[c] for c in close))


def get(name: str) -> Metric | None:
    """The metric with canonical name ``name``, or None (aliases are not names: see :func:`lookup`)."""
    return METRICS.get(name)


def lookup(name: str) -> Metric:
    """The metric called ``name`` or one of its aliases; raises :class:`UnknownMetricError` with a hint."""
    metric = METRICS.get(name) or METRICS.get(_ALIASES.get(name, ""))
    if metric is None:
        raise UnknownMetricError(f"unknown metric '{name}'", suggest(name))
    return metric


def by_category(category: Category) -> tuple[Metric, ...]:
    """The metrics of one category, in catalogue order."""
    return tuple(m for m in _CATALOGUE if m.category == category)


def format_value(name: str, value: float | None, digits: int = units.DISPLAY_DIGITS) -> str:
    """:meth:`Metric.format` by name; a name outside the catalogue shows the bare number."""
    metric = METRICS.get(name)
    if metric is not None:
        return metric.format(value, digits)
    return "—" if value is None else units.format_number(value, digits)


# ---- derived quantities: each defined here once


def inferences_per_joule(energy_mj: float) -> float:
    """Energy efficiency from energy per inference: 1 J is 1000 mJ."""
    return 1000.0 / energy_mj


def flops_from_macs(macs: float) -> float:
    """FLOPs of ``macs`` multiply-accumulates: each is a multiply and an add (DESIGN.md §3)."""
    return 2.0 * macs


__all__ = [
    "CATEGORIES",
    "METRICS",
    "PERCENTILES",
    "Category",
    "Direction",
    "Metric",
    "Percentile",
    "by_category",
    "flops_from_macs",
    "format_value",
    "get",
    "inferences_per_joule",
    "lookup",
    "percentile_label",
    "suggest",
]
