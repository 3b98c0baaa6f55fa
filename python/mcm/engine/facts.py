"""Facts: what the engine knows about one model on one target, by scope, in canonical units.

Scopes (DESIGN.md §4): ``measured.*`` and ``baseline.*`` are metric values (``mcm.metrics``), ``constraint.*`` is
the limit of each constraint, ``env.*`` and ``data.*`` are the closed catalogue of ``mcm.rules.facts``. Numbers
are floats in the metric's canonical unit (``"120 ms"`` → ``120.0``, ``"94.5 %"`` → ``0.945``); flags are bools.

Derived facts (listed in :attr:`Facts.derived`, never overriding a given one):

- ``baseline.M`` is ``measured.M`` for every measured metric not given in the baseline (except
  ``accuracy_drop``, which is measured against the baseline). In the optimize loop ``measured`` changes after
  each step and ``baseline`` stays the original model.
- ``measured.accuracy_drop`` is ``baseline.accuracy - measured.accuracy`` when both are known.
- ``inferences_per_joule`` is ``1000 / energy_mj`` (1 J = 1000 mJ, per inference by definition).

``fps`` and ``throughput_qps`` are not derived from latency: that holds only for one request at a time at batch
size 1, which the facts do not say.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from mcm import metrics, units
from mcm.engine.messages import Message
from mcm.exceptions import FactsError, McmError
from mcm.rules.ast import BOUND_OPS, COMPARE, BoundOp, Pos, Scenario
from mcm.rules.check import never_met
from mcm.rules.facts import FACTS, names_in

#: A fact's value: a number (canonical unit), a flag or a text.
FactValue = float | bool | str
#: What a caller may pass for one fact: a number, a flag, or text such as ``"120 ms"`` or ``"true"``.
FactInput = float | int | bool | str

#: Relative tolerance of limit comparisons (floating-point noise, not a margin).
TOLERANCE = 1e-9
_TRUE = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}
_MISSPELLED_OPS = {"=<": "<=", "=>": ">=", "≤": "<=", "≥": ">=", "<<": "<", ">>": ">"}
_CONSTRAINT = re.compile(
    r"\s*(?:(require|prefer)\s+)?(?:constraint\.)?([A-Za-z_][A-Za-z0-9_.]*)\s*([<>=!≤≥]{1,2})?\s*(.*?)\s*"
)


@dataclass(frozen=True, slots=True)
class Limit:
    """A constraint on a metric: ``metric op value`` (canonical), hard (``require``) or soft (``prefer``)."""

    metric: str
    op: BoundOp
    value: float
    hard: bool = True
    source: Literal["scenario", "user"] = "user"
    pos: Pos | None = field(default=None, compare=False)

    def holds(self, value: float) -> bool:
        """Whether a metric value meets this limit (within :data:`TOLERANCE`, see :meth:`threshold`)."""
        return bool(COMPARE[self.op](value, self.threshold()))

    def threshold(self, value: float | None = None) -> float:
        """The limit (or ``value`` under this limit's operator) moved by a relative :data:`TOLERANCE` in the
        lenient direction for ``<=``/``>=`` and the strict one for ``<``/``>``, so that conversion noise
        (``0.945 - 0.05 = 0.8949999999999999``) decides nothing."""
        limit = self.value if value is None else value
        slack = abs(limit) * TOLERANCE or TOLERANCE * 1e-3
        return limit + slack if self.op in ("<=", ">") else limit - slack

    @property
    def lower_bound(self) -> bool:
        """True for ``>``/``>=`` (the value must stay above the limit)."""
        return self.op[0] == ">"

    def text(self) -> str:
        """``latency_ms < 50 ms``: the limit in the metric's display unit."""
        return (
            f"{self.metric} {self.op} {metrics.format_value(self.metric, self.value, units.PRECISE_DIGITS)}"
        )


#: What a caller may pass for constraints: ``{"latency_ms": 50, "accuracy": ">= 90 %"}``, or strings such as
#: ``"latency_ms < 50 ms"``, or :class:`Limit` objects.
ConstraintsInput = Mapping[str, FactInput | Limit] | Iterable[str | Limit]


@dataclass(frozen=True, slots=True)
class Facts:
    """The facts of one advise call, immutable; ``flat`` maps ``scope.name`` to a value for evaluation.

    Build with :meth:`of` (canonical values) or :func:`make_facts` (user input).
    """

    measured: Mapping[str, float]
    baseline: Mapping[str, float]
    env: Mapping[str, FactValue]
    data: Mapping[str, FactValue]
    limits: tuple[Limit, ...]
    derived: tuple[str, ...]
    warnings: tuple[str, ...]
    flat: Mapping[str, FactValue] = field(compare=False, repr=False)
    #: The facts the rules assumed because the user did not give them (``assume``), with why.
    assumed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The ``env`` facts a measurement established rather than the user (``detected=`` of :func:`make_facts`).
    detected: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        measured: Mapping[str, float] | None = None,
        baseline: Mapping[str, float] | None = None,
        env: Mapping[str, FactValue] | None = None,
        data: Mapping[str, FactValue] | None = None,
        limits: Iterable[Limit] = (),
        warnings: Iterable[str] = (),
    ) -> Facts:
        """Facts from canonical values (no parsing); adds the derived facts listed in the module docstring."""
        return cls._build(
            {k: float(v) for k, v in (measured or {}).items()},
            {k: float(v) for k, v in (baseline or {}).items()},
            {k: _plain(v) for k, v in (env or {}).items()},
            {k: _plain(v) for k, v in (data or {}).items()},
            tuple(limits),
            tuple(warnings),
        )

    @classmethod
    def _build(
        cls,
        measured: dict[str, float],
        baseline: dict[str, float],
        env: dict[str, FactValue],
        data: dict[str, FactValue],
        limits: tuple[Limit, ...],
        warnings: tuple[str, ...],
    ) -> Facts:
        """Facts from dicts already canonical (floats for numbers), which it takes over; adds derived facts."""
        derived: list[str] = []
        _derive_efficiency(measured, "measured", derived)
        for name, value in measured.items():
            if name not in baseline and name != "accuracy_drop":
                baseline[name] = value
                derived.append(f"baseline.{name}")
        _derive_efficiency(baseline, "baseline", derived)
        if "accuracy_drop" not in measured and "accuracy" in measured and "accuracy" in baseline:
            measured["accuracy_drop"] = baseline["accuracy"] - measured["accuracy"]
            derived.append("measured.accuracy_drop")
        flat: dict[str, FactValue] = {f"measured.{k}": v for k, v in measured.items()}
        flat.update((f"baseline.{k}", v) for k, v in baseline.items())
        flat.update((f"constraint.{lim.metric}", lim.value) for lim in limits)
        flat.update((f"env.{k}", v) for k, v in env.items())
        flat.update((f"data.{k}", v) for k, v in data.items())
        return cls(
            MappingProxyType(measured),
            MappingProxyType(baseline),
            MappingProxyType(env),
            MappingProxyType(data),
            limits,
            tuple(sorted(derived)),
            warnings,
            MappingProxyType(flat),
        )

    @property
    def constraint(self) -> Mapping[str, float]:
        """``constraint.*``: each limit's value by metric."""
        return {lim.metric: lim.value for lim in self.limits}

    def limit(self, metric: str) -> Limit | None:
        return next((lim for lim in self.limits if lim.metric == metric), None)

    def to_dict(self) -> dict[str, object]:
        """The JSON form: each scope sorted by name (``constraint`` in the limits' order; numbers to 12
        significant digits), the derived paths."""
        return {
            "measured": {k: rounded(v) for k, v in sorted(self.measured.items())},
            "baseline": {k: rounded(v) for k, v in sorted(self.baseline.items())},
            "constraint": {lim.metric: rounded(lim.value) for lim in self.limits},
            "env": {k: rounded(v) for k, v in sorted(self.env.items())},
            "data": {k: rounded(v) for k, v in sorted(self.data.items())},
            "derived": list(self.derived),
            "assumed": dict(sorted(self.assumed.items())),
        }


