"""The engine's answer: a frozen, typed :class:`Decision` and its stable JSON form (schema ``mcm.decision/2``).

``Decision.to_dict()`` returns (keys in this order; numbers canonical: ms, MB, fractions for accuracy, ...)::

    schema            "mcm.decision/2" (JSON Schema: ``decision.schema.json``; typed: :mod:`mcm.engine.decision_json`)
    scenario          scenario name, or null
    meets_constraints true when the top plan (or the model as it is) meets every hard constraint pessimistically
    facts             {measured, baseline, constraint, env, data: {name: value}, derived: ["scope.name", ...],
                        assumed: {"scope.name": why}} (env and data include what the rules derived or assumed)
    constraints       [{metric, op, limit, hard, source: "scenario"|"user", pos, status: "met"|"violated"|
                        "unknown", value, ratio (value / limit), better: "lower"|"higher", unit, text}]
    trace             [{table, policy, rule, status: "fired"|"not_fired"|"skipped"|"error"|"inapplicable",
                        explanation, pos, recommend: [technique], reason, note}]
    recommendations   [{technique, table, rule, reason, pos, applicable: "yes"|"unknown", note, left_out}]
    plans             [{rank, techniques, feasible, feasible_optimistic, core_gain, accuracy_risk, difficulty,
                        constraints: [{metric, pessimistic, optimistic}] (each "met"|"violated"|"unknown"),
                        steps: [{technique, stage, recommended, caveats, predicted:
                                 {metric: {optimistic, pessimistic}}}]}]
    why_not           [{technique, reason, message, pos, detail}]
    infeasibility     null, or {message, unknown: [metric], options: [{plan: [technique],
                        relax: [{metric, op, limit, new_limit, percent, constraint, text}]}], triangle}
    undecided         ["scope.name"]: what the answer waits for (facts not given, measurements), see ``undecided``
    warnings          [text]

A recommendation's ``left_out`` is null when the top plan includes the technique, else why it does not: its
why-not message, and the facts to give when a requirement is unknown (``not in plan 1: unknown: fact
data.calibration not given (...); give --data calibration=true``).

Statuses of a trace entry: ``fired`` (condition true; under ``first`` it won), ``not_fired`` (false), ``skipped``
(not evaluated: an earlier rule won under ``first``, or ``otherwise`` when a rule's condition held or could not be
evaluated), ``error`` (a missing fact or a condition that cannot run: never read as false), ``inapplicable``
(true, but none of its techniques can be used here, e.g. TensorRT without an NVIDIA GPU; under ``first`` the next
rule is tried).

Why-not reasons: ``requirement_unmet``, ``requirement_unknown`` (a fact it needs is not given),
``requirement_error``, ``excluded`` (by a technique of the top plan), ``no_gain`` (may improve no metric
the search aims at: a violated constraint's, a constrained one another technique may worsen, a core metric),
``not_needed`` (the top plan meets the constraints without it), ``ranked_lower`` (its plans rank lower or
fall outside the search bounds).

Plans: ``feasible`` is every hard constraint met in the pessimistic case (what ``meets_constraints`` and the CLI's
exit status use); ``core_gain`` is the combined pessimistic improvement factor over the scenario's core metrics
(``2.0``: twice as good, all core metrics together); ``accuracy_risk`` the worst-case accuracy loss (a fraction:
``0.02`` is 2 points); ``difficulty`` the sum of the techniques' difficulties. Intervals are
``{optimistic, pessimistic}`` in the metric's canonical unit (for a lower-is-better metric the optimistic value is
the low end). Ranked plans come first-best; see :mod:`mcm.engine.plan` for the order.

Texts for people (why-not messages and details, infeasibility, triangle, relaxations, warnings, trace
explanations and notes, recommendation notes and ``left_out``, constraint texts, plan-step caveats) are
:class:`~mcm.engine.messages.Message` strings: the English text itself, as the JSON form shows it, carrying its
id and parameters so that a face can write it in another language (:func:`mcm.present.messages.render`).
Reasons and caveats written in rules files are plain strings, shown as written.

The parts are immutable named tuples (cheap to make: an advise call makes dozens); the Decision is a frozen
dataclass. Floats are rounded to 12 significant digits in the JSON form; no NaN or infinity appears.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple, cast

from mcm.engine.facts import Facts
from mcm.engine.facts import rounded as _num

if TYPE_CHECKING:
    from mcm.engine.decision_json import DecisionJSON

SCHEMA = "mcm.decision/2"

CheckStatus = Literal["met", "violated", "unknown"]
TraceStatus = Literal["fired", "not_fired", "skipped", "error", "inapplicable"]
WhyNotReason = Literal[
    "requirement_unmet",
    "requirement_unknown",
    "requirement_error",
    "excluded",
    "no_gain",
    "not_needed",
    "ranked_lower",
]


class PredictedRange(NamedTuple):
    """A predicted metric value: the optimistic and the pessimistic end (a named pair, cheap to make)."""

    optimistic: float
    pessimistic: float

    def to_dict(self) -> dict[str, object]:
        return {"optimistic": _num(self.optimistic), "pessimistic": _num(self.pessimistic)}


def _written(text: str | Callable[[], str]) -> str:
    """A text given as itself or as the function that writes it."""
    return text if isinstance(text, str) else text()


class _ConstraintCheckFields(NamedTuple):
    metric: str
    op: str
    limit: float
    hard: bool
    source: str
    pos: str | None
    status: CheckStatus
    value: float | None
    ratio: float | None
    better: str
    unit: str
    text: str | Callable[[], str]


class ConstraintCheck(_ConstraintCheckFields):
    """One constraint against the facts: met / violated / unknown, value, ratio to the limit, and the sentence
    for people (``text``: it may be given as a function that writes it, called when it is read)."""

    __slots__ = ()

    @property
    def text(self) -> str:
        return _written(super().text)

    def to_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "op": self.op,
            "limit": _num(self.limit),
            "hard": self.hard,
            "source": self.source,
            "pos": self.pos,
            "status": self.status,
            "value": _num(self.value),
            "ratio": _num(self.ratio),
            "better": self.better,
            "unit": self.unit,
            "text": self.text,
        }


class _TraceEntryFields(NamedTuple):
    table: str
    policy: str
    rule: str
    status: TraceStatus
    explanation: str | Callable[[], str]
    pos: str
    recommend: tuple[str, ...]
    reason: str
    note: str | Callable[[], str] | None = None


class TraceEntry(_TraceEntryFields):
    """One rule's verdict, with its explanation (resolved values) and position.

    The ``explanation`` and the ``note`` may be given as functions that write them, called when they are read
    (most embedded callers never read them). Engine texts are :class:`~mcm.engine.messages.Message` strings.
    """

    __slots__ = ()

    @property
    def explanation(self) -> str:
        return _written(super().explanation)

    @property
    def note(self) -> str | None:
        note = super().note
        return None if note is None else _written(note)

    def to_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "policy": self.policy,
            "rule": self.rule,
            "status": self.status,
            "explanation": self.explanation,
            "pos": self.pos,
            "recommend": list(self.recommend),
            "reason": self.reason,
            "note": self.note,
        }


class Recommendation(NamedTuple):
    """A technique a decision table recommends, with the rule and reason; ``applicable`` may be unknown."""

    technique: str
    table: str
    rule: str
    reason: str
    pos: str
    applicable: Literal["yes", "unknown"]
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "technique": self.technique,
            "table": self.table,
            "rule": self.rule,
            "reason": self.reason,
            "pos": self.pos,
            "applicable": self.applicable,
            "note": self.note,
        }


class _PlanStepFields(NamedTuple):
    technique: str
    stage: str
    recommended: bool
    caveats: tuple[str, ...]
    predicted: Mapping[str, PredictedRange] | Callable[[], Mapping[str, PredictedRange]]


class PlanStep(_PlanStepFields):
    """One technique of a plan and the metrics predicted after it.

    ``predicted`` may be given as a function that builds it, called when it is read.
    """

    __slots__ = ()

    @property
    def predicted(self) -> Mapping[str, PredictedRange]:
        predicted = super().predicted
        return predicted() if callable(predicted) else predicted

    def to_dict(self) -> dict[str, object]:
        return {
            "technique": self.technique,
            "stage": self.stage,
            "recommended": self.recommended,
            "caveats": list(self.caveats),
            "predicted": {k: v.to_dict() for k, v in self.predicted.items()},
        }


class PlanCheck(NamedTuple):
    """A constraint against a plan's final prediction, in the pessimistic and the optimistic case."""

    metric: str
    pessimistic: CheckStatus
    optimistic: CheckStatus

    def to_dict(self) -> dict[str, object]:
        return {"metric": self.metric, "pessimistic": self.pessimistic, "optimistic": self.optimistic}


