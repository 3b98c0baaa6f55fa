"""Semantic checks and lints: codes for unknown names, units, duplicates, ranges, logic."""

from __future__ import annotations

import pytest
from rules_helpers import HEADER, codes_of, errors_of, warnings_of

from mcm.rules import ast, load_text, logic
from mcm.rules.errors import Reporter
from mcm.rules.exprs import ExprChecker

TECHNIQUE = "technique t {\n  stage compile\n  effect latency_ms /= 2\n}\n"
SCENARIO = "scenario s {\n  require latency_ms < 50 ms\n  require model_size_mb < 20 MB\n  prefer accuracy >= 0.90\n}\n"


def table(*rules: str, policy: str = "first", otherwise: str = "") -> str:
    body = "".join(f'  rule r{i}: when {c} then recommend t because "r{i}"\n' for i, c in enumerate(rules))
    tail = f'  otherwise recommend none because "{otherwise}"\n' if otherwise else ""
    return HEADER + TECHNIQUE + SCENARIO + f"decide for s policy {policy} {{\n{body}{tail}}}\n"


def condition(text: str) -> ast.Expr:
    """A parsed, type-checked condition."""
    parsed = load_text(HEADER + f"technique x {{\n  effect latency_ms /= 2\n  requires {text}\n}}\n")
    return parsed.techniques["x"].requires[0].condition


def test_reference_step_three_is_expressible() -> None:
    ruleset = load_text(
        table(
            "measured.latency_ms > 2 * constraint.latency_ms",
            "measured.model_size_mb > 2 * constraint.model_size_mb",
            "baseline.accuracy - measured.accuracy > 3 pp",
            "measured.accuracy_drop > 3 pp",
        )
    )
    assert len(ruleset.decisions["s"].rules) == 4


@pytest.mark.parametrize(
    "text",
    [
        "measured.latency_ms > 5 ms and measured.latency_ms < 3 ms",
        "measured.latency_ms == 3 ms and measured.latency_ms == 4 ms",
        "measured.latency_ms >= 5 ms and measured.latency_ms < 5000 us",
        'env.runtime == "tensorrt" and env.runtime == "onnxruntime"',
        "env.nvidia_gpu and not env.nvidia_gpu",
        "env.nvidia_gpu == true and env.nvidia_gpu != true",
        "measured.latency_ms > constraint.latency_ms and not (measured.latency_ms > constraint.latency_ms)",
        "(measured.fps > 30 fps or measured.fps < 10 fps) and measured.fps == 20 fps",
        "1 > 2",
        "false",
    ],
)
def test_contradictions(text: str) -> None:
    assert codes_of(table(text)) == ["E051"]


@pytest.mark.parametrize(
    "text",
    [
        "measured.latency_ms > 5 ms or measured.latency_ms < 3 ms",
        "measured.latency_ms >= 5 ms and measured.latency_ms <= 5000 us",
        "measured.latency_ms > constraint.latency_ms and measured.memory_mb > constraint.model_size_mb",
        'env.runtime != "tensorrt" and env.runtime != "onnxruntime"',
    ],
)
def test_satisfiable_conditions_pass(text: str) -> None:
    assert not logic.unsatisfiable(condition(text))


@pytest.mark.parametrize(
    "rules",
    [
        ("true", "measured.latency_ms > 10 ms"),
        (
            "measured.latency_ms > 2 * constraint.latency_ms",
            "measured.latency_ms   >   2*constraint.latency_ms",
        ),
        ("measured.latency_ms > 5 ms", "measured.latency_ms > 10 ms"),
        ("measured.fps > 30 fps", "measured.fps <= 30 fps", "env.nvidia_gpu"),
        ("env.nvidia_gpu", "env.nvidia_gpu and measured.latency_ms > 10 ms"),
    ],
)
def test_unreachable_under_first(rules: tuple[str, ...]) -> None:
    errors = errors_of(table(*rules))
    assert [e.code for e in errors] == ["E050"]
    assert errors[0].message.startswith(f"rule 'r{len(rules) - 1}' is never reached")


def test_reachable_under_collect_and_in_order() -> None:
    load_text(table("true", "measured.latency_ms > 10 ms", policy="collect"))
    load_text(table("measured.latency_ms > 10 ms", "measured.latency_ms > 5 ms"))


def test_otherwise_never_reached() -> None:
    text = table("measured.fps > 30 fps", "measured.fps <= 30 fps", otherwise="never")
    assert warnings_of(text) == ["W002"]