def rounded(value: object) -> object:
    """A float to 12 significant digits (hides conversion noise in JSON); anything else unchanged."""
    return float(f"{value:.12g}") if type(value) is float else value


def _plain(value: FactValue) -> FactValue:
    """Numbers as floats (an int would not compare as a number in conditions); flags and texts as they are."""
    return float(value) if type(value) is int else value


def _derive_efficiency(values: dict[str, float], scope: str, derived: list[str]) -> None:
    energy = values.get("energy_mj")
    if energy is not None and energy > 0 and "inferences_per_joule" not in values:
        values["inferences_per_joule"] = metrics.inferences_per_joule(energy)
        derived.append(f"{scope}.inferences_per_joule")


def make_facts(
    scenario: Scenario | None,
    *,
    measured: Mapping[str, FactInput] | None = None,
    baseline: Mapping[str, FactInput] | None = None,
    constraints: ConstraintsInput | None = None,
    env: Mapping[str, FactInput] | None = None,
    data: Mapping[str, FactInput] | None = None,
    detected: Mapping[str, FactInput] | None = None,
) -> Facts:
    """Facts from user input: names checked (aliases allowed), units converted, the scenario's constraints
    overridden or extended by ``constraints``; ``detected``: ``env`` facts a measurement established (``env``
    wins over them). Raises :class:`FactsError` with a hint on bad input."""
    warnings: list[str] = []
    user_limits = parse_constraints(constraints)
    limits = merge_limits(scenario_limits(scenario), user_limits)
    for lim in user_limits:
        if lim.lower_bound != (metrics.METRICS[lim.metric].better == "higher"):
            warnings.append(Message("facts.better_side", constraint=lim.text(), metric=lim.metric))
        impossible = never_met(metrics.METRICS[lim.metric], lim.op, lim.value)
        if impossible is not None:
            warnings.append(Message("facts.never_holds", constraint=lim.text(), why=impossible))
    got_env, got_data = parse_env(env, "env", warnings), parse_env(data, "data", warnings)
    found = {k: v for k, v in parse_env(detected, "env", warnings).items() if k not in got_env}
    facts = Facts._build(
        parse_metrics(measured, "measured"),
        parse_metrics(baseline, "baseline"),
        {**found, **got_env},
        got_data,
        limits,
        tuple(warnings),
    )
    if not found:
        return facts
    return dataclasses.replace(facts, detected=frozenset(f"env.{k}" for k in found))


