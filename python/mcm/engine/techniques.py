"""Techniques under given facts: whether each applies, and its effects once hardware caveats are resolved.

- **Applicability**: every ``requires`` condition must hold. A false one makes the technique not applicable
  (``no``); a missing fact makes it ``unknown`` (not applicable to plans; the reason names the fact); a
  condition that cannot run is an ``error``. A definite ``no`` wins over an error, and an error over unknown.
- **Effects**: metric by metric, the first caveat whose condition holds replaces the base effect. A caveat whose
  condition is unknown widens the effect to the hull of both ranges (the prediction stays sound either way).
- **Derived effects**: a technique states each metric it affects. Where it states ``latency_ms`` as a factor but
  not a latency percentile, the percentile scales alike; where it does not state ``throughput_qps`` / ``fps``,
  they scale by the inverse factor (``latency × [0.25, 0.5]`` → ``throughput × [2, 4]``); energy per inference
  follows latency times the power factor it states, and unstated power follows latency (the average at a fixed
  frame rate); cost per day and per million inferences follow 1 / throughput (at a fixed load). An accuracy
  shift implies the opposite shift of ``accuracy_drop`` and vice versa.
- **Stage**: plans run architecture → pruning → fusion → quantization → compile (the reference's procedure), as each
  technique declares (``stage NAME``); a technique that declares none comes last (``other``).
- **Combinations**: ``with T { effect ... }`` gives the effects in a plan that applies T first (the first such T
  written wins), replacing the technique's own metric by metric, after its caveats.
- **Assumptions**: a requirement or caveat that reads a fact the rules assumed (``assume``, the user did not give it)
  adds a note saying so to the technique's notes, so every plan step that rests on it says what it assumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from mcm import metrics
from mcm.engine.decision import WhyNot, WhyNotReason
from mcm.engine.evaluate import Condition, EvalError, FactMap, Outcome, compile_condition, fact_paths
from mcm.engine.messages import Message
from mcm.rules import ast
from mcm.rules.ast import Caveat, Effect, Requirement, Technique

#: The procedure's stages, in plan order; ``other`` holds the techniques that declare none.
STAGES = (*ast.STAGES, "other")
_PERCENTILES = tuple(p.metric for p in metrics.PERCENTILES)
_INVERSE = ("throughput_qps", "fps")
_NO_COMBINATIONS: Mapping[str, Mapping[str, Change]] = MappingProxyType({})
#: Costs that follow 1 / throughput at a fixed load.
_COSTS = ("cost_usd_per_day", "cost_usd_per_million")

#: ``(kind, low, high)``: new = old × [low, high] (``scale``) or old + [low, high] (``shift``).
Change = tuple[Literal["scale", "shift"], float, float]
Applies = Literal["yes", "no", "unknown", "error"]


@dataclass(frozen=True, slots=True, eq=False)
class CompiledTechnique:
    """A technique with its conditions compiled and its exclusions made symmetric."""

    technique: Technique
    stage: int
    requires: tuple[tuple[Requirement, Condition], ...]
    #: The facts the requirements and caveats read (an assumed one among them is noted on the resolution).
    reads: tuple[str, ...]
    caveats: tuple[tuple[Caveat, Condition], ...]
    excludes: frozenset[str]
    base: Mapping[str, Change]
    name: str
    pos: str

    @property
    def difficulty(self) -> int:
        return self.technique.difficulty or 0

    @property
    def rating(self) -> int:
        return self.technique.rating or 0


@dataclass(frozen=True, slots=True)
class Applicability:
    """Whether a technique applies; when not, the requirement that decided it, its explained outcome, and the
    message: ``requirement unmet: env.nvidia_gpu → false (...)`` or ``unknown: fact data.calibration not given``."""

    status: Applies
    requirement: Requirement | None = None
    outcome: Outcome | None = None
    message: str = "applicable"
    #: The refusal's explanation as a message (``detail`` of the why-not).
    explained: str | None = None

    @classmethod
    def refused(
        cls, status: Applies, requirement: Requirement, condition: Condition, facts: FactMap
    ) -> Applicability:
        outcome = condition.explain(facts)
        explained = condition.explained(facts, outcome)
        text = Message("technique.unmet", outcome=explained) if status == "no" else (outcome.problem or "")
        if requirement.reason:
            text = Message("technique.because", text=text, reason=requirement.reason)
        return cls(status, requirement, outcome, text, explained)


@dataclass(frozen=True, slots=True, eq=False)
class Resolved:
    """A technique under one set of facts: applicability, effects by metric, the caveats that shaped them.
    Compared by identity (resolutions are memoized, and caches key on them)."""

    compiled: CompiledTechnique
    applies: Applicability
    effects: Mapping[str, Change]
    name: str
    caveats: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: Why it is left out when it does not apply (made once: resolutions are memoized).
    refusal: WhyNot | None = None
    #: The effects in a plan that applies another technique first (``with T``), by T, in the order written.
    combined: Mapping[str, Mapping[str, Change]] = field(default_factory=lambda: _NO_COMBINATIONS)


def compile_technique(technique: Technique, excluded_by: frozenset[str]) -> CompiledTechnique:
    """Compile a technique; ``excluded_by`` names the techniques whose ``excludes`` list this one."""
    base = {e.metric: _change(e) for e in technique.effects}
    _derive(base)
    requires = tuple((r, compile_condition(r.condition)) for r in technique.requires)
    caveats = tuple((c, compile_condition(c.condition)) for c in technique.caveats)
    stage = ast.stage_order(technique)  # undeclared: len(ast.STAGES), the index of 'other'
    conditions = [c for _, c in requires] + [c for _, c in caveats]
    return CompiledTechnique(
        technique=technique,
        stage=stage,
        requires=requires,
        reads=tuple(dict.fromkeys(path for c in conditions for path in fact_paths(c.expr))),
        caveats=caveats,
        excludes=frozenset(i.name for i in technique.excludes) | excluded_by,
        base=MappingProxyType(base),
        name=technique.name,
        pos=str(technique.pos),
    )


def _change(effect: Effect) -> Change:
    return (effect.kind, float(effect.low), float(effect.high))


def applicability(compiled: CompiledTechnique, facts: FactMap) -> Applicability:
    """Evaluate the requirements; explanations are built only for the one that decides a refusal."""
    error: tuple[Requirement, Condition] | None = None
    unknown: tuple[Requirement, Condition] | None = None
    for requirement, condition in compiled.requires:
        try:
            holds = condition.test(facts)
        except EvalError:
            error = error or (requirement, condition)
            continue
        if holds is False:
            return Applicability.refused("no", requirement, condition, facts)
        if holds is None and unknown is None:
            unknown = (requirement, condition)
    if error is not None:
        return Applicability.refused("error", *error, facts)
    if unknown is not None:
        return Applicability.refused("unknown", *unknown, facts)
    return Applicability("yes")


def resolve(
    compiled: CompiledTechnique, facts: FactMap, assumed: Mapping[str, str] | None = None
) -> Resolved:
    """Applicability and, for an applicable technique, its effects under these facts; ``assumed``: the facts among
    them that the rules assumed, with why (see :func:`mcm.engine.supplied.supply`)."""
    applies = applicability(compiled, facts)
    if applies.status != "yes":
        return Resolved(
            compiled, applies, compiled.base, compiled.name, refusal=_refusal(compiled.name, applies)
        )
    notes: list[str] = [
        Message("technique.assumes", fact=path, value=_shown(facts[path]), reason=assumed[path])
        for path in compiled.reads
        if assumed and path in assumed
    ]
    if not compiled.caveats and not compiled.technique.combinations:
        return Resolved(compiled, applies, compiled.base, compiled.name, tuple(notes))
    warnings: list[str] = []
    effects = _caveated(compiled, facts, notes, warnings)
    combined = {
        w.technique.name: _derived({**effects, **{e.metric: _change(e) for e in w.effects}})
        for w in compiled.technique.combinations
    }
    return Resolved(
        compiled,
        applies,
        _derived(effects),
        compiled.name,
        tuple(notes),
        tuple(warnings),
        combined=MappingProxyType(combined),
    )


def _caveated(
    compiled: CompiledTechnique, facts: FactMap, notes: list[str], warnings: list[str]
) -> dict[str, Change]:
    """The technique's own effects once its caveats are resolved (see the module docstring), noting each caveat
    that applies or may apply in ``notes`` and each that cannot be evaluated in ``warnings``."""
    effects = {e.metric: _change(e) for e in compiled.technique.effects}
    undecided: dict[str, list[Change]] = {}
    decided: set[str] = set()
    for caveat, condition in compiled.caveats:
        try:
            holds = condition.test(facts)
        except EvalError as e:
            warnings.append(
                Message(
                    "technique.caveat_error", technique=compiled.name, pos=str(caveat.pos), reason=e.reason
                )
            )
            continue
        if holds is False:
            continue
        note = (
            Message("technique.caveat_applies", condition=condition.source)
            if holds
            else Message(
                "technique.caveat_may_apply",
                condition=condition.source,
                missing=condition.explain(facts).missing,
            )
        )
        notes.append(Message("technique.because", text=note, reason=caveat.reason) if caveat.reason else note)
        for effect in caveat.effects:
            if effect.metric in decided:
                continue
            if holds:
                decided.add(effect.metric)
                effects[effect.metric] = _hull([_change(effect), *undecided.pop(effect.metric, [])], warnings)
            else:
                undecided.setdefault(effect.metric, []).append(_change(effect))
    for metric, changes in undecided.items():
        effects[metric] = _hull([effects.get(metric) or _identity(changes[0][0]), *changes], warnings)
    return effects


def _derived(effects: dict[str, Change]) -> Mapping[str, Change]:
    """``effects`` with the effects they imply (:func:`_derive`), read-only."""
    _derive(effects)
    return MappingProxyType(effects)


def _shown(value: object) -> str:
    """A fact's value as the rules write it: ``true``, ``"gpu"``, ``4``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return (
        f'"{value}"' if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)
    )