class Plan(NamedTuple):
    """A ranked sequence of techniques with predictions; ``feasible`` is the pessimistic verdict."""

    rank: int
    techniques: tuple[str, ...]
    steps: tuple[PlanStep, ...]
    feasible: bool
    feasible_optimistic: bool
    constraints: tuple[PlanCheck, ...]
    core_gain: float
    accuracy_risk: float
    difficulty: int

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "techniques": list(self.techniques),
            "feasible": self.feasible,
            "feasible_optimistic": self.feasible_optimistic,
            "core_gain": _num(self.core_gain),
            "accuracy_risk": _num(self.accuracy_risk),
            "difficulty": self.difficulty,
            "constraints": [c.to_dict() for c in self.constraints],
            "steps": [s.to_dict() for s in self.steps],
        }


class WhyNot(NamedTuple):
    """Why a technique is not in the top plan."""

    technique: str
    reason: WhyNotReason
    message: str
    pos: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "technique": self.technique,
            "reason": self.reason,
            "message": self.message,
            "pos": self.pos,
            "detail": self.detail,
        }


class Relaxation(NamedTuple):
    """One constraint relaxed: the new limit and the change in percent of the old one; ``constraint`` is the new
    constraint as a string that :func:`mcm.engine.facts.parse_constraint` (and ``--constraint``) accepts."""

    metric: str
    op: str
    limit: float
    new_limit: float
    percent: float
    constraint: str
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "op": self.op,
            "limit": _num(self.limit),
            "new_limit": _num(self.new_limit),
            "percent": _num(self.percent),
            "constraint": self.constraint,
            "text": self.text,
        }


