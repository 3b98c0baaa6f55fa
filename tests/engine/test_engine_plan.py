"""Plans: exclusions, caveats, derived effects, interval arithmetic, ranking, why-not."""

from __future__ import annotations

import math
import random
from pathlib import Path

from engine_helpers import rules

from mcm import metrics
from mcm.advisor import Advisor
from mcm.engine.decision import Decision, Plan
from mcm.engine.techniques import STAGES

QUANT = """
scenario s "s" {
  core latency_ms, model_size_mb
  secondary accuracy
  require latency_ms < 50 ms
  require model_size_mb < 30 MB
}
technique int8 "INT8" {
  effect latency_ms /= 2x .. 4x
  effect model_size_mb /= 4x
  effect accuracy -= 1 pp .. 2 pp
  difficulty 2
  excludes fp16
  caveat when not env.cpu_vnni because "no VNNI" {
    effect latency_ms /= 0.9x .. 2x
  }
}
technique fp16 "FP16" {
  effect latency_ms /= 1.5x .. 2x
  effect model_size_mb /= 2x
  difficulty 1
}
technique prune "pruning" {
  effect latency_ms /= 1.5x .. 2x
  effect model_size_mb /= 2x
  effect accuracy -= 2 pp .. 5 pp
  difficulty 3
  requires data.training because "fine-tuning needs training data"
}
technique ort_graph "graph optimization" {
  effect power_w /= 1.1x
  difficulty 1
}
"""
MEASURED = {"latency_ms": 120.0, "model_size_mb": 98.0, "accuracy": 0.945}


def test_excluded_techniques_never_share_a_plan() -> None:
    d = rules(QUANT).advise(measured=MEASURED, env={"cpu_vnni": True}, data={"training": True})
    assert d.plans
    assert all(not {"int8", "fp16"} <= set(p.techniques) for p in d.plans)
    top = d.top_plan
    assert top is not None and "int8" in top.techniques
    excluded = next(w for w in d.why_not if w.technique == "fp16")
    assert (excluded.reason, excluded.message) == ("excluded", "excluded by int8, which is in the top plan")
    assert excluded.pos == "test.rules:14:12"


def test_a_caveat_replaces_the_effect_and_an_unknown_one_widens_it() -> None:
    # a latency limit far out of reach keeps INT8 in the ranked plans whatever its prediction
    advisor = rules(QUANT.replace("require latency_ms < 50 ms", "require latency_ms < 10 ms"))

    def int8(**env: bool) -> tuple[tuple[float, float], tuple[str, ...]]:
        d = advisor.advise(measured=MEASURED, env=env)
        step = next(s for p in d.plans for s in p.steps if s.technique == "int8")
        return tuple(step.predicted["latency_ms"]), step.caveats  # (optimistic, pessimistic)

    with_vnni, notes = int8(cpu_vnni=True)
    assert with_vnni == (30.0, 60.0) and notes == ()
    without, notes = int8(cpu_vnni=False)
    assert without[0] == 60.0 and math.isclose(without[1], 120 / 0.9)
    assert notes == ("caveat when not env.cpu_vnni applies (no VNNI)",)
    unknown, notes = int8()
    assert unknown[0] == 30.0 and math.isclose(unknown[1], 120 / 0.9)  # the hull of both ranges
    assert notes == ("caveat when not env.cpu_vnni may apply (env.cpu_vnni not given) (no VNNI)",)


def test_throughput_and_fps_scale_inversely_to_latency_when_not_stated() -> None:
    advisor = rules(
        'scenario s "s" { core throughput_qps\n secondary latency_ms\n require throughput_qps > 500 qps }\n'
        'technique t "T" { effect latency_ms /= 2x .. 4x }\n'
    )
    d = advisor.advise(measured={"throughput_qps": 200, "latency_ms": 10, "fps": 20})
    step = d.plans[0].steps[0]
    assert step.predicted["throughput_qps"] == (800.0, 400.0)  # (optimistic, pessimistic): higher is better
    assert step.predicted["latency_ms"] == (2.5, 5.0)


def test_accuracy_drop_follows_accuracy() -> None:
    d = rules(QUANT).advise(measured=MEASURED, baseline={"accuracy": 0.95}, env={"cpu_vnni": True})
    step = d.top_plan.steps[0]  # type: ignore[union-attr]
    acc, drop = step.predicted["accuracy"], step.predicted["accuracy_drop"]
    assert math.isclose(acc.pessimistic, 0.925) and math.isclose(drop.pessimistic, 0.95 - 0.925)
    assert math.isclose(acc.optimistic, 0.935) and math.isclose(drop.optimistic, 0.95 - 0.935)