def _product(a: Change, b: Change) -> Change:
    """Two factors applied one after the other (both ``scale``, low ends and high ends multiplied)."""
    return ("scale", a[1] * b[1], a[2] * b[2])


def _refusal(name: str, applies: Applicability) -> WhyNot:
    reason: WhyNotReason = "requirement_error"
    if applies.status == "no":
        reason = "requirement_unmet"
    elif applies.status == "unknown":
        reason = "requirement_unknown"
    pos = str(applies.requirement.pos) if applies.requirement else None
    return WhyNot(name, reason, applies.message, pos, applies.explained)


def _identity(kind: Literal["scale", "shift"]) -> Change:
    """The change that changes nothing."""
    return (kind, 1.0, 1.0) if kind == "scale" else (kind, 0.0, 0.0)


def _hull(changes: list[Change], warnings: list[str]) -> Change:
    """The smallest range holding every change of the first one's kind (others cannot be combined: warned)."""
    kind = changes[0][0]
    same = [c for c in changes if c[0] == kind]
    if len(same) < len(changes):
        warnings.append(Message("technique.caveat_mixed"))
    return (kind, min(c[1] for c in same), max(c[2] for c in same))


def _derive(effects: dict[str, Change]) -> None:
    latency = effects.get("latency_ms")
    if latency is not None and latency[0] == "scale":
        for name in _PERCENTILES:
            effects.setdefault(name, latency)
        if latency[1] > 0:
            for name in _INVERSE:
                effects.setdefault(name, ("scale", 1.0 / latency[2], 1.0 / latency[1]))
        # energy per inference is power × time: it follows latency (and the power the technique states, if any);
        # at a fixed frame rate the average power follows the energy per inference
        power = effects.get("power_w")
        energy = _product(latency, power) if power is not None and power[0] == "scale" else latency
        effects.setdefault("energy_mj", energy)
        effects.setdefault("power_w", latency)
    throughput = effects.get("throughput_qps")
    if throughput is not None and throughput[0] == "scale" and throughput[1] > 0:
        # at a fixed load, the machines needed (and so the serving cost) follow 1 / throughput
        for name in _COSTS:
            effects.setdefault(name, ("scale", 1.0 / throughput[2], 1.0 / throughput[1]))
    accuracy, drop = effects.get("accuracy"), effects.get("accuracy_drop")
    if accuracy is not None and accuracy[0] == "shift" and drop is None:
        effects["accuracy_drop"] = ("shift", -accuracy[2], -accuracy[1])
    elif drop is not None and drop[0] == "shift" and accuracy is None:
        effects["accuracy"] = ("shift", -drop[2], -drop[1])


__all__ = [
    "STAGES",
    "Applicability",
    "Change",
    "CompiledTechnique",
    "Resolved",
    "applicability",
    "compile_technique",
    "resolve",
]
