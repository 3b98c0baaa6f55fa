"""Embedded advise throughput: calls per second, with ratios against baselines measured in the same run.

    python benches/bench_advise.py [--quick] [RULES ...]

The ruleset is ``rules/`` (the shipped rules) once it loads and has scenarios, else ``tests/engine/fixtures/shipped_like.rules``
(10 techniques, 5 scenarios); or the files named. Every call gets different facts (random measured values across
all five scenarios, GPU/VNNI/data flags varying), so nothing is answered from a repeated input.

1. ``advise`` calls per second, load and compile once (target >= 5,000/s, from the issue).
2. Baseline A: ``json.dumps(decision.to_dict())`` of the same decisions: how many serializations of its own
   answer one advise costs.
3. Baseline B: the scenario's decision-table conditions alone, explained (``Condition.explain`` per rule): how
   much of a call is the if/elif logic, and how much the rest (facts, plan search, why-not, relaxation).

Rounds are interleaved and the median round is reported, since this machine is shared and noisy.
Exits 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mcm.advisor import Advisor
from mcm.engine.facts import make_facts
from mcm.exceptions import McmError

ROOT = Path(__file__).resolve().parent.parent
TARGET = 5000.0


def inputs(advisor: Advisor, n: int, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    scenarios = advisor.scenarios or (None,)
    out = []
    for i in range(n):
        measured = {
            "latency_ms": rng.uniform(20, 400),
            "model_size_mb": rng.uniform(0.5, 200),
            "accuracy": rng.uniform(0.8, 0.99),
            "power_w": rng.uniform(0.3, 20),
            "memory_mb": rng.uniform(50, 4000),
            "fps": rng.uniform(2, 60),
            "throughput_qps": rng.uniform(50, 2000),
            "cost_usd_per_day": rng.uniform(50, 500),
            "map": rng.uniform(0.3, 0.6),
        }
        env = {
            "nvidia_gpu": rng.random() < 0.5,
            "cpu_vnni": rng.random() < 0.5,
            "model_kind": "cnn",
            "device": "cpu",
        }
        data = {"calibration": rng.random() < 0.8, "training": rng.random() < 0.6}
        out.append(
            {"scenario": scenarios[i % len(scenarios)], "measured": measured, "env": env, "data": data}
        )
    return out


def per_call(fn: Callable[[dict[str, object]], object], calls: list[dict[str, object]]) -> float:
    """Seconds per call of ``fn`` over ``calls``."""
    start = time.perf_counter()
    for call in calls:
        fn(call)
    return (time.perf_counter() - start) / len(calls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "rules", nargs="*", help="rules files or directories (default: rules/ or the fixture)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    args = parser.parse_args()
    fixture = ROOT / "tests" / "engine" / "fixtures" / "shipped_like.rules"
    paths = args.rules or [ROOT / "rules"]
    try:
        advisor = Advisor.from_files(paths)
    except McmError as error:
        if args.rules:
            raise
        print(f"rules/ is not usable yet ({str(error).splitlines()[0]}): using the fixture")
        paths, advisor = [fixture], Advisor.from_files([fixture])
    if not advisor.scenarios and not args.rules:
        print("rules/ has no scenarios yet: using the fixture")
        paths, advisor = [fixture], Advisor.from_files([fixture])
    n, rounds = (300, 3) if args.quick else (2000, 7)
    calls = inputs(advisor, n)
    engine = advisor.engine

    def advise(call: dict[str, object]) -> object:
        return advisor.advise(**call)  # type: ignore[arg-type]

    decisions = [advise(c) for c in calls]  # warm-up (also fills the per-ruleset technique memo)

    by_call = {id(c): d for c, d in zip(calls, decisions, strict=True)}

    def dumps(call: dict[str, object]) -> object:
        return json.dumps(by_call[id(call)].to_dict())  # type: ignore[attr-defined]

    prepared = {}
    for call in calls:
        scenario = engine.scenario(call["scenario"])  # type: ignore[arg-type]
        facts = make_facts(scenario, measured=call["measured"], env=call["env"], data=call["data"])  # type: ignore[arg-type]
        tables = engine.rules.tables.get(scenario.name, ()) if scenario else ()
        prepared[id(call)] = (facts.flat, [r.condition for t in tables for r in t.rules])

    def conditions_only(call: dict[str, object]) -> object:
        flat, conditions = prepared[id(call)]
        return [c.explain(flat) for c in conditions]

    results: dict[str, list[float]] = {"advise": [], "json": [], "conditions": []}
    for _ in range(rounds):
        results["advise"].append(per_call(advise, calls))
        results["json"].append(per_call(dumps, calls))
        results["conditions"].append(per_call(conditions_only, calls))
    t_advise = statistics.median(results["advise"])
    t_json = statistics.median(results["json"])
    t_cond = statistics.median(results["conditions"])
    rate = 1.0 / t_advise
    ok = rate >= TARGET
    shown = ", ".join(
        str(Path(p).relative_to(ROOT)) if Path(p).is_relative_to(ROOT) else str(p) for p in paths
    )
    n_techniques, n_scenarios = len(advisor.ruleset.techniques), len(advisor.scenarios)
    print(
        f"ruleset: {shown} ({n_techniques} techniques, {n_scenarios} scenarios); {n} distinct calls x {rounds}"
    )
    verdict = "ok" if ok else "MISSED"
    print(
        f"advise: {t_advise * 1e6:8.1f} us/call = {rate:7.0f} calls/s   target >= {TARGET:.0f}/s: {verdict}"
    )
    print(
        f"  A: json.dumps(to_dict()) of the decision {t_json * 1e6:8.1f} us   advise / A = {t_advise / t_json:5.2f}x"
    )
    print(
        f"  B: decision-table conditions, explained  {t_cond * 1e6:8.1f} us   advise / B = {t_advise / t_cond:5.2f}x"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
