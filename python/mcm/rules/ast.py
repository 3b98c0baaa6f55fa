"""The typed AST of a rules file: frozen dataclasses, every node with its source position.

Numbers are canonical when the parser builds them: a :class:`Quantity` holds its value in the base unit of its
dimension (``0.1 s`` → ``100.0`` time, ``90 %`` → ``0.9`` dimensionless), and an :class:`Effect` holds a factor
range (``kind == "scale"``) or a shift range (``kind == "shift"``) with ``low <= high``. Positions do not take part
in equality, so two conditions written alike compare equal wherever they stand.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from mcm.rules.errors import Diagnostic

Scope = Literal["measured", "constraint", "baseline", "env", "data"]
CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
ArithOp = Literal["+", "-", "*", "/"]
BoundOp = Literal["<", "<=", ">", ">="]
EffectOp = Literal["*=", "/=", "+=", "-="]
EffectKind = Literal["scale", "shift"]
Policy = Literal["first", "collect"]

#: The comparison operators as written; the first four (``BOUND_OPS``) order numbers and bound a metric.
COMPARE_OPS: tuple[CompareOp, ...] = get_args(CompareOp)
BOUND_OPS: tuple[BoundOp, ...] = get_args(BoundOp)
EFFECT_OPS: tuple[EffectOp, ...] = get_args(EffectOp)
#: What each comparison means: the one definition the checker, the engine and the plan search evaluate with.
COMPARE: Mapping[str, Callable[[Any, Any], bool]] = MappingProxyType(
    {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
        "==": operator.eq,
        "!=": operator.ne,
    }
)


@dataclass(frozen=True, slots=True)
class Pos:
    """Where a node starts: file (as displayed), 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Ident:
    """A name that refers to something (a metric, technique, scenario, rule), with its position."""

    name: str
    pos: Pos = field(compare=False)

    def __str__(self) -> str:
        return self.name


# ---- expressions


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit as written (``""``: none); ``value`` is in the base unit of ``dimension``."""

    value: float
    unit: str
    dimension: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class String:
    value: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Ref:
    """A fact: ``measured.latency_ms``, ``constraint.model_size_mb``, ``env.nvidia_gpu``, ``data.calibration``."""

    scope: Scope
    name: str
    pos: Pos = field(compare=False)

    @property
    def path(self) -> str:
        return f"{self.scope}.{self.name}"


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Arith:
    op: ArithOp
    left: Expr
    right: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` over two or more operands (chains are flat, not nested)."""

    op: Literal["and", "or"]
    operands: tuple[Expr, ...]
    pos: Pos = field(compare=False)


Expr = Quantity | String | Boolean | Ref | Neg | Arith | Compare | Not | BoolOp
#: A value a test may give a fact.
Value = Quantity | String | Boolean


# ---- scenario


@dataclass(frozen=True, slots=True)
class Range:
    """``low .. high`` as written (a single value has ``low is high``); the checker rejects ``low > high``."""

    low: Quantity
    high: Quantity
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Constraint:
    """``require`` (``hard``) or ``prefer`` (soft): ``metric op value``."""

    metric: str
    op: BoundOp
    value: Quantity
    hard: bool
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Expected:
    """``expect metric in low .. high``: the outcome range the reference promises for the scenario."""

    metric: str
    range: Range
    pos: Pos = field(compare=False)

    @property
    def low(self) -> float:
        return self.range.low.value

    @property
    def high(self) -> float:
        return self.range.high.value


@dataclass(frozen=True, slots=True)
class StackStep:
    """One step of a suggested stack: a technique (``technique`` set) or free text (``text`` set)."""

    technique: str | None
    text: str | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    label: str | None
    core: tuple[Ident, ...]
    secondary: tuple[Ident, ...]
    ignore: tuple[Ident, ...]
    constraints: tuple[Constraint, ...]
    expected: tuple[Expected, ...]
    stack: tuple[StackStep, ...]
    pos: Pos = field(compare=False)

    def constraint(self, metric: str) -> Constraint | None:
        """The requirement or preference on ``metric``, if any (there is at most one per metric)."""
        return next((c for c in self.constraints if c.metric == metric), None)


# ---- technique


