"""A typed view of :meth:`Decision.to_dict() <mcm.engine.decision.Decision.to_dict>` (schema ``mcm.decision/2``) for
code that embeds the advisor: ``data = decision.to_dict(); data["plans"][0]["steps"][0]["technique"]`` type-checks.

The JSON Schema of the same form ships beside this module (``decision.schema.json``, :func:`json_schema`); a test
keeps the two in step with what ``to_dict`` returns.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal, TypedDict

from mcm.engine.decision import CheckStatus, TraceStatus, WhyNotReason
from mcm.engine.facts import FactValue


class FactsJSON(TypedDict):
    measured: dict[str, float]
    baseline: dict[str, float]
    constraint: dict[str, float]
    env: dict[str, FactValue]
    data: dict[str, FactValue]
    derived: list[str]
    assumed: dict[str, str]


class ConstraintJSON(TypedDict):
    metric: str
    op: Literal["<", "<=", ">", ">="]
    limit: float
    hard: bool
    source: Literal["scenario", "user"]
    pos: str | None
    status: CheckStatus
    value: float | None
    ratio: float | None
    better: Literal["lower", "higher"]
    unit: str
    text: str


class TraceJSON(TypedDict):
    table: str
    policy: Literal["first", "collect"]
    rule: str
    status: TraceStatus
    explanation: str
    pos: str
    recommend: list[str]
    reason: str
    note: str | None


class RecommendationJSON(TypedDict):
    technique: str
    table: str
    rule: str
    reason: str
    pos: str
    applicable: Literal["yes", "unknown"]
    note: str | None
    left_out: str | None


class IntervalJSON(TypedDict):
    optimistic: float
    pessimistic: float


class PlanCheckJSON(TypedDict):
    metric: str
    pessimistic: CheckStatus
    optimistic: CheckStatus


class PlanStepJSON(TypedDict):
    technique: str
    stage: Literal["architecture", "pruning", "fusion", "quantization", "compile", "other"]
    recommended: bool
    caveats: list[str]
    predicted: dict[str, IntervalJSON]


class PlanJSON(TypedDict):
    rank: int
    techniques: list[str]
    feasible: bool
    feasible_optimistic: bool
    core_gain: float
    accuracy_risk: float
    difficulty: int
    constraints: list[PlanCheckJSON]
    steps: list[PlanStepJSON]


class WhyNotJSON(TypedDict):
    technique: str
    reason: WhyNotReason
    message: str
    pos: str | None
    detail: str | None


class RelaxationJSON(TypedDict):
    metric: str
    op: str
    limit: float
    new_limit: float
    percent: float
    constraint: str
    text: str


class RelaxOptionJSON(TypedDict):
    plan: list[str]
    relax: list[RelaxationJSON]


class InfeasibilityJSON(TypedDict):
    message: str
    unknown: list[str]
    options: list[RelaxOptionJSON]
    triangle: str | None


class DecisionJSON(TypedDict):
    schema: Literal["mcm.decision/2"]
    scenario: str | None
    meets_constraints: bool
    facts: FactsJSON
    constraints: list[ConstraintJSON]
    trace: list[TraceJSON]
    recommendations: list[RecommendationJSON]
    plans: list[PlanJSON]
    why_not: list[WhyNotJSON]
    infeasibility: InfeasibilityJSON | None
    undecided: list[str]
    warnings: list[str]


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`DecisionJSON`, as shipped in the package."""
    text = resources.files("mcm.engine").joinpath("decision.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


__all__ = [
    "ConstraintJSON",
    "DecisionJSON",
    "FactsJSON",
    "InfeasibilityJSON",
    "IntervalJSON",
    "PlanCheckJSON",
    "PlanJSON",
    "PlanStepJSON",
    "RecommendationJSON",
    "RelaxOptionJSON",
    "RelaxationJSON",
    "TraceJSON",
    "WhyNotJSON",
    "json_schema",
]
