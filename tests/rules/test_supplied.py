"""The statements that place techniques and supply facts: ``stage``, ``acts_on``, ``assume`` and ``derive``."""

from __future__ import annotations

import pytest
from rules_helpers import HEADER, errors_of

from mcm.rules import ast, load_text
from mcm.rules.writer import block_texts

TECHNIQUE = "technique t {\n  stage quantization\n  acts_on onnx\n  effect latency_ms /= 2\n}\n"
SUPPLIED = (
    'derive env.device = "gpu" when env.nvidia_gpu because "an NVIDIA GPU is the target"\n'
    'assume data.calibration = true because "most users have a few hundred inputs"\n'
)


def test_stage_form_assumption_and_derivation_are_read() -> None:
    ruleset = load_text(HEADER + SUPPLIED + TECHNIQUE, "t.rules")
    t = ruleset.techniques["t"]
    assert (t.stage and t.stage.name, t.acts_on and t.acts_on.name) == ("quantization", "onnx")
    (derivation,) = ruleset.derivations
    assert derivation.fact.ref.path == "env.device"
    assert derivation.fact.value == ast.String("gpu", derivation.pos)
    assert isinstance(derivation.condition, ast.Ref) and derivation.condition.path == "env.nvidia_gpu"
    assumption = ruleset.assumptions["data.calibration"]
    assert assumption.fact.value == ast.Boolean(True, assumption.pos)
    assert assumption.reason == "most users have a few hundred inputs"
    assert not ruleset.warnings


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("technique u {\n  stage quantisation\n  effect latency_ms /= 2\n}\n", "E048", (2, 9)),
        ("technique u {\n  stage compile\n  acts_on tflite\n  effect latency_ms /= 2\n}\n", "E048", (3, 11)),
        ("technique u {\n  stage compile\n  stage pruning\n  effect latency_ms /= 2\n}\n", "E040", (3, 9)),
        ('assume measured.latency_ms = 5 ms because "x"\n', "E049", (1, 8)),
        ('assume data.calibration = "yes" because "x"\n', "E037", (1, 27)),
        (
            'assume env.nvidia_gpu = true because "x"\nassume env.nvidia_gpu = false because "y"\n',
            "E040",
            (2, 8),
        ),
        ('derive env.device = "gpu" when env.nvidia_gpu > 2 because "x"\n', "E037", (1, 32)),
        ("assume data.calibration = true\n", "E012", (1, 31)),
    ],
)
def test_bad_statements_are_located(text: str, code: str, where: tuple[int, int]) -> None:
    (error, *_) = errors_of(HEADER + text)
    assert (error.code, (error.line - 1, error.col)) == (code, where), error.render()


COMBINED = (
    "technique q {\n  stage quantization\n  effect latency_ms /= 2\n}\n"
    "technique c {\n  stage compile\n  effect latency_ms /= 3\n"
    '  with q because "one engine" {\n    effect latency_ms /= 4 .. 8\n  }\n}\n'
)


def test_a_combination_is_read_with_its_effects() -> None:
    (combination,) = load_text(HEADER + COMBINED, "t.rules").techniques["c"].combinations
    assert (combination.technique.name, combination.reason) == ("q", "one engine")
    assert [(e.metric, e.kind, e.low, e.high) for e in combination.effects] == [
        ("latency_ms", "scale", 0.125, 0.25)
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (COMBINED.replace("with q", "with c"), "E052"),  # itself: the same stage
        (COMBINED.replace("stage quantization", "stage compile"), "E052"),  # same stage
        (COMBINED.replace("with q", "with z"), "E041"),
        (COMBINED.replace("  }\n}\n", "  }\n  with q {\n  }\n}\n"), "E040"),
    ],
)
def test_a_combination_that_never_applies_is_an_error(text: str, code: str) -> None:
    assert [e.code for e in errors_of(HEADER + text)] == [code]


def test_unknown_stage_hints_the_nearest() -> None:
    (error,) = errors_of(HEADER + "technique u {\n  stage quantisation\n  effect latency_ms /= 2\n}\n")
    assert "quantization" in (error.hint or "")


def test_a_technique_without_a_stage_warns() -> None:
    ruleset = load_text(HEADER + "technique u {\n  effect latency_ms /= 2\n}\n", "t.rules")
    assert [w.code for w in ruleset.warnings] == ["W009"]


def test_the_writer_copies_statements_verbatim() -> None:
    text = HEADER + SUPPLIED + TECHNIQUE
    ruleset = load_text(text, "t.rules")
    texts = block_texts(text, "t.rules")
    assert texts is not None
    assert texts[ruleset.derivations[0].pos] == SUPPLIED.splitlines()[0]
    assert texts[ruleset.assumptions["data.calibration"].pos] == SUPPLIED.splitlines()[1]
    assert texts[ruleset.techniques["t"].pos] == TECHNIQUE.rstrip("\n")
