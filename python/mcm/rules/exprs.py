"""Types and units of expressions: a condition is true/false, arithmetic keeps dimensions, numbers fit metrics.

A type is ``"bool"``, ``"string"`` or a dimension name (``"time"``, ``"size"``, ``"dimensionless"``, ...).
``None`` means "already reported": callers stay quiet so that one mistake gives one diagnostic.
"""

from __future__ import annotations

from mcm import metrics, units
from mcm.metrics import Metric
from mcm.rules import ast
from mcm.rules.errors import Reporter
from mcm.rules.facts import FACTS, METRIC_SCOPES, names_in

BOOL = "bool"
STRING = "string"
_COMPARE_IT = "compare it with something, e.g. measured.latency_ms > 50 ms"


def metric_hint(name: str) -> str:
    """Did you mean, or where the metric names are."""
    return (
        metrics.suggest(name)
        or "metric names end in their unit (latency_ms, model_size_mb, power_w): see mcm.metrics"
    )


def known_metric(reporter: Reporter, name: str, pos: ast.Pos, span: int) -> Metric | None:
    """The metric called ``name``, or None after reporting it unknown (E033) over ``span`` characters."""
    metric = metrics.get(name)
    if metric is None:
        reporter.report("E033", f"unknown metric '{name}'", pos, hint=metric_hint(name), span=span)
    return metric


def describe(kind: str) -> str:
    """A type for a message: ``true/false``, ``text``, ``a time``, ``a plain number``."""
    if kind == BOOL:
        return "true/false"
    if kind == STRING:
        return "text"
    return "a plain number" if kind == units.DIMENSIONLESS else f"a {kind} value"


def fold(expr: ast.Expr) -> float | str | None:
    """The constant value of an expression without facts (numbers canonical), or None."""
    if isinstance(expr, (ast.Quantity, ast.String)):
        return expr.value
    if isinstance(expr, ast.Neg):
        inner = fold(expr.operand)
        return -inner if isinstance(inner, float) else None
    if isinstance(expr, ast.Arith):
        left, right = fold(expr.left), fold(expr.right)
        if not isinstance(left, float) or not isinstance(right, float):
            return None
        if expr.op == "/":
            return left / right if right else None
        return left + right if expr.op == "+" else left - right if expr.op == "-" else left * right
    return None


def check_value(reporter: Reporter, metric: Metric, value: ast.Quantity) -> bool:
    """Report a literal that cannot be a value of ``metric`` (wrong or missing unit, out of range)."""
    if value.unit not in units.UNITS:
        return False  # unknown unit: reported by the parser
    if value.unit not in metric.accepts:
        code = "E032" if value.unit == "" else "E031"
        hint = f"{metric.name} accepts {units.describe(metric.accepts)}"
        reporter.report(code, metric.unit_problem(value.unit), value.pos, hint=hint)
        return False
    problem = metric.range_problem(value.value)
    if problem is not None:
        reporter.report("E036", problem, value.pos, hint=metric.range_hint(value.unit))
        return False
    return True