def test_plans_do_no_more_than_needed() -> None:
    d = rules(QUANT).advise(
        measured=MEASURED, env={"cpu_vnni": True}, data={"training": True}, constraints=["latency_ms < 70 ms"]
    )
    assert d.meets_constraints
    feasible = [p.techniques for p in d.plans if p.feasible]
    assert feasible[0] == ("int8",)
    assert ("prune", "int8") not in feasible  # int8 alone is enough
    for plan in feasible:  # no feasible plan contains another feasible plan
        assert not any(set(other) < set(plan) for other in feasible)


def test_an_already_feasible_model_needs_no_plan() -> None:
    d = rules(QUANT).advise(measured={"latency_ms": 20, "model_size_mb": 10, "accuracy": 0.9})
    assert d.meets_constraints
    assert [p.techniques for p in d.plans] == [()]
    reasons = {w.technique: w.reason for w in d.why_not}
    assert reasons["int8"] == "not_needed" and reasons["prune"] == "requirement_unknown"
    assert d.infeasibility is None


def test_why_not_covers_every_technique_left_out() -> None:
    d = rules(QUANT).advise(measured=MEASURED, env={"cpu_vnni": True})
    top = set(d.top_plan.techniques)  # type: ignore[union-attr]
    assert {w.technique for w in d.why_not} == {"int8", "fp16", "prune", "ort_graph"} - top
    by = {w.technique: w for w in d.why_not}
    assert by["prune"].reason == "requirement_unknown"
    assert by["prune"].message == "unknown: fact data.training not given (fine-tuning needs training data)"
    assert by["ort_graph"].reason == "no_gain"
    assert by["ort_graph"].message.startswith("does not improve any violated or core metric (latency_ms down")


def test_steps_run_in_stage_order_whatever_is_recommended() -> None:
    staged = (
        QUANT.replace("require model_size_mb < 30 MB", "require model_size_mb < 10 MB")
        .replace('technique int8 "INT8" {', 'technique int8 "INT8" {\n  stage quantization')
        .replace('technique prune "pruning" {', 'technique prune "pruning" {\n  stage pruning')
    )
    body = staged + (
        "decide for s policy first {\n"
        '  rule r: when measured.latency_ms > 1 ms then recommend int8 because "quantize first" }\n'
    )
    d = rules(body).advise(measured=MEASURED, env={"cpu_vnni": True}, data={"training": True})
    both = next(p for p in d.plans if set(p.techniques) == {"int8", "prune"})
    assert both.techniques == ("prune", "int8")  # pruning's stage comes first, recommended or not
    assert [s.stage for s in both.steps] == ["pruning", "quantization"]
    assert both.steps[1].recommended and not both.steps[0].recommended
    plain = rules(staged)
    d = plain.advise(measured=MEASURED, env={"cpu_vnni": True}, data={"training": True})
    assert next(p for p in d.plans if set(p.techniques) == {"int8", "prune"}).techniques == ("prune", "int8")


#: TensorRT, static INT8 and structured pruning all recommended, TensorRT first: no plan may run in that order.
STAGED = """
scenario s "s" {
  core latency_ms, model_size_mb
  require latency_ms < 5 ms
  require model_size_mb < 5 MB
}
technique tensorrt "TensorRT" {
  stage compile
  effect latency_ms /= 2x .. 5x
  difficulty 2
  requires env.nvidia_gpu
}
technique int8_static "INT8" {
  stage quantization
  effect latency_ms /= 1.5x .. 3x
  effect model_size_mb /= 4x
  difficulty 2
  requires data.calibration
}
technique structured_pruning "pruning" {
  stage pruning
  effect latency_ms /= 1.2x .. 2x
  effect model_size_mb /= 1.4x .. 2x
  difficulty 3
  requires data.training
}
technique ort_graph_opt "graph optimization" {
  stage compile
  effect latency_ms /= 1.1x .. 1.3x
  difficulty 1
}
decide for s policy collect {
  rule slow: when measured.latency_ms > constraint.latency_ms then recommend tensorrt, int8_static
    because "compile and quantize"
  rule big: when measured.model_size_mb > constraint.model_size_mb then recommend structured_pruning
    because "remove channels"
}
"""


def test_every_plan_runs_in_stage_order_with_its_recommended_steps() -> None:
    advisor = Advisor(rules(STAGED).ruleset, max_plans=50)
    d = advisor.advise(
        measured={"latency_ms": 120.0, "model_size_mb": 98.0},
        env={"nvidia_gpu": True},
        data={"calibration": True, "training": True},
    )
    assert d.recommended == ("tensorrt", "int8_static", "structured_pruning")
    assert any(len(p.techniques) == 3 for p in d.plans)
    for plan in d.plans:
        stages = [STAGES.index(s.stage) for s in plan.steps]
        assert stages == sorted(stages), plan.techniques
    full = next(p for p in d.plans if len(p.techniques) == 3 and "tensorrt" in p.techniques)
    assert full.techniques == ("structured_pruning", "int8_static", "tensorrt")
    # recommended techniques still rank first: the unrecommended graph optimization is in no plan before them
    assert "ort_graph_opt" not in d.top_plan.techniques  # type: ignore[union-attr]


