"""The metric catalogue: complete, consistent, and one way to write each value."""

from __future__ import annotations

import pytest

from mcm import metrics, units
from mcm.exceptions import UnitError, UnknownMetricError

REFERENCE = {
    "performance": {"latency_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms",
                    "latency_p999_ms", "throughput_qps", "fps", "flops_g", "macs_g"},
    "resources": {"model_size_mb", "memory_mb", "params_m"},
    "accuracy": {"accuracy", "accuracy_drop", "map", "bleu"},
    "energy": {"power_w", "energy_mj", "inferences_per_joule"},
    "reliability": {"latency_cv", "output_std", "nan_inf_count", "error_rate"},
    "cost": {"cost_usd_per_day", "cost_usd_per_million", "hardware_cost_usd", "engineering_cost_usd"},
}  # fmt: skip


def test_six_categories_hold_the_reference_metrics() -> None:
    assert set(metrics.CATEGORIES) == set(REFERENCE)
    for category in metrics.CATEGORIES:
        assert {m.name for m in metrics.by_category(category)} == REFERENCE[category]


@pytest.mark.parametrize("metric", metrics.METRICS.values(), ids=lambda m: m.name)
def test_metric_is_consistent(metric: metrics.Metric) -> None:
    assert units.UNITS[metric.unit].dimension == metric.dimension
    assert units.UNITS[metric.unit].to_base(1.0) == 1.0  # stored in (a name of) the dimension's base unit
    assert metric.accepts and all(units.UNITS[u].dimension == metric.dimension for u in metric.accepts)
    assert metric.display in units.UNITS
    assert metric.better in ("lower", "higher") and metric.en and metric.zh
    assert not set(metric.aliases) & set(metrics.METRICS)


def test_aliases_are_unique() -> None:
    aliases = [a for m in metrics.METRICS.values() for a in m.aliases]
    assert len(aliases) == len(set(aliases))


def test_flops_and_macs_are_different_dimensions() -> None:
    assert metrics.lookup("flops_g").dimension != metrics.lookup("macs_g").dimension


def test_accuracy_is_a_fraction_written_either_way() -> None:
    accuracy = metrics.lookup("accuracy")
    assert accuracy.parse("0.945") == 0.945
    assert accuracy.parse("94.5%") == pytest.approx(0.945)
    with pytest.raises(UnitError) as caught:
        accuracy.parse("94.5")
    assert caught.value.hint == "accuracy is a fraction from 0 to 1: write 90 % or 0.90"


def test_drop_takes_pp_not_percent() -> None:
    drop = metrics.lookup("accuracy_drop")
    assert drop.parse("3pp") == 0.03
    with pytest.raises(UnitError, match="ambiguous"):
        drop.parse("3%")


@pytest.mark.parametrize(("text", "expected"), [("120ms", 120.0), ("0.12 s", 120.0), ("120000us", 120.0)])
def test_parse_to_canonical(text: str, expected: float) -> None:
    assert metrics.lookup("latency").parse(text) == pytest.approx(expected)


def test_unit_that_does_not_fit() -> None:
    with pytest.raises(UnitError) as caught:
        metrics.lookup("power_w").parse("1 MB")
    assert str(caught.value) == "unit 'MB' (size) does not fit power_w (power)"
    assert caught.value.hint == "power_w accepts mW, W, kW"


def test_lookup_with_did_you_mean() -> None:
    assert metrics.lookup("p99").name == "latency_p99_ms"
    with pytest.raises(UnknownMetricError) as caught:
        metrics.lookup("latncy_ms")
    assert caught.value.hint is not None and caught.value.hint.startswith("did you mean 'latency_ms'")
    assert metrics.suggest("accuracy_drop_pp") == "did you mean 'accuracy_drop'?"
    assert metrics.get("latency") is None