class RelaxOption(NamedTuple):
    """Relax these constraints and this plan meets every hard constraint pessimistically."""

    plan: tuple[str, ...]
    relax: tuple[Relaxation, ...]

    def to_dict(self) -> dict[str, object]:
        return {"plan": list(self.plan), "relax": [r.to_dict() for r in self.relax]}


class Infeasibility(NamedTuple):
    """No plan meets every hard constraint pessimistically: what to measure, what to relax, the trade-off."""

    message: str
    unknown: tuple[str, ...]
    options: tuple[RelaxOption, ...]
    triangle: str

    def to_dict(self) -> dict[str, object]:
        return {
            "message": self.message,
            "unknown": list(self.unknown),
            "options": [o.to_dict() for o in self.options],
            "triangle": self.triangle,
        }


#: What :attr:`Decision.explain` computes: why-nots, the infeasibility, the recommendations' ``left_out`` notes,
#: and what the answer waits for (:attr:`Decision.undecided`).
Explanations = tuple[tuple[WhyNot, ...], Infeasibility | None, Mapping[str, str], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything the engine concluded for one scenario and one set of facts (see the module docstring)."""

    scenario: str | None
    facts: Facts
    constraints: tuple[ConstraintCheck, ...]
    trace: tuple[TraceEntry, ...]
    recommendations: tuple[Recommendation, ...]
    plans: tuple[Plan, ...]
    warnings: tuple[str, ...]
    meets_constraints: bool
    #: Computes ``(why_not, infeasibility, left_out)`` on first use: an embedded caller that only reads the plans
    #: and the verdict does not pay for the explanations.
    explain: Callable[[], Explanations] = field(repr=False, compare=False)
    _memo: list[Explanations] = field(default_factory=list, init=False, repr=False, compare=False)

    def _explanations(self) -> Explanations:
        if not self._memo:
            self._memo.append(self.explain())
        return self._memo[0]

    @property
    def undecided(self) -> tuple[str, ...]:
        """What the answer waits for when no plan meets the hard constraints: the facts not given under which a
        plan would (``env.nvidia_gpu``, ``data.training``), and the hard constraints without a measured value
        (``measured.power_w``) when the top plan meets every other; () when the answer is decided either way
        (the CLI's exit status 3 against 1)."""
        return self._explanations()[3]

    @property
    def why_not(self) -> tuple[WhyNot, ...]:
        """For every technique not in the top plan, why not."""
        return self._explanations()[0]

    @property
    def infeasibility(self) -> Infeasibility | None:
        """When no plan meets the hard constraints: what to relax, and by how much."""
        return self._explanations()[1]

    @property
    def left_out(self) -> Mapping[str, str]:
        """For each recommended technique that the top plan leaves out, why (see the module docstring)."""
        return self._explanations()[2]

    @property
    def top_plan(self) -> Plan | None:
        return self.plans[0] if self.plans else None

    @property
    def recommended(self) -> tuple[str, ...]:
        """The recommended techniques' names, in rank order."""
        return tuple(r.technique for r in self.recommendations)

    def to_dict(self) -> DecisionJSON:
        """The stable JSON form (schema ``mcm.decision/2``; typed by :class:`~mcm.engine.decision_json.DecisionJSON`,
        described by the JSON Schema ``decision.schema.json`` shipped beside it)."""
        data = {
            "schema": SCHEMA,
            "scenario": self.scenario,
            "meets_constraints": self.meets_constraints,
            "facts": self.facts.to_dict(),
            "constraints": [c.to_dict() for c in self.constraints],
            "trace": [t.to_dict() for t in self.trace],
            "recommendations": [
                {**r.to_dict(), "left_out": self.left_out.get(r.technique)} for r in self.recommendations
            ],
            "plans": [p.to_dict() for p in self.plans],
            "why_not": [w.to_dict() for w in self.why_not],
            "infeasibility": None if self.infeasibility is None else self.infeasibility.to_dict(),
            "undecided": list(self.undecided),
            "warnings": list(self.warnings),
        }
        return cast("DecisionJSON", data)


__all__ = [
    "SCHEMA",
    "CheckStatus",
    "ConstraintCheck",
    "Decision",
    "Explanations",
    "Infeasibility",
    "Plan",
    "PlanCheck",
    "PlanStep",
    "PredictedRange",
    "Recommendation",
    "RelaxOption",
    "Relaxation",
    "TraceEntry",
    "TraceStatus",
    "WhyNot",
    "WhyNotReason",
]