def test_soft_preferences_rank_after_hard_constraints() -> None:
    def top(prefer: str) -> tuple[tuple[str, ...], bool, str, bool]:
        body = QUANT.replace("require latency_ms < 50 ms", f"require latency_ms < 70 ms\n  prefer {prefer}")
        d = rules(body).advise(measured=MEASURED, env={"cpu_vnni": True}, data={"training": True})
        plan = d.top_plan
        assert plan is not None
        soft = next(c.pessimistic for c in plan.constraints if c.metric == "accuracy")
        return plan.techniques, plan.feasible, soft, d.meets_constraints

    assert top("accuracy >= 92 %") == (("int8",), True, "met", True)
    # FP16 alone keeps 94.5 % but misses the latency limit: hard constraints come first, soft ones are not exit-worthy
    assert top("accuracy >= 94 %") == (("int8",), True, "violated", True)


def test_max_steps_bounds_the_search() -> None:
    tight = rules(QUANT.replace("require model_size_mb < 30 MB", "require model_size_mb < 5 MB"))
    one_step = Advisor(tight.ruleset, max_steps=1)
    plans = one_step.advise(measured=MEASURED, data={"training": True}).plans
    assert plans and all(len(p.techniques) <= 1 for p in plans)
    assert any(len(p.techniques) > 1 for p in tight.advise(measured=MEASURED, data={"training": True}).plans)


def test_many_candidates_are_searched_up_to_the_kernels_width_and_said_so() -> None:
    """70 techniques that each may help: the search takes the first 64 in step order, and says which it left out;
    a node cap that cuts the enumeration short is said too."""
    text = 'scenario s "s" { core latency_ms\n require latency_ms < 1 ms }\n' + "".join(
        f'technique t{k:02} "T{k}" {{ effect latency_ms /= 1.1x }}\n' for k in range(70)
    )
    advisor = rules(text)
    d = advisor.advise(measured={"latency_ms": 100})
    assert d.plans and all(int(t[1:]) < 64 for p in d.plans for t in p.techniques)
    assert any("t64, t65, t66, t67, t68, t69" in str(w) for w in d.warnings), d.warnings
    capped = Advisor(advisor.ruleset, max_nodes=50).advise(measured={"latency_ms": 100})
    assert any("stopped after 50 plans" in str(w) for w in capped.warnings), capped.warnings


# ---- interval arithmetic: rust/src/search.rs (cargo test: ordered, sound, monotone under composition)


# ---- no regression at the top

SHIPPED = Path(__file__).resolve().parents[2] / "rules"
CNN_ON_CPU = {"model_kind": "cnn", "device": "cpu", "onnxruntime_available": True}


def regresses(advisor: Advisor, d: Decision, plan: Plan) -> bool:
    """Whether a step's pessimistic prediction is worse than before it (the measured value, for the first) on a
    metric whose constraint is violated now or on a core metric (accuracy and accuracy_drop are left to the risk
    term and the limits)."""
    assert d.scenario is not None
    watched = {i.name for i in advisor.ruleset.scenarios[d.scenario].core}
    watched |= {c.metric for c in d.constraints if c.status == "violated"}
    watched -= {"accuracy", "accuracy_drop"}
    before = dict(d.facts.measured)
    for step in plan.steps:
        for metric in watched & step.predicted.keys() & before.keys():
            was, now = before[metric], step.predicted[metric].pessimistic
            lower = metrics.METRICS[metric].better == "lower"
            if (now - was if lower else was - now) > abs(was) * 1e-9:
                return True
        before = {m: r.pessimistic for m, r in step.predicted.items()}
    return False


def test_dynamic_int8_on_a_cnn_is_not_the_top_plan_while_latency_matters() -> None:
    """int8_dynamic's caveat makes a CNN 3-5x slower: never plan 1 while latency is core or violated."""
    advisor = Advisor.from_files(SHIPPED)
    cases = [
        ("mobile", {"model_size_mb": 30, "latency_ms": 150, "power_w": 1.5, "accuracy": 0.9}, []),
        ("mobile", {"model_size_mb": 20, "latency_ms": 15, "power_w": 0.3, "accuracy": 0.9}, []),
        (
            "iot",
            {"model_size_mb": 3, "latency_ms": 150, "power_w": 0.5, "memory_mb": 60},
            ["latency_ms<99ms"],
        ),
    ]
    for scenario, measured, constraints in cases:
        d = advisor.advise(
            scenario, measured=measured, env=CNN_ON_CPU, data={"calibration": False}, constraints=constraints
        )
        top = d.top_plan
        assert top is not None and "int8_dynamic" not in top.techniques, (scenario, measured, top)