class ExprChecker:
    """Infers and checks expression types; ``scenario`` (in a decision table) enables the constraint lint."""

    def __init__(self, reporter: Reporter, scenario: ast.Scenario | None = None) -> None:
        self.reporter = reporter
        self.scenario = scenario

    def condition(self, expr: ast.Expr) -> bool:
        """Check a condition; True when it is a well-typed true/false expression."""
        kind = self.infer(expr)
        if kind is None:
            return False
        if kind != BOOL:
            self.reporter.report(
                "E037",
                f"a condition must be true or false, this is {describe(kind)}",
                expr.pos,
                hint=_COMPARE_IT,
            )
            return False
        return True

    def ref(self, ref: ast.Ref) -> str | None:
        """The type of a fact, reporting an unknown metric or fact."""
        if ref.scope in METRIC_SCOPES:
            metric = known_metric(self.reporter, ref.name, ref.pos, len(ref.path))
            if metric is None:
                return None
            if (
                ref.scope == "constraint"
                and self.scenario is not None
                and self.scenario.constraint(ref.name) is None
            ):
                self.reporter.report(
                    "W004",
                    f"scenario '{self.scenario.name}' has no requirement on {ref.name}",
                    ref.pos,
                    hint=f"add 'require {ref.name} ...' to the scenario, or the rule needs --constraint",
                    span=len(ref.path),
                )
            return metric.dimension
        fact = FACTS.get(ref.path)
        if fact is None:
            known = names_in(ref.scope)
            hint = units.did_you_mean(ref.name, known) or f"{ref.scope} facts: {', '.join(known)}"
            self.reporter.report("E034", f"unknown fact '{ref.path}'", ref.pos, hint=hint, span=len(ref.path))
            return None
        return units.DIMENSIONLESS if fact.type == "number" else fact.type

    def infer(self, expr: ast.Expr) -> str | None:
        if isinstance(expr, ast.Quantity):
            return expr.dimension
        if isinstance(expr, ast.String):
            return STRING
        if isinstance(expr, ast.Boolean):
            return BOOL
        if isinstance(expr, ast.Ref):
            return self.ref(expr)
        if isinstance(expr, ast.Neg):
            return self._numeric(expr.operand, "-")
        if isinstance(expr, ast.Arith):
            return self._arith(expr)
        if isinstance(expr, ast.Compare):
            return self._compare(expr)
        operands = (expr.operand,) if isinstance(expr, ast.Not) else expr.operands
        word = "not" if isinstance(expr, ast.Not) else expr.op
        kinds = [self.infer(o) for o in operands]
        for operand, kind in zip(operands, kinds, strict=True):
            if kind is not None and kind != BOOL:
                self.reporter.report(
                    "E037",
                    f"'{word}' needs true/false, this is {describe(kind)}",
                    operand.pos,
                    hint=_COMPARE_IT,
                )
        return BOOL if all(k == BOOL for k in kinds) else None

    def _numeric(self, expr: ast.Expr, op: str) -> str | None:
        kind = self.infer(expr)
        if kind in (BOOL, STRING):
            self.reporter.report(
                "E037",
                f"'{op}' needs numbers, this is {describe(kind)}",
                expr.pos,
                hint="use and / or / not for true/false",
            )
            return None
        return kind

    def _arith(self, expr: ast.Arith) -> str | None:
        left, right = self._numeric(expr.left, expr.op), self._numeric(expr.right, expr.op)
        if left is None or right is None:
            return None
        if expr.op == "/" and fold(expr.right) == 0:
            self.reporter.report(
                "E039", "division by zero", expr.right.pos, hint="divide by a number that is not 0"
            )
            return None
        if expr.op in ("+", "-"):
            return left if self._same(expr.left, left, expr.right, right, expr.op) else None
        if right == units.DIMENSIONLESS:
            return left
        if expr.op == "*" and left == units.DIMENSIONLESS:
            return right
        if expr.op == "/" and left == right:
            return units.DIMENSIONLESS
        self.reporter.report(
            "E038",
            f"'{expr.op}' of {describe(left)} and {describe(right)} has no unit mcm knows",
            expr.pos,
            hint="multiply or divide by plain numbers; divide two values of one kind for a ratio",
        )
        return None

    def _compare(self, expr: ast.Compare) -> str | None:
        left, right = self.infer(expr.left), self.infer(expr.right)
        if left is None or right is None:
            return None
        if expr.op in ast.BOUND_OPS and (left in (BOOL, STRING) or right in (BOOL, STRING)):
            odd = left if left in (BOOL, STRING) else right
            self.reporter.report(
                "E037",
                f"'{expr.op}' compares numbers, not {describe(odd)}",
                expr.pos,
                hint="text and true/false take == or !=",
            )
            return None
        if (left in (BOOL, STRING) or right in (BOOL, STRING)) and left != right:
            self.reporter.report(
                "E037",
                f"'{expr.op}' compares {describe(left)} with {describe(right)}",
                expr.pos,
                hint="both sides need the same type",
            )
            return None
        if not self._same(expr.left, left, expr.right, right, expr.op):
            return None
        self._against_metric(expr.left, expr.right)
        self._against_metric(expr.right, expr.left)
        self._against_values(expr.left, expr.right)
        self._against_values(expr.right, expr.left)
        return BOOL

    def _same(self, left: ast.Expr, left_kind: str, right: ast.Expr, right_kind: str, op: str) -> bool:
        """Both sides of ``op`` must have one dimension; a bare number against a unit is a missing unit."""
        if left_kind == right_kind:
            return True
        for side, kind, other in ((left, left_kind, right_kind), (right, right_kind, left_kind)):
            if isinstance(side, ast.Quantity) and side.unit == "" and kind == units.DIMENSIONLESS:
                hint = f"{describe(other)} takes one of: {units.describe(units.units_of(other))}"
                self.reporter.report("E032", f"{side.value:g} needs a unit here", side.pos, hint=hint)
                return False
        self.reporter.report(
            "E038",
            f"'{op}' between {describe(left_kind)} and {describe(right_kind)}",
            left.pos,
            hint="both sides need the same kind of unit",
        )
        return False

    def _against_metric(self, side: ast.Expr, other: ast.Expr) -> None:
        """A literal compared directly with a metric must be writable as that metric's value."""
        if isinstance(other, ast.Neg) and isinstance(other.operand, ast.Quantity):
            inner = other.operand
            other = ast.Quantity(-inner.value, inner.unit, inner.dimension, other.pos)
        if isinstance(side, ast.Ref) and isinstance(other, ast.Quantity) and side.scope in METRIC_SCOPES:
            metric = metrics.get(side.name)
            if metric is not None:
                check_value(self.reporter, metric, other)

    def _against_values(self, side: ast.Expr, other: ast.Expr) -> None:
        if isinstance(side, ast.Ref) and isinstance(other, ast.String):
            check_known_value(self.reporter, side, other)


def check_known_value(reporter: Reporter, ref: ast.Ref, value: ast.String) -> None:
    """Warn when a text fact with known values is compared with, or given, a string that is none of them."""
    fact = FACTS.get(ref.path)
    if fact is not None and fact.values and value.value not in fact.values:
        hint = units.did_you_mean(value.value, fact.values) or f"known values: {', '.join(fact.values)}"
        reporter.report("W005", f"'{value.value}' is not a known value of {ref.path}", value.pos, hint=hint)


__all__ = [
    "BOOL",
    "STRING",
    "ExprChecker",
    "check_known_value",
    "check_value",
    "describe",
    "fold",
    "known_metric",
    "metric_hint",
]
