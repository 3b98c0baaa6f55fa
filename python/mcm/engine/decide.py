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

from mcm.engine.compiled import CompiledRule, CompiledTable
from mcm.engine.decision import Recommendation, TraceEntry, TraceStatus
from mcm.engine.evaluate import Condition, EvalError, FactMap
from mcm.engine.messages import Message
from mcm.engine.techniques import Applicability
from mcm.rules.ast import Decide, Ident, Otherwise

#: The applicability of a technique by name (evaluated once per advise call).
Applicable = Callable[[str], Applicability]
_NOTHING_HELD = Message("trace.otherwise_fired")


def run_table(
    table: CompiledTable, facts: FactMap, applicable: Applicable, rating: Callable[[str], int]
) -> tuple[tuple[TraceEntry, ...], tuple[Recommendation, ...], tuple[str, ...]]:
    """Evaluate one decision table: its trace, its recommendations (ranked), its warnings."""
    run = _TableRun(table.decide, facts, applicable, rating)
    for index, compiled in enumerate(table.rules):
        run.rule(index, compiled)
    if table.decide.otherwise is not None:
        run.otherwise(table.decide.otherwise, len(table.rules))
    return tuple(run.trace), run.recommendations(), tuple(run.warnings)


class _TableRun:
    """One decision table being evaluated on one set of facts: the trace so far and what the policy knows."""

    __slots__ = (
        "applicable",
        "facts",
        "held",
        "policy",
        "ranked",
        "rating",
        "table",
        "trace",
        "unknown",
        "warnings",
        "winner",
    )

    def __init__(
        self, decide: Decide, facts: FactMap, applicable: Applicable, rating: Callable[[str], int]
    ) -> None:
        self.table, self.policy = decide.name, decide.policy
        self.facts, self.applicable, self.rating = facts, applicable, rating
        self.trace: list[TraceEntry] = []
        self.ranked: list[tuple[tuple[int, int, int], Recommendation]] = []
        self.warnings: list[str] = []
        self.winner: str | None = None  # the rule that won under ``first``
        self.held = False  # some rule's condition held
        self.unknown: list[str] = []  # rules whose condition could not be evaluated

    def add(self, rule: str, status: TraceStatus, text: str | Callable[[], str], pos: str, named: tuple[str, ...],
            reason: str, note: str | Callable[[], str] | None = None) -> None:  # fmt: skip
        self.trace.append(TraceEntry(self.table, self.policy, rule, status, text, pos, named, reason, note))

    def recommend(self, rank: int, rule: str, reason: str, pos: str, usable: list[str]) -> None:
        """Recommend the usable techniques of rule number ``rank`` (ranked by rule, rating, order written)."""
        for order, technique in enumerate(usable):
            rec = _recommendation(technique, self.table, rule, reason, pos, self.applicable)
            self.ranked.append(((rank, -self.rating(technique), order), rec))

    def rule(self, index: int, compiled: CompiledRule) -> None:
        """Evaluate one rule under the policy (see the module docstring)."""
        rule, pos, condition = compiled.rule, compiled.pos, compiled.condition
        named = tuple(i.name for i in rule.recommend)
        if self.winner is not None:
            source, winner = condition.source, self.winner  # messages made only if someone reads them
            skipped = lambda: Message("explain.skipped", source=source)  # noqa: E731
            first = lambda: Message("trace.skipped_first", rule=winner)  # noqa: E731
            self.add(rule.name, "skipped", skipped, pos, named, rule.reason, first)
            return
        try:
            value = condition.test(self.facts)
        except EvalError:
            value = None
        if value is None:  # unknown or an error: the explanation says which fact or problem, now
            self.unknown.append(rule.name)
            outcome = condition.explain(self.facts)
            problem = outcome.problem or Message("value.unknown")
            self.warnings.append(
                Message("trace.rule_error", pos=str(rule.pos), rule=rule.name, problem=problem)
            )
            explained = condition.explained(self.facts, outcome)
            self.add(rule.name, "error", explained, pos, named, rule.reason, problem)
            return
        text = _later(condition, self.facts)
        if not value:
            self.add(rule.name, "not_fired", text, pos, named, rule.reason)
            return
        self.held = True
        usable, refused = _split(rule.recommend, self.applicable)
        if named and not usable:
            note = _refusals("trace.none_usable", refused)
            self.add(rule.name, "inapplicable", text, pos, named, rule.reason, note)
            return
        refusals = _refusals("trace.refusals", refused) if refused else None
        self.add(rule.name, "fired", text, pos, named, rule.reason, refusals)
        self.recommend(index, rule.name, rule.reason, pos, usable)
        if self.policy == "first":
            self.winner = rule.name

    def otherwise(self, otherwise: Otherwise, rank: int) -> None:
        """The fallback, after every rule: it applies only when every rule was evaluated and none held."""
        named, pos = tuple(i.name for i in otherwise.recommend), str(otherwise.pos)
        if self.held:
            winner = self.winner
            why = (
                (lambda: Message("trace.otherwise_rule_fired", rule=winner))
                if winner
                else (lambda: Message("trace.otherwise_held"))
            )
            self.add("otherwise", "skipped", "otherwise", pos, named, otherwise.reason, why)
        elif self.unknown:
            # "Nothing held" is not known while some rule could not be evaluated: no fallback is claimed.
            unknown = Message("trace.otherwise_unknown", rules=tuple(self.unknown))
            self.add("otherwise", "skipped", "otherwise", pos, named, otherwise.reason, unknown)
        else:
            usable, refused = _split(otherwise.recommend, self.applicable)
            refusals = _refusals("trace.refusals", refused) if refused else None
            self.add("otherwise", "fired", _NOTHING_HELD, pos, named, otherwise.reason, refusals)
            self.recommend(rank, "otherwise", otherwise.reason, pos, usable)

    def recommendations(self) -> tuple[Recommendation, ...]:
        """The recommendations in rank order, each technique once (at its best rank)."""
        self.ranked.sort(key=lambda item: item[0])
        seen: set[str] = set()
        out = []
        for _, rec in self.ranked:
            if rec.technique not in seen:
                seen.add(rec.technique)
                out.append(rec)
        return tuple(out)


def _later(condition: Condition, facts: FactMap) -> Callable[[], str]:
    """The condition's explanation, written only if someone reads it."""
    return lambda: condition.explained(facts, condition.explain(facts))


def _split(
    idents: tuple[Ident, ...], applicable: Applicable
) -> tuple[list[str], list[tuple[str, Applicability]]]:
    """The techniques that can be used (applicable or unknown) and those refused, with why."""
    usable: list[str] = []
    refused: list[tuple[str, Applicability]] = []
    for ident in idents:
        applies = applicable(ident.name)
        if applies.status in ("yes", "unknown"):
            usable.append(ident.name)
        else:
            refused.append((ident.name, applies))
    return usable, refused


def _refusals(key: str, refused: list[tuple[str, Applicability]]) -> Callable[[], str]:
    """The note ``a: why; b: why`` (message ``key``), written only if someone reads it."""
    return lambda: Message(
        key, refused=tuple(Message("trace.refused", technique=n, why=a.message) for n, a in refused)
    )


def _recommendation(
    technique: str, table: str, rule: str, reason: str, pos: str, applicable: Applicable
) -> Recommendation:
    applies = applicable(technique)
    if applies.status == "yes":
        return Recommendation(technique, table, rule, reason, pos, "yes")
    return Recommendation(technique, table, rule, reason, pos, "unknown", applies.message)


__all__ = ["Applicable", "run_table"]