@dataclass(frozen=True, slots=True)
class Effect:
    """A technique's effect on one metric: new = old × [low, high] (``scale``) or old + [low, high] (``shift``).

    ``low``/``high`` are canonical (a shift in the metric's unit); ``op`` and ``range`` are as written.
    """

    metric: str
    kind: EffectKind
    low: float
    high: float
    op: EffectOp
    range: Range
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Requirement:
    """``requires COND [because "..."]``: the technique applies only where the condition holds."""

    condition: Expr
    reason: str | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Caveat:
    """``caveat when COND [because "..."] { effect ... }``: where COND holds, these effects replace the base ones
    metric by metric (the first caveat that holds and names a metric wins for that metric)."""

    condition: Expr
    reason: str | None
    effects: tuple[Effect, ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Combination:
    """``with T [because "..."] { effect ... }``: in a plan that applies T before this technique, these effects
    replace this technique's own, metric by metric (TensorRT building an INT8 engine is not TensorRT's factor
    times INT8's). ``pos`` is T's."""

    technique: Ident
    reason: str | None
    effects: tuple[Effect, ...]
    pos: Pos = field(compare=False)


#: A technique's stages, in the order a plan applies them (``stage NAME``): the architecture is chosen first,
#: weights are pruned, the float graph's operators fused (a fusion needs the float graph's patterns) before it is
#: quantized, and a runtime compiles the final graph.
STAGES = ("architecture", "pruning", "fusion", "quantization", "compile")
#: What a technique changes (``acts_on NAME``): the framework model (before export) or the exported graph.
FORMS = ("torch", "onnx")


@dataclass(frozen=True, slots=True)
class Technique:
    """``technique NAME ["label"] { ... }``; ``stage`` and ``acts_on`` are None when not declared."""

    name: str
    label: str | None
    effects: tuple[Effect, ...]
    difficulty: int | None
    rating: int | None
    stage: Ident | None
    acts_on: Ident | None
    requires: tuple[Requirement, ...]
    excludes: tuple[Ident, ...]
    caveats: tuple[Caveat, ...]
    combinations: tuple[Combination, ...]
    pos: Pos = field(compare=False)

    def effect(self, metric: str) -> Effect | None:
        """The base effect on ``metric``, if the technique declares one."""
        return next((e for e in self.effects if e.metric == metric), None)


# ---- decisions


@dataclass(frozen=True, slots=True)
class Rule:
    """``rule NAME: when COND then recommend T, ... because "..."`` (no techniques: ``recommend none``)."""

    name: str
    condition: Expr
    recommend: tuple[Ident, ...]
    reason: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Otherwise:
    recommend: tuple[Ident, ...]
    reason: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Decide:
    """A decision table for a scenario; ``name`` defaults to the scenario's name."""

    name: str
    scenario: Ident
    policy: Policy
    rules: tuple[Rule, ...]
    otherwise: Otherwise | None
    pos: Pos = field(compare=False)


# ---- tests


@dataclass(frozen=True, slots=True)
class Given:
    ref: Ref
    value: Value
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Expect:
    """``expect recommend T, ... [via RULE]``; ``recommend == ()`` expects no recommendation."""

    recommend: tuple[Ident, ...]
    via: Ident | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class ExpectPlan:
    """``expect plan T, ... [meets|misses]``: the top plan's steps, in order (``()``: no change), and whether it
    meets every hard constraint (None: not checked)."""

    techniques: tuple[Ident, ...]
    meets: bool | None
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Test:
    """A test of a decision table (``target``; in a checked RuleSet never None)."""

    __test__ = False  # not a pytest test class

    name: str
    target: Ident | None
    givens: tuple[Given, ...]
    expects: tuple[Expect, ...]
    plans: tuple[ExpectPlan, ...]
    pos: Pos = field(compare=False)


# ---- facts the rules supply


@dataclass(frozen=True, slots=True)
class Assumption:
    """``assume env.X = V because "..."``: when the user does not give the fact, advice assumes ``V`` and says so.
    ``pos`` is the fact's."""

    fact: Given
    reason: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class Derivation:
    """``derive env.X = V when COND because "..."``: a fact the user did not give that follows from those given
    (``COND`` holds). ``pos`` is the fact's."""

    fact: Given
    condition: Expr
    reason: str
    pos: Pos = field(compare=False)


# ---- files


@dataclass(frozen=True, slots=True)
class Include:
    path: str
    pos: Pos = field(compare=False)


@dataclass(frozen=True, slots=True)
class RulesFile:
    """One parsed file, its blocks in file order."""

    path: str
    version: int
    includes: tuple[Include, ...]
    scenarios: tuple[Scenario, ...]
    techniques: tuple[Technique, ...]
    decisions: tuple[Decide, ...]
    tests: tuple[Test, ...]
    assumptions: tuple[Assumption, ...]
    derivations: tuple[Derivation, ...]
    pos: Pos = field(compare=False)


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Checked rules from one or more files (includes resolved): what the engine consumes.

    Names are unique per kind; every reference resolves; ``warnings`` are the lints that did not stop loading.
    """

    files: tuple[RulesFile, ...]
    scenarios: Mapping[str, Scenario]
    techniques: Mapping[str, Technique]
    decisions: Mapping[str, Decide]
    tests: tuple[Test, ...]
    warnings: tuple[Diagnostic, ...]
    #: Derivations in file order (include order), then assumptions by fact path (one per fact).
    derivations: tuple[Derivation, ...] = ()
    assumptions: Mapping[str, Assumption] = field(default_factory=dict)

    def decisions_for(self, scenario: str) -> tuple[Decide, ...]:
        """The decision tables of a scenario, in file order."""
        return tuple(d for d in self.decisions.values() if d.scenario.name == scenario)


def stage_order(technique: Technique) -> int:
    """The plan order of a technique's stage: its place in :data:`STAGES`, after them all when it declares none."""
    stage = technique.stage.name if technique.stage is not None else ""
    return STAGES.index(stage) if stage in STAGES else len(STAGES)


__all__ = [
    "BOUND_OPS",
    "COMPARE",
    "COMPARE_OPS",
    "EFFECT_OPS",
    "FORMS",
    "STAGES",
    "Arith",
    "Assumption",
    "BoolOp",
    "Boolean",
    "BoundOp",
    "Caveat",
    "Combination",
    "Compare",
    "CompareOp",
    "Constraint",
    "Decide",
    "Derivation",
    "Effect",
    "EffectKind",
    "EffectOp",
    "Expect",
    "ExpectPlan",
    "Expected",
    "Expr",
    "Given",
    "Ident",
    "Include",
    "Neg",
    "Not",
    "Otherwise",
    "Policy",
    "Pos",
    "Quantity",
    "Range",
    "Ref",
    "Requirement",
    "Rule",
    "RuleSet",
    "RulesFile",
    "Scenario",
    "Scope",
    "StackStep",
    "String",
    "Technique",
    "Test",
    "Value",
    "stage_order",
]
