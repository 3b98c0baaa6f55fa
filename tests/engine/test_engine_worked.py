"""The reference's worked example end to end: the step-3 answer with and without an NVIDIA GPU, relaxation,
determinism and the JSON form."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from engine_helpers import FIXTURES, WORKED_CONSTRAINTS, WORKED_MEASURED

from mcm.advisor import Advisor
from mcm.engine import SCHEMA, Decision


def advise(advisor: Advisor, constraints: list[str] = WORKED_CONSTRAINTS, **env: bool) -> Decision:
    return advisor.advise(measured=WORKED_MEASURED, constraints=constraints, env=env)


def test_with_an_nvidia_gpu_the_answer_is_tensorrt_via_the_latency_rule(worked: Advisor) -> None:
    d = advise(worked, nvidia_gpu=True)
    assert [(r.technique, r.rule) for r in d.recommendations] == [("tensorrt", "latency_far_over")]
    first = d.trace[0]
    assert (first.rule, first.status) == ("latency_far_over", "fired")
    assert (
        first.explanation == "measured.latency_ms 120 ms > 2 × constraint.latency_ms (50 ms) = 100 ms → true"
    )
    assert first.pos.endswith("worked_example.rules:55:8")
    assert [t.status for t in d.trace[1:]] == ["skipped", "skipped", "skipped"]
    checks = {c.metric: (c.status, round(c.ratio or 0, 6)) for c in d.constraints}
    assert checks == {
        "latency_ms": ("violated", 2.4),
        "model_size_mb": ("violated", 4.9),
        "accuracy": ("met", 1.05),
    }
    # TensorRT compiles the model the other steps made: it runs last, although it is the one recommended
    assert all(p.steps[-1].technique == "tensorrt" for p in d.plans if "tensorrt" in p.techniques)


def test_without_an_nvidia_gpu_the_answer_differs_and_says_why(worked: Advisor) -> None:
    d = advise(worked, nvidia_gpu=False)
    assert [(r.technique, r.rule) for r in d.recommendations] == [("int8_static", "size_far_over")]
    assert [(t.rule, t.status) for t in d.trace][:2] == [
        ("latency_far_over", "inapplicable"),
        ("size_far_over", "fired"),
    ]
    why = next(w for w in d.why_not if w.technique == "tensorrt")
    assert why.reason == "requirement_unmet"
    assert why.message == "requirement unmet: env.nvidia_gpu → false (TensorRT runs on NVIDIA GPUs)"
    assert why.pos is not None and why.pos.endswith("worked_example.rules:15:12")
    assert all("tensorrt" not in p.techniques for p in d.plans)


def test_the_pessimistic_case_is_infeasible_and_the_triangle_binds(worked: Advisor) -> None:
    d = advise(worked, nvidia_gpu=True)
    assert not d.meets_constraints
    assert d.infeasibility is not None
    first = d.infeasibility.options[0]
    assert first.plan == ("distillation",)
    assert [(r.metric, r.constraint, round(r.percent, 1)) for r in first.relax] == [
        ("accuracy", "accuracy >= 89.5 %", -0.6)
    ]
    assert d.infeasibility.triangle == (
        "impossible triangle (accuracy, latency, resources: pick two): all three are held; the smallest "
        "relaxation gives up accuracy, since low latency + low resources makes accuracy drop"
    )


def test_every_relaxation_offered_makes_a_plan_feasible(worked: Advisor) -> None:
    for gpu in (True, False):
        d = advise(worked, nvidia_gpu=gpu)
        assert d.infeasibility is not None and d.infeasibility.options
        for option in d.infeasibility.options:
            relaxed = {c.split()[0]: c for c in WORKED_CONSTRAINTS}
            relaxed.update((r.metric, r.constraint) for r in option.relax)
            again = advise(worked, list(relaxed.values()), nvidia_gpu=gpu)
            assert again.meets_constraints, (gpu, option)
            assert again.top_plan is not None and again.top_plan.feasible


def test_a_feasible_target_meets_the_constraints(worked: Advisor) -> None:
    d = advise(worked, ["latency_ms < 50 ms", "model_size_mb < 30 MB", "accuracy >= 0.90"], nvidia_gpu=True)
    assert d.meets_constraints and d.infeasibility is None
    top = d.top_plan
    assert top is not None and top.feasible and top.techniques == ("int8_static", "tensorrt")
    assert [(c.metric, c.pessimistic) for c in top.constraints] == [
        ("latency_ms", "met"),
        ("model_size_mb", "met"),
        ("accuracy", "met"),
    ]


def test_same_input_same_output() -> None:
    outputs = set()
    for _ in range(2):
        advisor = Advisor.from_files(FIXTURES / "worked_example.rules")  # fresh load and compile each time
        for gpu in (True, False):
            outputs.add((gpu, json.dumps(advise(advisor, nvidia_gpu=gpu).to_dict(), sort_keys=False)))
    assert len(outputs) == 2


def test_same_output_whatever_the_hash_seed() -> None:
    code = (
        "import json, sys\n"
        "from mcm.advisor import Advisor\n"
        f"a = Advisor.from_files({str(FIXTURES / 'shipped_like.rules')!r})\n"
        "m = {'latency_ms': 150, 'model_size_mb': 40, 'power_w': 12, 'memory_mb': 3000, 'accuracy': 0.93}\n"
        "out = [a.advise(s, measured=m, env={'nvidia_gpu': True}, data={'training': True}).to_dict()\n"
        "       for s in a.scenarios]\n"
        "sys.stdout.write(json.dumps(out))\n"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1


def test_the_json_form_is_stable_and_strict(worked: Advisor) -> None:
    data = advise(worked, nvidia_gpu=False).to_dict()
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    assert json.loads(text) == data
    assert data["schema"] == SCHEMA == "mcm.decision/2"
    assert list(data) == [
        "schema",
        "scenario",
        "meets_constraints",
        "facts",
        "constraints",
        "trace",
        "recommendations",
        "plans",
        "why_not",
        "infeasibility",
        "undecided",
        "warnings",
    ]
    plan = data["plans"][0]
    assert list(plan) == [
        "rank",
        "techniques",
        "feasible",
        "feasible_optimistic",
        "core_gain",
        "accuracy_risk",
        "difficulty",
        "constraints",
        "steps",
    ]
    assert set(plan["steps"][0]["predicted"]["latency_ms"]) == {"optimistic", "pessimistic"}
    assert data["facts"]["derived"] == [
        "baseline.accuracy",
        "baseline.latency_ms",
        "baseline.model_size_mb",
        "measured.accuracy_drop",
    ]


def test_the_rules_own_tests_pass_with_full_coverage(worked: Advisor) -> None:
    report = worked.run_tests()
    assert report.passed, [r.failures for r in report.failed]
    assert [r.name for r in report.results][:2] == [
        "slow model on a GPU gets TensorRT",
        "without a GPU the size rule answers",
    ]
    assert report.coverage.percent == 100.0 and report.coverage.total == 3
    assert report.to_dict()["coverage"]["uncovered"] == []
