"""Facts from user input: units, aliases, derived facts, constraints and their error messages."""

from __future__ import annotations

import pytest
from engine_helpers import rules

from mcm.engine.facts import Facts, Limit, make_facts, parse_constraint, parse_constraints
from mcm.exceptions import FactsError, McmError


def test_units_are_converted_to_canonical_values() -> None:
    facts = make_facts(
        None,
        measured={"latency": "0.12 s", "model_size_mb": "98 MB", "accuracy": "94.5 %", "memory_mb": "1 GB"},
        env={"nvidia_gpu": "yes", "threads": 4},
        data={"calibration": True},
    )
    assert facts.measured["latency_ms"] == pytest.approx(120.0)
    assert facts.measured["accuracy"] == pytest.approx(0.945)
    assert facts.measured["memory_mb"] == 1024.0
    assert facts.env == {"nvidia_gpu": True, "threads": 4.0}
    assert facts.flat["data.calibration"] is True


def test_baseline_defaults_to_measured_and_the_drop_is_derived() -> None:
    facts = make_facts(None, measured={"accuracy": 0.93, "latency_ms": 80}, baseline={"accuracy": "94.5 %"})
    assert facts.baseline["latency_ms"] == 80.0
    assert facts.baseline["accuracy"] == pytest.approx(0.945)
    assert facts.measured["accuracy_drop"] == pytest.approx(0.015)
    assert facts.derived == ("baseline.latency_ms", "measured.accuracy_drop")


def test_energy_gives_inferences_per_joule() -> None:
    facts = make_facts(None, measured={"energy_mj": "50 mJ"})
    assert facts.measured["inferences_per_joule"] == pytest.approx(20.0)
    assert "measured.inferences_per_joule" in facts.derived


def test_fps_is_not_derived_from_latency() -> None:
    assert "fps" not in make_facts(None, measured={"latency_ms": 20}).measured


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latency_ms<50ms", Limit("latency_ms", "<", 50.0)),
        ("latency_ms < 50 ms", Limit("latency_ms", "<", 50.0)),
        ("constraint.model_size_mb <= 20 MB", Limit("model_size_mb", "<=", 20.0)),
        ("accuracy>=90%", Limit("accuracy", ">=", 0.9)),
        ("prefer accuracy >= 0.9", Limit("accuracy", ">=", 0.9, hard=False)),
        ("p99 < 0.1 s", Limit("latency_p99_ms", "<", 100.0)),
    ],
)
def test_constraint_strings(text: str, expected: Limit) -> None:
    got = parse_constraint(text)
    assert (got.metric, got.op, got.hard) == (expected.metric, expected.op, expected.hard)
    assert got.value == pytest.approx(expected.value)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("latncy_ms < 50 ms", "unknown metric", "latency_ms"),
        ("latency_ms =< 50 ms", "not a constraint operator", "<="),
        ("latency_ms == 50 ms", "not a constraint operator", "<, <=, > or >="),
        ("latency_ms 50 ms", "no comparison", "latency_ms<=12"),
        ("latency_ms < 50 parsecs", "unknown unit", None),
        ("latency_ms < 50 MB", "does not fit", "accepts"),
        ("accuracy >= 94.5", "between 0 and 1", "90 %"),
        ("latency_ms < fast", "not a number", None),
        ("< 50 ms", "not a constraint", None),
    ],
)
def test_bad_constraints_explain_themselves(text: str, message: str, hint: str | None) -> None:
    with pytest.raises(FactsError) as caught:
        parse_constraint(text)
    assert message in str(caught.value)
    if hint is not None:
        assert caught.value.hint is not None and hint in caught.value.hint
    assert isinstance(caught.value, McmError)


def test_the_reference_step1_dict_is_a_constraint_mapping() -> None:
    limits = parse_constraints({"latency_ms": 50, "model_size_mb": 20, "accuracy_min": 0.90})
    assert [(lim.metric, lim.op, lim.value) for lim in limits] == [
        ("latency_ms", "<=", 50.0),
        ("model_size_mb", "<=", 20.0),
        ("accuracy", ">=", 0.9),
    ]


def test_user_constraints_override_the_scenarios() -> None:
    advisor = rules(
        'scenario s "s" { core latency_ms\n require latency_ms < 100 ms\n require model_size_mb < 10 MB }\n'
    )
    scenario = advisor.ruleset.scenarios["s"]
    facts = make_facts(scenario, constraints=["latency_ms < 50 ms", "power_w < 2 W"])
    assert [(lim.metric, lim.value, lim.source) for lim in facts.limits] == [
        ("latency_ms", 50.0, "user"),
        ("model_size_mb", 10.0, "scenario"),
        ("power_w", 2.0, "user"),
    ]
    assert facts.flat["constraint.latency_ms"] == 50.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measured": {"latncy_ms": 5}}, "unknown metric 'measured.latncy_ms'"),
        ({"measured": {"latency_ms": True}}, "expected a number"),
        ({"measured": {"latency_ms": -1}}, "at least 0"),
        ({"measured": {"latency": 1, "latency_ms": 2}}, "given twice"),
        ({"env": {"nvidia": True}}, "unknown fact 'env.nvidia'"),
        ({"env": {"nvidia_gpu": "maybe"}}, "expected true or false"),
        ({"env": {"threads": "many"}}, "not a number"),
        ({"data": {"calibration": 1.5}}, "expected true or false"),
        ({"constraints": "latency_ms<5ms"}, "list of strings"),
        ({"constraints": ["latency_ms<5ms", "latency<6ms"]}, "two constraints"),
    ],
)
def test_bad_facts_are_facts_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FactsError, match=message):
        make_facts(None, **kwargs)  # type: ignore[arg-type]


def test_unknown_env_fact_suggests_a_name() -> None:
    with pytest.raises(FactsError) as caught:
        make_facts(None, env={"nvidia_gpus": True})
    assert caught.value.hint == "did you mean 'nvidia_gpu'?"


def test_unknown_text_value_is_a_warning() -> None:
    facts = make_facts(None, env={"device": "toaster"})
    assert facts.warnings and "toaster" in facts.warnings[0]


def test_constraint_on_the_better_side_is_a_warning() -> None:
    facts = make_facts(None, constraints=["latency_ms > 5 ms"])
    assert "bounds the better side" in facts.warnings[0]


def test_facts_are_immutable() -> None:
    facts = Facts.of(measured={"latency_ms": 1})
    with pytest.raises(TypeError):
        facts.measured["latency_ms"] = 2.0  # type: ignore[index]
    assert facts.measured["latency_ms"] == 1.0 and type(facts.measured["latency_ms"]) is float


def test_limit_comparisons_ignore_float_noise() -> None:
    assert Limit("accuracy", ">=", 0.895).holds(0.945 - 0.05)
    assert not Limit("model_size_mb", "<", 24.5).holds(24.5)