def test_a_plan_that_makes_a_watched_metric_worse_never_ranks_above_one_that_does_not() -> None:
    advisor = Advisor(Advisor.from_files(SHIPPED).ruleset, max_plans=20)
    rng = random.Random(12)
    checked = 0
    for scenario in advisor.scenarios:
        for _ in range(25):
            measured = {
                "latency_ms": rng.choice([5, 15, 40, 90, 150, 300]),
                "model_size_mb": rng.choice([0.8, 3, 8, 20, 60]),
                "power_w": rng.choice([0.5, 1.5, 3, 12]),
                "memory_mb": rng.choice([60, 500, 3000]),
                "accuracy": 0.9,
                "throughput_qps": rng.choice([50, 500]),
                "fps": rng.choice([5, 30]),
            }
            env = {**CNN_ON_CPU, "nvidia_gpu": rng.random() < 0.5, "model_kind": rng.choice(["cnn", "mlp"])}
            data = {"calibration": rng.random() < 0.5, "training": rng.random() < 0.5}
            d = advisor.advise(scenario, measured=measured, env=env, data=data)
            flags = [regresses(advisor, d, p) for p in d.plans]
            assert flags == sorted(flags), (scenario, measured, env, data, [p.techniques for p in d.plans])
            checked += any(flags) and not all(flags)
    assert checked  # some decisions had both kinds of plan


def test_an_unchanged_metric_is_no_regression() -> None:
    """Arithmetic noise (a factor of 1 + 1e-12) is not a regression; 1 % worse is, and the search does not extend
    a plan with one."""
    advisor = rules(
        'scenario s "s" { core latency_ms, model_size_mb\n require model_size_mb < 1 MB }\n'
        'technique noisy "N" { effect model_size_mb /= 2x\n effect latency_ms *= 1.000000000001 }\n'
        'technique worse "W" { effect model_size_mb /= 3x\n effect latency_ms *= 1.01 }\n'
        'technique small "S" { effect model_size_mb /= 4x }\n'
    )
    d = advisor.advise(measured={"model_size_mb": 10, "latency_ms": 0.7})
    regressed = {w.technique for w in d.why_not if w.reason == "ranked_lower" and "worse" in w.message}
    assert regressed == {"worse"}, d.why_not
    assert d.plans[0].techniques == ("noisy", "small")  # 1.25 MB, short of the limit, but nothing made worse


def test_a_feasible_plan_ranked_lower_for_a_regression_is_explained() -> None:
    """Dynamic INT8 fits a transformer into 10 MB but, on a GPU without fast dynamic-INT8 kernels, may make it
    up to 1.5x slower (and as power-hungry): plan 2, and the infeasibility says so. (On a CPU it no longer serves:
    measured, it shrinks a CNN only to 0.6-0.95x, and FP16 slows a CNN there too, bench_predictions.)"""
    advisor = Advisor.from_files(SHIPPED)
    measured = {"model_size_mb": 20, "latency_ms": 15, "power_w": 0.3, "accuracy": 0.9}
    env = {"model_kind": "transformer", "device": "gpu", "nvidia_gpu": True}
    d = advisor.advise("mobile", measured=measured, env=env, data={"calibration": False})
    assert [(p.techniques, p.feasible) for p in d.plans] == [(("fp16",), False), (("int8_dynamic",), True)]
    assert not d.meets_constraints
    assert d.infeasibility is not None
    assert d.infeasibility.message.startswith(
        "no plan meets every hard constraint in the pessimistic case without making a core or violated metric"
        " worse (int8_dynamic meets them, but makes power_w, latency_ms worse); "
    )
    assert "; smallest relaxation: " in d.infeasibility.message
    assert d.infeasibility.options[0].plan == ("fp16",)  # relax for a plan that makes nothing worse
    shrink = rules(
        'scenario s "s" { core latency_ms, model_size_mb\n require model_size_mb < 10 MB }\n'
        'technique shrink "S" { effect model_size_mb /= 4x\n effect latency_ms *= 3 }\n'
        'technique half "H" { effect model_size_mb /= 2x }\n'
    ).advise(measured={"model_size_mb": 30, "latency_ms": 10})
    assert [p.techniques for p in shrink.plans] == [("half",), ("shrink",)]
    why = next(w for w in shrink.why_not if w.technique == "shrink")
    assert why.reason == "ranked_lower"
    assert why.message == "its best plan (shrink) ranks #2: it makes latency_ms worse"
