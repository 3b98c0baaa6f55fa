"""Techniques under given facts: whether each applies, and its effects once hardware caveats are resolved.

- **Applicability**: every ``requires`` condition must hold. A false one makes the technique not applicable
  (``no``); a missing fact makes it ``unknown`` (not applicable to plans; the reason names the fact); a
  condition that cannot run is an ``error``. A definite ``no`` wins over an error, and an error over unknown.
- **Effects**: metric by metric, the first caveat whose condition holds replaces the base effect. A caveat whose
  condition is unknown widens the effect to the hull of both ranges (the prediction stays sound either way).
- **Derived effects**: a technique states each metric it affects. Where it states ``latency_ms`` as a factor but
  not a latency percentile, the percentile scales alike; where it does not state ``throughput_qps`` / ``fps``,
  they scale by the inverse factor (``latency × [0.25, 0.5]`` → ``throughput × [2, 4]``). An accuracy shift
  implies the opposite shift of ``accuracy_drop`` and vice versa.
- **Stage**: plans run architecture/distillation → pruning → quantization → compile/runtime (the reference's
  procedure). The language has no stage yet, so it is read from the technique's name (:func:`stage_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from mcm import metrics
from mcm.engine.decision import WhyNot, WhyNotReason
from mcm.engine.evaluate import Condition, EvalError, FactMap, Outcome, compile_condition
from mcm.engine.messages import Message
from mcm.rules.ast import Caveat, Effect, Requirement, Technique

#: The procedure's stages, in plan order.
STAGES = ("architecture", "pruning", "quantization", "runtime", "other")
#: Name-token prefixes that place a technique in a stage (first matching token wins).
_STAGE_WORDS: tuple[tuple[str, int], ...] = (
    ("distill", 0), ("arch", 0), ("lightweight", 0), ("light", 0), ("mobilenet", 0), ("efficientnet", 0),
    ("tiny", 0), ("nas", 0), ("prun", 1), ("sparse", 1), ("sparsity", 1), ("qat", 2), ("quant", 2), ("int8", 2),
    ("int4", 2), ("fp16", 2), ("bf16", 2), ("fp8", 2), ("half", 2), ("tensorrt", 3), ("trt", 3), ("onnx", 3),
    ("ort", 3), ("openvino", 3), ("tflite", 3), ("tvm", 3), ("compile", 3), ("graph", 3), ("runtime", 3),
    ("fusion", 3), ("batch", 3), ("coreml", 3), ("ncnn", 3),
)  # fmt: skip
_PERCENTILES = tuple(p.metric for p in metrics.PERCENTILES)
_INVERSE = ("throughput_qps", "fps")

#: ``(kind, low, high)``: new = old × [low, high] (``scale``) or old + [low, high] (``shift``).
Change = tuple[Literal["scale", "shift"], float, float]
Applies = Literal["yes", "no", "unknown", "error"]


def stage_of(name: str) -> int:
    """The stage index of a technique by its name's tokens (``int8_static`` → quantization); unknown → other."""
    for token in name.lower().split("_"):
        for word, stage in _STAGE_WORDS:
            if token.startswith(word):
                return stage
    return len(STAGES) - 1


@dataclass(frozen=True, slots=True, eq=False)
class CompiledTechnique:
    """A technique with its conditions compiled and its exclusions made symmetric."""

    technique: Technique
    stage: int
    requires: tuple[tuple[Requirement, Condition], ...]
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


def compile_technique(technique: Technique, excluded_by: frozenset[str]) -> CompiledTechnique:
    """Compile a technique; ``excluded_by`` names the techniques whose ``excludes`` list this one."""
    base = {e.metric: _change(e) for e in technique.effects}
    _derive(base)
    return CompiledTechnique(
        technique=technique,
        stage=stage_of(technique.name),
        requires=tuple((r, compile_condition(r.condition)) for r in technique.requires),
        caveats=tuple((c, compile_condition(c.condition)) for c in technique.caveats),
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


def resolve(compiled: CompiledTechnique, facts: FactMap) -> Resolved:
    """Applicability and, for an applicable technique, its effects under these facts."""
    applies = applicability(compiled, facts)
    if applies.status != "yes":
        return Resolved(
            compiled, applies, compiled.base, compiled.name, refusal=_refusal(compiled.name, applies)
        )
    if not compiled.caveats:
        return Resolved(compiled, applies, compiled.base, compiled.name)
    effects = {e.metric: _change(e) for e in compiled.technique.effects}
    undecided: dict[str, list[Change]] = {}
    decided: set[str] = set()
    notes: list[str] = []
    warnings: list[str] = []
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
    _derive(effects)
    return Resolved(
        compiled, applies, MappingProxyType(effects), compiled.name, tuple(notes), tuple(warnings)
    )


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
    "stage_of",
]