def parse_metrics(values: Mapping[str, FactInput] | None, scope: str) -> dict[str, float]:
    """Metric values by canonical name: numbers are canonical already, strings carry units (``"98 MB"``)."""
    out: dict[str, float] = {}
    for key, raw in (values or {}).items():
        metric = metrics.METRICS.get(key)
        if metric is not None and type(raw) is float and key not in out:  # the common case, checked inline
            low, high = metric.minimum, metric.maximum
            if (low is None or raw >= low) and (high is None or raw <= high) and math.isfinite(raw):
                out[key] = raw
                continue
        metric = metric or _metric(key, scope)
        if metric.name in out:
            raise FactsError(f"{scope}.{metric.name} is given twice ('{key}' is another name for it)")
        out[metric.name] = metric_value(metric, raw, f"{scope}.{metric.name}")
    return out


def metric_value(metric: metrics.Metric, raw: object, where: str) -> float:
    """One metric value from a number (canonical) or a string with a unit; range-checked."""
    if isinstance(raw, str):
        try:
            return metric.parse(raw)
        except McmError as e:
            raise FactsError(f"{where}: {e}", getattr(e, "hint", None)) from None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise FactsError(
            f"{where}: expected a number, got {type(raw).__name__}", f"e.g. {where.split('.')[-1]}=12"
        )
    value = float(raw)
    problem = metric.range_problem(value)
    if problem is not None:
        raise FactsError(f"{where}: {problem}", metric.range_hint(""))
    return value


