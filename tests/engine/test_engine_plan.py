"""Plans: exclusions, caveats, derived effects, interval arithmetic, ranking, why-not."""

from __future__ import annotations

import math
import random

from engine_helpers import rules
from hypothesis import given, settings
from hypothesis import strategies as st

from mcm.advisor import Advisor
from mcm.engine.plan import Layout

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


def test_steps_follow_recommendation_then_stage_order() -> None:
    body = QUANT.replace("require model_size_mb < 30 MB", "require model_size_mb < 10 MB") + (
        "decide for s policy first {\n"
        '  rule r: when measured.latency_ms > 1 ms then recommend int8 because "quantize first" }\n'
    )
    d = rules(body).advise(measured=MEASURED, env={"cpu_vnni": True}, data={"training": True})
    both = next(p for p in d.plans if set(p.techniques) == {"int8", "prune"})
    assert both.techniques == ("int8", "prune")  # recommended first, although pruning's stage comes earlier
    assert [s.stage for s in both.steps] == ["quantization", "pruning"]
    assert both.steps[0].recommended and not both.steps[1].recommended
    plain = rules(QUANT.replace("require model_size_mb < 30 MB", "require model_size_mb < 10 MB"))
    d = plain.advise(measured=MEASURED, env={"cpu_vnni": True}, data={"training": True})
    assert next(p for p in d.plans if set(p.techniques) == {"int8", "prune"}).techniques == ("prune", "int8")


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


# ---- interval arithmetic

factor = st.floats(min_value=0.05, max_value=4.0, allow_nan=False)
shift = st.floats(min_value=-0.2, max_value=0.2, allow_nan=False)
effect = st.one_of(
    st.tuples(st.just(True), factor, factor).map(lambda t: (t[0], min(t[1], t[2]), max(t[1], t[2]))),
    st.tuples(st.just(False), shift, shift).map(lambda t: (t[0], min(t[1], t[2]), max(t[1], t[2]))),
)
METRICS = ("latency_ms", "throughput_qps", "accuracy")


START = [100.0, 50.0, 0.8]


def space() -> Layout:
    return Layout(METRICS, (), METRICS, linked=False)


def run(s: Layout, steps: list[list[tuple[bool, float, float]]]) -> tuple[list[float], list[float]]:
    apply = s.stepper(0.0)
    lo, hi = START, START
    for step in steps:
        lo, hi = apply(lo, hi, s.split(tuple((i, *e) for i, e in enumerate(step))))
    return lo, hi


plans = st.lists(st.lists(effect, min_size=3, max_size=3), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(plans, st.randoms(use_true_random=False))
def test_intervals_are_ordered_and_contain_every_outcome(steps: list, rnd: random.Random) -> None:
    s = space()
    lo, hi = run(s, steps)
    for i, lower in enumerate(s.lower_better):
        assert lo[i] <= hi[i]
        interval = (lo[i], hi[i]) if lower else (hi[i], lo[i])
        optimistic, pessimistic = interval
        assert (
            (pessimistic >= optimistic) if lower else (pessimistic <= optimistic)
        )  # never better than optimistic
    # soundness: any point inside every effect's range lands inside the predicted interval
    points = [[(scale, v, v) for scale, a, b in step for v in [rnd.uniform(a, b)]] for step in steps]
    plo, phi = run(s, points)
    for i in range(3):
        assert lo[i] - 1e-9 <= plo[i] == phi[i] <= hi[i] + 1e-9


@settings(max_examples=200, deadline=None)
@given(plans, st.data())
def test_intervals_are_monotone_under_composition(steps: list, data: st.DataObject) -> None:
    """Widening any step's range widens the result; adding a step never shrinks the spread."""
    s = space()
    lo, hi = run(s, steps)
    k = data.draw(st.integers(0, len(steps) - 1))
    wider = [list(step) for step in steps]
    wider[k] = [
        (scale, a * 0.9, b * 1.1) if scale else (scale, a - 0.01, b + 0.01) for scale, a, b in steps[k]
    ]
    wlo, whi = run(s, wider)
    extra = data.draw(st.lists(effect, min_size=3, max_size=3))
    xlo, xhi = run(s, [*steps, extra])
    for i in range(3):
        assert wlo[i] <= lo[i] + 1e-9 and whi[i] >= hi[i] - 1e-9
        unclamped = all(0.0 < v < s.ceiling[i] for v in (lo[i], hi[i], xlo[i], xhi[i]))
        if (
            unclamped and extra[i][0] and extra[i][1] >= 1.0
        ):  # a factor >= 1 cannot narrow a positive interval
            assert xhi[i] - xlo[i] >= hi[i] - lo[i] - 1e-9
