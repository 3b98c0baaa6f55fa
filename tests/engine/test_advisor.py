"""The embedding API: input forms, scenario choice, the rules' own tests, light imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from engine_helpers import FIXTURES, rules

from mcm.advisor import Advisor
from mcm.engine import Limit
from mcm.exceptions import AdviceError, FactsError, McmError


def test_plain_numbers_strings_and_limits_are_the_same_input(shipped_like: Advisor) -> None:
    common = {"env": {"nvidia_gpu": True}, "data": {"calibration": True}}
    as_numbers = shipped_like.advise(
        "mobile",
        measured={"latency_ms": 120, "model_size_mb": 98, "power_w": 3, "accuracy": 0.945},
        constraints={"latency_ms": 50},
        **common,
    )
    as_strings = shipped_like.advise(
        "mobile",
        measured={"latency": "0.12 s", "model_size": "98 MB", "power_w": "3000 mW", "accuracy": "94.5 %"},
        constraints=["latency_ms <= 50 ms"],
        **common,
    )
    as_limits = shipped_like.advise(
        "mobile",
        measured={"latency_ms": 120.0, "model_size_mb": 98.0, "power_w": 3.0, "accuracy": 0.945},
        constraints=[Limit("latency_ms", "<=", 50.0)],
        **common,
    )
    assert as_numbers.to_dict() == as_strings.to_dict() == as_limits.to_dict()


def test_scenario_choice(shipped_like: Advisor) -> None:
    assert shipped_like.scenarios == ("mobile", "video", "cloud", "edge", "iot")
    with pytest.raises(AdviceError, match="several scenarios") as many:
        shipped_like.advise(measured={"latency_ms": 1})
    assert many.value.hint == "scenarios: mobile, video, cloud, edge, iot"
    with pytest.raises(AdviceError, match="unknown scenario 'mobil'") as typo:
        shipped_like.advise("mobil")
    assert typo.value.hint == "did you mean 'mobile'?"
    only = rules('scenario s "s" { core latency_ms }\n')
    assert only.advise(measured={"latency_ms": 1}).scenario == "s"
    none = rules('technique t "T" { effect latency_ms /= 2x }\n')
    d = none.advise(measured={"latency_ms": 100}, constraints=["latency_ms < 60 ms"])
    assert d.scenario is None and d.top_plan is not None and d.top_plan.techniques == ("t",)


def test_bad_input_is_an_mcm_error(shipped_like: Advisor) -> None:
    with pytest.raises(FactsError) as caught:
        shipped_like.advise("mobile", constraints=["latency_ms < 50 parsecs"])
    assert isinstance(caught.value, McmError) and caught.value.exit_code == 2


def test_every_scenario_of_a_shipped_size_ruleset_gives_a_decision(shipped_like: Advisor) -> None:
    measured = {
        "latency_ms": 150,
        "model_size_mb": 40,
        "power_w": 12,
        "memory_mb": 3000,
        "fps": 8,
        "accuracy": 0.93,
        "throughput_qps": 200,
        "cost_usd_per_day": 300,
        "map": 0.45,
    }
    for scenario in shipped_like.scenarios:
        d = shipped_like.advise(
            scenario,
            measured=measured,
            env={"nvidia_gpu": True, "model_kind": "cnn"},
            data={"calibration": True, "training": True},
        )
        assert d.scenario == scenario and d.plans and d.trace
        left_out = {w.technique for w in d.why_not}
        top = set(d.top_plan.techniques)  # type: ignore[union-attr]
        assert left_out | top == set(shipped_like.ruleset.techniques) and not left_out & top


def test_run_tests_reports_results_and_coverage(shipped_like: Advisor) -> None:
    report = shipped_like.run_tests()
    assert report.passed
    assert report.coverage.total == 10
    assert set(report.coverage.covered) == {
        "mobile.latency_far_over",
        "mobile.size_far_over",
        "iot.far_too_big",
    }
    assert report.coverage.percent == pytest.approx(30.0)


def test_a_failing_rules_test_says_why() -> None:
    advisor = rules(
        'scenario s "s" { core latency_ms\n require latency_ms < 50 ms }\n'
        'technique a "A" { effect latency_ms /= 2x }\ntechnique b "B" { effect latency_ms /= 3x }\n'
        "decide for s policy first {\n"
        '  rule slow: when measured.latency_ms > constraint.latency_ms then recommend a because "x"\n'
        '  rule fast: when measured.latency_ms <= constraint.latency_ms then recommend b because "y" }\n'
        'test "wrong" for s {\n  given measured.latency_ms = 80 ms\n  expect recommend b\n  expect recommend b via fast\n}\n'
        'test "right" for s {\n  given measured.latency_ms = 80 ms, constraint.latency_ms = 100 ms\n'
        "  expect recommend b via fast\n}\n"
    )
    report = advisor.run_tests()
    wrong, right = report.results
    assert not wrong.passed and right.passed and not report.passed
    assert wrong.failures == (
        "expected b; the table recommends a",
        "expected via rule fast, which is skipped",
    )
    assert report.coverage.percent == 100.0


def test_under_collect_each_rule_is_checked_with_via() -> None:
    advisor = rules(
        'scenario s "s" { core latency_ms }\n'
        'technique a "A" { effect latency_ms /= 2x }\ntechnique b "B" { effect latency_ms /= 3x }\n'
        'technique c "C" { effect latency_ms /= 3x\n requires env.nvidia_gpu }\n'
        "decide for s policy collect {\n"
        '  rule one: when measured.latency_ms > 10 ms then recommend a, c because "x"\n'
        '  rule two: when measured.latency_ms > 20 ms then recommend a, b because "y" }\n'
        'test "both" for s {\n  given measured.latency_ms = 80 ms, env.nvidia_gpu = false\n'
        "  expect recommend a via one\n  expect recommend a, b via two\n  expect recommend a, b\n}\n"
    )
    report = advisor.run_tests()
    assert report.passed, report.results[0].failures


def test_importing_the_advisor_stays_light() -> None:
    code = (
        "import sys, mcm.advisor\n"
        "heavy = [m for m in ('torch', 'onnxruntime', 'textual', 'lark') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_rules_files_load_through_the_api() -> None:
    advisor = Advisor.from_files([FIXTURES / "worked_example.rules"])
    assert advisor.scenarios == ("target",)


def test_throughput_is_printed(shipped_like: Advisor) -> None:
    """A quick look (not a gate; ``benches/bench_advise.py`` measures properly): ``pytest -s`` shows it."""
    import time

    calls = [
        {"latency_ms": 50.0 + i, "model_size_mb": 5.0 + i, "power_w": 1.0 + i % 7, "accuracy": 0.9}
        for i in range(200)
    ]
    start = time.perf_counter()
    for i, measured in enumerate(calls):
        shipped_like.advise(shipped_like.scenarios[i % 5], measured=measured, env={"nvidia_gpu": i % 2 == 0})
    elapsed = time.perf_counter() - start
    print(
        f"\nembedded advise: {len(calls) / elapsed:.0f} calls/s ({elapsed / len(calls) * 1e6:.0f} us per call)"
    )