def parse_env(
    values: Mapping[str, FactInput] | None, scope: str, warnings: list[str]
) -> dict[str, FactValue]:
    """``env.*`` / ``data.*`` facts checked against the catalogue: flags, numbers, texts."""
    out: dict[str, FactValue] = {}
    for key, raw in (values or {}).items():
        name = key[len(scope) + 1 :] if key.startswith(f"{scope}.") else key
        fact = FACTS.get(f"{scope}.{name}")
        if fact is None:
            raise FactsError(f"unknown fact '{scope}.{name}'", _hint(name, names_in(scope), scope))
        where = fact.path
        if fact.type == "bool":
            if isinstance(raw, bool):
                out[name] = raw
            elif isinstance(raw, str) and raw.strip().lower() in _TRUE:
                out[name] = _TRUE[raw.strip().lower()]
            else:
                raise FactsError(f"{where}: expected true or false, got {raw!r}", "write true or false")
        elif fact.type == "number":
            out[name] = _number(raw, where)
        else:
            if not isinstance(raw, str):
                raise FactsError(
                    f"{where}: expected text, got {type(raw).__name__}", _values_hint(fact.values)
                )
            out[name] = raw
            if fact.values and raw not in fact.values:
                warnings.append(
                    Message("facts.unknown_value", fact=where, value=repr(raw), known=fact.values)
                )
    return out


def _number(raw: object, where: str) -> float:
    if isinstance(raw, bool):
        raise FactsError(f"{where}: expected a number, got a flag", "write a plain number")
    try:
        value = float(raw) if isinstance(raw, (int, float, str)) else math.nan
    except ValueError:
        raise FactsError(f"{where}: not a number: {raw!r}", "write a plain number") from None
    if not math.isfinite(value):
        raise FactsError(f"{where}: must be a finite number, got {raw!r}", "write a plain number")
    return value


def _values_hint(values: tuple[str, ...]) -> str | None:
    return f"known values: {', '.join(values)}" if values else None


def _hint(name: str, names: Iterable[str], scope: str) -> str:
    known = tuple(names)
    return units.did_you_mean(name, known) or f"{scope} facts: {', '.join(known)}"


def _metric(key: str, scope: str) -> metrics.Metric:
    name = key[len(scope) + 1 :] if key.startswith(f"{scope}.") else key
    try:
        return metrics.lookup(name)
    except McmError as e:
        raise FactsError(f"unknown metric '{scope}.{name}'", getattr(e, "hint", None)) from None


# ---- constraints


def parse_constraint(text: str, *, hard: bool = True) -> Limit:
    """``"latency_ms < 50 ms"`` (also ``"latency<50ms"``, ``"prefer accuracy >= 90 %"``) as a :class:`Limit`."""
    match = _CONSTRAINT.fullmatch(text)
    if match is None:
        raise FactsError(f"not a constraint: {text!r}", "write METRIC OP VALUE, e.g. latency_ms<50ms")
    keyword, name, op, value = match.groups()
    metric = _metric(name, "constraint")
    if op is None or not value:
        raise FactsError(
            f"constraint {text!r} has no comparison", f"e.g. {metric.name}{_default_op(metric)}12"
        )
    bound = bound_op(op, text)
    hard = hard if keyword is None else keyword == "require"
    return Limit(metric.name, bound, metric_value(metric, value, f"constraint.{metric.name}"), hard)


def bound_op(op: str, text: str | None = None) -> BoundOp:
    """``op`` as a constraint operator; a misspelling (``=<``, ``≤``) raises ``FactsError`` with the fix.
    ``text`` is the constraint it came from, for the message."""
    if op in BOUND_OPS:
        return BOUND_OPS[BOUND_OPS.index(op)]
    fix = _MISSPELLED_OPS.get(op)
    hint = f"write '{fix}'" if fix else "a constraint uses <, <=, > or >="
    raise FactsError(f"not a constraint operator: {op!r}" + (f" in {text!r}" if text else ""), hint)


