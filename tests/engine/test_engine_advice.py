"""Advice an expert would sign (issue #12): the headline says why a recommended technique is not in plan 1 and
which fact to give; a given fact that no rule reads is a warning."""

from __future__ import annotations

from pathlib import Path

from engine_helpers import rules

from mcm.advisor import Advisor
from mcm.engine.messages import Message
from mcm.present.messages import render

SHIPPED = Path(__file__).resolve().parents[2] / "rules"
ARCH_REASON = "a new architecture is trained (or distilled) from scratch"


def test_a_recommendation_left_out_of_plan_1_says_why_and_which_fact_to_give() -> None:
    measured = {"model_size_mb": 14, "memory_mb": 300, "power_w": 2}
    d = Advisor.from_files(SHIPPED).advise("iot", measured=measured)
    assert set(d.recommended) == {"lightweight_arch", "int8_static"}
    assert d.top_plan is not None and "lightweight_arch" not in d.top_plan.techniques
    assert "int8_static" in d.top_plan.techniques
    assert not d._memo  # nothing explained until asked
    assert set(d.left_out) == {"lightweight_arch"}
    note = d.left_out["lightweight_arch"]
    assert note == (
        f"not in plan 1: unknown: fact data.training not given ({ARCH_REASON}); give --data training=true"
    )
    assert isinstance(note, Message) and render(note, "zh").startswith("未列入方案 1：")
    assert "--data training=true" in render(note, "zh")
    recommendations = {r["technique"]: r for r in d.to_dict()["recommendations"]}  # type: ignore[attr-defined]
    assert recommendations["lightweight_arch"]["left_out"] == note
    assert recommendations["int8_static"]["left_out"] is None


def test_a_recommendation_in_plan_1_has_no_note_and_an_unknown_gpu_asks_for_it() -> None:
    advisor = Advisor.from_files(SHIPPED)
    measured = {"latency_ms": "120 ms", "model_size_mb": "98 MB", "accuracy": 0.945}
    limits = ["latency_ms < 50 ms", "model_size_mb < 20 MB", "accuracy >= 0.90"]
    d = advisor.advise("general", measured=measured, constraints=limits, env={"onnxruntime_available": True})
    top = d.top_plan
    assert top is not None
    assert "tensorrt" in d.recommended and "tensorrt" not in top.techniques
    assert d.left_out["tensorrt"].endswith("; give --env nvidia_gpu=true")
    for rec in d.to_dict()["recommendations"]:  # type: ignore[attr-defined]
        assert (rec["left_out"] is None) == (rec["technique"] in top.techniques), rec
    assert set(d.left_out) == set(d.recommended) - set(top.techniques)


def test_the_fact_to_give_is_the_value_that_meets_the_requirement() -> None:
    advisor = rules(
        'scenario s "s" { core latency_ms\n require latency_ms < 10 ms }\n'
        'technique cpu_only "C" { effect latency_ms /= 2x\n requires not env.nvidia_gpu }\n'
        'technique arm "A" { effect latency_ms /= 2x\n requires env.cpu_arch == "arm64" }\n'
        'technique big "B" { effect latency_ms /= 2x\n requires data.calibration_samples > 100 }\n'
        'technique meh "M" { effect latency_ms /= 1.1x }\n'
        "decide for s policy collect {\n"
        '  rule r: when measured.latency_ms > 1 ms then recommend cpu_only, arm, big because "x" }\n'
    )
    d = advisor.advise(measured={"latency_ms": 100})
    notes = {k: v.split("; give ")[-1] for k, v in d.left_out.items()}
    assert notes == {
        "cpu_only": "--env nvidia_gpu=false",
        "arm": "--env cpu_arch=arm64",
        "big": "--data calibration_samples=NUMBER",
    }
    given = advisor.advise(measured={"latency_ms": 100}, env={"nvidia_gpu": True})
    assert "cpu_only" not in given.recommended  # refused: not recommended, so no headline note


# ---- facts nothing reads


def test_a_given_fact_that_no_rule_reads_is_a_warning() -> None:
    advisor = Advisor.from_files(SHIPPED)
    measured = {"model_size_mb": 30, "latency_ms": 90, "power_w": 1.5}
    env, data = {"threads": 4, "device": "cpu"}, {"labels": True}
    d = advisor.advise("mobile", measured=measured, env=env, data=data)
    unread = [w for w in d.warnings if getattr(w, "id", "") == "engine.unread_fact"]
    assert unread == [
        "env.threads is read by no rule of these rules: giving it changes nothing",
        "data.labels is read by no rule of these rules: giving it changes nothing",
    ]
    assert render(unread[0], "zh").startswith("env.threads")
    quiet = advisor.advise("mobile", measured=measured, env={"device": "cpu", "nvidia_gpu": False})
    assert not [w for w in quiet.warnings if "read by no rule" in w]


def test_a_fact_a_measurement_established_is_used_but_never_warned_about() -> None:
    """``mcm advise --model``, the TUI and optimize pass the facts of the machine they measured (cpu_avx2, ...)
    as ``detected``: the user did not give them, so "giving it changes nothing" would be wrong; what the user
    gives wins."""
    advisor = Advisor.from_files(SHIPPED)
    measured = {"model_size_mb": 30, "latency_ms": 90, "power_w": 1.5}
    d = advisor.advise(
        "mobile", measured=measured, detected={"cpu_avx2": True, "device": "gpu"}, env={"device": "cpu"}
    )
    assert not [w for w in d.warnings if "read by no rule" in w]
    assert (d.facts.env["cpu_avx2"], d.facts.env["device"]) == (True, "cpu")
    assert d.facts.detected == frozenset({"env.cpu_avx2"})
    typed = advisor.advise("mobile", measured=measured, env={"cpu_avx2": True})
    assert [w for w in typed.warnings if "read by no rule" in w] == [
        "env.cpu_avx2 is read by no rule of these rules: giving it changes nothing"
    ]


def test_a_fact_read_only_by_a_decision_table_is_read() -> None:
    advisor = rules(
        'scenario s "s" { core latency_ms }\n'
        'technique t "T" { effect latency_ms /= 2x }\n'
        "decide for s policy first {\n"
        '  rule r: when env.batch_size > 8 then recommend t because "x"\n'
        '  otherwise recommend none because "y" }\n'
    )
    d = advisor.advise(measured={"latency_ms": 100}, env={"batch_size": 16, "threads": 2})
    assert [w for w in d.warnings if "read by no rule" in w] == [
        "env.threads is read by no rule of these rules: giving it changes nothing"
    ]
