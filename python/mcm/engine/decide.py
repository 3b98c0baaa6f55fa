"""Decision tables under their policy: a trace entry for every rule and the recommendations.

- ``first`` (the reference's if/elif): rules in order; the first whose condition holds wins and later rules are
  ``skipped``. A rule that holds but none of whose techniques can be used here (each has an unmet requirement)
  is ``inapplicable`` and the next rule is tried, so "latency > 2× budget → TensorRT" falls through on a machine
  without an NVIDIA GPU.
- ``collect``: every rule is evaluated; each that holds contributes its usable techniques, ranked by rule order,
  then by technique rating (higher first), then by the order written.
- A condition that ends unknown (a missing fact) or cannot run is an ``error`` entry and a warning, never false;
  the next rule is tried.
- ``otherwise`` applies when no rule's condition held; while a rule could not be evaluated that is not known, so
  ``otherwise`` is then skipped with the names of those rules.

A technique whose applicability is unknown (a fact its requirement needs is missing) is still recommended, marked
``applicable: unknown`` with the missing fact.
"""

from __future__ import annotations

from collections.abc import Callable

from mcm.engine.compiled import CompiledTable
from mcm.engine.decision import Recommendation, TraceEntry, TraceStatus
from mcm.engine.evaluate import Condition, EvalError, FactMap
from mcm.engine.techniques import Applicability
from mcm.rules.ast import Ident

#: The applicability of a technique by name (evaluated once per advise call).
Applicable = Callable[[str], Applicability]


def run_table(
    table: CompiledTable, facts: FactMap, applicable: Applicable, rating: Callable[[str], int]
) -> tuple[tuple[TraceEntry, ...], tuple[Recommendation, ...], tuple[str, ...]]:
    """Evaluate one decision table: its trace, its recommendations (ranked), its warnings."""
    decide = table.decide
    trace: list[TraceEntry] = []
    ranked: list[tuple[tuple[int, int, int], Recommendation]] = []
    warnings: list[str] = []
    winner: str | None = None
    held = False
    unknown: list[str] = []  # rules whose condition could not be evaluated

    def add(rule: str, status: TraceStatus, text: str | Callable[[], str], pos: str, named: tuple[str, ...], reason: str,
            note: str | None = None) -> None:  # fmt: skip
        trace.append(TraceEntry(decide.name, decide.policy, rule, status, text, pos, named, reason, note))

    def recommend(rank: int, rule: str, reason: str, pos: str, usable: list[str]) -> None:
        for order, technique in enumerate(usable):
            rec = _recommendation(technique, decide.name, rule, reason, pos, applicable)
            ranked.append(((rank, -rating(technique), order), rec))

    for index, compiled in enumerate(table.rules):
        rule, pos = compiled.rule, compiled.pos
        named = tuple(i.name for i in rule.recommend)
        if winner is not None:
            skipped = f"{compiled.condition.source} (not evaluated)"
            add(
                rule.name,
                "skipped",
                skipped,
                pos,
                named,
                rule.reason,
                f"skipped (policy first): rule {winner} fired",
            )
            continue
        condition = compiled.condition
        try:
            value = condition.test(facts)
        except EvalError:
            value = None
        if value is None:  # unknown or an error: the explanation says which fact or problem, now
            unknown.append(rule.name)
            outcome = condition.explain(facts)
            problem = outcome.problem or "unknown"
            warnings.append(f"{rule.pos}: rule {rule.name} could not be evaluated: {problem}")
            add(rule.name, "error", outcome.text, pos, named, rule.reason, problem)
            continue
        text = _later(condition, facts)
        if not value:
            add(rule.name, "not_fired", text, pos, named, rule.reason)
            continue
        held = True
        usable, refused = _split(rule.recommend, applicable)
        if named and not usable:
            note = "none of its techniques can be used here: " + "; ".join(refused)
            add(rule.name, "inapplicable", text, pos, named, rule.reason, note)
            continue
        add(rule.name, "fired", text, pos, named, rule.reason, "; ".join(refused) or None)
        recommend(index, rule.name, rule.reason, pos, usable)
        if decide.policy == "first":
            winner = rule.name
    otherwise = decide.otherwise
    if otherwise is not None:
        named, pos = tuple(i.name for i in otherwise.recommend), str(otherwise.pos)
        if held:
            why = f"rule {winner} fired" if winner else "a rule's condition held"
            add("otherwise", "skipped", "otherwise", pos, named, otherwise.reason, f"skipped: {why}")
        elif unknown:
            # "Nothing held" is not known while some rule could not be evaluated: no fallback is claimed.
            why = f"skipped: {', '.join(unknown)} could not be evaluated (give the missing facts)"
            add("otherwise", "skipped", "otherwise", pos, named, otherwise.reason, why)
        else:
            usable, refused = _split(otherwise.recommend, applicable)
            refusals = "; ".join(refused) or None
            add("otherwise", "fired", "no rule's condition held", pos, named, otherwise.reason, refusals)
            recommend(len(table.rules), "otherwise", otherwise.reason, pos, usable)
    ranked.sort(key=lambda item: item[0])
    seen: set[str] = set()
    recommendations = []
    for _, rec in ranked:
        if rec.technique not in seen:
            seen.add(rec.technique)
            recommendations.append(rec)
    return tuple(trace), tuple(recommendations), tuple(warnings)


def _later(condition: Condition, facts: FactMap) -> Callable[[], str]:
    """The condition's explanation, written only if someone reads it."""
    return lambda: condition.explain(facts).text


def _split(idents: tuple[Ident, ...], applicable: Applicable) -> tuple[list[str], list[str]]:
    """The techniques that can be used (applicable or unknown) and the refusals ``name: why``."""
    usable, refused = [], []
    for ident in idents:
        applies = applicable(ident.name)
        if applies.status in ("yes", "unknown"):
            usable.append(ident.name)
        else:
            refused.append(f"{ident.name}: {applies.message}")
    return usable, refused


def _recommendation(
    technique: str, table: str, rule: str, reason: str, pos: str, applicable: Applicable
) -> Recommendation:
    applies = applicable(technique)
    if applies.status == "yes":
        return Recommendation(technique, table, rule, reason, pos, "yes")
    return Recommendation(technique, table, rule, reason, pos, "unknown", applies.message)


__all__ = ["Applicable", "run_table"]