def _default_op(metric: metrics.Metric) -> BoundOp:
    """The operator a bare limit gets: at most (lower is better) or at least (higher is better)."""
    return "<=" if metric.better == "lower" else ">="


def parse_constraints(spec: ConstraintsInput | None) -> tuple[Limit, ...]:
    """User constraints in any accepted form (see :data:`ConstraintsInput`); one per metric, in the order given.

    In a mapping a bare value (``{"latency_ms": 50}``, the reference's step-1 form) means at most for a
    lower-is-better metric and at least for a higher-is-better one; a string may start with an operator.
    """
    if spec is None:
        return ()
    out: dict[str, Limit] = {}
    if isinstance(spec, Mapping):
        for key, raw in spec.items():
            if isinstance(raw, Limit):
                lim = raw
            elif isinstance(raw, str) and raw.lstrip()[:1] in ("<", ">", "=", "≤", "≥"):
                lim = parse_constraint(f"{key} {raw}")
            else:
                metric = _metric(key, "constraint")
                lim = Limit(
                    metric.name, _default_op(metric), metric_value(metric, raw, f"constraint.{metric.name}")
                )
            _add_limit(out, lim)
    else:
        if isinstance(spec, str):
            raise FactsError("constraints must be a list of strings or a mapping", f"write [{spec!r}]")
        for item in spec:
            _add_limit(out, item if isinstance(item, Limit) else parse_constraint(_text(item)))
    return tuple(out.values())


def _text(item: object) -> str:
    if not isinstance(item, str):
        raise FactsError(f"not a constraint: {item!r}", "write METRIC OP VALUE, e.g. latency_ms<50ms")
    return item


def _add_limit(out: dict[str, Limit], lim: Limit) -> None:
    if lim.metric not in metrics.METRICS:
        raise FactsError(f"unknown metric '{lim.metric}' in a constraint", metrics.suggest(lim.metric))
    if lim.metric in out:
        raise FactsError(f"two constraints on {lim.metric}", "give one limit per metric")
    out[lim.metric] = lim


def scenario_limits(scenario: Scenario | None) -> tuple[Limit, ...]:
    """The scenario's ``require`` (hard) and ``prefer`` (soft) constraints as limits (memoized per scenario)."""
    if scenario is None:
        return ()
    found = _SCENARIO_LIMITS.get(id(scenario))
    if found is not None and found[0] is scenario:
        return found[1]
    limits = tuple(
        Limit(metrics.lookup(c.metric).name, c.op, c.value.value, c.hard, "scenario", c.pos)
        for c in scenario.constraints
    )
    if len(_SCENARIO_LIMITS) >= 256:
        _SCENARIO_LIMITS.clear()
    _SCENARIO_LIMITS[id(scenario)] = (scenario, limits)  # holding the scenario keeps its id from being reused
    return limits


_SCENARIO_LIMITS: dict[int, tuple[Scenario, tuple[Limit, ...]]] = {}


def merge_limits(base: Iterable[Limit], override: Iterable[Limit]) -> tuple[Limit, ...]:
    """``base`` with each metric ``override`` names replaced in place; new metrics appended in order."""
    merged = {lim.metric: lim for lim in base}
    merged.update((lim.metric, lim) for lim in override)
    return tuple(merged.values())


__all__ = [
    "TOLERANCE",
    "ConstraintsInput",
    "FactInput",
    "FactValue",
    "Facts",
    "Limit",
    "bound_op",
    "make_facts",
    "merge_limits",
    "metric_value",
    "parse_constraint",
    "parse_constraints",
    "parse_env",
    "parse_metrics",
    "rounded",
    "scenario_limits",
]
