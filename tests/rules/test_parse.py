"""Text → AST: canonical numbers, effects as factor or shift ranges, positions on every node."""

from __future__ import annotations

import pytest
from rules_helpers import GOOD, HEADER, walk

from mcm.rules import ast, load_rules, parse_text


@pytest.fixture(scope="module")
def ruleset() -> ast.RuleSet:
    return load_rules(GOOD / "complete.rules")


def _effect(ruleset: ast.RuleSet, technique: str, metric: str) -> tuple[str, float, float]:
    effect = ruleset.techniques[technique].effect(metric)
    assert effect is not None
    return effect.kind, effect.low, effect.high


def test_effects_are_canonical_ranges(ruleset: ast.RuleSet) -> None:
    assert _effect(ruleset, "int8_static", "latency_ms") == ("scale", 0.25, 0.5)
    assert _effect(ruleset, "int8_static", "throughput_qps") == ("scale", 2.0, 4.0)
    assert _effect(ruleset, "int8_static", "model_size_mb") == ("scale", 0.25, 0.25)
    assert _effect(ruleset, "int8_static", "accuracy") == ("shift", -0.02, -0.01)
    assert _effect(ruleset, "int8_static", "power_w") == pytest.approx(("scale", 0.6, 0.8))
    assert _effect(ruleset, "fp16", "accuracy") == ("shift", 0.0, 0.0)


def test_caveats_requirements_excludes(ruleset: ast.RuleSet) -> None:
    int8 = ruleset.techniques["int8_static"]
    assert (int8.difficulty, int8.rating) == (2, 5)
    assert [i.name for i in int8.excludes] == ["int8_dynamic", "fp16"]
    assert int8.requires[0].reason == "static INT8 needs a calibration set"
    assert int8.requires[0].condition == ast.Ref("data", "calibration", ast.Pos("elsewhere", 9, 9))
    (caveat,) = int8.caveats
    assert caveat.reason == "without VNNI fewer kernels are INT8"
    assert [(e.metric, e.kind, e.low, e.high) for e in caveat.effects] == [
        ("latency_ms", "scale", 0.4, 1 / 1.5)
    ]


def test_scenario(ruleset: ast.RuleSet) -> None:
    mobile = ruleset.scenarios["mobile"]
    assert mobile.label == "手机APP / mobile app"
    assert [i.name for i in mobile.core] == ["model_size_mb", "power_w", "latency_ms"]
    size = mobile.constraint("model_size_mb")
    assert size is not None and (size.op, size.value.value, size.hard) == ("<", 10.0, True)
    accuracy = mobile.constraint("accuracy")
    assert accuracy is not None and (accuracy.value.value, accuracy.hard) == (0.85, False)
    assert [(e.metric, e.low, e.high) for e in mobile.expected] == [
        ("accuracy", 0.85, 0.9),  # "85 .. 90 %": the unit applies to both ends
        ("latency_ms", 30.0, 80.0),
        ("model_size_mb", 3.0, 8.0),
    ]
    assert [(s.technique, s.text) for s in mobile.stack] == [
        (None, "MobileNetV3 / EfficientNet-Lite"),
        ("int8_static", None),
        (None, "TFLite / PyTorch Mobile"),
    ]


def test_decisions_and_tests(ruleset: ast.RuleSet) -> None:
    assert [(d.name, d.scenario.name, d.policy) for d in ruleset.decisions_for("mobile")] == [
        ("mobile", "mobile", "first"),
        ("faq", "mobile", "collect"),
    ]
    first = ruleset.decisions["mobile"]
    assert [r.name for r in first.rules] == ["latency_far_over", "size_far_over", "accuracy_lost"]
    assert first.otherwise is not None and first.otherwise.recommend == ()
    assert [i.name for i in ruleset.decisions["faq"].rules[0].recommend] == ["tensorrt", "int8_static"]
    collected = next(t for t in ruleset.tests if t.name == "slow and large, collected")
    assert collected.target is not None and collected.target.name == "faq"
    values = {g.ref.path: g.value for g in collected.givens}
    assert values["measured.latency_ms"] == ast.Quantity(300.0, "s", "time", ast.Pos("x", 1, 1))
    power = values["measured.power_w"]
    assert isinstance(power, ast.Quantity) and power.value == 1.5
    assert [(tuple(i.name for i in e.recommend), e.via and e.via.name) for e in collected.expects] == [
        (("tensorrt", "int8_static"), "slow"),
        (("int8_static", "distillation"), "large"),
    ]


def test_condition_shape(ruleset: ast.RuleSet) -> None:
    condition = ruleset.decisions["mobile"].rules[0].condition
    assert isinstance(condition, ast.BoolOp) and condition.op == "and"
    compare, gpu = condition.operands
    assert gpu == ast.Ref("env", "nvidia_gpu", ast.Pos("x", 1, 1))
    assert isinstance(compare, ast.Compare) and compare.op == ">"
    assert compare.right == ast.Arith(
        "*",
        ast.Quantity(2.0, "", "dimensionless", ast.Pos("x", 1, 1)),
        ast.Ref("constraint", "latency_ms", ast.Pos("x", 1, 1)),
        ast.Pos("x", 1, 1),
    )


def test_every_node_has_a_position(ruleset: ast.RuleSet) -> None:
    lines = {f.path: (GOOD / f.path.rsplit("/", 1)[-1]).read_text().count("\n") for f in ruleset.files}
    count = 0
    for rules_file in ruleset.files:
        for node in walk(rules_file):
            if isinstance(node, ast.Pos):
                continue
            pos = node.pos
            assert isinstance(pos, ast.Pos) and pos.file == rules_file.path, node
            assert 1 <= pos.line <= lines[pos.file] and pos.col >= 1, node
            count += 1
    assert count > 250


def test_precedence() -> None:
    text = HEADER + "technique t {\n requires not env.npu or env.nvidia_gpu and 1 + 2 * 3 ms > 6 ms\n}\n"
    condition = parse_text(text).techniques[0].requires[0].condition
    assert isinstance(condition, ast.BoolOp) and condition.op == "or"
    negated, conjunction = condition.operands
    assert isinstance(negated, ast.Not) and isinstance(conjunction, ast.BoolOp) and conjunction.op == "and"
    compare = conjunction.operands[1]
    assert isinstance(compare, ast.Compare) and isinstance(compare.left, ast.Arith) and compare.left.op == "+"


def test_parse_does_not_resolve_names() -> None:
    rules_file = parse_text(HEADER + "scenario s { core no_such_metric }\n")
    assert rules_file.scenarios[0].core[0].name == "no_such_metric"