def test_warnings() -> None:
    text = (
        HEADER
        + TECHNIQUE
        + (
            "technique idle {\n}\n"
            "scenario s {\n  ignore latency_ms\n  require latency_ms > 5 ms\n}\n"
            "decide for s policy first {\n"
            '  rule r: when measured.memory_mb > constraint.memory_mb and env.runtime == "onnxrutime"\n'
            '    then recommend t because "x"\n}\n'
        )
    )
    assert sorted(warnings_of(text)) == ["W001", "W003", "W004", "W005", "W006", "W007", "W009"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("technique u {\n  effect latency_ms *= 2 ms\n}\n", "E031"),
        ("technique u {\n  effect bleu -= 1 pp\n}\n", "E031"),
        ("technique u {\n  effect accuracy -= 1 pp .. 2 %\n}\n", "E031"),
        ("technique u {\n  effect latency_ms -= 5\n}\n", "E032"),
        ("technique u {\n  effect latency_ms -= 100 %\n}\n", "E036"),
        ("technique u {\n  effect latency_ms /= 0\n}\n", "E036"),
        ("technique u {\n  effect latency_ms /= 2\n  effect latency_ms /= 3\n}\n", "E040"),
        ("technique u {\n  effect latency_ms /= 2\n  difficulty 2\n  difficulty 3\n}\n", "E040"),
        ("technique u {\n  effect latency_ms /= 2\n  rating 2.5\n}\n", "E036"),
        ("technique u {\n  effect nothing /= 2\n}\n", "E033"),
        ("scenario u {\n  core latency_ms\n  secondary latency_ms\n}\n", "E040"),
        ("scenario u {\n  require fps > 15 fps\n  prefer fps > 20 fps\n}\n", "E040"),
        ("scenario u {\n  require throughput_qps > 500 fps\n}\n", "E031"),
        ("scenario u {\n  expect latency_ms in 80 .. 30 ms\n}\n", "E044"),
        ("scenario u {\n  stack int8\n}\n", "E041"),
        ("technique u {\n  effect latency_ms /= 2\n  requires env.runtime == 5\n}\n", "E037"),
        ('technique u {\n  effect latency_ms /= 2\n  requires "a" < "b"\n}\n', "E037"),
        ("technique u {\n  effect latency_ms /= 2\n  requires not measured.fps\n}\n", "E037"),
        (
            "technique u {\n  effect latency_ms /= 2\n  requires measured.latency_ms * measured.fps > 1 ms\n}\n",
            "E038",
        ),
        ("technique u {\n  effect latency_ms /= 2\n  requires measured.latency_ms + 5 > 1 ms\n}\n", "E032"),
        ("technique u {\n  effect latency_ms /= 2\n  requires data.calibration_samples > 10 ms\n}\n", "E038"),
        ("technique u {\n  effect latency_ms /= 2\n  requires measured.accuracy >= 90\n}\n", "E036"),
        ("technique u {\n  effect latency_ms /= 2\n  requires data.training > 1\n}\n", "E037"),
        ('test "x" for s {\n  given env.nvidia_gpu = 1\n}\n', "E037"),
        ('test "x" for s {\n  given data.training_samples = 5 ms\n}\n', "E031"),
        ('test "x" for s {\n  given measured.fps = 5 fps, measured.fps = 6 fps\n}\n', "E040"),
        ('test "x" for s {\n  given measured.accuracy = 94.5\n}\n', "E036"),
        ('test "x" for nowhere {\n  expect recommend none\n}\n', "E042"),
        ('test "x" for s {\n  expect recommend int8\n}\n', "E041"),
        ('decide other for s policy first {\n  otherwise recommend nothing because "x"\n}\n', "E041"),
    ],
)
def test_error_codes(body: str, code: str) -> None:
    text = (
        HEADER
        + TECHNIQUE
        + SCENARIO
        + 'decide for s policy first {\n  otherwise recommend t because "x"\n}\n'
    )
    errors = errors_of(text + body)
    assert [e.code for e in errors] == [code], [e.render() for e in errors]
    assert all(e.hint for e in errors)


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = HEADER + "scenario s {\n  core latncy_ms, memry_mb\n  require power_w < 1 MB\n}\n"
    assert codes_of(text) == ["E033", "E033", "E031"]


def test_test_takes_the_only_table_of_its_file() -> None:
    text = (
        table("measured.latency_ms > 10 ms")
        + 'test "slow" {\n  given measured.latency_ms = 20 ms\n  expect recommend t via r0\n}\n'
    )
    (test,) = load_text(text).tests
    assert test.target is not None and test.target.name == "s"


def test_checker_works_without_a_scenario() -> None:
    reporter = Reporter()
    checker = ExprChecker(reporter)
    assert checker.condition(condition("measured.latency_ms > constraint.latency_ms"))
    assert reporter.diagnostics == []
