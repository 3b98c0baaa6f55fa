"""Conditions: values, explanations with resolved values, unknown facts, errors, short-circuits."""

from __future__ import annotations

import pytest
from engine_helpers import rules

from mcm.engine.evaluate import Condition, EvalError, compile_condition, fact_paths
from mcm.rules.ast import Compare, Pos, Quantity, Ref, String

P = Pos("t.rules", 3, 5)


def condition(text: str) -> Condition:
    """A condition as the real parser and checker build it."""
    advisor = rules(
        'scenario s "s" { core latency_ms }\n'
        f'decide for s policy first {{ rule r: when {text} then recommend none because "x" }}\n'
    )
    return compile_condition(advisor.ruleset.decisions["s"].rules[0].condition)


FACTS = {
    "measured.latency_ms": 120.0,
    "constraint.latency_ms": 50.0,
    "measured.accuracy": 0.945,
    "env.nvidia_gpu": False,
    "env.device": "gpu",
}


def test_the_reference_rule_explains_its_resolved_values() -> None:
    c = condition("measured.latency_ms > 2 * constraint.latency_ms")
    out = c.explain(FACTS)
    assert out.value is True and c.test(FACTS) is True
    assert out.text == "measured.latency_ms 120 ms > 2 × constraint.latency_ms (50 ms) = 100 ms → true"


@pytest.mark.parametrize(
    ("text", "value", "explanation"),
    [
        ("measured.accuracy >= 90 %", True, "measured.accuracy 94.5 % >= 90 % → true"),
        ("env.nvidia_gpu", False, "env.nvidia_gpu → false"),
        ("not env.nvidia_gpu", True, "not (env.nvidia_gpu → false) → true"),
        ('env.device == "gpu"', True, 'env.device "gpu" == "gpu" → true'),
        (
            "measured.latency_ms / constraint.latency_ms > 2",
            True,
            "measured.latency_ms (120 ms) / constraint.latency_ms (50 ms) = 2.4 > 2 → true",
        ),
        ("-measured.latency_ms < 0 ms", True, "-measured.latency_ms (120 ms) = -120 ms < 0 ms → true"),
    ],
)
def test_explanations(text: str, value: bool, explanation: str) -> None:
    c = condition(text)
    out = c.explain(FACTS)
    assert (out.value, out.text) == (value, explanation)
    assert c.test(FACTS) is value


def test_a_missing_fact_is_unknown_never_false() -> None:
    c = condition("measured.model_size_mb > 2 * constraint.model_size_mb")
    out = c.explain(FACTS)
    assert c.test(FACTS) is None
    assert out.value is None and out.status == "unknown"
    assert out.missing == ("measured.model_size_mb", "constraint.model_size_mb")
    assert (
        out.problem
        == "unknown: fact measured.model_size_mb not given, fact constraint.model_size_mb not given"
    )
    assert "measured.model_size_mb (not given)" in out.text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("env.nvidia_gpu and measured.power_w > 1 W", False),  # false and unknown = false
        ("measured.power_w > 1 W and env.nvidia_gpu", False),
        ("not env.nvidia_gpu or measured.power_w > 1 W", True),  # true or unknown = true
        ("measured.power_w > 1 W or env.nvidia_gpu", None),  # unknown or false = unknown
        ("not (measured.power_w > 1 W)", None),
    ],
)
def test_kleene_logic_decides_without_the_missing_fact_when_it_can(text: str, value: bool | None) -> None:
    c = condition(text)
    assert c.test(FACTS) is value
    assert c.explain(FACTS).value is value


def test_short_circuit_keeps_the_explanation() -> None:
    out = condition("env.nvidia_gpu and measured.latency_ms > 1 ms").explain(FACTS)
    assert out.text == "(env.nvidia_gpu → false) and (measured.latency_ms > 1 ms: not evaluated) → false"


def test_division_by_zero_is_an_error() -> None:
    c = condition("measured.latency_ms / constraint.latency_ms > 2")
    facts = {**FACTS, "constraint.latency_ms": 0.0}
    with pytest.raises(EvalError, match="division by zero"):
        c.test(facts)
    out = c.explain(facts)
    assert out.status == "error" and out.error == "division by zero"
    assert out.text.endswith("→ error: division by zero")


def test_type_errors_are_errors() -> None:
    # The checker refuses this statically; the engine must still never read it as false.
    expr = Compare(">", Ref("env", "device", P), Quantity(3.0, "", "dimensionless", P), P)
    c = compile_condition(expr)
    with pytest.raises(EvalError, match="needs numbers, got a text"):
        c.test(FACTS)
    assert c.explain(FACTS).status == "error"
    mixed = compile_condition(Compare("==", Ref("env", "nvidia_gpu", P), String("yes", P), P))
    assert mixed.explain(FACTS).error == "'==' compares a flag with a text"


def test_a_non_flag_condition_is_an_error() -> None:
    c = compile_condition(Ref("measured", "latency_ms", P))
    with pytest.raises(EvalError, match="must be true or false"):
        c.test(FACTS)


def test_equality_tolerates_unit_conversion_noise() -> None:
    assert condition("measured.latency_ms == 0.12 s").test(FACTS) is True


def test_fact_paths_lists_every_reference_once() -> None:
    c = condition(
        "measured.latency_ms > constraint.latency_ms and (env.nvidia_gpu or measured.latency_ms > 1 ms)"
    )
    assert fact_paths(c.expr) == ("measured.latency_ms", "constraint.latency_ms", "env.nvidia_gpu")
