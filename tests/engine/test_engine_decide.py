"""Decision tables: policy first and collect, skipped / error / inapplicable entries, otherwise, ranking."""

from __future__ import annotations

from engine_helpers import rules

TECHNIQUES = """
scenario s "s" { core latency_ms, model_size_mb }
technique a "A" { effect latency_ms /= 2x
  rating 3 }
technique b "B" { effect model_size_mb /= 2x
  rating 5 }
technique c "C" { effect latency_ms /= 3x
  rating 4
  requires env.nvidia_gpu because "needs a GPU" }
"""


def table(policy: str, body: str) -> str:
    return TECHNIQUES + f"decide for s policy {policy} {{\n{body}\n}}\n"


RULES = """
  rule both: when measured.latency_ms > 100 ms and measured.model_size_mb > 10 MB
    then recommend c, b because "slow and big"
  rule slow: when measured.latency_ms > 100 ms then recommend a because "slow"
  rule big: when measured.model_size_mb > 10 MB then recommend b because "big"
  otherwise recommend none because "fine"
"""


def statuses(decision: object) -> list[tuple[str, str]]:
    return [(t.rule, t.status) for t in decision.trace]  # type: ignore[attr-defined]


def test_first_policy_stops_at_the_first_rule_that_fires() -> None:
    d = rules(table("first", RULES)).advise(measured={"latency_ms": 200, "model_size_mb": 2})
    assert statuses(d) == [
        ("both", "not_fired"),
        ("slow", "fired"),
        ("big", "skipped"),
        ("otherwise", "skipped"),
    ]
    assert d.trace[2].note == "skipped (policy first): rule slow fired"
    assert [(r.technique, r.rule) for r in d.recommendations] == [("a", "slow")]
    assert d.recommendations[0].pos == "test.rules:15:8"  # the rule name
    assert d.trace[0].explanation == (
        "(measured.latency_ms 200 ms > 100 ms → true) and (measured.model_size_mb 2 MB > 10 MB → false) → false"
    )


def test_collect_policy_gathers_every_rule_ranked_by_rule_order_then_rating() -> None:
    d = rules(table("collect", RULES)).advise(
        measured={"latency_ms": 200, "model_size_mb": 20}, env={"nvidia_gpu": True}
    )
    assert statuses(d) == [("both", "fired"), ("slow", "fired"), ("big", "fired"), ("otherwise", "skipped")]
    # rule order first, then rating (b 5 before c 4 within "both"); b keeps its first, best-ranked rule
    assert [(r.technique, r.rule) for r in d.recommendations] == [("b", "both"), ("c", "both"), ("a", "slow")]


def test_collect_ranks_by_rating_within_a_rule() -> None:
    advisor = rules(
        table("collect", '  rule r: when measured.latency_ms > 1 ms then recommend a, c, b because "x"')
    )
    d = advisor.advise(measured={"latency_ms": 5}, env={"nvidia_gpu": True})
    assert d.recommended == ("b", "c", "a")  # ratings 5, 4, 3


def test_otherwise_applies_when_no_rule_fires() -> None:
    d = rules(table("first", RULES)).advise(measured={"latency_ms": 20, "model_size_mb": 2})
    assert statuses(d)[-1] == ("otherwise", "fired")
    assert d.recommendations == ()
    assert all(t.status == "not_fired" for t in d.trace[:-1])


def test_a_missing_fact_is_an_error_entry_and_the_next_rule_is_tried() -> None:
    d = rules(table("first", RULES)).advise(measured={"model_size_mb": 20})
    both, slow = d.trace[0], d.trace[1]
    assert (both.status, both.note) == ("error", "unknown: fact measured.latency_ms not given")
    assert (slow.status, slow.note) == ("error", "unknown: fact measured.latency_ms not given")
    assert "measured.latency_ms (not given)" in slow.explanation
    assert statuses(d)[2] == ("big", "fired")
    assert any("rule slow could not be evaluated" in w for w in d.warnings)


def test_a_rule_whose_techniques_cannot_be_used_falls_through_under_first() -> None:
    body = """
  rule slow: when measured.latency_ms > 100 ms then recommend c because "slow"
  rule big: when measured.model_size_mb > 10 MB then recommend b because "big"
"""
    advisor = rules(table("first", body))
    d = advisor.advise(measured={"latency_ms": 200, "model_size_mb": 20}, env={"nvidia_gpu": False})
    assert statuses(d) == [("slow", "inapplicable"), ("big", "fired")]
    assert d.trace[0].note == (
        "none of its techniques can be used here: c: requirement unmet: env.nvidia_gpu → false (needs a GPU)"
    )
    assert d.recommended == ("b",)
    gpu = advisor.advise(measured={"latency_ms": 200, "model_size_mb": 20}, env={"nvidia_gpu": True})
    assert gpu.recommended == ("c",)


def test_unknown_applicability_is_recommended_with_a_note() -> None:
    body = '  rule slow: when measured.latency_ms > 100 ms then recommend c because "slow"'
    d = rules(table("first", body)).advise(measured={"latency_ms": 200})
    rec = d.recommendations[0]
    assert (rec.technique, rec.applicable) == ("c", "unknown")
    assert rec.note == "unknown: fact env.nvidia_gpu not given (needs a GPU)"
    assert any(w.startswith("recommended c may not apply") for w in d.warnings)


def test_inapplicable_rule_does_not_trigger_otherwise() -> None:
    body = """
  rule slow: when measured.latency_ms > 100 ms then recommend c because "slow"
  otherwise recommend none because "fine"
"""
    d = rules(table("first", body)).advise(measured={"latency_ms": 200}, env={"nvidia_gpu": False})
    assert statuses(d) == [("slow", "inapplicable"), ("otherwise", "skipped")]
    assert d.recommendations == ()
